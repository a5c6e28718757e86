"""Explore report entries (`calls` in both documented shapes, `contacts`, `user_status`) -> normalized
frames (see docs/ARCHITECTURE.md, "Normalized record frames").

Entries arrive as one Arrow table of text columns (`report_table`; a CSV report as read, a JSON report's values
as their text), or as decoded JSON dicts (converted first). Parsing is column-wise: timestamps by Arrow's C++
strptime, durations by one numeric conversion, types and ring groups once per distinct value. A bad entry never
fails a report: it goes to the `malformed` frame with a reason, and the good entries are still returned. The
good entries themselves are returned as they came (`raw`, a table with their owning time and key added) for the
raw store; nothing is encoded to JSON again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from wfm_pipelines.talkdesk.parsing.values import (
    CONTACT_REPORT_TYPES,
    MALFORMED_COLUMNS,
    MAX_DURATION_S,
    ParsedReport,
    RECORD_COLUMNS,
    SECONDS_PER_DAY,
    STATUS_COLUMNS,
    UTC,
    _unique_names,
    parse_ring_groups,
    parse_timestamp_texts,
)
from wfm_pipelines.talkdesk.report_table import (
    BROKEN_COLUMN,
    KEY_COLUMN,
    NOT_AN_OBJECT,
    OWNER_COLUMN,
    OWNER_TYPE,
    PIPELINE_COLUMNS,
    entries_to_table,
    row_json,
)

Entries = pa.Table | Sequence[Mapping[str, Any]]
KEY_SEPARATOR = "\x1f"  # ASCII unit separator


# --------------------------------------------------------------------------- columns of a report table

def as_table(entries: Entries) -> pa.Table:
    """The entries as a report table without the columns a previous parse added (carried entries keep them)."""
    table = entries if isinstance(entries, pa.Table) else entries_to_table(list(entries))
    present = [name for name in PIPELINE_COLUMNS if name in table.column_names]
    return table.drop_columns(present) if present else table


def _texts(table: pa.Table, *fields: str) -> pa.Array:
    """Per entry, the first of `fields` that is present and not blank (null where none is), as text."""
    found: pa.Array | None = None
    for field in fields:
        if field not in table.column_names:
            continue
        column = table.column(field).combine_chunks()
        if column.type != pa.string():
            column = column.cast(pa.string())
        blank = pc.equal(pc.utf8_trim_whitespace(column), "")
        column = pc.if_else(pc.fill_null(blank, True), pa.scalar(None, pa.string()), column)
        found = column if found is None else pc.coalesce(found, column)
    return found if found is not None else pa.nulls(table.num_rows, pa.string())


def _objects(texts: pa.Array) -> np.ndarray:
    return texts.to_numpy(zero_copy_only=False)


def _map_distinct(texts: pa.Array, function: Callable[[Any], Any]) -> np.ndarray:
    """`function` over a text column, computed once per distinct value (types, ring groups, ids, labels)."""
    if len(texts) == 0:
        return np.empty(0, dtype=object)
    encoded = pc.dictionary_encode(texts).combine_chunks() if isinstance(texts, pa.ChunkedArray) else \
        pc.dictionary_encode(texts)
    results = np.empty(len(encoded.dictionary) + 1, dtype=object)
    results[:-1] = [function(value) for value in encoded.dictionary.to_pylist()]
    results[-1] = function(None)  # nulls
    indices = encoded.indices.fill_null(len(encoded.dictionary)).to_numpy(zero_copy_only=False)
    return results[indices]


def _stripped(value: Any) -> str | None:
    return None if value is None else value.strip()


def _broken(table: pa.Table, field: str, texts: pa.Array | None = None) -> np.ndarray:
    """Entries whose `field` holds a NUL, or held a character UTF-8 cannot carry (`report_table`)."""
    texts = _texts(table, field) if texts is None else texts
    flagged = pc.fill_null(pc.match_substring(texts, "\x00"), False).to_numpy(zero_copy_only=False)
    if BROKEN_COLUMN in table.column_names:
        broken_fields = _map_distinct(table.column(BROKEN_COLUMN).combine_chunks(),
                                      lambda value: frozenset(value.split(",")) if value else frozenset())
        flagged |= np.fromiter((field in names for names in broken_fields), dtype=bool, count=table.num_rows)
    return flagged


# A record's time this far outside the window its report was asked for cannot come from either reading of
# the window (filtered on start or on end; no record outlives a 31-day report): it is not a measurement.
FAR_OUTSIDE = pd.Timedelta(days=32)
FAR_OUTSIDE_REASON = "timestamp far outside the report window"


def _far_outside(window: tuple[Any, Any] | None, *stamps: pd.Series) -> np.ndarray:
    size = len(stamps[0])
    if window is None:
        return np.zeros(size, dtype=bool)
    low, high = pd.Timestamp(window[0]) - FAR_OUTSIDE, pd.Timestamp(window[1]) + FAR_OUTSIDE
    far = np.zeros(size, dtype=bool)
    for stamp in stamps:
        far |= (stamp.notna() & ((stamp < low) | (stamp >= high))).to_numpy()
    return far


def stable_hash(text: str) -> str:
    # surrogatepass: a key built from a broken text (the entry is then malformed) must still hash.
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).hexdigest()


def _durations(texts: pa.Array, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seconds with NaN for blanks, unparseable mask, negative mask, absurd mask)."""
    blank = texts.is_null().to_numpy(zero_copy_only=False)
    try:
        numbers = pc.cast(texts, pa.float64()).to_numpy(zero_copy_only=False)
        numbers = np.where(blank, np.nan, numbers)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # a value Arrow cannot read: pandas judges each
        numbers = pd.to_numeric(pd.Series(_objects(texts), dtype=object).str.strip(),
                                errors="coerce").astype("float64").to_numpy()
    unparseable = np.isnan(numbers) & ~blank
    negative = numbers < 0
    # Fractions of a day carry float noise (0.000069444446 d = 6.0000001 s): keep milliseconds.
    with np.errstate(over="ignore", invalid="ignore"):
        seconds = np.round(numbers * scale, 3) if scale != 1.0 else numbers
        absurd = np.isinf(seconds) | (seconds > MAX_DURATION_S)
    return seconds, unparseable, negative, absurd


