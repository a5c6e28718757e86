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
# records, several GiB as Python objects; 150,000 keeps a run well under 1 GiB.
TARGET_ENTRIES_PER_REPORT = 150_000
INITIAL_CHUNK = timedelta(hours=6)
MAX_CHUNK = timedelta(days=30)  # plus the contact margin, still one report under Talkdesk's 31-day limit


def _sizer(max_chunk: timedelta, target_entries: int) -> windows.ChunkSizer:
    return windows.ChunkSizer(initial=INITIAL_CHUNK, maximum=max_chunk, target_entries=target_entries)


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
    """Interval volume rows for every 15-minute interval of [range_start, range_end)."""
    available_until = available_until or utc_now()
    collected_at = utc_now()
    result = CollectionResult(frame=pd.DataFrame())
    frames = []
    sizer = _sizer(chunk, target_entries)
    for chunk_start, chunk_end in sizer.chunks(range_start, range_end):
        fetch = windows.contact_fetch_window(chunk_start, chunk_end, window_field=window_field,
                                             max_contact=max_contact, available_until=available_until)
        entries: list[dict] = []
        if fetch is not None:
            entries = run_report(report_type, *fetch)
            result.reports_requested += 1
            result.windows_fetched.append(fetch)
            sizer.observe(len(entries), fetch[1] - fetch[0])
        result.entries_received += len(entries)
        parsed = parsing.parse_contact_report(report_type, entries)
        del entries
        kept, malformed = _keep_raw(engine, report_type, parsed, chunk_start, chunk_end, collected_at)
        result.raw_kept += kept
        _count_reasons(result, malformed)
        frames.append(contact_volume.aggregate_contact_volume(
            parsed.records, queues, window_start=chunk_start, window_end=chunk_end, collected_at=collected_at,
            report_type=report_type))
        del parsed
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
        frames.append(agent_states.agent_state_transactions(
            parsed.records, window_start=chunk_start, window_end=chunk_end, collected_at=collected_at))
        del parsed
    frames = [f for f in frames if len(f)] or frames[:1]
    result.frame = pd.concat(frames, ignore_index=True) if frames else agent_states.agent_state_transactions(
        parsing.parse_user_status_report([]).records, window_start=range_start, window_end=range_start,
        collected_at=collected_at)
    return result


def raw_entries_as_dicts(raw: pd.DataFrame) -> list[dict]:
    return [json.loads(text) for text in raw["entry"]]
