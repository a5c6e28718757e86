"""Collect a range of partitions: fetch report windows, keep the raw entries, aggregate.

One report per chunk (never one per 15 minutes), each sized to hold a bounded number of entries: a small
center's week is one report, a large center's day a few, and memory stays that of one chunk. The raw entries (and the
malformed ones, with their reason) are written per chunk, each chunk replacing its own window in one
transaction; the aggregated rows are returned for the caller to write over the whole range.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pandas as pd
from sqlalchemy.engine import Engine

from wfm_pipelines.collection import windows
from wfm_pipelines.db import writer
from wfm_pipelines.talkdesk import parsing
from wfm_pipelines.transforms import agent_states, contact_volume

log = logging.getLogger("wfm_pipelines.collection")

RAW_TABLE = "talkdesk_raw_entry"
MALFORMED_TABLE = "talkdesk_malformed_entry"

# (report_type, start, end) -> entries. The Talkdesk client's `run_report`, or anything shaped like it.
ReportRunner = Callable[[str, datetime, datetime], list[dict]]


@dataclass
class CollectionResult:
    frame: pd.DataFrame
    reports_requested: int = 0
    entries_received: int = 0
    raw_kept: int = 0
    malformed: int = 0
    malformed_reasons: dict[str, int] = field(default_factory=dict)
    windows_fetched: list[tuple[datetime, datetime]] = field(default_factory=list)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _share_strings(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """One string object per distinct value instead of one per row: a week of a large center's transactions
    is millions of rows over a few thousand agents and a dozen states, held until the run writes them."""
    for column in columns:
        frame[column] = frame[column].astype("category").astype(object)
    return frame


def _count_reasons(result: CollectionResult, malformed: pd.DataFrame) -> None:
    result.malformed += len(malformed)
    for reason, count in malformed["reason"].value_counts().items() if len(malformed) else ():
        result.malformed_reasons[str(reason)] = result.malformed_reasons.get(str(reason), 0) + int(count)


def _keep_raw(engine: Engine, report_type: str, parsed: parsing.ParsedReport, chunk_start: datetime,
              chunk_end: datetime, collected_at: datetime) -> tuple[int, pd.DataFrame]:
    """Replace the chunk's raw and malformed entries; returns (raw rows kept, malformed rows kept)."""
    start, end = pd.Timestamp(chunk_start), pd.Timestamp(chunk_end)
    raw = parsed.raw
    raw = raw[(raw["owner_at"] >= start) & (raw["owner_at"] < end)]
    raw = raw.drop_duplicates("entry_key", keep="last")
    raw_frame = pd.DataFrame({
        "report_type": report_type,
        "owner_at": raw["owner_at"].to_numpy(),
        "entry_key": raw["entry_key"].to_numpy(),
        "entry": raw["entry"].to_numpy(),
        "collected_at": pd.Timestamp(collected_at),
    })
    raw_frame["owner_at"] = pd.to_datetime(raw_frame["owner_at"], utc=True)
    malformed = parsed.malformed
    # An entry whose owning timestamp cannot be read is kept with the chunk it was fetched for; one that
    # can be read but belongs to another chunk is left to that chunk's collection.
    owner = malformed["owner_at"]
    malformed = malformed[owner.isna() | ((owner >= start) & (owner < end))]
    malformed_frame = pd.DataFrame({
        "report_type": report_type,
        "owner_at": pd.to_datetime(malformed["owner_at"], utc=True).fillna(start).to_numpy(),
        "reason": malformed["reason"].astype(str).to_numpy(),
        "entry": malformed["entry"].astype(str).to_numpy(),
        "collected_at": pd.Timestamp(collected_at),
    })
    malformed_frame["owner_at"] = pd.to_datetime(malformed_frame["owner_at"], utc=True)
    scope = {"report_type": report_type}
    writer.replace_window(engine, RAW_TABLE, raw_frame, window_start=chunk_start, window_end=chunk_end,
                          time_column="owner_at", scope=scope)
    writer.replace_window(engine, MALFORMED_TABLE, malformed_frame, window_start=chunk_start,
                          window_end=chunk_end, time_column="owner_at", scope=scope)
    return len(raw_frame), malformed


