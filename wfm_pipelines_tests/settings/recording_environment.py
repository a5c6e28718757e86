"""An environment for `load_settings` that records which variables it is asked for (no tests here)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping


class RecordingEnvironment(Mapping):
    """An empty environment that remembers every variable asked for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, name: str) -> str:
        self.asked.add(name)
        raise KeyError(name)

    def get(self, name, default=None):
        self.asked.add(name)
        return default

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0
