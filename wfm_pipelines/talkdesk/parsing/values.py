"""Single Talkdesk values (timestamps in every documented shape, ring-group lists, numbers) and the
configuration payloads (users, ring groups, queues), plus the frame shapes shared with `reports`."""

from __future__ import annotations

import ast
import functools
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

log = logging.getLogger("wfm_pipelines.talkdesk")

UTC = "UTC"
RECORD_COLUMNS = ["entry_key", "started_at", "ended_at", "outcome", "queue_ids",
                  "wait_s", "talk_s", "hold_s", "acw_s", "handle_s", "user_id"]
STATUS_COLUMNS = ["entry_key", "agent_id", "state", "state_start", "state_end", "duration_s"]
MALFORMED_COLUMNS = ["owner_at", "reason", "entry"]
CONTACT_REPORT_TYPES = ("calls", "contacts")

_UTC_NAMES = frozenset({"UTC", "ETC/UTC", "Z", "GMT", "ETC/GMT", "UCT", "ZULU"})
# An explicit zone after a time of day ("...10:22:26Z", "...+01:00", "...+0100"); a bare date's "-29" is not one.
_EXPLICIT_ZONE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)\s*$")
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ParsedReport:
    records: pd.DataFrame
    raw: pd.DataFrame
    malformed: pd.DataFrame


# --------------------------------------------------------------------------- scalars

def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, float):
        return math.isnan(value)
    return value is pd.NaT


def _localize_naive(stamp: pd.Timestamp, tz: str) -> pd.Timestamp:
    # Naive wall times are in the report's requested timezone; an ambiguous fall-back hour is read
    # as its first (DST) occurrence and a skipped spring-forward time moves forward.
    return stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def parse_timestamp(value: Any, *, tz: str = UTC) -> pd.Timestamp | None:
    """One Talkdesk timestamp -> UTC `pandas.Timestamp`; None for None/"". Naive values are in `tz`.

    Raises ValueError when the value is not a timestamp.
    """
    if _is_blank(value):
        return None
    if isinstance(value, (datetime, pd.Timestamp)):
        stamp = pd.Timestamp(value)
    elif isinstance(value, str):
        try:
            stamp = pd.Timestamp(value.strip())
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"unparseable timestamp: {value!r}") from exc
    else:
        raise ValueError(f"unparseable timestamp: {value!r}")
    if stamp is pd.NaT or pd.isna(stamp):
        raise ValueError(f"unparseable timestamp: {value!r}")
    stamp = _localize_naive(stamp, tz) if stamp.tzinfo is None else stamp
    return stamp.tz_convert(UTC).as_unit("ns")


def parse_timestamps(values: Iterable[Any], tz: str = UTC) -> tuple[pd.Series, pd.Series]:
    """Vectorised `parse_timestamp`: (datetime64[ns, UTC] series with NaT for blanks and bad values, bad mask).

    `bad` is True where a non-blank value could not be parsed.
    """
    source = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    source = source.astype(object)
    # pandas' ISO 8601 parser applies the first offset it meets to the naive values after it
    # ("...10:00+01:00", "...10:00:00.5" -> both shifted): naive and zoned values are parsed apart.
    zoned = np.fromiter((isinstance(v, str) and _EXPLICIT_ZONE.search(v) is not None for v in source),
                        dtype=bool, count=len(source))
    parsed = pd.Series(pd.NaT, index=source.index, dtype="datetime64[ns, UTC]")
    for part in (zoned, ~zoned):
        if part.any():
            parsed[part] = pd.to_datetime(source[part], format="ISO8601", utc=True, errors="coerce")
    if str(tz).upper() not in _UTC_NAMES and len(source):
        naive = np.fromiter(
            ((isinstance(v, str) and _EXPLICIT_ZONE.search(v) is None)
             or (isinstance(v, datetime) and v.tzinfo is None) for v in source),
            dtype=bool, count=len(source))
        naive &= parsed.notna().to_numpy()
        if naive.any():
            wall = parsed[naive].dt.tz_localize(None)
            parsed.loc[naive] = wall.dt.tz_localize(
                tz, ambiguous=np.ones(len(wall), dtype=bool), nonexistent="shift_forward").dt.tz_convert(UTC)
    bad = pd.Series(False, index=source.index)
    # Shapes outside ISO 8601 (rare) get the lenient scalar parser before being called bad.
    for position in np.flatnonzero(parsed.isna().to_numpy()):
        value = source.iat[position]
        if _is_blank(value):
            continue
        try:
            parsed.iat[position] = parse_timestamp(value, tz=tz)
        except ValueError:
            bad.iat[position] = True
    return parsed.astype("datetime64[ns, UTC]"), bad


