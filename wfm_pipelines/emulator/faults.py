"""Run-time fault switches and the per-request decisions they drive (rate limits, 5xx)."""

from __future__ import annotations

import math
import threading
from typing import Any

from wfm_pipelines.emulator.config import EmulatorConfig, default_faults, validate_fault_update


class FaultState:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._settings = default_faults(config)
        self._api_requests = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._settings)

    def update(self, changes: Any) -> dict[str, Any]:
        """Merge `changes` into the settings; raises ValueError listing every problem."""
        problems = validate_fault_update(changes)
        if problems:
            raise ValueError("; ".join(problems))
        with self._lock:
            self._settings.update(changes)
            return dict(self._settings)

    def reset(self) -> None:
        with self._lock:
            self._settings = default_faults(self._config)
            self._api_requests = 0

    def next_api_request(self) -> tuple[str | None, dict[str, Any]]:
        """Count one API request; say whether it must be answered "rate_limit", "error" or normally (None).

        Both sequences are deterministic: every Nth request is rate limited, and errors are spread evenly
        (request k fails when floor(k * rate) moves), so a test can predict exactly which requests fail.
        """
        with self._lock:
            self._api_requests += 1
            count = self._api_requests
            settings = dict(self._settings)
        every = settings["rate_limit_every"]
        if every and count % every == 0:
            return "rate_limit", settings
        rate = settings["error_rate"]
        if rate and math.floor(count * rate) != math.floor((count - 1) * rate):
            return "error", settings
        return None, settings
