"""Collect a range of agent state transactions: one row per Talkdesk status record that ended in the range,
the raw and malformed entries kept per chunk, and which record timestamp the account's status reports filter a
window on learned as they come (`_StatusWindowFilter`).

A collection is one account's (`account_id`): everything it reads (remembered report behaviour) and writes (raw
files, malformed entries) is that account's alone; the returned frame carries no account, the caller writes it
for the same account."""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from wfm_pipelines.collection import arrow_masks, windows
from wfm_pipelines.collection.chunks import CollectionResult, CollectionRun, count_fetch, start_collection, utc_now
from wfm_pipelines.collection.options import CollectionOptions, chunk_sizer
from wfm_pipelines.collection.report_prefetch import ReportRunner, ReportsAhead, ordered_fetches
from wfm_pipelines.db import report_behaviour
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN
from wfm_pipelines.transforms.agent_states import agent_state_transactions

log = logging.getLogger("wfm_pipelines.collection")

# Look-back pieces are filtered as soon as they are parsed (most of a piece is dropped at once), so one may
# hold a few times a report's usual number of entries.
LOOKBACK_PIECE_FACTOR = 4


def _share_strings(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One string object per distinct value instead of one per row: a week of a large center's transactions
    is millions of rows over a few thousand agents and a dozen states, held until the run writes them."""
    for column in columns:
        frame[column] = frame[column].astype("category").astype(object)
    return frame


class _StatusWindowFilter:
    """Which timestamp the account's `user_status` reports filter a window on: pinned by the setting, or in
    `auto` mode remembered in the WFM database (per account) and learned from every report. A closed record that
    began before its window is conclusive for `end` (or overlap); `start` is taken only while `end` was never
    seen."""

    def __init__(self, engine: Engine, window_field: str, *, account_id: str):
        self.engine, self.window_field, self.account_id = engine, window_field, account_id
        self.remembered = (report_behaviour.remembered_window_field(engine, "user_status", account_id=account_id)
                           if window_field == "auto" else None)

    @property
    def field(self) -> str:
        return self.window_field if self.window_field != "auto" else (self.remembered or "unknown")

    def learn(self, records: pd.DataFrame, fetch_start: datetime, fetch_end: datetime) -> None:
        if self.window_field != "auto":
            return
        evidence = windows.status_filter_evidence(records, fetch_start, fetch_end)
        if evidence is None or evidence[0] == self.remembered or (evidence[0] == "start" and self.remembered == "end"):
            return
        log.info("user_status reports filter a window on the record's %s (%s); remembered", *evidence)
        report_behaviour.remember_window_field(self.engine, "user_status", evidence[0], evidence[1], utc_now(),
                                               account_id=self.account_id)
        self.remembered = evidence[0]

    def needs_lookback(self) -> bool:
        return windows.needs_status_lookback(self.window_field, self.remembered)


def _earlier_starts(run_report: ReportRunner, result: CollectionResult, options: CollectionOptions,
                    lookback: tuple[datetime, datetime], keep_from: datetime,
                    window_filter: _StatusWindowFilter) -> pa.Table:
    """Status records that began in the look-back and may end in the range (end >= keep_from). Fetched in
    pieces sized by their entry rate and filtered as they come, so memory holds one piece, not a month."""
    kept = pa.table({})
    sizer = chunk_sizer(options.chunk, options.target_entries * LOOKBACK_PIECE_FACTOR)
    reports = ReportsAhead(run_report, "user_status", options.reports_ahead, sizer)
    for piece_start, piece_end, piece in reports.results(sizer.chunks(*lookback)):
        count_fetch(result, sizer, piece_start, piece_end, piece)
        parsed = parsing.parse_user_status_report(piece, window=(piece_start, piece_end))
        window_filter.learn(parsed.records, piece_start, piece_end)
        reaching = arrow_masks.owners(parsed.raw) >= arrow_masks.bound(keep_from)
        kept = arrow_masks.concat(kept, arrow_masks.rows(parsed.raw, reaching))
        result.entries_outside_range += piece.num_rows - int(reaching.sum())
    return kept


class _StatusChunks:
    """The chunks of one status collection, in order: a chunk's report joins the records carried from the
    chunks before it (they began earlier and end later), and the first chunk's also the look-back's where the
    reports may filter on start; the chunk's entries are kept, its transactions collect in `frames`, and the
    records that end after it are carried on."""

    def __init__(self, run: CollectionRun, run_report: ReportRunner, engine: Engine, options: CollectionOptions):
        self.run, self.run_report, self.options = run, run_report, options
        self.window_filter = _StatusWindowFilter(engine, options.window_field, account_id=run.account_id)
        self.frames: list[pd.DataFrame] = []
        self.carry = pa.table({})
        self.looked_back = False

    def collect(self, chunk_start: datetime, chunk_end: datetime, fetched: pa.Table | None) -> None:
        """One chunk: `fetched` is its report, None where Talkdesk can serve nothing of it yet."""
        parsed = self._parsed(chunk_start, chunk_end, fetched)
        self.run.keeper.keep(chunk_start, chunk_end, parsed)
        owners = arrow_masks.owners(parsed.raw)
        self.run.result.entries_outside_range += int((owners < arrow_masks.bound(chunk_start)).sum())
        self.carry = arrow_masks.rows(parsed.raw, owners >= arrow_masks.bound(chunk_end))
        self.frames.append(_share_strings(agent_state_transactions(
            parsed.records, window_start=chunk_start, window_end=chunk_end, collected_at=self.run.collected_at),
            ["agent_id", "state"]))

    def _parsed(self, chunk_start: datetime, chunk_end: datetime, fetched: pa.Table | None) -> parsing.ParsedReport:
        if fetched is None:
            return parsing.parse_user_status_report(self.carry, window=(chunk_start, chunk_end))
        fetch = windows.status_fetch_window(chunk_start, chunk_end, available_until=self.run.available_until)
        carried_keys = set(self.carry.column(KEY_COLUMN).to_pylist()) if self.carry.num_rows else set()
        table = arrow_masks.concat(self.carry, self.run.count_fetch(*fetch, fetched))
        parsed = parsing.parse_user_status_report(table, window=(chunk_start, chunk_end))
        # Carried records began in an earlier chunk: they say nothing about this report's filter.
        self.window_filter.learn(parsed.records[~parsed.records["entry_key"].isin(carried_keys)], *fetch)
        if self.looked_back:
            return parsed
        self.looked_back = True
        lookback = windows.status_lookback_window(chunk_start)
        if lookback is None or not self.window_filter.needs_lookback():
            return parsed
        log.info("user_status window %s..%s: fetching earlier starts %s..%s (reports may filter on start)",
                 fetch[0], fetch[1], *lookback)
        table = arrow_masks.concat(table, _earlier_starts(self.run_report, self.run.result, self.options, lookback,
                                                          chunk_start, self.window_filter))
        return parsing.parse_user_status_report(table, window=(chunk_start, chunk_end))

    def frame(self, range_start: datetime) -> pd.DataFrame:
        """The chunks' transactions (the rows' columns, without a row, where there were no chunks)."""
        frames = [f for f in self.frames if len(f)] or self.frames[:1]
        if frames:
            return pd.concat(frames, ignore_index=True)
        return agent_state_transactions(parsing.parse_user_status_report([]).records, window_start=range_start,
                                        window_end=range_start, collected_at=self.run.collected_at)


def collect_agent_state_transactions(run_report: ReportRunner, engine: Engine, raw_store: RawStore, *,
                                     range_start: datetime, range_end: datetime, account_id: str,
                                     options: CollectionOptions = CollectionOptions(),
                                     available_until: datetime | None = None) -> CollectionResult:
    """One row per Talkdesk status record of the account that ended in [range_start, range_end) (its raw and
    malformed entries and remembered report behaviour kept under the account).

    If the account filters report windows on the record's start, records that began before a chunk and end
    in it come from earlier fetches: the first chunk looks back to the month start once, and each chunk
    hands the records it fetched that end later (the carry) to the next one.
    """
    run = start_collection(run_report, engine, raw_store, report_type="user_status", options=options,
                           available_until=available_until, account_id=account_id)
    chunks = _StatusChunks(run, run_report, engine, options)
    for chunk_start, chunk_end, fetched in ordered_fetches(run.sizer.chunks(range_start, range_end),
                                                           run.available_until, run.reports):
        chunks.collect(chunk_start, chunk_end, fetched)
    run.result.entries_outside_range += chunks.carry.num_rows  # ended after the range: a later run owns them
    run.result.report_window_field = chunks.window_filter.field
    run.result.frame = chunks.frame(range_start)
    return run.result
