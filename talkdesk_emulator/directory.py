"""The emulated account's directory: users (agents), queues (ring groups), memberships and teams.

Everything derives from the seed alone, so two processes with the same configuration serve the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from talkdesk_emulator.config import EmulatorConfig

FIRST_NAMES = (
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Filipe", "Grace", "Hugo", "Ines", "Jonas", "Karen", "Luis",
    "Marta", "Nuno", "Olivia", "Pedro", "Quinn", "Rita", "Sam", "Tiago", "Uma", "Victor", "Wendy", "Xavier",
    "Yara", "Zoe", "Alex", "Beatriz", "Chris", "Dana",
)
LAST_NAMES = (
    "Silva", "Santos", "Ferreira", "Pereira", "Oliveira", "Costa", "Rodrigues", "Martins", "Jesus", "Sousa",
    "Fernandes", "Goncalves", "Gomes", "Lopes", "Marques", "Alves", "Almeida", "Ribeiro", "Pinto", "Carvalho",
    "Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Clark",
)
QUEUE_NAMES = (
    "support", "sales", "billing", "retention", "technical", "onboarding", "vip", "collections",
    "claims", "renewals", "returns", "escalations",
)
TEAM_NAMES = ("Team Lisbon", "Team Porto", "Team Boston", "Team Austin", "Team Dublin", "Team Madrid")

# Share of each agent's preferred shift centre drawn from the day's load curve (hours, UTC).
ACCOUNT_CREATED_AT = datetime(2021, 3, 15, 9, 30, tzinfo=timezone.utc)


def stable_hex(*parts: object, length: int = 24) -> str:
    """A hex id that depends only on its parts (ids must not change between processes or runs)."""
    digest = hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class Agent:
    index: int
    id: str
    name: str
    email: str
    gender: str
    extension: int
    external_phone_number: str
    created_at: datetime
    active: bool
    team_index: int


@dataclass(frozen=True)
class Queue:
    index: int
    id: str
    name: str
    description: str
    wait_time_threshold: int
    short_abandoned_threshold: int
    weight: float
    created_at: datetime
    phone_number: str


@dataclass(frozen=True)
class Team:
    id: str
    name: str


class Directory:
    """Agents, queues, teams and queue memberships of one emulated account."""

    def __init__(self, config: EmulatorConfig) -> None:
        rng = np.random.default_rng([config.seed, 101])
        self.seed = config.seed
        self.teams = [Team(stable_hex(config.seed, "team", i, length=32), name)
                      for i, name in enumerate(TEAM_NAMES[: max(1, min(len(TEAM_NAMES), config.agents // 10))])]
        self.queues = self._make_queues(config, rng)
        self.agents = self._make_agents(config, rng)
        self.memberships = self._make_memberships(rng)
        self.agent_by_id = {agent.id: agent for agent in self.agents}
        self.queue_by_name = {queue.name: queue for queue in self.queues}
        self.queue_by_id = {queue.id: queue for queue in self.queues}
        # Vector views used by the traffic generator.
        self.agent_active = np.array([a.active for a in self.agents])
        self.queue_weights = np.array([q.weight for q in self.queues])
        self.short_thresholds = np.array([q.short_abandoned_threshold for q in self.queues])
        self.wait_thresholds = np.array([q.wait_time_threshold for q in self.queues])
        # Per agent: its queues (padded with -1) and a preferred shift centre in hours UTC.
        width = max(len(m) for m in self.memberships)
        self.agent_queue_matrix = np.full((len(self.agents), width), -1, dtype=np.int32)
        for i, member_of in enumerate(self.memberships):
            self.agent_queue_matrix[i, : len(member_of)] = member_of
        self.agent_queue_count = np.array([len(m) for m in self.memberships], dtype=np.int32)

    @staticmethod
    def _make_queues(config: EmulatorConfig, rng: np.random.Generator) -> list[Queue]:
        names = [QUEUE_NAMES[i % len(QUEUE_NAMES)] + ("" if i < len(QUEUE_NAMES) else f" {i // len(QUEUE_NAMES) + 1}")
                 for i in range(config.queues)]
        names[: len(config.queue_names)] = config.queue_names
        taken = set(config.queue_names)
        for i in range(len(config.queue_names), config.queues):  # a name is the ring group's id: keep it unique
            while names[i] in taken:
                names[i] += f" #{i + 1}"
            taken.add(names[i])
        wait_pool = np.arange(10, 61)
        waits = rng.choice(wait_pool, size=config.queues, replace=config.queues > len(wait_pool))
        shorts = rng.integers(3, 11, size=config.queues)
        weights = rng.gamma(2.0, 1.0, size=config.queues) + 0.3
        weights = weights / weights.sum()
        queues = []
        for i, name in enumerate(names):
            created = ACCOUNT_CREATED_AT + timedelta(days=int(rng.integers(0, 400)), seconds=int(rng.integers(0, 86400)))
            queues.append(Queue(
                index=i, id=stable_hex(config.seed, "queue", i, length=32), name=name,
                description=f"{name.title()} line", wait_time_threshold=int(waits[i]),
                short_abandoned_threshold=int(shorts[i]), weight=float(weights[i]), created_at=created,
                phone_number=f"+1202555{1000 + i:04d}",
            ))
        return queues

    def _make_agents(self, config: EmulatorConfig, rng: np.random.Generator) -> list[Agent]:
        agents = []
        # About 5% inactive (left the company), never the only agent.
        inactive = rng.random(config.agents) < 0.05
        if config.agents > 1:
            inactive[0] = False
        else:
            inactive[:] = False
        for i in range(config.agents):
            first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
            last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
            created = ACCOUNT_CREATED_AT + timedelta(days=int(rng.integers(0, 900)), seconds=int(rng.integers(0, 86400)))
            agents.append(Agent(
                index=i, id=stable_hex(config.seed, "user", i), name=f"{first} {last}",
                email=f"{first.lower()}.{last.lower()}{i + 1}@example.com",
                gender=("Female", "Male", "Other")[int(rng.integers(3))], extension=1000 + i,
                external_phone_number=f"+3519{int(rng.integers(10_000_000, 99_999_999))}",
                created_at=created, active=not bool(inactive[i]), team_index=i % len(self.teams),
            ))
        return agents

    def _make_memberships(self, rng: np.random.Generator) -> list[list[int]]:
        """Each agent in 1-3 queues, picked by queue weight; every queue gets at least one active agent."""
        n_queues = len(self.queues)
        weights = np.array([q.weight for q in self.queues])
        memberships = []
        for _ in self.agents:
            count = int(min(n_queues, rng.choice([1, 2, 3], p=[0.45, 0.35, 0.20])))
            memberships.append(sorted(int(q) for q in rng.choice(n_queues, size=count, replace=False, p=weights)))
        active_indexes = [a.index for a in self.agents if a.active]
        for queue_index in range(n_queues):
            if not any(queue_index in memberships[i] for i in active_indexes):
                owner = active_indexes[queue_index % len(active_indexes)]
                memberships[owner] = sorted(set(memberships[owner]) | {queue_index})
        return memberships

    def queue_members(self, queue_index: int) -> list[Agent]:
        return [agent for agent in self.agents if queue_index in self.memberships[agent.index]]
