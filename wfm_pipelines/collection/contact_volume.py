"""Collect a range of contact volume: one report per chunk, each contact kept with the chunk it started in, the
interval rows aggregated per finished chunk and returned for the caller to write over the whole range.

Entries that belong to no interval of the range are counted, not silently dropped. A collection is one
account's (`account_id`): the raw files and malformed entries it writes are that account's alone; the returned
frame carries no account, the caller writes it for the same account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from wfm_pipelines.collection import arrow_masks
from wfm_pipelines.collection.chunks import CollectionResult, CollectionRun, start_collection
from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.collection.report_prefetch import ReportRunner, ordered_fetches
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms.contact_volume import aggregate_contact_volume


def _split_window(parsed: parsing.ParsedReport, start: datetime, end: datetime) -> tuple[parsing.ParsedReport, parsing.ParsedReport]:
    """(entries that started in [start, end), the rest); a malformed entry without a time is in the rest."""
    low, high = pd.Timestamp(start), pd.Timestamp(end)
    in_records = (parsed.records["started_at"] >= low) & (parsed.records["started_at"] < high)
    in_raw = arrow_masks.owned_in(parsed.raw, start, end)
    owner = parsed.malformed["owner_at"]
    in_bad = owner.notna() & (owner >= low) & (owner < high)
    return (
        parsing.ParsedReport(parsed.records[in_records], arrow_masks.rows(parsed.raw, in_raw),
                             parsed.malformed[in_bad]),
        parsing.ParsedReport(parsed.records[~in_records], arrow_masks.rows(parsed.raw, ~in_raw),
                             parsed.malformed[~in_bad]),
    )


def _merge_parsed(first: parsing.ParsedReport, second: parsing.ParsedReport) -> parsing.ParsedReport:
    """Both halves of one chunk's contacts; an entry fetched twice (an overlap-filtering account) counts once."""
    if second.records.empty and second.malformed.empty:
        return first
    records = pd.concat([first.records, second.records], ignore_index=True).drop_duplicates("entry_key", keep="last")
    raw = arrow_masks.last_of_each_key(arrow_masks.concat(first.raw, second.raw))
    malformed = pd.concat([first.malformed, second.malformed], ignore_index=True)
    records.attrs.update(first.records.attrs)
    return parsing.ParsedReport(records, raw, malformed)


def _timed(parsed: parsing.ParsedReport) -> int:
    """Entries with a readable time: those that another window (or none) owns."""
    return len(parsed.records) + int(parsed.malformed["owner_at"].notna().sum())


@dataclass
class _OpenChunk:
    """A chunk of a contact collection whose contacts may still arrive with later reports."""

    start: datetime
    end: datetime
    parsed: parsing.ParsedReport


def _hand_over(open_chunks: list[_OpenChunk], parsed: parsing.ParsedReport) -> parsing.ParsedReport:
    """Give each open chunk the contacts that started in it; return the rest."""
    for chunk in open_chunks:
        inside, parsed = _split_window(parsed, chunk.start, chunk.end)
        chunk.parsed = _merge_parsed(chunk.parsed, inside)
    return parsed


def _count_unmatched(result: CollectionResult, records: pd.DataFrame, known: frozenset[str]) -> None:
    """Contacts naming a queue that no known queue spells (renamed or deleted ring groups, odd separators)."""
    if not known or records.empty:
        return
    for names, count in records["queue_ids"].value_counts().items():
        for name in names:
            if name not in known:
                result.unmatched_queue_names[name] = result.unmatched_queue_names.get(name, 0) + int(count)


