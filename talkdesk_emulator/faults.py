"""Run-time fault switches and the per-request decisions they drive (rate limits, 5xx, report-file faults)."""

from __future__ import annotations

import math
import threading
from typing import Any

from talkdesk_emulator.config import EmulatorConfig, default_faults, validate_fault_update


class FaultState:
    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._settings = default_faults(config)
        self._api_requests = 0
        self._file_fault_jobs_left: int | None = None

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
            if "report_file_fault" in changes or "report_file_fault_jobs" in changes:
                # Setting either starts a new count: "the next N jobs" are counted from this update.
                self._file_fault_jobs_left = self._settings["report_file_fault_jobs"]
            return dict(self._settings)

    def reset(self) -> None:
        with self._lock:
            self._settings = default_faults(self._config)
            self._api_requests = 0
            self._file_fault_jobs_left = None

    def claim_report_file_fault(self, report_type: str) -> str | None:
        """The report-file fault a job of `report_type` being created captures, counted against
        `report_file_fault_jobs`: after the Nth job the fault switches itself off (back to null).

        Jobs of a type outside `report_file_fault_types` neither capture the fault nor count.
        Called once per job actually created (after validation and quota), so refused requests do not count.
        """
        with self._lock:
            fault = self._settings["report_file_fault"]
            types = self._settings["report_file_fault_types"]
            if fault is None or (types is not None and report_type not in types):
                return None
            if self._file_fault_jobs_left is not None:
                self._file_fault_jobs_left -= 1
                if self._file_fault_jobs_left <= 0:
                    self._settings["report_file_fault"] = None
                    self._file_fault_jobs_left = self._settings["report_file_fault_jobs"]
            return fault

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
