"""Report jobs started ahead of their turn, so Talkdesk's generation time hides behind the parsing and writing of
the report before (`ReportsAhead`), and the windows a collection wants paired with the reports that came back
for them (`ordered_fetches`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import datetime

import pyarrow as pa

from wfm_pipelines.collection import windows

# (report_type, start, end) -> the report's entries as a table of text columns (`report_table`). The Talkdesk
# client's `run_report` in the account's report format (`report_formats.ReportFormats.runner`), or anything
# shaped like it.
ReportRunner = Callable[[str, datetime, datetime], pa.Table]


class ReportsAhead:
    """Report jobs for a sequence of windows, up to `ahead` of them running before their turn.

    Windows are drawn from the iterator only when a slot is free, and none ahead before `sizer` has seen a
    report: a window is then sized by what the reports before it showed, less the ones still running (the
    first is a guess, and a second guess could be far too large). Results come back in window order. Each job
    runs in a daemon thread: when the collection fails (or is closed), a job still running is left to finish on
    its own and its report is dropped; nothing waits for it, and it never keeps the process alive."""

    def __init__(self, run_report: ReportRunner, report_type: str, ahead: int, sizer: windows.ChunkSizer):
        self.run_report, self.report_type, self.ahead, self.sizer = run_report, report_type, ahead, sizer

    def _start(self, start: datetime, end: datetime) -> Future:
        future: Future = Future()

        def run() -> None:
            future.set_running_or_notify_cancel()
            try:
                future.set_result(self.run_report(self.report_type, start, end))
            except BaseException as exc:  # handed to the caller, raised where the result is taken
                future.set_exception(exc)

        threading.Thread(target=run, name=f"talkdesk-{self.report_type}-report", daemon=True).start()
        return future

    def results(self, fetches: Iterator[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime, pa.Table]]:
        waiting: list[tuple[datetime, datetime, Future]] = []
        exhausted = False
        while True:
            while not exhausted and len(waiting) <= (self.ahead if self.sizer.observed else 0):
                window = next(fetches, None)
                if window is None:
                    exhausted = True
                    break
                waiting.append((*window, self._start(*window)))
            if not waiting:
                return
            start, end, future = waiting.pop(0)
            yield start, end, future.result()


def ordered_fetches(windows_wanted: Iterator[tuple[datetime, datetime]], available_until: datetime,
                    reports: ReportsAhead) -> Iterator[tuple[datetime, datetime, pa.Table | None]]:
    """(start, end, table) per wanted window in order: the table of its report (asked for up to what Talkdesk
    can serve yet), or None where nothing of it can be served yet."""
    wanted: list[tuple[datetime, datetime]] = []

    def asked() -> Iterator[tuple[datetime, datetime]]:
        for start, end in windows_wanted:
            wanted.append((start, end))
            if min(end, available_until) > start:
                yield start, min(end, available_until)

    fetched = reports.results(asked())
    for fetch_start, _, table in fetched:
        while wanted[0][0] != fetch_start:  # windows before it that could not be asked for
            yield *wanted.pop(0), None
        yield *wanted.pop(0), table
    for start, end in wanted:
        yield start, end, None
