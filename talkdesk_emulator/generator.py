"""On-demand, deterministic data for any window: days are generated from (seed, day) and cached briefly."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from talkdesk_emulator.config import EmulatorConfig
from talkdesk_emulator.day_cache import DAYS_PER_OWNER, DayCache
from talkdesk_emulator.directory import Directory
from talkdesk_emulator.shifts import DAY, Shifts, day_shifts, demand_per_minute, preferred_shift_centres
from talkdesk_emulator.statuses import (OFFLINE, DayTimeline, Segments, day_timeline, empty_segments,
                                             offline_segments, split_at_month_changes)
from talkdesk_emulator.traffic import Contacts, day_contacts

# A day's activity lies within [day start - 7 h, day start + 31 h] (shifts centred in the day, calls < 4 h).
ACTIVITY_BEFORE_DAY = 7 * 3600
ACTIVITY_AFTER_DAY_END = 7 * 3600 + 4 * 3600
OFFLINE_LOOKBACK_DAYS = 32
_generator_numbers = itertools.count()  # tells generators apart in a day cache shared by accounts


@dataclass(frozen=True)
class DayActivity:
    timeline: DayTimeline
    contacts: Contacts


class DataGenerator:
    def __init__(self, config: EmulatorConfig, directory: Directory, cached_days: int = DAYS_PER_OWNER,
                 day_cache: DayCache | None = None) -> None:
        """`day_cache` is shared by the accounts of one process (it then decides how many days are kept);
        without one the generator keeps its last `cached_days` days."""
        self.config = config
        self.directory = directory
        self.centres = preferred_shift_centres(directory)
        self._lock = threading.RLock()
        self._shifts: OrderedDict[int, Shifts] = OrderedDict()
        self._days = day_cache if day_cache is not None else DayCache(days_per_owner=cached_days)
        self._cache_owner = next(_generator_numbers)

    # -- per-day building blocks -------------------------------------------------------------------
    def shifts(self, day: int) -> Shifts:
        with self._lock:
            if day not in self._shifts:
                self._shifts[day] = day_shifts(self.directory, self.centres, day)
                while len(self._shifts) > 128:
                    self._shifts.popitem(last=False)
            self._shifts.move_to_end(day)
            return self._shifts[day]

    def contacts_target(self, day: int) -> float:
        return float(demand_per_minute(day, self.config.seed, self.config.contacts_per_day).sum())

    def activity(self, day: int) -> DayActivity:
        with self._lock:
            cached = self._days.get(self._cache_owner, day)
            if cached is not None:
                return cached
            timeline = day_timeline(self.shifts(day), self.config.seed, day, self.contacts_target(day),
                                    self.config.max_contact_seconds)
            contacts = day_contacts(self.directory, timeline.calls, [self.shifts(d) for d in (day - 1, day, day + 1)],
                                    self.config.seed, day, self.config.contacts_per_day)
            activity = DayActivity(timeline, contacts)
            self._days.put(self._cache_owner, day, activity)
            return activity

    @staticmethod
    def _days_touching(start: int, end: int) -> range:
        # Day d can reach [d*DAY - 7 h, (d+1)*DAY + 11 h]: the first day reaching `start` is a ceiling.
        return range(-((ACTIVITY_AFTER_DAY_END + DAY - start) // DAY), (end + ACTIVITY_BEFORE_DAY) // DAY + 1)

    # -- windows -----------------------------------------------------------------------------------
    def contacts_in_window(self, start: int, end: int, field: str, cutoff: int) -> Contacts:
        """Contacts whose end (or start) lies in [start, end) and that ended by `cutoff`, sorted by start."""
        parts = []
        for day in self._days_touching(start, end):
            contacts = self.activity(day).contacts
            moment = contacts.end if field == "end" else contacts.start
            keep = (moment >= start) & (moment < end) & (contacts.end <= cutoff)
            if keep.any():
                parts.append(contacts.take(np.flatnonzero(keep)))
        if not parts:
            return self.activity(start // DAY).contacts.take(np.zeros(0, np.int64))
        merged = Contacts.concat(parts)
        return merged.take(np.argsort(merged.start, kind="stable"))

    def statuses_in_window(self, start: int, end: int, field: str, cutoff: int) -> Segments:
        """Status records (split at month changes) whose end (or start) is in [start, end), ended by `cutoff`."""
        days = self._days_touching(start, end)
        parts = [self.activity(day).timeline.segments for day in days]
        schedule_days = range(days.start - OFFLINE_LOOKBACK_DAYS, days.stop + 1)
        parts.append(offline_segments([self.shifts(day) for day in schedule_days]))
        segments = Segments.concat(parts)
        overlapping = (segments.start < end) & (segments.end >= start)
        segments = split_at_month_changes(segments.take(np.flatnonzero(overlapping)))
        moment = segments.end if field == "end" else segments.start
        keep = (moment >= start) & (moment < end) & (segments.end <= cutoff)
        segments = segments.take(np.flatnonzero(keep))
        return segments.take(np.lexsort((segments.agent, segments.start)))

    def current_labels(self, agent_indexes: list[int], now: int) -> list[int]:
        """The status label of each agent at `now` (Offline outside shifts)."""
        today = now // DAY
        segments = Segments.concat([self.activity(day).timeline.segments for day in (today - 1, today, today + 1)])
        if len(segments) == 0:
            segments = empty_segments()
        # One pass over the three days' segments finds those running now (a few thousand); each agent is then a
        # lookup. Scanning every segment per agent cost a large center 80 ms per call of 20 agents.
        running = np.flatnonzero((segments.start <= now) & (segments.end > now))
        label_of: dict[int, int] = {}
        for agent, label in zip(segments.agent[running].tolist(), segments.label[running].tolist()):
            label_of.setdefault(agent, label)  # the first running segment, as the scan took
        return [int(label_of.get(agent, OFFLINE)) for agent in agent_indexes]