def _type_token(value: str | None) -> str | None:
    if value is None:
        return None
    token = "".join(value.split()).replace("_", "").replace("-", "").lower()
    return token or None


def _entry_keys(table: pa.Table, *fields: str) -> np.ndarray:
    """The first key field that is present, trimmed; an entry without one gets a hash of its fields."""
    keys = _objects(pc.utf8_trim_whitespace(_texts(table, *fields)))
    missing = np.flatnonzero(pd.isna(keys))
    if len(missing):
        for row, text in zip(missing, row_json(table, missing.tolist())):
            fields_of_entry = json.loads(text)
            keys[row] = "sha:" + stable_hash(json.dumps(fields_of_entry, sort_keys=True, separators=(",", ":")))
    return keys


def _first_reason(checks: list[tuple[np.ndarray, str]], size: int) -> np.ndarray:
    reasons = np.full(size, None, dtype=object)
    for mask, reason in checks:
        reasons[(reasons == None) & mask] = reason  # noqa: E711 - elementwise on an object array
    return reasons


def _not_an_object(table: pa.Table) -> np.ndarray:
    if NOT_AN_OBJECT not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return table.column(NOT_AN_OBJECT).is_valid().to_numpy(zero_copy_only=False)


def _split_report(frame: pd.DataFrame, table: pa.Table, reasons: np.ndarray, owner_column: str,
                  record_columns: list[str], keep_in_raw: np.ndarray | None = None) -> ParsedReport:
    """Good rows -> records (+ raw), the rest -> malformed. Duplicate entry keys keep their last entry."""
    is_bad = pd.notna(reasons)
    owner = frame[owner_column].reset_index(drop=True)
    # A time far outside the window owns nothing: such an entry stays with the report it came in.
    malformed_owner = owner.where(reasons != FAR_OUTSIDE_REASON)
    bad_rows = np.flatnonzero(is_bad)
    malformed = pd.DataFrame({"owner_at": malformed_owner[is_bad].reset_index(drop=True),
                              "reason": pd.Series(reasons[is_bad], dtype=object),
                              "entry": pd.Series(row_json(table, bad_rows.tolist()), dtype=object)})
    # Deduplicate among good entries only: a malformed duplicate must not push out a good one.
    good_positions = np.flatnonzero(~is_bad)
    keep = ~frame["entry_key"].iloc[good_positions].duplicated(keep="last").to_numpy()
    good = np.zeros(len(frame), dtype=bool)
    good[good_positions[keep]] = True
    records = frame.loc[good, record_columns].reset_index(drop=True)
    raw_rows = np.flatnonzero(good if keep_in_raw is None else good & keep_in_raw)
    # Most reports keep every entry: the table is then the raw table as it is, not a copy.
    raw = table if len(raw_rows) == table.num_rows else table.take(pa.array(raw_rows, pa.int64()))
    owners = owner.iloc[raw_rows].dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    raw = raw.append_column(OWNER_COLUMN, pa.array(owners, pa.timestamp("us")).cast(OWNER_TYPE))
    raw = raw.append_column(KEY_COLUMN, pa.array(frame["entry_key"].to_numpy()[raw_rows], pa.string()))
    return ParsedReport(records=records, raw=raw, malformed=malformed[MALFORMED_COLUMNS])


