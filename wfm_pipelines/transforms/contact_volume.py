"""Contact records -> `wfm_contact_volume_interval` rows, by the counting rules of
docs/counting-rules.md#counting-a-contact (restated below).

- A contact belongs to the interval (UTC, `interval_minutes` long) containing its start, and to each
  queue in its `queue_ids`; an inbound contact with none goes to `_unassigned`. Outbound (and any
  `other`) contacts are not counted.
- entered = answered + abandoned + missed + voicemail; short abandons are excluded (Talkdesk excludes
  them from offered and from service level). handled = answered.
- Talk, hold, ACW and answer-wait sums are over handled contacts; abandon-wait over abandoned ones.
- sum_handle_time_s = sum_talk + sum_hold (+ sum_acw where the report has ACW). The `contacts`
  report's own `handle_time` is deliberately NOT used: the formula keeps every row internally
  consistent (handle = talk + hold + acw exactly) and identical in meaning for both reports.
- sum_acw_time_s is NULL (NaN) where the report has no ACW field (`calls`), 0.0 for a quiet interval
  of a report that has one (`contacts`).
- answered_in_sl = handled with wait <= the queue's service_level_threshold_s; 20 s where Talkdesk
  gives no threshold or the queue is unknown.
- Every active queue gets a row for every interval of the window, zeros included; `_unassigned` and
  queues unknown to the queue frame get rows only where they have contacts.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa

from wfm_pipelines.db.schema import VOLUME_COUNT_COLUMNS, VOLUME_SUM_COLUMNS, wfm_contact_volume_interval
from wfm_pipelines.talkdesk.parsing import parse_contact_report

UNASSIGNED_QUEUE = "_unassigned"
DEFAULT_SERVICE_LEVEL_THRESHOLD_S = 20.0
# The columns of `wfm_contact_volume_interval`, in its order, but the account: the writer fills that in.
VOLUME_COLUMNS = [column.name for column in wfm_contact_volume_interval.columns if column.name != "account_id"]
_ENTERED_OUTCOMES = ("answered", "abandoned", "missed", "voicemail")
_COUNTED_OUTCOMES = _ENTERED_OUTCOMES + ("short_abandoned",)
_REPORTS_WITH_ACW = {"calls": False, "contacts": True}


def utc_timestamp(value: datetime | pd.Timestamp | str, name: str) -> pd.Timestamp:
    """A UTC timestamp (ns); naive values are taken as UTC, the only timezone the project works in."""
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a timestamp, not {value!r}")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.as_unit("ns")


def interval_grid(window_start: pd.Timestamp, window_end: pd.Timestamp, interval_minutes: int) -> pd.DatetimeIndex:
    """Interval starts of an aligned window [window_start, window_end) (none when the two are equal)."""
    step = pd.Timedelta(minutes=interval_minutes)
    if window_end < window_start:
        raise ValueError(f"window_end {window_end} is before window_start {window_start}")
    for name, stamp in (("window_start", window_start), ("window_end", window_end)):
        if stamp.floor(step) != stamp:
            raise ValueError(f"{name} {stamp} is not on a {interval_minutes}-minute boundary")
    # date_range(start, start, inclusive="left") still yields `start`, so count the intervals instead.
    return pd.date_range(window_start, periods=(window_end - window_start) // step, freq=step).as_unit("ns")


def _report_has_acw(records: pd.DataFrame, report_type: str | None) -> bool:
    report_type = report_type or records.attrs.get("report_type")
    if report_type in _REPORTS_WITH_ACW:
        return _REPORTS_WITH_ACW[report_type]
    return bool(len(records)) and bool(records["acw_s"].notna().any())


def _queue_settings(queues: pd.DataFrame | None) -> tuple[list[str], dict[str, float]]:
    """(active queue ids, service-level thresholds of the queues that have one)."""
    if queues is None or not len(queues):
        return [], {}
    ids = queues["queue_id"].astype(str)
    if "active" in queues.columns:
        ids = ids[queues["active"].fillna(True).astype(bool).to_numpy()]
    active_ids = sorted(set(ids))
    thresholds = {}
    if "service_level_threshold_s" in queues.columns:
        known = queues.dropna(subset=["service_level_threshold_s"])
        thresholds = dict(zip(known["queue_id"].astype(str), known["service_level_threshold_s"].astype(float)))
    return active_ids, thresholds


def _queue_list(queue_ids) -> tuple[str, ...]:
    if queue_ids is None or (isinstance(queue_ids, float) and np.isnan(queue_ids)) or not len(queue_ids):
        return (UNASSIGNED_QUEUE,)
    return tuple(queue_ids)


def _per_contact_metrics(records: pd.DataFrame, thresholds: dict[str, float], step: pd.Timedelta) -> pd.DataFrame:
    """One row per (contact, queue) with its contribution to every column."""
    exploded = records.assign(queue_id=[_queue_list(ids) for ids in records["queue_ids"]]).explode("queue_id")
    outcome = exploded["outcome"].to_numpy()
    answered = outcome == "answered"
    abandoned = outcome == "abandoned"
    wait = exploded["wait_s"].fillna(0.0).to_numpy(dtype="float64")
    threshold = exploded["queue_id"].map(thresholds).fillna(DEFAULT_SERVICE_LEVEL_THRESHOLD_S).to_numpy(dtype="float64")

    def over(mask: np.ndarray, column: str) -> np.ndarray:
        return np.where(mask, exploded[column].fillna(0.0).to_numpy(dtype="float64"), 0.0)

    return pd.DataFrame({
        "queue_id": exploded["queue_id"].astype(str).to_numpy(),
        "interval_start": exploded["started_at"].dt.floor(step).dt.tz_convert(None).to_numpy(),
        "entered_count": np.isin(outcome, _ENTERED_OUTCOMES).astype("int64"),
        "handled_count": answered.astype("int64"),
        "abandoned_count": abandoned.astype("int64"),
        "short_abandoned_count": (outcome == "short_abandoned").astype("int64"),
        "missed_count": (outcome == "missed").astype("int64"),
        "voicemail_count": (outcome == "voicemail").astype("int64"),
        "sum_talk_time_s": over(answered, "talk_s"),
        "sum_hold_time_s": over(answered, "hold_s"),
        "sum_acw_time_s": over(answered, "acw_s"),
        "sum_answer_wait_s": np.where(answered, wait, 0.0),
        "sum_abandon_wait_s": np.where(abandoned, wait, 0.0),
        "answered_in_sl_count": (answered & (wait <= threshold)).astype("int64"),
    })


def aggregate_contact_volume(records: pd.DataFrame, queues: pd.DataFrame | None, *,
                             window_start, window_end, collected_at, interval_minutes: int = 15,
                             report_type: str | None = None) -> pd.DataFrame:
    """Normalized contact records -> `wfm_contact_volume_interval` rows for [window_start, window_end).

    Only records starting inside the window are counted (callers fetch wider margins). An empty
    window (start == end) gives an empty frame with the table's columns. `queues` has
    `queue_id`, optionally `service_level_threshold_s` and `active` (missing = all active).
    `report_type` (`calls`/`contacts`) says whether the report has ACW; by default it is read from
    `records.attrs` (set by the parser), else inferred from `acw_s`. Rows sorted by (queue_id, interval_start).
    """
    start = utc_timestamp(window_start, "window_start")
    end = utc_timestamp(window_end, "window_end")
    intervals = interval_grid(start, end, interval_minutes)
    step = pd.Timedelta(minutes=interval_minutes)
    active_ids, thresholds = _queue_settings(queues)
    started = records["started_at"]
    selected = records.loc[(started >= start) & (started < end) & records["outcome"].isin(_COUNTED_OUTCOMES)]
    contributions = _per_contact_metrics(selected, thresholds, step)
    # Zero rows for every active queue and interval; summing them in keeps quiet intervals visible.
    zeros = pd.DataFrame({
        "queue_id": np.repeat(np.asarray(active_ids, dtype=object), len(intervals)),
        "interval_start": np.tile(intervals.tz_convert(None).to_numpy(), len(active_ids)),
    })
    for column in contributions.columns[2:]:
        zeros[column] = np.zeros(len(zeros), dtype=contributions[column].dtype)
    volume = (pd.concat([contributions, zeros], ignore_index=True)
              .groupby(["queue_id", "interval_start"], sort=True, as_index=False).sum())
    if not _report_has_acw(records, report_type):
        volume["sum_acw_time_s"] = np.nan
    volume["sum_handle_time_s"] = (volume["sum_talk_time_s"] + volume["sum_hold_time_s"]
                                   + volume["sum_acw_time_s"].fillna(0.0))
    volume["interval_start"] = pd.to_datetime(volume["interval_start"], utc=True).astype("datetime64[ns, UTC]")
    volume["interval_minutes"] = np.int64(interval_minutes)
    volume["collected_at"] = pd.Series(utc_timestamp(collected_at, "collected_at"), index=volume.index,
                                       dtype="datetime64[ns, UTC]")
    volume = volume.astype({column: "int64" for column in
                            [*VOLUME_COUNT_COLUMNS, "answered_in_sl_count", "interval_minutes"]})
    volume = volume.astype({column: "float64" for column in VOLUME_SUM_COLUMNS})
    volume["queue_id"] = volume["queue_id"].astype(object)
    return volume[VOLUME_COLUMNS].sort_values(["queue_id", "interval_start"], kind="stable").reset_index(drop=True)


def reaggregate_raw_entries(report_type: str, raw: pa.Table, queues: pd.DataFrame | None, *,
                            window_start, window_end, collected_at, interval_minutes: int = 15,
                            tz: str = "UTC") -> pd.DataFrame:
    """Aggregate kept raw entries (a raw-store table) again, as the reconciliation check does.

    Parsed exactly as at collection time, so a re-aggregated window gives the same rows as the collection did
    (entries that were malformed were never kept raw).
    """
    known = queues["queue_id"].astype(str) if queues is not None and len(queues) else ()
    parsed = parse_contact_report(report_type, raw, tz=tz, known_queues=known)
    return aggregate_contact_volume(parsed.records, queues, window_start=window_start, window_end=window_end,
                                    collected_at=collected_at, interval_minutes=interval_minutes,
                                    report_type=report_type)
