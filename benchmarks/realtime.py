"""Scenario 4: one current-agent-state collection for every agent through
`TalkdeskClient.current_agent_statuses` (POST /ccaas/users/status, 20 ids a call)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from benchmarks.environment import EmulatorProcess
from wfm_pipelines.talkdesk.client import STATUS_BATCH_SIZE


@dataclass
class RealtimeResult:
    agents: int
    calls: int
    seconds: list[float]  # one per repetition, each with a fresh client (token and connections included)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_realtime(emulator: EmulatorProcess, repetitions: int = 3) -> RealtimeResult:
    with emulator.client(realtime=True) as client:
        agent_ids = [user["id"] for user in client.list_users()]
    seconds = []
    for _ in range(repetitions):
        with emulator.client(realtime=True) as client:
            began = time.perf_counter()
            statuses = client.current_agent_statuses(agent_ids)
            seconds.append(time.perf_counter() - began)
        if statuses is None or len(statuses) != len(agent_ids):
            raise RuntimeError(f"asked for {len(agent_ids)} agents, got {None if statuses is None else len(statuses)}")
    return RealtimeResult(len(agent_ids), -(-len(agent_ids) // STATUS_BATCH_SIZE), seconds)
