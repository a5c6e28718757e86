"""Agent timelines: each shift becomes status segments (pauses, then idle -> call -> after-call-work cycles).

Answered and outbound calls are read off the "On a Call" segments (see traffic.py), so a call's agent is
On a Call in `user_status` exactly while the call is connected and in After Call Work right after it.
Everything is vectorised over all shifts of a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from talkdesk_emulator.shifts import DAY, Shifts, intraday_profile

STATUS_LABELS = ("Available", "On a Call", "After Call Work", "Away", "Offline", "Break", "Lunch")
AVAILABLE, ON_A_CALL, AFTER_CALL_WORK, AWAY, OFFLINE, BREAK, LUNCH = range(len(STATUS_LABELS))
# Status vocabulary of POST /ccaas/users/status for each label (custom statuses are away_*).
CCAAS_STATUS = ("available", "busy", "after_call_work", "away", "offline", "away_break", "away_lunch")

CALL_INBOUND, CALL_OUTBOUND, CALL_OUTBOUND_MISSED = 0, 1, 2
INBOUND_SHARE = 0.90           # of all contacts
INBOUND_ANSWERED_SHARE = 0.84  # of inbound contacts, before queue pressure
OUTBOUND_MISSED_SHARE = 0.15   # of outbound attempts
# Share of all contacts that occupy an agent (answered inbound + outbound attempts).
AGENT_CONTACT_SHARE = INBOUND_SHARE * INBOUND_ANSWERED_SHARE + (1 - INBOUND_SHARE)
MAX_OCCUPANCY = 0.85
MIN_IDLE_SECONDS = 2


@dataclass(frozen=True)
class Segments:
    agent: np.ndarray  # int32
    start: np.ndarray  # int64
    end: np.ndarray    # int64
    label: np.ndarray  # int8 index into STATUS_LABELS

    def __len__(self) -> int:
        return len(self.agent)

    def take(self, index: np.ndarray) -> Segments:
        return Segments(self.agent[index], self.start[index], self.end[index], self.label[index])

    @staticmethod
    def concat(parts: list[Segments]) -> Segments:
        if not parts:
            return empty_segments()
        return Segments(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("agent", "start", "end", "label")))


def empty_segments() -> Segments:
    return Segments(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))


@dataclass(frozen=True)
class AgentCalls:
    """Calls that occupied an agent: one per On a Call segment."""
    agent: np.ndarray     # int32
    connect: np.ndarray   # int64: answered_at (inbound) or dial time (outbound)
    ring: np.ndarray      # int32 outbound ringing seconds (0 inbound)
    talk: np.ndarray      # int32
    hold: np.ndarray      # int32
    acw: np.ndarray       # int32
    kind: np.ndarray      # int8 CALL_*

    def __len__(self) -> int:
        return len(self.agent)


@dataclass(frozen=True)
class DayTimeline:
    segments: Segments    # sorted by (agent, start); no Offline (see offline_segments)
    calls: AgentCalls


def _load_at(times: np.ndarray) -> np.ndarray:
    return intraday_profile()[(times % DAY) // 60]


def _within_block_exclusive_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Exclusive running sum of `values` restarting at each block (blocks laid out contiguously)."""
    total = np.cumsum(values)
    block_first = np.cumsum(counts) - counts
    before_block = np.concatenate([[0], total])[block_first]
    return total - values - np.repeat(before_block, counts)