# Reports are sized to hold about this many entries: a day of a large center's `user_status` is ~700,000
# records, several GiB as Python objects; 50,000 (a `calls` entry is ~45 fields) keeps a run under 1 GiB.
TARGET_ENTRIES_PER_REPORT = 50_000
INITIAL_CHUNK = timedelta(hours=6)
MAX_CHUNK = timedelta(days=30)  # plus the contact margin, still one report under Talkdesk's 31-day limit


def _sizer(max_chunk: timedelta, target_entries: int) -> windows.ChunkSizer:
    return windows.ChunkSizer(initial=INITIAL_CHUNK, maximum=max_chunk, target_entries=target_entries)


def _split_window(parsed: parsing.ParsedReport, start: datetime, end: datetime) -> tuple[parsing.ParsedReport, parsing.ParsedReport]:
    """(entries that started in [start, end), the rest); a malformed entry without a time is in the rest."""
    low, high = pd.Timestamp(start), pd.Timestamp(end)
    in_records = (parsed.records["started_at"] >= low) & (parsed.records["started_at"] < high)
    in_raw = (parsed.raw["owner_at"] >= low) & (parsed.raw["owner_at"] < high)
    owner = parsed.malformed["owner_at"]
    in_bad = owner.notna() & (owner >= low) & (owner < high)
    return (
        parsing.ParsedReport(parsed.records[in_records], parsed.raw[in_raw], parsed.malformed[in_bad]),
        parsing.ParsedReport(parsed.records[~in_records], parsed.raw[~in_raw], parsed.malformed[~in_bad]),
    )


def _merge_parsed(first: parsing.ParsedReport, second: parsing.ParsedReport) -> parsing.ParsedReport:
    """Both halves of one chunk's contacts; an entry fetched twice (an overlap-filtering account) counts once."""
    if second.records.empty and second.malformed.empty:
        return first
    records = pd.concat([first.records, second.records], ignore_index=True).drop_duplicates("entry_key", keep="last")
    raw = pd.concat([first.raw, second.raw], ignore_index=True).drop_duplicates("entry_key", keep="last")
    malformed = pd.concat([first.malformed, second.malformed], ignore_index=True)
    records.attrs.update(first.records.attrs)
    return parsing.ParsedReport(records, raw, malformed)


def collect_contact_volume(
    run_report: ReportRunner,
    engine: Engine,
    *,
    report_type: str,
    queues: pd.DataFrame,
    range_start: datetime,
    range_end: datetime,
    window_field: str = "auto",
    max_contact: timedelta = timedelta(hours=4),
    available_until: datetime | None = None,
    chunk: timedelta = MAX_CHUNK,
    target_entries: int = TARGET_ENTRIES_PER_REPORT,
) -> CollectionResult:
    """Interval volume rows for every 15-minute interval of [range_start, range_end).

    Contacts belong to the chunk they STARTED in. If the account filters report windows on the record's end,
    a contact that started in one chunk and ended later arrives with a later chunk's report, so a chunk is
    finished (raw entries kept, rows aggregated) only once the reports reach `max_contact` past its end; after
    the last chunk, one report of that length brings the last stragglers. Each contact is fetched once, with
    no overlapping margins. An account known to filter on start (`window_field="start"`) finishes each chunk
    at once and skips the last report.
    """
    available_until = available_until or utc_now()
    collected_at = utc_now()
    result = CollectionResult(frame=pd.DataFrame())
    frames = []

    def fetch(start: datetime, end: datetime) -> parsing.ParsedReport:
        end = min(end, available_until)
        if end <= start:
            return parsing.parse_contact_report(report_type, [])
        entries = run_report(report_type, start, end)
        result.reports_requested += 1
        result.windows_fetched.append((start, end))
        result.entries_received += len(entries)
        sizer.observe(len(entries), end - start)
        return parsing.parse_contact_report(report_type, entries)

    def finish(chunk_start: datetime, chunk_end: datetime, parsed: parsing.ParsedReport) -> None:
        kept, malformed = _keep_raw(engine, report_type, parsed, chunk_start, chunk_end, collected_at)
        result.raw_kept += kept
        _count_reasons(result, malformed)
        frames.append(contact_volume.aggregate_contact_volume(
            parsed.records, queues, window_start=chunk_start, window_end=chunk_end, collected_at=collected_at,
            report_type=report_type))

    # Chunks whose contacts may still arrive with a later report: [start, end, parsed so far].
    pending: list[list] = []

    def absorb(parsed: parsing.ParsedReport) -> parsing.ParsedReport:
        """Hand each unfinished chunk the contacts that started in it; return the rest."""
        for item in pending:
            inside, parsed = _split_window(parsed, item[0], item[1])
            item[2] = _merge_parsed(item[2], inside)
        return parsed

    sizer = _sizer(chunk, target_entries)
    for chunk_start, chunk_end in sizer.chunks(range_start, range_end):
        rest = absorb(fetch(chunk_start, chunk_end))
        current, _before_the_range = _split_window(rest, chunk_start, chunk_end)
        timeless = rest.malformed[rest.malformed["owner_at"].isna()]
        current = parsing.ParsedReport(current.records, current.raw, pd.concat([current.malformed, timeless]))
        pending.append([chunk_start, chunk_end, current])
        covered = min(chunk_end, available_until)
        # A chunk is complete once the reports reach the longest contact past its end.
        while pending and (window_field == "start" or pending[0][1] + max_contact <= covered):
            finish(*pending.pop(0))
    if pending:
        absorb(fetch(range_end, range_end + max_contact))
        for item in pending:
            finish(*item)
    result.frame = pd.concat(frames, ignore_index=True) if frames else contact_volume.aggregate_contact_volume(
        parsing.parse_contact_report(report_type, []).records, queues,
        window_start=range_start, window_end=range_start, collected_at=collected_at, report_type=report_type)
    return result


