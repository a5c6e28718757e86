"""Polling a report job: the documented 200 (still running) and 303 (done, to the file), and the 204 and 302 a
public client handles too (issue 21). Each reading gives the same entries."""

from __future__ import annotations

import pytest

from wfm_pipelines_tests.reference_day import reference_window
from wfm_pipelines_tests.talkdesk.client_support import make_client, set_faults


@pytest.mark.parametrize("pending, done", [(200, 303), (204, 303), (200, 302), (204, 302)])
def test_a_job_is_waited_for_whichever_way_its_polling_answers(emulator, pending, done):
    start, end = reference_window(1, from_hour=10)
    with make_client(emulator.url) as client:
        expected = sorted(e["call_id"] for e in client.run_report("calls", start, end, report_format="csv").entries)
        # Slow enough that the job is polled while it runs.
        set_faults(emulator.url, job_pending_status=pending, job_done_status=done, report_processing_seconds=0.4)
        result = client.run_report("calls", start, end, report_format="csv")
    assert sorted(e["call_id"] for e in result.entries) == expected and len(expected) > 20
    assert result.readings == ["csv (snake_case header)"]