def _shift_pauses(shifts: Shifts, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, duration and label of 4 pauses per shift (Break, Lunch, Break, optional Away), sorted by start."""
    n = len(shifts)
    length = (shifts.logout - shifts.login).astype(np.float64)
    jitter = lambda sigma: np.clip(rng.normal(0.0, sigma, n), -2 * sigma, 2 * sigma)  # noqa: E731
    break_dur = lambda: 900 + rng.integers(-180, 181, n)  # noqa: E731
    lunch_dur = rng.choice([1800, 2700, 3600], size=n, p=[0.5, 0.3, 0.2])
    starts = np.stack([
        shifts.login + length * 0.25 + jitter(600),
        shifts.login + length * 0.5 - lunch_dur / 2 + jitter(600),
        shifts.login + length * 0.75 + jitter(600),
        shifts.login + length * rng.uniform(0.05, 0.9, n),
    ], axis=1).round().astype(np.int64)
    durations = np.stack([break_dur(), lunch_dur, break_dur(), rng.integers(120, 721, n)], axis=1).astype(np.int64)
    durations[:, 3] *= rng.random(n) < 0.6
    # An Away that would overlap a planned pause does not happen that day.
    away_start, away_end = starts[:, 3], starts[:, 3] + durations[:, 3]
    overlaps = ((away_start[:, None] < starts[:, :3] + durations[:, :3] + 60)
                & (away_end[:, None] + 60 > starts[:, :3])).any(axis=1)
    no_away = overlaps | (durations[:, 3] == 0)
    starts[no_away, 3] = shifts.logout[no_away]
    durations[no_away, 3] = 0
    labels = np.tile(np.array([BREAK, LUNCH, BREAK, AWAY], dtype=np.int8), (n, 1))
    order = np.argsort(starts, axis=1, kind="stable")
    return (np.take_along_axis(starts, order, 1), np.take_along_axis(durations, order, 1),
            np.take_along_axis(labels, order, 1))


def _draw_handling(kind: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Skewed handling times in seconds (floats, before compression)."""
    n = len(kind)
    inbound, outbound, missed = kind == CALL_INBOUND, kind == CALL_OUTBOUND, kind == CALL_OUTBOUND_MISSED
    talk = np.where(inbound, rng.lognormal(np.log(150), 0.7, n), rng.lognormal(np.log(100), 0.8, n))
    talk[missed] = 0
    hold = np.where(inbound & (rng.random(n) < 0.25), rng.gamma(2.0, 25.0, n), 0.0)
    ring = np.where(outbound, rng.uniform(5, 20, n), np.where(missed, rng.uniform(10, 40, n), 0.0))
    acw = np.where(missed, rng.gamma(1.0, 8.0, n), rng.gamma(2.0, 18.0, n) * (rng.random(n) > 0.1))
    return {"talk": talk, "hold": hold, "ring": ring, "acw": acw}


def day_timeline(shifts: Shifts, seed: int, day: int, contacts_target: float,
                 max_contact_seconds: int) -> DayTimeline:
    """Status segments and agent-handled calls for the shifts of one day."""
    rng = np.random.default_rng([seed, day, 2])
    if len(shifts) == 0:
        empty_i32 = np.zeros(0, np.int32)
        return DayTimeline(empty_segments(), AgentCalls(empty_i32, np.zeros(0, np.int64), empty_i32, empty_i32,
                                                        empty_i32, empty_i32, np.zeros(0, np.int8)))
    pause_start, pause_dur, pause_label = _shift_pauses(shifts, rng)
    pause_end = pause_start + pause_dur
    block_start = np.concatenate([shifts.login[:, None], pause_end], axis=1).ravel()
    block_end = np.concatenate([pause_start, shifts.logout[:, None]], axis=1).ravel()
    block_agent = np.repeat(shifts.agent, 5)
    block_len = np.maximum(block_end - block_start, 0)

    # Cycles per block: a share of the day's target proportional to logged-in working time.
    cycle_target = contacts_target * AGENT_CONTACT_SHARE
    counts = rng.poisson(cycle_target * block_len / max(block_len.sum(), 1))
    block_of = np.repeat(np.arange(len(block_len)), counts)
    u = rng.random(len(block_of))
    outbound_share = 1 - INBOUND_SHARE
    kind = np.where(u < outbound_share * OUTBOUND_MISSED_SHARE / AGENT_CONTACT_SHARE, CALL_OUTBOUND_MISSED,
                    np.where(u < outbound_share / AGENT_CONTACT_SHARE, CALL_OUTBOUND, CALL_INBOUND)).astype(np.int8)
    times = _draw_handling(kind, rng)
    # When the configured agents cannot carry the volume at realistic handle times, handling shrinks
    # (occupancy capped) so that contacts_per_day is still met approximately.
    budget = block_len.sum() / max(cycle_target, 1.0)
    nominal = float(np.mean(times["talk"] + times["hold"] + times["ring"] + times["acw"])) if len(kind) else 1.0
    factor = min(1.0, MAX_OCCUPANCY * budget / max(nominal, 1.0))
    connected = kind != CALL_OUTBOUND_MISSED
    ring = np.where(kind != CALL_INBOUND, np.maximum(1, np.round(times["ring"] * factor)), 0).astype(np.int64)
    hold = np.round(times["hold"] * factor).astype(np.int64)
    talk = np.where(connected, np.maximum(1, np.round(times["talk"] * factor)), 0).astype(np.int64)
    talk = np.minimum(talk, max_contact_seconds - 1_000 - hold)  # room for the longest wait
    acw = np.round(times["acw"] * factor).astype(np.int64)
    oncall = ring + talk + hold
    handle = oncall + acw

    # Keep the cycles that fit their block with a few seconds of idle before each and at the end.
    rank = np.arange(len(block_of)) - np.repeat(np.cumsum(counts) - counts, counts)
    fits = _within_block_exclusive_cumsum(handle, counts) + handle + MIN_IDLE_SECONDS * 1.5 * (rank + 2) <= block_len[block_of]
    block_of, kind, ring, talk, hold, acw, oncall, handle = (
        a[fits] for a in (block_of, kind, ring, talk, hold, acw, oncall, handle))
    counts = np.bincount(block_of, minlength=len(block_len))
    rank = np.arange(len(block_of)) - np.repeat(np.cumsum(counts) - counts, counts)

    # Idle gaps: random, shorter where demand is high, so calls crowd into the busy hours of each shift.
    idle_total = block_len - np.bincount(block_of, weights=handle, minlength=len(block_len)).astype(np.int64)
    approx_pos = block_start[block_of] + (rank + 0.5) / (counts[block_of] + 1) * block_len[block_of]
    weight = rng.exponential(1.0, len(block_of)) / _load_at(approx_pos.astype(np.int64))
    tail_weight = rng.exponential(1.0, len(block_len)) / _load_at(block_end - 1)
    weight_sum = np.bincount(block_of, weights=weight, minlength=len(block_len)) + tail_weight
    spare = np.maximum(idle_total - MIN_IDLE_SECONDS * (counts + 1), 0)
    idle = MIN_IDLE_SECONDS + np.floor(spare[block_of] * weight / weight_sum[block_of]).astype(np.int64)
    tail = idle_total - np.bincount(block_of, weights=idle, minlength=len(block_len)).astype(np.int64)

    cycle_start = block_start[block_of] + _within_block_exclusive_cumsum(idle + handle, counts)
    connect = cycle_start + idle
    acw_start = connect + oncall
    agent = block_agent[block_of]
    has_acw = acw > 0
    has_tail = tail > 0
    has_pause = (pause_dur > 0).ravel()
    segments = Segments.concat([
        Segments(agent, cycle_start, connect, np.full(len(agent), AVAILABLE, np.int8)),
        Segments(agent, connect, acw_start, np.full(len(agent), ON_A_CALL, np.int8)),
        Segments(agent[has_acw], acw_start[has_acw], (acw_start + acw)[has_acw],
                 np.full(int(has_acw.sum()), AFTER_CALL_WORK, np.int8)),
        Segments(block_agent[has_tail], (block_end - tail)[has_tail], block_end[has_tail],
                 np.full(int(has_tail.sum()), AVAILABLE, np.int8)),
        Segments(np.repeat(shifts.agent, 4)[has_pause], pause_start.ravel()[has_pause], pause_end.ravel()[has_pause],
                 pause_label.ravel()[has_pause]),
    ])
    segments = segments.take(np.lexsort((segments.start, segments.agent)))
    calls = AgentCalls(agent.astype(np.int32), connect, ring.astype(np.int32), talk.astype(np.int32),
                       hold.astype(np.int32), acw.astype(np.int32), kind)
    return DayTimeline(segments, calls)


def offline_segments(shift_list: list[Shifts]) -> Segments:
    """Offline from each logout to the same agent's next login."""
    agent = np.concatenate([s.agent for s in shift_list])
    login = np.concatenate([s.login for s in shift_list])
    logout = np.concatenate([s.logout for s in shift_list])
    order = np.lexsort((login, agent))
    agent, login, logout = agent[order], login[order], logout[order]
    same_agent_next = agent[:-1] == agent[1:]
    return Segments(agent[:-1][same_agent_next], logout[:-1][same_agent_next], login[1:][same_agent_next],
                    np.full(int(same_agent_next.sum()), OFFLINE, np.int8))


def month_starts_between(first: int, last: int) -> list[int]:
    """Epoch seconds of every UTC month start strictly inside (first, last)."""
    if last <= first:
        return []
    start = datetime.fromtimestamp(first, tz=timezone.utc)
    year, month = start.year, start.month
    bounds = []
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        bound = int(datetime(year, month, 1, tzinfo=timezone.utc).timestamp())
        if bound >= last:
            return bounds
        bounds.append(bound)


def split_at_month_changes(segments: Segments) -> Segments:
    """Talkdesk emits a new status record at each month change even without a status change."""
    if len(segments) == 0:
        return segments
    agent, start, end, label = segments.agent, segments.start, segments.end, segments.label
    for bound in month_starts_between(int(start.min()), int(end.max())):
        crossing = (start < bound) & (end > bound)
        if not crossing.any():
            continue
        agent = np.concatenate([agent, agent[crossing]])
        label = np.concatenate([label, label[crossing]])
        start = np.concatenate([start, np.full(int(crossing.sum()), bound, np.int64)])
        tail_end = end[crossing]
        end = np.where(crossing, bound, end)
        end = np.concatenate([end, tail_end])
    return Segments(agent, start, end, label)