# The shapes Talkdesk and the emulator write most, parsed by Arrow's C++ strptime (a day of status records is
# over a million timestamps): (format, its length, naive). Everything else goes to pandas' ISO 8601 parser.
_FAST_FORMATS = (("%Y-%m-%dT%H:%M:%SZ", 20, False), ("%Y-%m-%d %H:%M:%S", 19, True),
                 ("%Y-%m-%dT%H:%M:%S+00:00", 25, False))


def _exact_parses(texts: pa.Array, stamps: pa.Array, length: int) -> np.ndarray:
    """Where strptime's answer is the text's own time: it accepts a leading space, and rolls `02-30` over to
    March and second 60 to the next minute, which the strict parser calls bad."""
    candidates = np.flatnonzero(pc.and_(stamps.is_valid(), pc.equal(pc.utf8_length(texts), length))
                                .to_numpy(zero_copy_only=False))
    exact = np.zeros(len(texts), dtype=bool)
    if len(candidates):
        rows = pa.array(candidates, pa.int64())
        chosen_texts, chosen = texts.take(rows), stamps.take(rows)
        same = pc.and_(pc.equal(pc.day(chosen), pc.utf8_slice_codeunits(chosen_texts, 8, 10).cast(pa.int64())),
                       pc.equal(pc.second(chosen), pc.utf8_slice_codeunits(chosen_texts, 17, 19).cast(pa.int64())))
        exact[candidates] = same.to_numpy(zero_copy_only=False)
    return exact


def parse_timestamp_texts(texts: pa.Array | pa.ChunkedArray, tz: str = UTC) -> tuple[pd.Series, pd.Series]:
    """`parse_timestamps` for a text column: the common shapes in C++, the rest (fractions, offsets, odd
    spellings) by `parse_timestamps`, with the same answers."""
    texts = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
    size = len(texts)
    parsed = np.full(size, np.datetime64("NaT"), dtype="datetime64[ns]")
    done = np.zeros(size, dtype=bool)
    utc_wall = str(tz).upper() in _UTC_NAMES
    for layout, length, naive in _FAST_FORMATS:
        if naive and not utc_wall:
            continue  # naive wall times in another zone need pandas' DST rules
        stamps = pc.strptime(texts, format=layout, unit="s", error_is_null=True)
        exact = _exact_parses(texts, stamps, length) & ~done
        if exact.any():
            parsed[exact] = stamps.to_numpy(zero_copy_only=False)[exact].astype("datetime64[ns]")
            done |= exact
        if done.all():
            break
    rest = np.flatnonzero(~done & ~texts.is_null().to_numpy(zero_copy_only=False))
    bad = np.zeros(size, dtype=bool)
    if len(rest):
        slow, slow_bad = parse_timestamps(pd.Series(texts.take(pa.array(rest)).to_numpy(zero_copy_only=False),
                                                    dtype=object), tz)
        parsed[rest] = slow.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")
        bad[rest] = slow_bad.to_numpy()
    return pd.Series(pd.DatetimeIndex(parsed).tz_localize(UTC)), pd.Series(bad)


def _clean_name(item: Any) -> str:
    return str(item).strip().strip("'\"").strip()


def _unique_names(items: Iterable[Any], known: frozenset[str] = frozenset()) -> tuple[str, ...]:
    names = (_known_or_clean(item, known) for item in items if not _is_blank(item))
    return tuple(dict.fromkeys(name for name in names if name))


def _known_or_clean(item: Any, known: frozenset[str]) -> str:
    """A name exactly as a known queue spells it (quotes included), else trimmed of spaces and quotes."""
    text = str(item)
    if text in known or text.strip() in known:
        return text if text in known else text.strip()
    return _clean_name(text)


_COMMA = re.compile(r",")


@functools.lru_cache(maxsize=8)
def _has_comma_name(known: frozenset[str]) -> bool:
    """Whether a known queue name holds a comma (asked once per known set, not once per ring-group text)."""
    return any("," in name for name in known)


def _split_known(text: str, known: frozenset[str]) -> list[str]:
    """Split a comma-joined list, keeping together the pieces that spell a known name containing commas
    (`Sales, EMEA,support` -> `Sales, EMEA`, `support` when `Sales, EMEA` is a queue). Longest match first."""
    cuts = [0] + [m.end() for m in _COMMA.finditer(text)]
    ends = [m.start() for m in _COMMA.finditer(text)] + [len(text)]
    names, index = [], 0
    some_name_has_a_comma = _has_comma_name(known)
    while index < len(cuts):
        match = None
        if some_name_has_a_comma:
            for last in range(len(ends) - 1, index, -1):
                candidate = text[cuts[index]: ends[last]]
                if candidate in known or candidate.strip() in known:
                    match = last
                    break
        last = index if match is None else match
        names.append(text[cuts[index]: ends[last]])
        index = last + 1
    return names