class _ContactChunks:
    """The chunk life cycle of one contact collection: a chunk opens with the contacts that started in it,
    takes those that later reports bring (an account that filters on the record's end sends a long contact
    with the report of its end), and finishes once the reports have reached the longest contact past its end:
    its raw entries are then kept and its interval rows aggregated. Finished rows collect in `frames`."""

    def __init__(self, run: CollectionRun, *, report_type: str, queues: pd.DataFrame, options: CollectionOptions):
        self.run, self.report_type, self.queues, self.options = run, report_type, queues, options
        self.result = run.result
        self.result.report_window_field = options.window_field
        self.known = frozenset(queues["queue_id"].astype(str)) if len(queues) else frozenset()
        self.open: list[_OpenChunk] = []
        self.frames: list[pd.DataFrame] = []

    def fetches(self, range_start: datetime, range_end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The report windows of the range's chunks (up to what Talkdesk can serve yet), then the one that
        brings the stragglers: the longest contact's length past the range (not for a start-filtered account)."""
        for chunk_start, chunk_end in self.run.sizer.chunks(range_start, range_end):
            yield chunk_start, chunk_end
        if self.options.window_field != "start":
            yield range_end, range_end + self.options.max_contact

    def parse(self, start: datetime, end: datetime, table: pa.Table) -> parsing.ParsedReport:
        """One report, parsed against the known queue names; empty where Talkdesk can serve nothing yet."""
        return parsing.parse_contact_report(self.report_type, table, known_queues=self.known, window=(start, end))

    def open_chunk(self, start: datetime, end: datetime, parsed: parsing.ParsedReport) -> None:
        """Earlier open chunks take their late contacts from the chunk's report, the chunk its own."""
        rest = _hand_over(self.open, parsed)
        own, outside = _split_window(rest, start, end)
        timeless = outside.malformed[outside.malformed["owner_at"].isna()]
        self.result.entries_outside_range += _timed(outside)
        self.open.append(_OpenChunk(start, end, parsing.ParsedReport(
            own.records, own.raw, pd.concat([own.malformed, timeless]))))

    def finish_complete(self, covered: datetime) -> None:
        """Finish the chunks no later report can add to: the reports reached `max_contact` past their end
        (every chunk at once for an account known to filter on start)."""
        while self.open and (self.options.window_field == "start"
                             or self.open[0].end + self.options.max_contact <= covered):
            self._finish(self.open.pop(0))

    def finish_all(self, stragglers: parsing.ParsedReport | None) -> None:
        """The report past the range brings the last stragglers; every chunk is finished."""
        if stragglers is not None:
            self.result.entries_outside_range += _timed(_hand_over(self.open, stragglers))
        while self.open:
            self._finish(self.open.pop(0))

    def frame(self, range_start: datetime, empty: parsing.ParsedReport) -> pd.DataFrame:
        """The finished chunks' interval rows (the rows' columns, without a row, where no chunk finished)."""
        if self.frames:
            return pd.concat(self.frames, ignore_index=True)
        return aggregate_contact_volume(empty.records, self.queues, window_start=range_start, window_end=range_start,
                                        collected_at=self.run.collected_at, report_type=self.report_type)

    def _finish(self, chunk: _OpenChunk) -> None:
        self.run.keeper.keep(chunk.start, chunk.end, chunk.parsed)
        _count_unmatched(self.result, chunk.parsed.records, self.known)
        self.frames.append(aggregate_contact_volume(
            chunk.parsed.records, self.queues, window_start=chunk.start, window_end=chunk.end,
            collected_at=self.run.collected_at, report_type=self.report_type))


def collect_contact_volume(run_report: ReportRunner, engine: Engine, raw_store: RawStore, *, report_type: str,
                           queues: pd.DataFrame, range_start: datetime, range_end: datetime, account_id: str,
                           options: CollectionOptions = CollectionOptions(),
                           available_until: datetime | None = None) -> CollectionResult:
    """The account's interval volume rows for every 15-minute interval of [range_start, range_end) (its raw and
    malformed entries kept under the account).

    Contacts belong to the chunk they STARTED in. If the account filters report windows on the record's end,
    a contact that started in one chunk and ended later arrives with a later chunk's report, so a chunk is
    finished (raw entries kept, rows aggregated) only once the reports reach `max_contact` past its end; after
    the last chunk, one report of that length brings the last stragglers. Each contact is fetched once, with
    no overlapping margins. An account known to filter on start (`window_field="start"`) finishes each chunk
    at once and skips the last report.
    """
    run = start_collection(run_report, engine, raw_store, report_type=report_type, options=options,
                           available_until=available_until, account_id=account_id)
    chunks = _ContactChunks(run, report_type=report_type, queues=queues, options=options)
    empty = parsing.parse_contact_report(report_type, [])
    stragglers = None
    for start, end, table in ordered_fetches(chunks.fetches(range_start, range_end), run.available_until,
                                             run.reports):
        parsed = empty if table is None else chunks.parse(
            start, end, run.count_fetch(start, min(end, run.available_until), table))
        if start >= range_end:
            stragglers = parsed
            continue
        chunks.open_chunk(start, end, parsed)
        chunks.finish_complete(covered=min(end, run.available_until))
    chunks.finish_all(stragglers)
    run.result.frame = chunks.frame(range_start, empty)
    return run.result
