"""Collect a range of partitions: fetch report windows, keep the raw entries, aggregate.

One report per chunk (never one per 15 minutes), each sized to hold a bounded number of entries: a small
center's week is one report, a large center's day a few, and memory stays that of one chunk (entries are Arrow
text columns, not Python objects). The next reports' jobs run while a chunk is parsed and written
(`_ReportsAhead`), so Talkdesk's generation time hides behind ours. The raw entries of each chunk replace the
chunk's window in the raw store (Parquet files), the malformed ones, with their reason, in the database; the
aggregated rows are returned for the caller to write over the whole range.

A bad answer never destroys what is stored: a chunk's raw entries are replaced only past the shrink guard
(`db.guards`); an entry that cannot be stored (unreadable, a NUL or broken character where it is used, an
absurd duration, a time far outside its report's window) is kept aside as malformed with its reason, once per
window; entries that belong to no interval of the range are counted, not silently dropped.

A collection is one account's (`account_id`): everything it reads (remembered report behaviour) and writes (raw
files, malformed entries) is that account's alone. The returned frames carry no account: the caller writes them
for the same account.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy.engine import Engine

from wfm_pipelines.collection import windows
from wfm_pipelines.db import guards, report_behaviour, writer
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, OWNER_COLUMN
from wfm_pipelines.transforms import agent_states, contact_volume

log = logging.getLogger("wfm_pipelines.collection")

MALFORMED_TABLE = "talkdesk_malformed_entry"

# (report_type, start, end) -> the report's entries as a table of text columns (`report_table`). The Talkdesk
# client's `run_report` in the account's report format (`report_formats.ReportFormats.runner`), or anything
# shaped like it.
ReportRunner = Callable[[str, datetime, datetime], pa.Table]


@dataclass
class CollectionResult:
    frame: pd.DataFrame
    reports_requested: int = 0
    entries_received: int = 0
    raw_kept: int = 0
    malformed: int = 0
    malformed_reasons: dict[str, int] = field(default_factory=dict)
    windows_fetched: list[tuple[datetime, datetime]] = field(default_factory=list)
    # Entries received that belong to no interval of the range (before it, after it, or looked back at).
    entries_outside_range: int = 0
    # Contacts per queue name that no known queue spells (queue name -> contacts).
    unmatched_queue_names: dict[str, int] = field(default_factory=dict)
    # Which record timestamp the status reports filter a window on, as configured or seen.
    report_window_field: str | None = None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _share_strings(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One string object per distinct value instead of one per row: a week of a large center's transactions
    is millions of rows over a few thousand agents and a dozen states, held until the run writes them."""
    for column in columns:
        frame[column] = frame[column].astype("category").astype(object)
    return frame


# --------------------------------------------------------------------------- raw tables

def _owners(raw: pa.Table) -> np.ndarray:
    """Owning times of a raw table as UTC datetime64[us] (comparable with `_bound`)."""
    return raw.column(OWNER_COLUMN).to_numpy().astype("datetime64[us]") if raw.num_rows else np.empty(0, "datetime64[us]")


def _bound(moment: datetime) -> np.datetime64:
    return np.datetime64(pd.Timestamp(moment).tz_convert("UTC").tz_localize(None), "us")


def _owned_in(raw: pa.Table, start: datetime, end: datetime) -> np.ndarray:
    owners = _owners(raw)
    return (owners >= _bound(start)) & (owners < _bound(end))


def _rows(raw: pa.Table, mask: np.ndarray) -> pa.Table:
    return raw.filter(pa.array(mask, pa.bool_()))


def _last_of_each_key(raw: pa.Table) -> pa.Table:
    if raw.num_rows == 0:
        return raw
    repeated = pd.Series(raw.column(KEY_COLUMN).to_numpy(zero_copy_only=False)).duplicated(keep="last").to_numpy()
    return _rows(raw, ~repeated) if repeated.any() else raw


def _concat(first: pa.Table, second: pa.Table) -> pa.Table:
    """Two tables of one report type's entries; a field one of them lacks is null in its rows."""
    if second.num_rows == 0 and first.num_columns:
        return first
    if first.num_rows == 0 and second.num_columns:
        return second
    return pa.concat_tables([first, second], promote_options="default")