def parse_ring_groups(value: Any, known: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Ring-group names of a report entry, in order, trimmed and deduplicated.

    Accepts `"agents"`, `"sales, support"`, `'["rg1", "rg2"]'`, `"['rg1']"`, a real list; blank -> ().
    Talkdesk joins names with commas and allows commas and quotes in names, so the text is matched against
    the `known` queue names before it is split: with `Sales, EMEA` known, `"Sales, EMEA,support"` is two
    queues, and a queue called `'VIP'` keeps its quotes.
    """
    if _is_blank(value):
        return ()
    if isinstance(value, (list, tuple)):
        return _unique_names(value, known)
    text = str(value)
    if text in known or text.strip() in known:
        return (_known_or_clean(text, known),)
    text = text.strip()
    if text.startswith("["):
        for loads in (json.loads, ast.literal_eval):
            try:
                loaded = loads(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(loaded, (list, tuple)):
                return _unique_names(loaded, known)
        text = text.strip("[]")
    return _unique_names(_split_known(text, known), known)


# --------------------------------------------------------------------------- what the database can store

# No Talkdesk duration exceeds a report's 31-day window (status records are split at month changes); a
# longer one (1e300, an overflowed counter) is not a measurement and would poison every sum it enters.
MAX_DURATION_S = 32 * 86400.0


def is_storable_text(value: Any) -> bool:
    """Whether a text value can be stored in PostgreSQL and SQLite alike: no NUL, no lone UTF-16 surrogate
    (JSON's "\\ud800" escape decodes to one, and UTF-8 cannot encode it)."""
    if not isinstance(value, str):
        return True
    if "\x00" in value:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def repair_text(value: Any) -> Any:
    """A display text made storable: NUL dropped, lone surrogates replaced by U+FFFD."""
    if not isinstance(value, str) or is_storable_text(value):
        return value
    return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value if char != "\x00")


def _text_or_none(value: Any) -> str | None:
    if _is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _bool(value: Any, default: bool) -> bool:
    if _is_blank(value):
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "y", "t")
    return bool(value)


def _float_or_nan(value: Any) -> float:
    try:
        return float(value) if not _is_blank(value) else math.nan
    except (TypeError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- configuration payloads

def parse_users(entries: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Users API objects -> [agent_id, name, email, extension, active, source_created_at].

    Entries without an `id` cannot be keyed and are skipped; a repeated id keeps its last entry.
    `active` missing means active (the Users API lists users, deactivated ones say so).
    """
    rows: dict[str, tuple] = {}
    unstorable = 0
    for user in entries:
        agent_id = _text_or_none(user.get("id"))
        if agent_id is None:
            continue
        if not is_storable_text(agent_id):
            unstorable += 1
            continue
        try:
            created = parse_timestamp(user.get("created_at"))
        except ValueError:
            created = None
        # A NUL or a broken surrogate in a display text must not fail the whole import: it is repaired.
        rows[agent_id] = (agent_id, repair_text(_text_or_none(user.get("name"))),
                          repair_text(_text_or_none(user.get("email"))),
                          repair_text(_text_or_none(user.get("extension"))), _bool(user.get("active"), True), created)
    if unstorable:
        log.warning("%d Talkdesk user(s) skipped: their id holds a NUL or a broken character", unstorable)
    frame = pd.DataFrame(list(rows.values()),
                         columns=["agent_id", "name", "email", "extension", "active", "source_created_at"])
    frame["active"] = frame["active"].astype(bool)
    frame["source_created_at"] = pd.to_datetime(frame["source_created_at"], utc=True).astype("datetime64[ns, UTC]")
    return frame.astype({"agent_id": object, "name": object, "email": object, "extension": object})


def parse_queues(items: Iterable[Mapping[str, Any]], source_kind: str) -> pd.DataFrame:
    """Ring groups (`source_kind="ring_group"`) or ccaas queues (`"queue"`) -> queue frame.

    `queue_id` is the name in both cases, because reports reference queues by name (a ccaas queue
    without a name falls back to its id). Thresholds are seconds, NaN when Talkdesk gives none.
    """
    if source_kind not in ("ring_group", "queue"):
        raise ValueError(f"source_kind must be 'ring_group' or 'queue', not {source_kind!r}")
    rows: dict[str, tuple] = {}
    unstorable = 0
    for item in items:
        name = _text_or_none(item.get("name")) or _text_or_none(item.get("id"))
        if name is None:
            continue
        if not is_storable_text(name):
            unstorable += 1
            continue
        rows[name] = (name, name, source_kind, _float_or_nan(item.get("wait_time_threshold")),
                      _float_or_nan(item.get("short_abandoned_threshold")))
    if unstorable:
        log.warning("%d Talkdesk queue(s) skipped: the name holds a NUL or a broken character", unstorable)
    frame = pd.DataFrame(list(rows.values()), columns=[
        "queue_id", "name", "source_kind", "service_level_threshold_s", "short_abandon_threshold_s"])
    return frame.astype({"queue_id": object, "name": object, "source_kind": object,
                         "service_level_threshold_s": "float64", "short_abandon_threshold_s": "float64"})
