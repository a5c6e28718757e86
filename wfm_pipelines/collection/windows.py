"""Which Talkdesk report windows cover a range of partitions, whichever timestamp Talkdesk filters on.

Talkdesk does not document which record timestamp an Explore report's `timespan` filters on
(docs/counting-rules.md#report-windows: for Explore it is unconfirmed). The legacy docs say the record's end
("calls that ended between timespan.from and timespan.to"); Airbyte's cursors (`end_at`, `status_end_at`) agree.
Our partitions own contacts by their START and status records by their END, so:

* contacts: fetch the range, then the longest contact's length past it (`contact_volume.collect_contact_volume`
  keeps each chunk open until the reports have reached that far). Filtered on start, the extra report only
  adds records we drop; filtered on end, it brings every contact that started in the range and has ended.
* status records: fetch [start, end). Filtered on end, that is exact. Filtered on start, records that
  began before the range and ended inside it are missing; `status_filter_evidence` tells from the entries
  which case we are in (the collector remembers it per account, so a quiet window that shows nothing does
  not look back again), and `status_lookback_window` covers the earlier starts. Talkdesk splits status
  records at month changes, so none started before the month of the range began.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd


# Talkdesk splits status records at the account's month change; an account's zone can be up to 14 h
# ahead of UTC, so its month can begin that much before the UTC month does.
MONTH_SPLIT_ZONE_MARGIN = timedelta(hours=14)


class ChunkSizer:
    """How much time the next report of a run covers: as much as the 31-day limit allows, as little as
    memory needs. Starts at `initial`, then sizes each report to hold at most about `target_entries` at
    the entry rate seen so far, in whole hours (so chunks stay on 15-minute partition boundaries), never
    above `maximum`. A small center soon gets a report a month; a large one several a day."""

    def __init__(self, *, initial: timedelta, maximum: timedelta, target_entries: int):
        self.maximum = maximum
        self.target_entries = target_entries
        self.span = min(initial, maximum)
        self.observed = False  # whether a report's entry rate has been seen: until then `initial` is a guess

    def observe(self, entries: int, fetched: timedelta) -> None:
        self.observed = True
        hours = fetched.total_seconds() / 3600
        if hours <= 0:
            return
        if entries == 0:
            self.span = min(self.span * 4, self.maximum)
            return
        # Contact centers are two to three times busier at their peak than on average, and the next chunk
        # may be the peak: size for twice the rate seen, and never grow more than twofold at a time.
        wanted = timedelta(hours=int(self.target_entries * hours // (2 * entries)))
        self.span = min(max(wanted, timedelta(hours=1)), self.span * 2, self.maximum)

    def chunks(self, range_start: datetime, range_end: datetime):
        """Consecutive [start, end) windows covering the range; each sized when it is reached."""
        cursor = range_start
        while cursor < range_end:
            nxt = min(cursor + self.span, range_end)
            yield cursor, nxt
            cursor = nxt


def status_fetch_window(
    owned_start: datetime, owned_end: datetime, *, available_until: datetime
) -> tuple[datetime, datetime] | None:
    """The report window that yields every status record that ENDED in the range, if Talkdesk filters on end."""
    fetch_end = min(owned_end, available_until)
    if fetch_end <= owned_start:
        return None
    return owned_start, fetch_end


def status_lookback_window(owned_start: datetime) -> tuple[datetime, datetime] | None:
    """Earlier starts a start-filtered account needs: back to the beginning of the owning month."""
    month_start = owned_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - MONTH_SPLIT_ZONE_MARGIN
    if month_start >= owned_start:
        return None
    return month_start, owned_start


def status_filter_evidence(records: pd.DataFrame, fetch_start: datetime, fetch_end: datetime) -> tuple[str, str] | None:
    """What a `user_status` report over [fetch_start, fetch_end) shows about the timestamp its window filters
    on: ("end", why), ("start", why) or None when its records show neither (a quiet window).

    A closed record that began before the window can only come back if Talkdesk filters on the end (or on
    overlap, which needs no look-back either). A record that ends after the window, or is still open, can only
    come back if it filters on the start."""
    if records.empty:
        return None
    began, ended = records["state_start"], records["state_end"]
    if (ended.notna() & (began < pd.Timestamp(fetch_start))).any():
        return "end", "a record that began before the report window came back"
    if (ended.isna() | (ended >= pd.Timestamp(fetch_end))).any():
        return "start", "a record that ends after the report window (or is still open) came back"
    return None


def needs_status_lookback(window_field: str, remembered: str | None) -> bool:
    """Whether earlier starts must be fetched: `end` never, `start` always; `auto` follows what the account
    was seen to do (`remembered`) and, while that is unknown, looks back to be safe."""
    field = remembered if window_field == "auto" else window_field
    return field != "end"