# --------------------------------------------------------------------------- contact reports

@dataclass(frozen=True)
class _Shape:
    key_fields: tuple[str, ...]
    type_field: str
    start_field: str
    end_field: str
    durations: dict[str, str]          # normalized column -> report field
    duration_scale: float              # report unit -> seconds
    outcomes: dict[str, str]           # type token -> outcome
    queue_field: str
    queue_fallback: str | None = None  # legacy `tags`: "agents+rg1"
    direction_field: str | None = None
    # Outcome -> the field that measures its wait when Talkdesk leaves `wait_time` at 0 for a contact that
    # was never answered (both readings occur; the specific field is used only where the wait is 0).
    specific_waits: tuple[tuple[str, str], ...] = ()


_CALL_OUTCOMES = {"inbound": "answered", "answered": "answered", "abandoned": "abandoned",
                  "shortabandoned": "short_abandoned", "missed": "missed", "voicemail": "voicemail",
                  "outbound": "outbound", "outboundmissed": "outbound"}
_CONTACT_OUTCOMES = {"answered": "answered", "abandoned": "abandoned", "shortabandoned": "short_abandoned",
                     "missed": "missed", "voicemail": "voicemail"}
_OUTBOUND_CONTACT_TYPES = frozenset({"connected", "notconnected", "outbound"})

CALLS_CURRENT = _Shape(("call_id", "callsid"), "type", "start_at", "end_at",
                       {"wait_s": "wait_time", "talk_s": "talk_time", "hold_s": "hold_time"}, 1.0,
                       _CALL_OUTCOMES, "ring_groups",
                       specific_waits=(("abandoned", "abandon_time"), ("short_abandoned", "abandon_time")))
CALLS_EXPLORE_UI = _Shape(("interaction_id", "callsid"), "call_type", "start_time", "end_time",
                          {"wait_s": "waiting_time", "talk_s": "talk_time", "hold_s": "holding_time"},
                          SECONDS_PER_DAY, _CALL_OUTCOMES, "ring_groups", queue_fallback="tags")
CONTACTS = _Shape(("contact_id",), "contact_type", "started_at", "finished_at",
                  {"wait_s": "wait_time", "talk_s": "talk_time", "hold_s": "hold_time",
                   "acw_s": "after_call_work_time", "handle_s": "handle_time"}, 1.0,
                  _CONTACT_OUTCOMES, "ring_groups", direction_field="direction",
                  specific_waits=(("abandoned", "abandon_time"), ("short_abandoned", "short_abandon_time"),
                                  ("missed", "time_to_missed"), ("voicemail", "time_to_voicemail")))


