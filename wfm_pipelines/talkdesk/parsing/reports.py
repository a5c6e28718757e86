"""Explore report entries (`calls` in both documented shapes, `contacts`, `user_status`) -> normalized
frames (see docs/ARCHITECTURE.md, "Normalized record frames").

Report entries arrive as JSON objects or as CSV rows (every value a string, "" for null); both are
accepted. Parsing is vectorised with pandas: a day of a large center (250,000 calls, 750,000 status
records) parses in seconds. A bad entry never fails a report: it goes to the `malformed` frame with a
reason, and the good entries are still returned.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from wfm_pipelines.talkdesk.parsing.values import (
    CONTACT_REPORT_TYPES,
    MALFORMED_COLUMNS,
    MAX_DURATION_S,
    ParsedReport,
    RECORD_COLUMNS,
    SECONDS_PER_DAY,
    STATUS_COLUMNS,
    UTC,
    _is_blank,
    _text_or_none,
    _unique_names,
    is_storable_text,
    parse_ring_groups,
    parse_timestamps,
)


# --------------------------------------------------------------------------- report helpers

# One encoder for all entries (json.dumps builds one per call); entries come from JSON, so they
# cannot be circular and the check is skipped. Encoding is still the largest cost of parsing.
_ENCODE_ENTRY = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, check_circular=False, default=str).encode
# For the rare entry holding a lone surrogate (UTF-8 cannot carry it): escaped, so the text stays lossless JSON.
_ENCODE_ENTRY_ASCII = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=True, check_circular=False, default=str).encode


def _entry_texts(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Each entry as JSON text that any database can store, even when an unused field (a name, a note)
    carries a broken character."""
    texts = [_ENCODE_ENTRY(entry) for entry in entries]
    for index, text in enumerate(texts):
        if not is_storable_text(text):
            texts[index] = _ENCODE_ENTRY_ASCII(entries[index])
    return texts


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


def _unstorable(values: list[Any], *, repeated: bool = True) -> np.ndarray:
    """Per value (a text or a tuple of texts), whether it holds a NUL or a lone surrogate. Values that repeat
    (queue names, user ids, labels) are checked once each; unique ones (entry keys) straight."""
    def bad(value: Any) -> bool:
        return not all(map(is_storable_text, value)) if isinstance(value, tuple) else not is_storable_text(value)
    checked = _memo_map(values, bad) if repeated else map(bad, values)
    return np.fromiter(checked, dtype=bool, count=len(values))


def entry_json(entry: Mapping[str, Any]) -> str:
    """The entry as compact JSON text, keys in their original order."""
    return _ENCODE_ENTRY(entry)


def stable_hash(text: str) -> str:
    # surrogatepass: a key built from a broken text (the entry is then malformed) must still hash.
    return hashlib.blake2b(text.encode("utf-8", errors="surrogatepass"), digest_size=16).hexdigest()


def _column(entries: Sequence[Mapping[str, Any]], *fields: str) -> list[Any]:
    """Per entry, the first of `fields` that is present and not blank (else None)."""
    if len(fields) == 1:
        field = fields[0]
        return [entry.get(field) for entry in entries]
    out = []
    for entry in entries:
        found = None
        for field in fields:
            value = entry.get(field)
            if not _is_blank(value):
                found = value
                break
        out.append(found)
    return out


