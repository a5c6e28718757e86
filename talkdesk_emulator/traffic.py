"""Contacts of one day: agent-handled calls from the timelines plus unanswered inbound arrivals.

Queue pressure (demand over logged-in agents) drives waits and abandons: where few agents carry much demand,
callers wait longer and abandon more.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from talkdesk_emulator.directory import Directory
from talkdesk_emulator.shifts import DAY, MINUTES_PER_DAY, Shifts, demand_per_minute, staffing_per_minute
from talkdesk_emulator.statuses import (CALL_INBOUND, CALL_OUTBOUND, INBOUND_ANSWERED_SHARE, INBOUND_SHARE,
                                             AgentCalls)

CALL_TYPES = ("inbound", "abandoned", "short_abandoned", "missed", "voicemail", "outbound", "outbound_missed")
INBOUND, ABANDONED, SHORT_ABANDONED, MISSED, VOICEMAIL, OUTBOUND, OUTBOUND_MISSED = range(len(CALL_TYPES))
MULTI_QUEUE_SHARE = 0.07
UNASSIGNED_SHARE = 0.04  # of unanswered inbound: abandoned in the IVR before reaching a queue
MAX_ANSWER_WAIT = 900


@dataclass(frozen=True)
class Contacts:
    """One row per contact (a call), sorted by start; times in epoch seconds, durations in seconds."""
    kind: np.ndarray      # int8 index into CALL_TYPES
    start: np.ndarray     # int64
    answered: np.ndarray  # int64, -1 when never connected
    end: np.ndarray       # int64
    wait: np.ndarray      # int32
    ring: np.ndarray      # int32
    talk: np.ndarray      # int32
    hold: np.ndarray      # int32
    acw: np.ndarray       # int32
    agent: np.ndarray     # int32, -1 when none
    queue1: np.ndarray    # int16, -1 when none
    queue2: np.ndarray    # int16, -1 when single-queue
    id_hi: np.ndarray     # uint64: call id bits
    id_lo: np.ndarray     # uint64
    phone: np.ndarray     # int64 customer number digits

    def __len__(self) -> int:
        return len(self.kind)

    def take(self, index: np.ndarray) -> Contacts:
        return Contacts(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Contacts]) -> Contacts:
        return Contacts(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Contacts)))


class Pressure:
    """Demand per logged-in agent over days D-1..D+1, relative to the day average (1 = normal)."""

    def __init__(self, seed: int, day: int, contacts_per_day: int, shifts_around: list[Shifts]) -> None:
        self.origin = (day - 1) * DAY
        demand = np.concatenate([demand_per_minute(d, seed, contacts_per_day) for d in (day - 1, day, day + 1)])
        staff = staffing_per_minute(shifts_around, self.origin, 3 * MINUTES_PER_DAY).astype(np.float64)
        if staff.sum() == 0:
            self.ratio = np.full(len(demand), 4.0)
            return
        relative = (demand / np.maximum(staff, 0.5)) / (demand.sum() / staff.sum())
        self.ratio = np.clip(relative, 0.25, 4.0)

    def at(self, times: np.ndarray) -> np.ndarray:
        index = np.clip((times - self.origin) // 60, 0, len(self.ratio) - 1)
        return self.ratio[index]


def _pick_agent_queues(directory: Directory, agent: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    count = directory.agent_queue_count[agent]
    slot = np.floor(rng.random(len(agent)) * count).astype(np.int64)
    first = directory.agent_queue_matrix[agent, slot]
    multi = (rng.random(len(agent)) < MULTI_QUEUE_SHARE) & (count > 1)
    second = np.where(multi, directory.agent_queue_matrix[agent, (slot + 1) % np.maximum(count, 1)], -1)
    return first.astype(np.int16), second.astype(np.int16)


def _agent_handled(directory: Directory, calls: AgentCalls, pressure: Pressure,
                   rng: np.random.Generator) -> Contacts:
    n = len(calls)
    inbound = calls.kind == CALL_INBOUND
    wait = np.where(inbound, rng.lognormal(np.log(6.0), 1.0, n) * pressure.at(calls.connect) ** 1.5, 0)
    wait = np.clip(np.round(wait), 0, MAX_ANSWER_WAIT).astype(np.int32)
    queue1, queue2 = _pick_agent_queues(directory, calls.agent, rng)
    queue1 = np.where(inbound, queue1, -1).astype(np.int16)  # outbound calls are not routed through a queue
    queue2 = np.where(inbound, queue2, -1).astype(np.int16)
    kind = np.where(inbound, INBOUND, np.where(calls.kind == CALL_OUTBOUND, OUTBOUND, OUTBOUND_MISSED)).astype(np.int8)
    connected = calls.kind != 2
    return Contacts(
        kind=kind, start=calls.connect - wait, answered=np.where(connected, calls.connect, -1),
        end=calls.connect + calls.ring + calls.talk + calls.hold, wait=wait, ring=calls.ring, talk=calls.talk,
        hold=calls.hold, acw=calls.acw, agent=calls.agent, queue1=queue1, queue2=queue2,
        id_hi=np.zeros(n, np.uint64), id_lo=np.zeros(n, np.uint64), phone=np.zeros(n, np.int64))


def _unanswered(directory: Directory, seed: int, day: int, contacts_per_day: int, pressure: Pressure,
                rng: np.random.Generator) -> Contacts:
    demand = demand_per_minute(day, seed, contacts_per_day)
    minute_times = day * DAY + np.arange(MINUTES_PER_DAY) * 60
    weight = demand * pressure.at(minute_times) ** 0.7
    expected = demand.sum() * INBOUND_SHARE * (1 - INBOUND_ANSWERED_SHARE)
    per_minute = rng.poisson(expected * weight / max(weight.sum(), 1e-9))
    start = np.repeat(minute_times, per_minute) + rng.integers(0, 60, int(per_minute.sum()))
    n = len(start)
    ratio = pressure.at(start)
    # Outcome weights: abandons grow with pressure (callers wait longer where the queue is overloaded).
    w_abandon, w_voicemail, w_missed = 0.55 * ratio ** 0.5, np.full(n, 0.2), np.full(n, 0.25)
    u = rng.random(n) * (w_abandon + w_voicemail + w_missed)
    outcome = np.where(u < w_abandon, ABANDONED, np.where(u < w_abandon + w_voicemail, VOICEMAIL, MISSED))
    queue1 = rng.choice(len(directory.queues), size=n, p=directory.queue_weights).astype(np.int16)
    second = (queue1 + 1 + rng.integers(0, max(len(directory.queues) - 1, 1), n)) % len(directory.queues)
    queue2 = np.where((rng.random(n) < MULTI_QUEUE_SHARE) & (len(directory.queues) > 1), second, -1).astype(np.int16)
    unassigned = (rng.random(n) < UNASSIGNED_SHARE) & (outcome != MISSED)
    queue1[unassigned], queue2[unassigned] = -1, -1
    short_threshold = np.where(queue1 >= 0, directory.short_thresholds[np.maximum(queue1, 0)], 5)
    quick_hangup = rng.random(n) < 0.3
    abandon_wait = np.where(quick_hangup, rng.uniform(0, 1.6 * short_threshold, n),
                            rng.lognormal(np.log(35.0), 0.9, n) * np.sqrt(ratio))
    wait = np.select([outcome == ABANDONED, outcome == MISSED], [abandon_wait, rng.uniform(15, 45, n)],
                     rng.uniform(30, 90, n))
    wait = np.clip(np.round(wait), 0, 1800).astype(np.int32)
    outcome = np.where((outcome == ABANDONED) & (wait < short_threshold), SHORT_ABANDONED, outcome).astype(np.int8)
    recording = np.where(outcome == VOICEMAIL, rng.integers(10, 91, n), 0)
    zeros = np.zeros(n, np.int32)
    return Contacts(
        kind=outcome, start=start, answered=np.full(n, -1, np.int64), end=start + wait + recording, wait=wait,
        ring=zeros, talk=zeros, hold=zeros, acw=zeros, agent=np.full(n, -1, np.int32), queue1=queue1,
        queue2=queue2, id_hi=np.zeros(n, np.uint64), id_lo=np.zeros(n, np.uint64), phone=np.zeros(n, np.int64))


def day_contacts(directory: Directory, calls: AgentCalls, shifts_around: list[Shifts], seed: int, day: int,
                 contacts_per_day: int) -> Contacts:
    """All contacts generated for `day` (agent-handled ones may spill into the neighbouring days)."""
    pressure = Pressure(seed, day, contacts_per_day, shifts_around)
    handled = _agent_handled(directory, calls, pressure, np.random.default_rng([seed, day, 3]))
    unanswered = _unanswered(directory, seed, day, contacts_per_day, pressure, np.random.default_rng([seed, day, 5]))
    contacts = Contacts.concat([handled, unanswered])
    contacts = contacts.take(np.argsort(contacts.start, kind="stable"))
    id_rng = np.random.default_rng([seed, day, 4])
    n = len(contacts)
    ids = id_rng.integers(0, np.iinfo(np.uint64).max, size=(n, 2), dtype=np.uint64, endpoint=True)
    phone = id_rng.integers(2_000_000_000, 9_999_999_999, size=n)
    return Contacts(**{**{f.name: getattr(contacts, f.name) for f in fields(Contacts)},
                       "id_hi": ids[:, 0], "id_lo": ids[:, 1], "phone": phone})
