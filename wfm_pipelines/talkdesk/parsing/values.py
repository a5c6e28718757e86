"""Single Talkdesk values (timestamps in every documented shape, ring-group lists, numbers) and the
configuration payloads (users, ring groups, queues), plus the frame shapes shared with `reports`."""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

UTC = "UTC"
RECORD_COLUMNS = ["entry_key", "started_at", "ended_at", "outcome", "queue_ids",
                  "wait_s", "talk_s", "hold_s", "acw_s", "handle_s", "user_id"]
STATUS_COLUMNS = ["entry_key", "agent_id", "state", "state_start", "state_end", "duration_s"]
RAW_COLUMNS = ["entry_key", "owner_at", "entry"]
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
    parsed = pd.to_datetime(source, format="ISO8601", utc=True, errors="coerce")
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


def _clean_name(item: Any) -> str:
    return str(item).strip().strip("'\"").strip()


def _unique_names(items: Iterable[Any]) -> tuple[str, ...]:
    names = (_clean_name(item) for item in items if not _is_blank(item))
    return tuple(dict.fromkeys(name for name in names if name))


def parse_ring_groups(value: Any) -> tuple[str, ...]:
    """Ring-group names of a report entry, in order, trimmed and deduplicated.

    Accepts `"agents"`, `"sales, support"`, `'["rg1", "rg2"]'`, `"['rg1']"`, a real list; blank -> ().
    """
    if _is_blank(value):
        return ()
    if isinstance(value, (list, tuple)):
        return _unique_names(value)
    text = str(value).strip()
    if text.startswith("["):
        for loads in (json.loads, ast.literal_eval):
            try:
                loaded = loads(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            if isinstance(loaded, (list, tuple)):
                return _unique_names(loaded)
        text = text.strip("[]")
    return _unique_names(text.split(","))


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
    for user in entries:
        agent_id = _text_or_none(user.get("id"))
        if agent_id is None:
            continue
        try:
            created = parse_timestamp(user.get("created_at"))
        except ValueError:
            created = None
        rows[agent_id] = (agent_id, _text_or_none(user.get("name")), _text_or_none(user.get("email")),
                          _text_or_none(user.get("extension")), _bool(user.get("active"), True), created)
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
    for item in items:
        name = _text_or_none(item.get("name")) or _text_or_none(item.get("id"))
        if name is None:
            continue
        rows[name] = (name, name, source_kind, _float_or_nan(item.get("wait_time_threshold")),
                      _float_or_nan(item.get("short_abandoned_threshold")))
    frame = pd.DataFrame(list(rows.values()), columns=[
        "queue_id", "name", "source_kind", "service_level_threshold_s", "short_abandon_threshold_s"])
    return frame.astype({"queue_id": object, "name": object, "source_kind": object,
                         "service_level_threshold_s": "float64", "short_abandon_threshold_s": "float64"})