def _explore_ui_calls(table: pa.Table) -> np.ndarray:
    """Entries in the older "Explore UI" `calls` shape: none of the current shape's fields, one of the older."""
    def present(*fields: str) -> np.ndarray:
        return _texts(table, *fields).is_valid().to_numpy(zero_copy_only=False)
    return ~present("call_id", "type", "start_at") & present("interaction_id", "call_type", "start_time")


def _tag_ring_groups(value: str | None) -> tuple[str, ...]:
    return () if value is None else _unique_names(value.split("+"))


def _contact_outcome(shape: _Shape, type_token: str | None, direction: str | None) -> str | None:
    """Outcome, or None when the type is unknown (the entry is then malformed)."""
    if direction in ("out", "outbound") or (direction is None and type_token in _OUTBOUND_CONTACT_TYPES):
        return "outbound"
    if direction not in (None, "in", "inbound"):
        return None
    return shape.outcomes.get(type_token) if type_token is not None else None


def _outcomes(shape: _Shape, table: pa.Table, type_texts: pa.Array) -> np.ndarray:
    """Each entry's outcome from its type (and direction, where the shape has one); None when unknown."""
    if not shape.direction_field:
        return _map_distinct(type_texts, lambda text: shape.outcomes.get(_type_token(text)) if text else None)
    pairs = pc.binary_join_element_wise(pc.fill_null(type_texts, "\x00"),
                                        pc.fill_null(_texts(table, shape.direction_field), "\x00"), "\x01")

    def outcome_of(pair: str | None) -> str | None:
        if pair is None:  # `_map_distinct` asks for null, which the filled pairs never are
            return None
        type_text, direction_text = (None if part == "\x00" else part for part in pair.split("\x01"))
        return _contact_outcome(shape, _type_token(type_text), _type_token(direction_text))
    return _map_distinct(pairs, outcome_of)


def _queue_ids(shape: _Shape, table: pa.Table, queue_texts: pa.Array, known_queues: frozenset[str]) -> np.ndarray:
    queue_ids = _map_distinct(queue_texts, lambda text: parse_ring_groups(text, known_queues))
    if shape.queue_fallback:
        tags = _map_distinct(_texts(table, shape.queue_fallback), _tag_ring_groups)
        queue_ids = np.where(queue_texts.is_null().to_numpy(zero_copy_only=False), tags, queue_ids)
    return queue_ids


