"""Which file format an account's Explore reports are asked for (WFM_REPORT_FORMAT), and how each came in.

CSV is several times cheaper to read than JSON (`benchmarks/results`), but Talkdesk documents no CSV header: an
account's header may name the fields by their JSON keys or by display names, which `report_columns` both reads,
or in a way that names no documented field at all. With `auto` (the default) a report type is asked for as CSV;
when its header names no documented field (`ReportHeaderUnknownError`) the same window is asked for again as
JSON, and once JSON worked that is remembered for the account and report type (`talkdesk_report_behaviour`), so
later runs ask for JSON directly. `csv` and `json` ask for that format alone: a CSV header naming no field then
fails the run, saying what to set.

A CSV that cannot be read is never data, and never "no entries": either JSON brings the window, or the run fails
with an error naming the report and window (`ReportFormatError`) before anything is written. A remembered JSON
that fails says it was remembered and why, so the choice never hides the problem.

Each decision is said once per collection (`decisions`), and `described()` says how each report type came in, for
the run's metadata: `{"calls": "csv (display-name header)"}`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone

import pyarrow as pa
from sqlalchemy.engine import Engine

from wfm_pipelines.db import report_behaviour
from wfm_pipelines.db.schema import check_account_id
from wfm_pipelines.talkdesk.errors import (ReportFileError, ReportFormatError, ReportHeaderUnknownError,
                                           TalkdeskError)

NO_DOCUMENTED_FIELD = "the CSV header named no documented field"

# (report_type, start, end, report_format=...) -> an object with `.table` and `.readings` (`ReportResult`): the
# Talkdesk client's `run_report`, or anything shaped like it.
FormatRunner = Callable[..., object]


class ReportFormats:
    """The formats of one account's reports for one collection (one run's step): thread-safe, since report jobs
    run ahead of their turn in threads."""

    def __init__(self, engine: Engine, setting: str, *, account_id: str):
        if setting not in ("auto", "csv", "json"):
            raise ValueError(f"WFM_REPORT_FORMAT must be auto, csv or json, not {setting!r}")
        self.engine, self.setting, self.account_id = engine, setting, check_account_id(account_id)
        self._lock = threading.Lock()
        self._chosen: dict[str, tuple[str, str]] = {}  # report type -> (format, why)
        self._readings: dict[str, dict[str, None]] = {}  # report type -> how its reports came in, in order
        # (level, message) once per decision, in order: the caller logs them where its user looks (Dagster's log).
        self.decisions: list[tuple[int, str]] = []

    def runner(self, run_report: FormatRunner) -> Callable[[str, datetime, datetime], pa.Table]:
        """A `report_prefetch.ReportRunner` asking `run_report` for each report in the account's format."""
        return lambda report_type, start, end: self.fetch(run_report, report_type, start, end)

    def described(self) -> dict[str, str]:
        """How each report type came in, and why: `csv (display-name header)`,
        `json (the CSV header named no documented field; remembered)`."""
        with self._lock:
            return {report_type: "; ".join(readings) for report_type, readings in self._readings.items()}

    # ------------------------------------------------------------------------------------------------------

    def fetch(self, run_report: FormatRunner, report_type: str, start: datetime, end: datetime) -> pa.Table:
        report_format, why = self._choice(report_type)
        if report_format == "json":
            try:
                result = run_report(report_type, start, end, report_format="json")
            except ReportFileError as exc:
                if self.setting == "json":
                    raise
                raise ReportFormatError(report_type, start, end, why, exc) from exc
            return self._came_in(report_type, result, why, said=self.setting == "auto")
        try:
            result = run_report(report_type, start, end, report_format="csv")
        except ReportHeaderUnknownError as exc:
            if self.setting != "auto":
                raise
            return self._fall_back_to_json(run_report, report_type, start, end, exc)
        return self._came_in(report_type, result, None, said=False)

    def _choice(self, report_type: str) -> tuple[str, str]:
        with self._lock:
            if report_type in self._chosen:
                return self._chosen[report_type]
            if self.setting != "auto":
                chosen = (self.setting, f"WFM_REPORT_FORMAT={self.setting}")
            else:
                remembered = report_behaviour.remembered_report_format(self.engine, report_type,
                                                                       account_id=self.account_id)
                if remembered is not None and remembered.report_format == "json":
                    chosen = ("json", f"remembered since {remembered.observed_at:%Y-%m-%d %H:%M} UTC: "
                                      f"{remembered.reason}")
                    self._say(logging.INFO, f"{report_type}: asking Talkdesk for JSON reports ({chosen[1]}); to "
                                            f"try CSV again, clear report_format in talkdesk_report_behaviour")
                else:
                    chosen = ("csv", "WFM_REPORT_FORMAT=auto")
            self._chosen[report_type] = chosen
            return chosen

    def _fall_back_to_json(self, run_report: FormatRunner, report_type: str, start: datetime, end: datetime,
                           csv_error: ReportHeaderUnknownError) -> pa.Table:
        why, from_now_on = f"{NO_DOCUMENTED_FIELD} ({csv_error.columns} columns)", f"{NO_DOCUMENTED_FIELD}; remembered"
        with self._lock:
            first = self._chosen.get(report_type, ("csv", ""))[0] == "csv"
            self._chosen[report_type] = ("json", from_now_on)
        try:
            result = run_report(report_type, start, end, report_format="json")
        except TalkdeskError as exc:  # whatever went wrong, the error says the CSV could not be read either
            raise ReportFormatError(report_type, start, end, why, exc) from exc
        if first:
            report_behaviour.remember_report_format(self.engine, report_type, "json", why, datetime.now(timezone.utc),
                                                    account_id=self.account_id)
            self._say(logging.WARNING, f"{report_type}: {why} in the report for [{start.isoformat()}, "
                                       f"{end.isoformat()}); the same window came as JSON, which this account's "
                                       f"{report_type} reports are asked for from now on (remembered)")
        return self._came_in(report_type, result, from_now_on, said=True)

    def _came_in(self, report_type: str, result, why: str | None, *, said: bool) -> pa.Table:
        """Count how the report came in; a way not seen before is said once, unless its decision was."""
        with self._lock:
            seen = self._readings.setdefault(report_type, {})
            for reading in result.readings:
                described = reading if why is None or not reading.startswith("json") else f"{reading} ({why})"
                if described not in seen:
                    seen[described] = None
                    if not said:
                        self._say(logging.INFO, f"{report_type}: reports come as {described}")
        return result.table

    def _say(self, level: int, message: str) -> None:
        self.decisions.append((level, message))

    def log_decisions(self, logger) -> None:
        """Each decision, once, to `logger` (Dagster's `context.log`, or a `logging.Logger`)."""
        for level, message in self.decisions:
            (logger.warning if level >= logging.WARNING else logger.info)(message)