def collect_agent_state_transactions(
    run_report: ReportRunner,
    engine: Engine,
    *,
    range_start: datetime,
    range_end: datetime,
    window_field: str = "auto",
    available_until: datetime | None = None,
    chunk: timedelta = MAX_CHUNK,
    target_entries: int = TARGET_ENTRIES_PER_REPORT,
) -> CollectionResult:
    """One row per Talkdesk status record that ended in [range_start, range_end).

    If the account filters report windows on the record's start, records that began before a chunk and end
    in it come from earlier fetches: the first chunk looks back to the month start once, and each chunk
    hands the records it fetched that end later (`carry`) to the next one.
    """
    available_until = available_until or utc_now()
    collected_at = utc_now()
    result = CollectionResult(frame=pd.DataFrame())
    frames = []
    carry: list[str] = []
    first_fetch = True
    sizer = _sizer(chunk, target_entries)
    for chunk_start, chunk_end in sizer.chunks(range_start, range_end):
        fetch = windows.status_fetch_window(chunk_start, chunk_end, available_until=available_until)
        entries: list[dict] = [json.loads(text) for text in carry]
        if fetch is not None:
            fetched = run_report("user_status", *fetch)
            result.reports_requested += 1
            result.windows_fetched.append(fetch)
            result.entries_received += len(fetched)
            sizer.observe(len(fetched), fetch[1] - fetch[0])
            entries.extend(fetched)
            del fetched
        parsed = parsing.parse_user_status_report(entries)
        if first_fetch and fetch is not None:
            first_fetch = False
            lookback = windows.status_lookback_window(chunk_start)
            if lookback is not None and windows.needs_status_lookback(window_field, parsed.records, fetch[0]):
                log.info("user_status window %s..%s: fetching earlier starts %s..%s (report may filter on start)",
                         fetch[0], fetch[1], *lookback)
                earlier = run_report("user_status", *lookback)
                result.reports_requested += 1
                result.windows_fetched.append(lookback)
                result.entries_received += len(earlier)
                entries.extend(earlier)
                del earlier
                parsed = parsing.parse_user_status_report(entries)
        del entries
        kept, malformed = _keep_raw(engine, "user_status", parsed, chunk_start, chunk_end, collected_at)
        result.raw_kept += kept
        _count_reasons(result, malformed)
        later = parsed.raw["owner_at"] >= pd.Timestamp(chunk_end)
        carry = parsed.raw.loc[later, "entry"].tolist()
        frames.append(_share_strings(agent_states.agent_state_transactions(
            parsed.records, window_start=chunk_start, window_end=chunk_end, collected_at=collected_at),
            ["agent_id", "state"]))
        del parsed
    frames = [f for f in frames if len(f)] or frames[:1]
    result.frame = pd.concat(frames, ignore_index=True) if frames else agent_states.agent_state_transactions(
        parsing.parse_user_status_report([]).records, window_start=range_start, window_end=range_start,
        collected_at=collected_at)
    return result
