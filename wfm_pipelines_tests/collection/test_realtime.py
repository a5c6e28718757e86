"""The real-time clock of many accounts: who is due, the cursor the sensor keeps, and collections in flight."""

from __future__ import annotations

import threading
import time

import pytest

from wfm_pipelines.collection.realtime import (
    ERROR_TEXT_LIMIT,
    CollectionOutcome,
    RealtimeCollector,
    RealtimeCursor,
    describe_error,
    due_accounts,
    look_interval_seconds,
)


@pytest.mark.parametrize(("intervals", "look"), [([30], 5), ([5, 3600], 5), ([45, 90], 7), ([600], 60), ([3600], 60)])
def test_the_look_is_a_sixth_of_the_shortest_interval_between_5_and_60_seconds(intervals, look):
    assert look_interval_seconds(intervals) == look


def test_an_account_is_due_once_its_interval_has_passed_less_half_a_look_most_overdue_first():
    intervals = {"never": 30, "late": 30, "early_enough": 30, "too_early": 30, "slow": 600}
    started = {"late": 1000.0, "early_enough": 1010.0, "too_early": 1011.0, "slow": 1000.0}
    # at 1037.5: late is 7.5 s overdue, early_enough 2.5 s early (allowed), too_early 3.5 s early
    assert due_accounts(intervals, started, now=1037.5, tolerance=2.5) == ["never", "late", "early_enough"]


def test_the_cursor_round_trips_forgets_removed_accounts_and_reports_only_check_changes():
    cursor = RealtimeCursor.from_text(None)
    ok = CollectionOutcome("north", 1.0, 2.0, collection=object())  # type: ignore[arg-type]
    failed = CollectionOutcome("north", 3.0, 4.0, collection=None, error="TalkdeskAuthError: 401")
    assert cursor.check_changes(ok)  # first report
    assert not cursor.check_changes(ok)
    assert cursor.check_changes(failed) and not cursor.check_changes(failed)
    assert cursor.check_changes(ok)  # recovered
    cursor.last_started.update(north=1.0, gone=2.0)
    cursor.check_state["gone"] = "failed"
    again = RealtimeCursor.from_text(cursor.to_text())
    assert again == cursor
    again.forget_all_but(["north"])
    assert again.last_started == {"north": 1.0} and again.check_state == {"north": "passed"}


def test_an_error_is_described_by_its_type_and_message_cut_to_a_readable_length():
    assert describe_error(ValueError("bad answer")) == "ValueError: bad answer"
    long = describe_error(RuntimeError("x" * 5000))
    assert len(long) == ERROR_TEXT_LIMIT and long.startswith("RuntimeError: xxx") and long.endswith("…")


def test_collections_run_beside_the_caller_one_per_account_and_failures_become_outcomes():
    collector = RealtimeCollector(max_workers=4)
    release = threading.Event()

    def slow():
        release.wait(10)
        return "slow snapshot"

    def broken():
        raise ConnectionError("Talkdesk reset the connection")

    try:
        assert collector.start("slow", slow)
        assert not collector.start("slow", slow)  # never two collections of one account at once
        assert collector.start("quick", lambda: "quick snapshot")
        assert collector.start("broken", broken)
        began = time.monotonic()
        collector.wait(timeout=0.5)
        assert 0.4 <= time.monotonic() - began < 2  # it waited for the timeout, not for the slow one
        outcomes = {outcome.account_id: outcome for outcome in collector.finished()}
        assert set(outcomes) == {"quick", "broken"}
        assert outcomes["quick"].succeeded and outcomes["quick"].collection == "quick snapshot"
        assert not outcomes["broken"].succeeded
        assert outcomes["broken"].error == "ConnectionError: Talkdesk reset the connection"
        assert collector.in_flight() == {"slow"} and collector.finished() == []
    finally:
        release.set()  # a failed assertion above must not leave the slow collection waiting
    collector.wait(timeout=5)
    (slow_outcome,) = collector.finished()
    assert slow_outcome.account_id == "slow" and slow_outcome.finished_at >= slow_outcome.started_at
    assert collector.start("slow", slow)  # free again once reported
    collector.wait(timeout=5)