def _add_durations(shape: _Shape, table: pa.Table, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill the frame's duration columns; returns which entries had an unparseable, a negative and an absurd one."""
    size = table.num_rows
    unparseable_duration = np.zeros(size, dtype=bool)
    negative_duration = np.zeros(size, dtype=bool)
    absurd_duration = np.zeros(size, dtype=bool)
    for column in ("wait_s", "talk_s", "hold_s", "acw_s", "handle_s"):
        field = shape.durations.get(column)
        if field is None:
            frame[column] = np.nan  # the report has no such field
            continue
        seconds, unparseable, negative, absurd = _durations(_texts(table, field), shape.duration_scale)
        frame[column] = np.nan_to_num(seconds, nan=0.0, posinf=0.0)  # the report has the field; a null means none
        unparseable_duration |= unparseable
        negative_duration |= negative
        absurd_duration |= absurd
    outcome_array = frame["outcome"].to_numpy()
    for outcome, field in shape.specific_waits:
        # Only where this outcome's wait_time is 0: the specific field then carries the wait.
        uses = (outcome_array == outcome) & ~(frame["wait_s"].to_numpy() > 0)
        if not uses.any():
            continue
        seconds, unparseable, negative, absurd = _durations(_texts(table, field), shape.duration_scale)
        frame["wait_s"] = np.where(uses & (seconds > 0) & ~absurd, seconds, frame["wait_s"].to_numpy())
        unparseable_duration |= uses & unparseable
        negative_duration |= uses & negative
        absurd_duration |= uses & absurd
    return unparseable_duration, negative_duration, absurd_duration


def _parse_shape(shape: _Shape, table: pa.Table, tz: str, known_queues: frozenset[str],
                 window: tuple[Any, Any] | None) -> tuple[pd.DataFrame, np.ndarray]:
    size = table.num_rows
    started, bad_start = parse_timestamp_texts(_texts(table, shape.start_field), tz)
    ended, bad_end = parse_timestamp_texts(_texts(table, shape.end_field), tz)
    type_texts = _texts(table, shape.type_field)
    type_tokens = _map_distinct(type_texts, _type_token)
    queue_texts = _texts(table, shape.queue_field)
    user_texts = _texts(table, "user_id")
    frame = pd.DataFrame({
        "entry_key": _entry_keys(table, *shape.key_fields),
        "started_at": started, "ended_at": ended,
        "outcome": _outcomes(shape, table, type_texts),
        "queue_ids": _queue_ids(shape, table, queue_texts, known_queues),
        "user_id": _map_distinct(user_texts, _stripped),
    })
    unparseable_duration, negative_duration, absurd_duration = _add_durations(shape, table, frame)
    blank_type = np.fromiter((token is None for token in type_tokens), dtype=bool, count=size)
    no_outcome = pd.isna(frame["outcome"].to_numpy())
    reasons = _first_reason([
        (_not_an_object(table), "entry is not an object (or an unreadable CSV row)"),
        (started.isna().to_numpy() & ~bad_start.to_numpy(), f"missing {shape.start_field}"),
        (bad_start.to_numpy(), f"unparseable {shape.start_field}"),
        (bad_end.to_numpy(), f"unparseable {shape.end_field}"),
        (_far_outside(window, started, ended), FAR_OUTSIDE_REASON),
        (blank_type & no_outcome, f"missing {shape.type_field}"),
        (no_outcome, f"unknown {shape.type_field}"),
        (unparseable_duration, "unparseable duration"),
        (negative_duration, "negative duration"),
        (absurd_duration, "absurd duration (over 32 days)"),
        (_broken(table, shape.queue_field, queue_texts), f"NUL or broken character in {shape.queue_field}"),
        (_broken_key(table, shape.key_fields), f"NUL or broken character in {shape.key_fields[0]}"),
        (_broken(table, "user_id", user_texts), "NUL or broken character in user_id"),
    ], size)
    return frame, reasons


def _broken_key(table: pa.Table, key_fields: tuple[str, ...]) -> np.ndarray:
    broken = np.zeros(table.num_rows, dtype=bool)
    for field in key_fields:
        if field in table.column_names:
            broken |= _broken(table, field)
    return broken


_DURATION_COLUMNS = {"wait_s": "float64", "talk_s": "float64", "hold_s": "float64", "acw_s": "float64",
                     "handle_s": "float64"}


def parse_contact_report(report_type: str, entries: Entries, *, tz: str = UTC,
                         known_queues: Iterable[str] = (), window: tuple[Any, Any] | None = None) -> ParsedReport:
    """`calls` or `contacts` entries -> normalized contact records, raw entries, malformed entries.

    `calls` entries may mix the current `call_id` shape (integer seconds) and the older "Explore UI"
    shape (`interaction_id`, `call_type`, durations in fractions of a day, `tags` "agents+rg1"); the
    shape is detected per entry by its fields. Duplicate entry keys within one report keep the LAST
    entry (Talkdesk's newest rendering of the contact) and count once. Raw owner time is the start.
    """
    if report_type not in CONTACT_REPORT_TYPES:
        raise ValueError(f"report_type must be one of {CONTACT_REPORT_TYPES}, not {report_type!r}")
    table = as_table(entries)
    known = frozenset(str(name) for name in known_queues)
    if report_type == "contacts":
        frame, reasons = _parse_shape(CONTACTS, table, tz, known, window)
    else:
        explore_ui = _explore_ui_calls(table)
        if not explore_ui.any():
            frame, reasons = _parse_shape(CALLS_CURRENT, table, tz, known, window)
        else:
            parts, order = [], []
            for shape, mask in ((CALLS_CURRENT, ~explore_ui), (CALLS_EXPLORE_UI, explore_ui)):
                positions = np.flatnonzero(mask)
                parts.append(_parse_shape(shape, table.take(pa.array(positions, pa.int64())), tz, known, window))
                order.append(positions)
            # Back to report order so that "the last duplicate wins" means last in the report.
            restore = np.argsort(np.concatenate(order), kind="stable")
            frame = pd.concat([part[0] for part in parts], ignore_index=True).iloc[restore].reset_index(drop=True)
            reasons = np.concatenate([part[1] for part in parts])[restore]
    frame = frame.astype(_DURATION_COLUMNS)
    parsed = _split_report(frame, table, reasons, "started_at", RECORD_COLUMNS)
    parsed.records.attrs["report_type"] = report_type
    return parsed


# --------------------------------------------------------------------------- user_status

def parse_user_status_report(entries: Entries, *, tz: str = UTC,
                             window: tuple[Any, Any] | None = None) -> ParsedReport:
    """`user_status` entries -> [entry_key, agent_id, state, state_start, state_end, duration_s].

    `entry_key` is user_id, start (UTC epoch ns) and label joined by `KEY_SEPARATOR`. Open records
    (no `status_end_at`) are records with NaT end; they have no owner yet, so they are not in `raw`.
    `duration_s` is `status_time`, else end - start. Duplicate keys keep the last entry.
    """
    table = as_table(entries)
    size = table.num_rows
    start, bad_start = parse_timestamp_texts(_texts(table, "status_start_at"), tz)
    end, bad_end = parse_timestamp_texts(_texts(table, "status_end_at"), tz)
    user_texts, label_texts = _texts(table, "user_id"), _texts(table, "status_label")
    agent_ids = _map_distinct(user_texts, _stripped)
    labels = _map_distinct(label_texts, _stripped)
    status_time, bad_time, negative_time, absurd_time = _durations(_texts(table, "status_time"), 1.0)
    elapsed = (end - start).dt.total_seconds().to_numpy()
    duration = np.where(np.isnan(status_time), elapsed, status_time)
    absurd_time |= elapsed > MAX_DURATION_S
    # Talkdesk documents no key: user, start (as UTC epoch nanoseconds, so every timestamp shape gives the same
    # key) and label, joined by a separator no id or label holds.
    start_ns = pa.array(start.to_numpy(dtype="datetime64[ns]").astype("int64"), pa.int64(),
                        mask=start.isna().to_numpy()).cast(pa.string())
    keys = _objects(pc.binary_join_element_wise(
        pc.fill_null(user_texts, ""), pc.fill_null(start_ns, ""), pc.fill_null(label_texts, ""), KEY_SEPARATOR))
    frame = pd.DataFrame({"entry_key": keys, "agent_id": agent_ids, "state": labels,
                          "state_start": start, "state_end": end, "duration_s": duration.astype("float64")},
                         index=pd.RangeIndex(size))
    reasons = _first_reason([
        (_not_an_object(table), "entry is not an object (or an unreadable CSV row)"),
        (pd.isna(agent_ids), "missing user_id"),
        (start.isna().to_numpy() & ~bad_start.to_numpy(), "missing status_start_at"),
        (bad_start.to_numpy(), "unparseable status_start_at"),
        (bad_end.to_numpy(), "unparseable status_end_at"),
        (_far_outside(window, start, end), FAR_OUTSIDE_REASON),
        (pd.isna(labels), "missing status_label"),
        (bad_time, "unparseable status_time"),
        (negative_time, "negative status_time"),
        ((end < start).to_numpy(), "status_end_at before status_start_at"),
        (absurd_time, "absurd duration (over 32 days)"),
        (_broken(table, "user_id", user_texts), "NUL or broken character in user_id"),
        (_broken(table, "status_label", label_texts), "NUL or broken character in status_label"),
    ], size)
    return _split_report(frame, table, reasons, "state_end", STATUS_COLUMNS,
                         keep_in_raw=end.notna().to_numpy())