def _durations(values: list[Any], scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(seconds with NaN for blanks, unparseable mask, negative mask, absurd mask)."""
    series = pd.Series(values, dtype=object)
    numbers = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    blank = series.map(_is_blank).to_numpy(dtype=bool) if np.isnan(numbers).any() else np.zeros(len(numbers), bool)
    unparseable = np.isnan(numbers) & ~blank
    negative = numbers < 0
    # Fractions of a day carry float noise (0.000069444446 d = 6.0000001 s): keep milliseconds.
    with np.errstate(over="ignore", invalid="ignore"):
        seconds = np.round(numbers * scale, 3) if scale != 1.0 else numbers
        absurd = np.isinf(seconds) | (seconds > MAX_DURATION_S)
    return seconds, unparseable, negative, absurd


def _memo_map(values: list[Any], function) -> list[Any]:
    """`function` over values with few distinct values (types, ring groups), computed once each."""
    cache: dict[Any, Any] = {}
    out = []
    for value in values:
        key = tuple(value) if isinstance(value, list) else value
        try:
            result = cache[key]
        except KeyError:
            result = cache[key] = function(value)
        except TypeError:  # unhashable oddities (dicts): no caching
            result = function(value)
        out.append(result)
    return out


def _type_token(value: Any) -> str | None:
    if _is_blank(value):
        return None
    return re.sub(r"[\s_\-]+", "", str(value)).lower()


def _entry_keys(entries: Sequence[Mapping[str, Any]], texts: list[str], *fields: str) -> list[str]:
    keys = []
    for entry, text in zip(entries, texts):
        key = None
        for field in fields:
            key = _text_or_none(entry.get(field))
            if key is not None:
                break
        if key is None:
            key = "sha:" + stable_hash(json.dumps(entry, sort_keys=True, separators=(",", ":"), default=str))
        keys.append(key)
    return keys


def _first_reason(checks: list[tuple[np.ndarray, str]], size: int) -> np.ndarray:
    reasons = np.full(size, None, dtype=object)
    for mask, reason in checks:
        reasons[(reasons == None) & mask] = reason  # noqa: E711 - elementwise on an object array
    return reasons


def _split_report(frame: pd.DataFrame, texts: list[str], reasons: np.ndarray, owner_column: str,
                  record_columns: list[str], keep_in_raw: np.ndarray | None = None) -> ParsedReport:
    """Good rows -> records (+ raw), the rest -> malformed. Duplicate entry keys keep their last entry."""
    is_bad = pd.notna(reasons)
    texts_array = np.asarray(texts, dtype=object)
    owner = frame[owner_column].reset_index(drop=True)
    # A time far outside the window owns nothing: such an entry stays with the report it came in.
    malformed_owner = owner.where(reasons != FAR_OUTSIDE_REASON)
    malformed = pd.DataFrame({"owner_at": malformed_owner[is_bad].reset_index(drop=True),
                              "reason": pd.Series(reasons[is_bad], dtype=object),
                              "entry": pd.Series(texts_array[is_bad], dtype=object)})
    # Deduplicate among good entries only: a malformed duplicate must not push out a good one.
    good_positions = np.flatnonzero(~is_bad)
    keep = ~frame["entry_key"].iloc[good_positions].duplicated(keep="last").to_numpy()
    good = np.zeros(len(frame), dtype=bool)
    good[good_positions[keep]] = True
    records = frame.loc[good, record_columns].reset_index(drop=True)
    raw_rows = good if keep_in_raw is None else good & keep_in_raw
    raw = pd.DataFrame({"entry_key": frame["entry_key"][raw_rows].reset_index(drop=True),
                        "owner_at": owner[raw_rows].reset_index(drop=True),
                        "entry": pd.Series(texts_array[raw_rows], dtype=object)})
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


def _is_explore_ui_call(entry: Mapping[str, Any]) -> bool:
    return ("call_id" not in entry and "type" not in entry and "start_at" not in entry
            and ("interaction_id" in entry or "call_type" in entry or "start_time" in entry))


def _tag_ring_groups(value: Any) -> tuple[str, ...]:
    return () if _is_blank(value) else _unique_names(str(value).split("+"))


def _contact_outcome(shape: _Shape, type_token: str | None, direction: str | None) -> str | None:
    """Outcome, or None when the type is unknown (the entry is then malformed)."""
    if direction in ("out", "outbound") or (direction is None and type_token in _OUTBOUND_CONTACT_TYPES):
        return "outbound"
    if direction not in (None, "in", "inbound"):
        return None
    return shape.outcomes.get(type_token) if type_token is not None else None


def _parse_shape(shape: _Shape, entries: Sequence[Mapping[str, Any]], tz: str, known_queues: frozenset[str],
                 window: tuple[Any, Any] | None) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    size = len(entries)
    texts = _entry_texts(entries)
    started, bad_start = parse_timestamps(pd.Series(_column(entries, shape.start_field), dtype=object), tz)
    ended, bad_end = parse_timestamps(pd.Series(_column(entries, shape.end_field), dtype=object), tz)
    raw_types = _column(entries, shape.type_field)
    type_tokens = _memo_map(raw_types, _type_token)
    if shape.direction_field:
        directions = _memo_map(_column(entries, shape.direction_field), _type_token)
        outcomes = [_contact_outcome(shape, token, direction) for token, direction in zip(type_tokens, directions)]
    else:
        outcomes = _memo_map(type_tokens, lambda token: shape.outcomes.get(token) if token else None)
    queue_values = _column(entries, shape.queue_field)
    queue_ids = _memo_map(queue_values, lambda value: parse_ring_groups(value, known_queues))
    if shape.queue_fallback:
        tags = _memo_map(_column(entries, shape.queue_fallback), _tag_ring_groups)
        queue_ids = [t if _is_blank(raw) else q for q, t, raw in zip(queue_ids, tags, queue_values)]
    keys = _entry_keys(entries, texts, *shape.key_fields)
    user_ids = _memo_map(_column(entries, "user_id"), _text_or_none)
    frame = pd.DataFrame({
        "entry_key": keys,
        "started_at": started, "ended_at": ended,
        "outcome": np.asarray(outcomes, dtype=object),
        "queue_ids": pd.Series(queue_ids, dtype=object).to_numpy() if size else np.empty(0, object),
        "user_id": user_ids,
    })
    unparseable_duration = np.zeros(size, dtype=bool)
    negative_duration = np.zeros(size, dtype=bool)
    absurd_duration = np.zeros(size, dtype=bool)
    for column in ("wait_s", "talk_s", "hold_s", "acw_s", "handle_s"):
        field = shape.durations.get(column)
        if field is None:
            frame[column] = np.nan  # the report has no such field
            continue
        seconds, unparseable, negative, absurd = _durations(_column(entries, field), shape.duration_scale)
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
        seconds, unparseable, negative, absurd = _durations(_column(entries, field), shape.duration_scale)
        frame["wait_s"] = np.where(uses & (seconds > 0) & ~absurd, seconds, frame["wait_s"].to_numpy())
        unparseable_duration |= uses & unparseable
        negative_duration |= uses & negative
        absurd_duration |= uses & absurd
    blank_type = np.array([token is None for token in type_tokens], dtype=bool)
    reasons = _first_reason([
        (started.isna().to_numpy() & ~bad_start.to_numpy(), f"missing {shape.start_field}"),
        (bad_start.to_numpy(), f"unparseable {shape.start_field}"),
        (bad_end.to_numpy(), f"unparseable {shape.end_field}"),
        (_far_outside(window, started, ended), FAR_OUTSIDE_REASON),
        (blank_type & (frame["outcome"].isna().to_numpy()), f"missing {shape.type_field}"),
        (frame["outcome"].isna().to_numpy(), f"unknown {shape.type_field}"),
        (unparseable_duration, "unparseable duration"),
        (negative_duration, "negative duration"),
        (absurd_duration, "absurd duration (over 32 days)"),
        (_unstorable(queue_ids), f"NUL or broken character in {shape.queue_field}"),
        (_unstorable(keys, repeated=False), f"NUL or broken character in {shape.key_fields[0]}"),
        (_unstorable(user_ids), "NUL or broken character in user_id"),
    ], size)
    return frame, texts, reasons


def parse_contact_report(report_type: str, entries: Sequence[Mapping[str, Any]], *, tz: str = UTC,
                         known_queues: Iterable[str] = (), window: tuple[Any, Any] | None = None) -> ParsedReport:
    """`calls` or `contacts` entries -> normalized contact records, raw entries, malformed entries.

    `calls` entries may mix the current `call_id` shape (integer seconds) and the older "Explore UI"
    shape (`interaction_id`, `call_type`, durations in fractions of a day, `tags` "agents+rg1"); the
    shape is detected per entry by its keys. Duplicate entry keys within one report keep the LAST
    entry (Talkdesk's newest rendering of the contact) and count once. Raw `owner_at` is the start.
    """
    if report_type not in CONTACT_REPORT_TYPES:
        raise ValueError(f"report_type must be one of {CONTACT_REPORT_TYPES}, not {report_type!r}")
    entries = list(entries)
    known = frozenset(str(name) for name in known_queues)
    if report_type == "contacts":
        frame, texts, reasons = _parse_shape(CONTACTS, entries, tz, known, window)
    else:
        explore_ui = np.fromiter((_is_explore_ui_call(entry) for entry in entries), dtype=bool, count=len(entries))
        if not explore_ui.any():
            frame, texts, reasons = _parse_shape(CALLS_CURRENT, entries, tz, known, window)
        else:
            parts, order = [], []
            for shape, mask in ((CALLS_CURRENT, ~explore_ui), (CALLS_EXPLORE_UI, explore_ui)):
                positions = np.flatnonzero(mask)
                parts.append(_parse_shape(shape, [entries[i] for i in positions], tz, known, window))
                order.append(positions)
            # Back to report order so that "the last duplicate wins" means last in the report.
            restore = np.argsort(np.concatenate(order), kind="stable")
            frame = pd.concat([part[0] for part in parts], ignore_index=True).iloc[restore].reset_index(drop=True)
            texts = list(np.asarray(parts[0][1] + parts[1][1], dtype=object)[restore])
            reasons = np.concatenate([part[2] for part in parts])[restore]
    frame = frame.astype({"wait_s": "float64", "talk_s": "float64", "hold_s": "float64",
                          "acw_s": "float64", "handle_s": "float64"})
    parsed = _split_report(frame, texts, reasons, "started_at", RECORD_COLUMNS)
    parsed.records.attrs["report_type"] = report_type
    return parsed


# --------------------------------------------------------------------------- user_status

def parse_user_status_report(entries: Sequence[Mapping[str, Any]], *, tz: str = UTC,
                             window: tuple[Any, Any] | None = None) -> ParsedReport:
    """`user_status` entries -> [entry_key, agent_id, state, state_start, state_end, duration_s].

    `entry_key` hashes user_id|start (UTC ISO)|label (Talkdesk documents no key). Open records
    (no `status_end_at`) are records with NaT end; they have no owner yet, so they are not in `raw`.
    `duration_s` is `status_time`, else end - start. Duplicate keys keep the last entry.
    """
    entries = list(entries)
    size = len(entries)
    texts = _entry_texts(entries)
    start, bad_start = parse_timestamps(pd.Series(_column(entries, "status_start_at"), dtype=object), tz)
    end, bad_end = parse_timestamps(pd.Series(_column(entries, "status_end_at"), dtype=object), tz)
    agent_ids = _memo_map(_column(entries, "user_id"), _text_or_none)
    labels = _memo_map(_column(entries, "status_label"), _text_or_none)
    status_time, bad_time, negative_time, absurd_time = _durations(_column(entries, "status_time"), 1.0)
    elapsed = (end - start).dt.total_seconds().to_numpy()
    duration = np.where(np.isnan(status_time), elapsed, status_time)
    absurd_time |= elapsed > MAX_DURATION_S
    # The start enters the key as UTC epoch nanoseconds, so every timestamp shape gives the same key.
    start_ns = np.where(start.isna().to_numpy(), "", start.to_numpy(dtype="datetime64[ns]").astype("int64").astype(str))
    keys = [stable_hash(f"{agent}|{ns}|{label}") for agent, ns, label in zip(agent_ids, start_ns, labels)]
    frame = pd.DataFrame({"entry_key": keys, "agent_id": agent_ids, "state": labels,
                          "state_start": start, "state_end": end, "duration_s": duration.astype("float64")},
                         index=pd.RangeIndex(size))
    missing_agent = np.array([a is None for a in agent_ids], dtype=bool)
    missing_label = np.array([s is None for s in labels], dtype=bool)
    reasons = _first_reason([
        (missing_agent, "missing user_id"),
        (start.isna().to_numpy() & ~bad_start.to_numpy(), "missing status_start_at"),
        (bad_start.to_numpy(), "unparseable status_start_at"),
        (bad_end.to_numpy(), "unparseable status_end_at"),
        (_far_outside(window, start, end), FAR_OUTSIDE_REASON),
        (missing_label, "missing status_label"),
        (bad_time, "unparseable status_time"),
        (negative_time, "negative status_time"),
        ((end < start).to_numpy(), "status_end_at before status_start_at"),
        (absurd_time, "absurd duration (over 32 days)"),
        (_unstorable(agent_ids), "NUL or broken character in user_id"),
        (_unstorable(labels), "NUL or broken character in status_label"),
    ], size)
    return _split_report(frame, texts, reasons, "state_end", STATUS_COLUMNS,
                         keep_in_raw=end.notna().to_numpy())
