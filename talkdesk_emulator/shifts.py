"""Demand curve and agent shifts: the calendar everything else is generated from.

Times are integer seconds since the Unix epoch (UTC); a "day" is the epoch day number.
A shift belongs to the day its centre falls in, even when it starts the evening before.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from talkdesk_emulator.directory import Directory

DAY = 86_400
HOUR = 3_600
MINUTES_PER_DAY = 1_440
# Relative volume Monday..Sunday: weekdays average 1.0, weekends are quieter.
WEEKDAY_FACTORS = np.array([1.05, 1.0, 1.0, 0.98, 0.97, 0.5, 0.38])
SHIFT_CENTRE_JITTER_HOURS = 2.0  # keeps consecutive shifts of an agent apart


@lru_cache(maxsize=1)
def intraday_profile() -> np.ndarray:
    """Relative arrival rate per minute of the UTC day (mean 1): quiet nights, a morning and an afternoon peak."""
    hours = (np.arange(MINUTES_PER_DAY) + 0.5) / 60.0
    curve = (0.06 + np.exp(-0.5 * ((hours - 10.5) / 2.2) ** 2) + 0.85 * np.exp(-0.5 * ((hours - 15.5) / 2.4) ** 2))
    return curve / curve.mean()


def weekday_of(day: int) -> int:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return (day + 3) % 7


def day_factor(day: int) -> float:
    return float(WEEKDAY_FACTORS[weekday_of(day)])


def demand_per_minute(day: int, seed: int, contacts_per_day: int) -> np.ndarray:
    """Expected contacts in each minute of `day` (all types), with a little day-to-day noise."""
    noise = float(np.exp(np.random.default_rng([seed, day, 9]).normal(0.0, 0.05)))
    return intraday_profile() * (contacts_per_day * day_factor(day) * noise / MINUTES_PER_DAY)


def preferred_shift_centres(directory: Directory) -> np.ndarray:
    """Each agent's usual shift centre (hours UTC), drawn from the intraday profile so staffing follows demand."""
    rng = np.random.default_rng([directory.seed, 102])
    profile = intraday_profile()
    minutes = rng.choice(MINUTES_PER_DAY, size=len(directory.agents), p=profile / profile.sum())
    return (minutes + rng.random(len(directory.agents))) / 60.0


@dataclass(frozen=True)
class Shifts:
    agent: np.ndarray   # int32 agent index
    login: np.ndarray   # int64 epoch seconds
    logout: np.ndarray  # int64 epoch seconds

    def __len__(self) -> int:
        return len(self.agent)


def day_shifts(directory: Directory, centres: np.ndarray, day: int) -> Shifts:
    """Who works the shift of `day` and when: weekdays most agents, weekends fewer; inactive agents never."""
    rng = np.random.default_rng([directory.seed, day, 1])
    n = len(directory.agents)
    work_probability = min(0.95, 0.9 * day_factor(day))
    works = (rng.random(n) < work_probability) & directory.agent_active
    jitter = np.clip(rng.normal(0.0, 0.75, n), -SHIFT_CENTRE_JITTER_HOURS, SHIFT_CENTRE_JITTER_HOURS)
    length_hours = rng.uniform(7.0, 9.0, n)
    centre = day * DAY + np.round((centres + jitter) * HOUR).astype(np.int64)
    half = np.round(length_hours * HOUR / 2).astype(np.int64)
    agent = np.flatnonzero(works).astype(np.int32)
    return Shifts(agent=agent, login=(centre - half)[agent], logout=(centre + half)[agent])


def staffing_per_minute(shift_list: list[Shifts], start: int, minutes: int) -> np.ndarray:
    """Agents logged in during each minute from `start` (a difference-array count, vectorised)."""
    counts = np.zeros(minutes + 1, dtype=np.int64)
    for shifts in shift_list:
        first = np.clip((shifts.login - start) // 60, 0, minutes)
        last = np.clip((shifts.logout - start) // 60, 0, minutes)
        np.add.at(counts, first, 1)
        np.add.at(counts, last, -1)
    return np.cumsum(counts)[:minutes]