class _ChunkKeeper:
    """Writes a finished chunk's raw and malformed entries, each replacing the chunk's window, and counts them."""

    def __init__(self, engine: Engine, raw_store: RawStore, report_type: str, result: CollectionResult,
                 collected_at: datetime, shrink_guard: guards.ShrinkGuard | None, *, account_id: str):
        self.engine, self.raw_store, self.report_type, self.result = engine, raw_store, report_type, result
        self.collected_at, self.shrink_guard, self.account_id = collected_at, shrink_guard, account_id

    def keep(self, chunk_start: datetime, chunk_end: datetime, parsed: parsing.ParsedReport) -> None:
        start, end = pd.Timestamp(chunk_start), pd.Timestamp(chunk_end)
        raw = _last_of_each_key(_rows(parsed.raw, _owned_in(parsed.raw, chunk_start, chunk_end)))
        malformed = self._malformed_frame(parsed.malformed, start, end)
        self.raw_store.replace_window(
            self.engine, self.report_type, chunk_start, chunk_end, raw, collected_at=self.collected_at,
            guard=self.shrink_guard, account_id=self.account_id)
        writer.replace_window(self.engine, MALFORMED_TABLE, malformed, window_start=chunk_start,
                              window_end=chunk_end, time_column="owner_at", scope={"report_type": self.report_type},
                              account_id=self.account_id)
        self.result.raw_kept += raw.num_rows
        self.result.malformed += len(malformed)
        for reason, count in malformed["reason"].value_counts().items():
            self.result.malformed_reasons[str(reason)] = self.result.malformed_reasons.get(str(reason), 0) + int(count)

    def _malformed_frame(self, malformed: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
        """The chunk's malformed entries, each once. One whose owning time cannot be read stays with the chunk
        it was fetched for; one that can be read but belongs to another chunk is left to that chunk."""
        owner = pd.to_datetime(malformed["owner_at"], utc=True)
        mine = malformed[(owner.isna() | ((owner >= start) & (owner < end))).to_numpy()]
        entries = mine["entry"].astype(str)
        frame = pd.DataFrame({
            "report_type": self.report_type,
            "owner_at": pd.to_datetime(mine["owner_at"], utc=True).fillna(start).to_numpy(),
            "reason": mine["reason"].astype(str).to_numpy(),
            "entry": entries.to_numpy(),
            "entry_hash": [parsing.stable_hash(text) for text in entries],
            "collected_at": pd.Timestamp(self.collected_at),
        })
        frame["owner_at"] = pd.to_datetime(frame["owner_at"], utc=True)
        return frame.drop_duplicates(["owner_at", "entry_hash"], keep="last").reset_index(drop=True)


# Reports are sized to hold about this many entries (the sizer aims at half, for peaks). Entries are Arrow text
# columns, but parsing and writing a report still takes about 1.5 KB an entry at its peak; a night report sizes
# the first day report, which can hold twice the target (measured: 480,000 status records, 730 MB).
TARGET_ENTRIES_PER_REPORT = 200_000
INITIAL_CHUNK = timedelta(hours=6)
MAX_CHUNK = timedelta(days=30)  # plus the contact margin, still one report under Talkdesk's 31-day limit
# Report jobs running while the current report is parsed and written: one hides Talkdesk's generation time behind
# ours; with the `talkdesk_explore` pool's 4 steps that is at most 8 of the account's 15 simultaneous jobs.
REPORTS_AHEAD = 1


@dataclass(frozen=True)
class CollectionOptions:
    """How a collection asks for reports and guards what it stores (the settings' WFM_* collection values)."""

    # Which record timestamp the account's reports filter a window on: auto, start or end.
    window_field: str = "auto"
    # The longest span of one report, and about how many entries one should hold.
    chunk: timedelta = MAX_CHUNK
    target_entries: int = TARGET_ENTRIES_PER_REPORT
    # The longest contact to expect: how far past a chunk its contacts may still be reported.
    max_contact: timedelta = timedelta(hours=4)
    # None: write whatever Talkdesk answers (the guard is off, or the run accepts a smaller answer).
    shrink_guard: guards.ShrinkGuard | None = None
    # Report jobs started before their turn (0: one job at a time).
    reports_ahead: int = REPORTS_AHEAD


def _sizer(max_chunk: timedelta, target_entries: int) -> windows.ChunkSizer:
    return windows.ChunkSizer(initial=INITIAL_CHUNK, maximum=max_chunk, target_entries=target_entries)


class _ReportsAhead:
    """Report jobs for a sequence of windows, up to `ahead` of them running before their turn.

    Windows are drawn from the iterator only when a slot is free, and none ahead before `sizer` has seen a
    report: a window is then sized by what the reports before it showed, less the ones still running (the
    first is a guess, and a second guess could be far too large). Results come back in window order. Each job
    runs in a daemon thread: when the collection fails (or is closed), a job still running is left to finish on
    its own and its report is dropped; nothing waits for it, and it never keeps the process alive."""

    def __init__(self, run_report: ReportRunner, report_type: str, ahead: int, sizer: windows.ChunkSizer):
        self.run_report, self.report_type, self.ahead, self.sizer = run_report, report_type, ahead, sizer

    def _start(self, start: datetime, end: datetime) -> Future:
        future: Future = Future()

        def run() -> None:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(self.run_report(self.report_type, start, end))
            except BaseException as exc:  # handed to the caller, raised where the result is taken
                future.set_exception(exc)

        threading.Thread(target=run, name=f"talkdesk-{self.report_type}-report", daemon=True).start()
        return future

    def results(self, fetches: Iterator[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime, pa.Table]]:
        waiting: list[tuple[datetime, datetime, Future]] = []
        exhausted = False
        while True:
            while not exhausted and len(waiting) <= (self.ahead if self.sizer.observed else 0):
                window = next(fetches, None)
                if window is None:
                    exhausted = True
                    break
                waiting.append((*window, self._start(*window)))
            if not waiting:
                return
            start, end, future = waiting.pop(0)
            yield start, end, future.result()


def _count_fetch(result: CollectionResult, sizer: windows.ChunkSizer, start: datetime, end: datetime,
                 table: pa.Table) -> pa.Table:
    """A fetched report, counted in the result and in the sizer's entry rate."""
    result.reports_requested += 1
    result.windows_fetched.append((start, end))
    result.entries_received += table.num_rows
    sizer.observe(table.num_rows, end - start)
    return table


def _split_window(parsed: parsing.ParsedReport, start: datetime, end: datetime) -> tuple[parsing.ParsedReport, parsing.ParsedReport]:
    """(entries that started in [start, end), the rest); a malformed entry without a time is in the rest."""
    low, high = pd.Timestamp(start), pd.Timestamp(end)
    in_records = (parsed.records["started_at"] >= low) & (parsed.records["started_at"] < high)
    in_raw = _owned_in(parsed.raw, start, end)
    owner = parsed.malformed["owner_at"]
    in_bad = owner.notna() & (owner >= low) & (owner < high)
    return (
        parsing.ParsedReport(parsed.records[in_records], _rows(parsed.raw, in_raw), parsed.malformed[in_bad]),
        parsing.ParsedReport(parsed.records[~in_records], _rows(parsed.raw, ~in_raw), parsed.malformed[~in_bad]),
    )


def _merge_parsed(first: parsing.ParsedReport, second: parsing.ParsedReport) -> parsing.ParsedReport:
    """Both halves of one chunk's contacts; an entry fetched twice (an overlap-filtering account) counts once."""
    if second.records.empty and second.malformed.empty:
        return first
    records = pd.concat([first.records, second.records], ignore_index=True).drop_duplicates("entry_key", keep="last")
    raw = _last_of_each_key(_concat(first.raw, second.raw))
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

    def __init__(self, engine: Engine, raw_store: RawStore, *, report_type: str, queues: pd.DataFrame,
                 options: CollectionOptions, available_until: datetime, account_id: str):
        self.report_type, self.queues = report_type, queues
        self.options, self.available_until = options, available_until
        self.collected_at = utc_now()
        self.result = CollectionResult(frame=pd.DataFrame(), report_window_field=options.window_field)
        self.keeper = _ChunkKeeper(engine, raw_store, report_type, self.result, self.collected_at,
                                   options.shrink_guard, account_id=account_id)
        self.known = frozenset(queues["queue_id"].astype(str)) if len(queues) else frozenset()
        self.sizer = _sizer(options.chunk, options.target_entries)
        self.open: list[_OpenChunk] = []
        self.frames: list[pd.DataFrame] = []

    def fetches(self, range_start: datetime, range_end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The report windows of the range's chunks (up to what Talkdesk can serve yet), then the one that
        brings the stragglers: the longest contact's length past the range (not for a start-filtered account)."""
        for chunk_start, chunk_end in self.sizer.chunks(range_start, range_end):
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

    def _finish(self, chunk: _OpenChunk) -> None:
        self.keeper.keep(chunk.start, chunk.end, chunk.parsed)
        _count_unmatched(self.result, chunk.parsed.records, self.known)
        self.frames.append(contact_volume.aggregate_contact_volume(
            chunk.parsed.records, self.queues, window_start=chunk.start, window_end=chunk.end,
            collected_at=self.collected_at, report_type=self.report_type))


def collect_contact_volume(
    run_report: ReportRunner,
    engine: Engine,
    raw_store: RawStore,
    *,
    report_type: str,
    queues: pd.DataFrame,
    range_start: datetime,
    range_end: datetime,
    options: CollectionOptions = CollectionOptions(),
    available_until: datetime | None = None,
    # The default account is a deployment without an accounts file; with one, every caller names its account.
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> CollectionResult:
    """The account's interval volume rows for every 15-minute interval of [range_start, range_end) (its raw and
    malformed entries kept under the account).

    Contacts belong to the chunk they STARTED in. If the account filters report windows on the record's end,
    a contact that started in one chunk and ended later arrives with a later chunk's report, so a chunk is
    finished (raw entries kept, rows aggregated) only once the reports reach `max_contact` past its end; after
    the last chunk, one report of that length brings the last stragglers. Each contact is fetched once, with
    no overlapping margins. An account known to filter on start (`window_field="start"`) finishes each chunk
    at once and skips the last report.
    """
    chunks = _ContactChunks(engine, raw_store, report_type=report_type, queues=queues, options=options,
                            available_until=available_until or utc_now(), account_id=check_account_id(account_id))
    empty = parsing.parse_contact_report(report_type, [])
    stragglers = None
    for start, end, table in _ordered_fetches(chunks.fetches(range_start, range_end), chunks.available_until,
                                              _ReportsAhead(run_report, report_type, options.reports_ahead,
                                                            chunks.sizer)):
        parsed = empty if table is None else chunks.parse(start, end, _count_fetch(
            chunks.result, chunks.sizer, start, min(end, chunks.available_until), table))
        if start >= range_end:
            stragglers = parsed
            continue
        chunks.open_chunk(start, end, parsed)
        chunks.finish_complete(covered=min(end, chunks.available_until))
    chunks.finish_all(stragglers)
    result = chunks.result
    result.frame = pd.concat(chunks.frames, ignore_index=True) if chunks.frames else (
        contact_volume.aggregate_contact_volume(
            empty.records, queues, window_start=range_start, window_end=range_start,
            collected_at=chunks.collected_at, report_type=report_type))
    return result


def _ordered_fetches(windows_wanted: Iterator[tuple[datetime, datetime]], available_until: datetime,
                     reports: _ReportsAhead) -> Iterator[tuple[datetime, datetime, pa.Table | None]]:
    """(start, end, table) per wanted window in order: the table of its report (asked for up to what Talkdesk
    can serve yet), or None where nothing of it can be served yet."""
    wanted: list[tuple[datetime, datetime]] = []

    def asked() -> Iterator[tuple[datetime, datetime]]:
        for start, end in windows_wanted:
            wanted.append((start, end))
            if min(end, available_until) > start:
                yield start, min(end, available_until)

    fetched = reports.results(asked())
    for fetch_start, _, table in fetched:
        while wanted[0][0] != fetch_start:  # windows before it that could not be asked for
            yield *wanted.pop(0), None
        yield *wanted.pop(0), table
    for start, end in wanted:
        yield start, end, None


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


# Look-back pieces are filtered as soon as they are parsed (most of a piece is dropped at once), so one may
# hold a few times a report's usual number of entries.
LOOKBACK_PIECE_FACTOR = 4


def _earlier_starts(run_report: ReportRunner, result: CollectionResult, options: CollectionOptions,
                    lookback: tuple[datetime, datetime], keep_from: datetime,
                    window_filter: _StatusWindowFilter) -> pa.Table:
    """Status records that began in the look-back and may end in the range (end >= keep_from). Fetched in
    pieces sized by their entry rate and filtered as they come, so memory holds one piece, not a month."""
    kept = pa.table({})
    sizer = _sizer(options.chunk, options.target_entries * LOOKBACK_PIECE_FACTOR)
    reports = _ReportsAhead(run_report, "user_status", options.reports_ahead, sizer)
    for piece_start, piece_end, piece in reports.results(sizer.chunks(*lookback)):
        _count_fetch(result, sizer, piece_start, piece_end, piece)
        parsed = parsing.parse_user_status_report(piece, window=(piece_start, piece_end))
        window_filter.learn(parsed.records, piece_start, piece_end)
        reaching = _owners(parsed.raw) >= _bound(keep_from)
        kept = _concat(kept, _rows(parsed.raw, reaching))
        result.entries_outside_range += piece.num_rows - int(reaching.sum())
    return kept


def collect_agent_state_transactions(
    run_report: ReportRunner,
    engine: Engine,
    raw_store: RawStore,
    *,
    range_start: datetime,
    range_end: datetime,
    options: CollectionOptions = CollectionOptions(),
    available_until: datetime | None = None,
    # The default account is a deployment without an accounts file; with one, every caller names its account.
    account_id: str = DEFAULT_ACCOUNT_ID,
) -> CollectionResult:
    """One row per Talkdesk status record of the account that ended in [range_start, range_end) (its raw and
    malformed entries and remembered report behaviour kept under the account).

    If the account filters report windows on the record's start, records that began before a chunk and end
    in it come from earlier fetches: the first chunk looks back to the month start once, and each chunk
    hands the records it fetched that end later (`carry`) to the next one.
    """
    account_id = check_account_id(account_id)  # before any report is asked for
    available_until = available_until or utc_now()
    collected_at = utc_now()
    result = CollectionResult(frame=pd.DataFrame())
    keeper = _ChunkKeeper(engine, raw_store, "user_status", result, collected_at, options.shrink_guard,
                          account_id=account_id)
    window_filter = _StatusWindowFilter(engine, options.window_field, account_id=account_id)
    frames = []
    carry = pa.table({})
    looked_back = False
    sizer = _sizer(options.chunk, options.target_entries)
    reports = _ReportsAhead(run_report, "user_status", options.reports_ahead, sizer)
    for chunk_start, chunk_end, fetched in _ordered_fetches(sizer.chunks(range_start, range_end), available_until,
                                                            reports):
        fetch = windows.status_fetch_window(chunk_start, chunk_end, available_until=available_until)
        carried_keys = set(carry.column(KEY_COLUMN).to_pylist()) if carry.num_rows else set()
        table = carry
        if fetched is not None:
            table = _concat(carry, _count_fetch(result, sizer, *fetch, fetched))
        parsed = parsing.parse_user_status_report(table, window=(chunk_start, chunk_end))
        if fetched is not None:
            # Carried records began in an earlier chunk: they say nothing about this report's filter.
            window_filter.learn(parsed.records[~parsed.records["entry_key"].isin(carried_keys)], *fetch)
        if fetched is not None and not looked_back:
            looked_back = True
            lookback = windows.status_lookback_window(chunk_start)
            if lookback is not None and window_filter.needs_lookback():
                log.info("user_status window %s..%s: fetching earlier starts %s..%s (reports may filter on start)",
                         fetch[0], fetch[1], *lookback)
                table = _concat(table, _earlier_starts(run_report, result, options, lookback, chunk_start,
                                                       window_filter))
                parsed = parsing.parse_user_status_report(table, window=(chunk_start, chunk_end))
        del table
        keeper.keep(chunk_start, chunk_end, parsed)
        owners = _owners(parsed.raw)
        later = owners >= _bound(chunk_end)
        result.entries_outside_range += int((owners < _bound(chunk_start)).sum())
        carry = _rows(parsed.raw, later)
        frames.append(_share_strings(agent_states.agent_state_transactions(
            parsed.records, window_start=chunk_start, window_end=chunk_end, collected_at=collected_at),
            ["agent_id", "state"]))
        del parsed
    result.entries_outside_range += carry.num_rows  # ended after the range: a later run owns them
    result.report_window_field = window_filter.field
    frames = [f for f in frames if len(f)] or frames[:1]
    result.frame = pd.concat(frames, ignore_index=True) if frames else agent_states.agent_state_transactions(
        parsing.parse_user_status_report([]).records, window_start=range_start, window_end=range_start,
        collected_at=collected_at)
    return result
