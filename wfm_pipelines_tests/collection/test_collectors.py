"""The collectors driven by a scripted report runner (no HTTP) over a real SQLite WFM database: quiet ticks stay
cheap, the status look-back holds one piece at a time, a malformed entry fetched twice is kept once
(issue 9, items 4 and 6)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pandas as pd
import pyarrow as pa
import pytest

from wfm_pipelines.collection import agent_states, contact_volume
from wfm_pipelines.collection.options import CollectionOptions
from wfm_pipelines.db import queries, report_behaviour
from wfm_pipelines.db.engine import get_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.talkdesk.report_table import KEY_COLUMN, entries_to_table

DAY = datetime(2026, 3, 17, tzinfo=timezone.utc)  # mid-month: a look-back reaches back 16 days
NOW = DAY + timedelta(days=2)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class ScriptedExplore:
    """Serves fixed records for any window, filtered on the record's end, start, or overlap."""

    def __init__(self, records: list[dict], start_field: str, end_field: str, window_field: str = "end"):
        self.records, self.start_field, self.end_field = records, start_field, end_field
        self.window_field = window_field
        self.requests: list[tuple[str, datetime, datetime, int]] = []

    def _time(self, record: dict, field: str) -> datetime | None:
        value = record.get(field)
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None

    def __call__(self, report_type: str, start: datetime, end: datetime) -> pa.Table:
        chosen = []
        for record in self.records:
            began, ended = self._time(record, self.start_field), self._time(record, self.end_field)
            by_end = ended is not None and start <= ended < end
            by_start = began is not None and start <= began < end
            if {"end": by_end, "start": by_start, "overlap": by_end or by_start}[self.window_field]:
                chosen.append(dict(record))
        self.requests.append((report_type, start, end, len(chosen)))  # from the collector's report threads
        return entries_to_table(chosen)


def statuses(first: datetime, last: datetime, step: timedelta, agents: int = 3) -> list[dict]:
    """Back-to-back status records per agent, `step` long, from `first` to `last`."""
    records = []
    for agent in range(agents):
        moment = first + timedelta(minutes=7 * agent)
        while moment < last:
            records.append({"user_id": f"u{agent}", "status_label": "Available", "status_start_at": iso(moment),
                            "status_end_at": iso(moment + step), "status_time": step.total_seconds()})
            moment += step
    return records


@pytest.fixture
def engine(sqlite_url):
    return get_engine(sqlite_url)


@pytest.fixture
def raw_store(tmp_path):
    return RawStore(tmp_path / "raw")


def collect_states(runner, engine, raw_store, start, end, window_field="auto", target_entries=50_000):
    return agent_states.collect_agent_state_transactions(
        runner, engine, raw_store, range_start=start, range_end=end, available_until=NOW,
        account_id=DEFAULT_ACCOUNT_ID,
        options=CollectionOptions(window_field=window_field, target_entries=target_entries))


def test_a_quiet_tick_does_not_look_back_once_the_account_was_seen_to_filter_on_end(engine, raw_store):
    """Bug: every quiet tick (a night, a weekend) fetched the month's user_status records again."""
    busy = ScriptedExplore(statuses(DAY + timedelta(hours=9), DAY + timedelta(hours=12), timedelta(minutes=20)),
                           "status_start_at", "status_end_at", window_field="end")
    result = collect_states(busy, engine, raw_store, DAY + timedelta(hours=10), DAY + timedelta(hours=10, minutes=15))
    assert len(busy.requests) == 1 and result.report_window_field == "end"
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) == "end"

    quiet = ScriptedExplore([], "status_start_at", "status_end_at", window_field="end")
    collect_states(quiet, engine, raw_store, DAY + timedelta(hours=3), DAY + timedelta(hours=3, minutes=15))
    assert [window for _, *window, _ in quiet.requests] == [[DAY + timedelta(hours=3),
                                                            DAY + timedelta(hours=3, minutes=15)]]


def test_before_anything_was_seen_a_quiet_tick_looks_back_to_be_safe(engine, raw_store):
    quiet = ScriptedExplore([], "status_start_at", "status_end_at")
    collect_states(quiet, engine, raw_store, DAY + timedelta(hours=3), DAY + timedelta(hours=3, minutes=15))
    assert len(quiet.requests) > 1 and quiet.requests[1][1] < DAY  # the look-back, back to the month start
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) is None


def test_a_start_filtered_account_looks_back_in_pieces_and_still_gets_every_record(engine, raw_store):
    # Five-hour records since 16 days before: each agent's record that ends in the range began before it.
    first = DAY + timedelta(hours=10, minutes=20) - 80 * timedelta(hours=5)
    records = statuses(first, DAY + timedelta(hours=13), timedelta(hours=5))
    runner = ScriptedExplore(records, "status_start_at", "status_end_at", window_field="start")
    start, end = DAY + timedelta(hours=10), DAY + timedelta(hours=11)
    result = collect_states(runner, engine, raw_store, start, end, target_entries=100)
    assert report_behaviour.remembered_window_field(engine, "user_status", account_id=DEFAULT_ACCOUNT_ID) == "start"
    lookback = [r for r in runner.requests if r[2] <= start]
    assert len(lookback) >= 2  # in pieces, not one month-long report
    assert max(count for *_, count in lookback) <= agent_states.LOOKBACK_PIECE_FACTOR * 100 * 2
    truth = sorted((r["user_id"], r["status_start_at"]) for r in records
                   if start <= datetime.fromisoformat(r["status_end_at"].replace("Z", "+00:00")) < end)
    rows = result.frame  # what the asset hands its IO manager
    assert sorted(zip(rows["agent_id"], rows["state_start"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"))) == truth
    assert len(truth) > 0
    assert result.entries_outside_range > 0  # the look-back's records that end before the range, counted


def test_a_malformed_contact_fetched_twice_is_kept_once(engine, raw_store):
    """An overlap-filtering account returns a contact that spans two reports with both."""
    start = DAY + timedelta(hours=10)
    good = [{"call_id": f"c{i}", "type": "inbound", "start_at": iso(start + timedelta(minutes=10 * i)),
             "end_at": iso(start + timedelta(minutes=10 * i + 3)), "ring_groups": "support", "talk_time": 100,
             "wait_time": 5, "hold_time": 0} for i in range(6)]
    spanning_bad = {"call_id": "bad", "type": "teleported", "start_at": iso(start + timedelta(minutes=50)),
                    "end_at": iso(start + timedelta(minutes=75)), "ring_groups": "support"}
    runner = ScriptedExplore(good + [spanning_bad], "start_at", "end_at", window_field="overlap")
    queues = pd.DataFrame({"queue_id": ["support"], "active": [True]})
    result = contact_volume.collect_contact_volume(
        runner, engine, raw_store, report_type="calls", queues=queues, range_start=start, range_end=start + timedelta(hours=2),
        available_until=NOW, account_id=DEFAULT_ACCOUNT_ID,
        options=CollectionOptions(chunk=timedelta(hours=1), max_contact=timedelta(hours=1)))
    malformed = queries.read_table(engine, "talkdesk_malformed_entry", account_id=DEFAULT_ACCOUNT_ID)
    assert len(malformed) == 1 and malformed["reason"].iloc[0] == "unknown type"
    assert result.malformed == 1 and result.malformed_reasons == {"unknown type": 1}
    assert result.frame["entered_count"].sum() == 6


@pytest.mark.parametrize("window_field, tail_report", [("end", True), ("auto", True), ("start", False)])
def test_a_contact_that_spans_a_report_seam_lands_once_in_the_chunk_it_started_in(engine, raw_store, window_field,
                                                                                 tail_report):
    """The chunk life cycle: a chunk stays open until the reports reach the longest contact past its end, then
    its raw entries are kept and its rows aggregated; one last report past the range brings the stragglers
    (none is needed where the account is known to filter on start)."""
    start = DAY + timedelta(hours=10)
    calls = [
        {"call_id": "early", "type": "inbound", "start_at": iso(start + timedelta(minutes=5)),
         "end_at": iso(start + timedelta(minutes=9)), "ring_groups": "support", "talk_time": 200, "wait_time": 4},
        # starts in the first hour, ends in the second: the report of its end brings it where filtered on end
        {"call_id": "spanning", "type": "inbound", "start_at": iso(start + timedelta(minutes=50)),
         "end_at": iso(start + timedelta(minutes=80)), "ring_groups": "support", "talk_time": 1700, "wait_time": 6},
        # starts in the last hour, ends after the range: only the last report brings it (filtered on end)
        {"call_id": "late", "type": "abandoned", "start_at": iso(start + timedelta(minutes=170)),
         "end_at": iso(start + timedelta(minutes=190)), "ring_groups": "support", "wait_time": 40},
    ]
    runner = ScriptedExplore(calls, "start_at", "end_at", window_field="start" if window_field == "start" else "end")
    queues = pd.DataFrame({"queue_id": ["support"], "active": [True]})
    result = contact_volume.collect_contact_volume(
        runner, engine, raw_store, report_type="calls", queues=queues, range_start=start, range_end=start + timedelta(hours=3),
        available_until=NOW, account_id=DEFAULT_ACCOUNT_ID, options=CollectionOptions(
            window_field=window_field, chunk=timedelta(hours=1), max_contact=timedelta(hours=1)))
    windows = sorted((s - start, e - start) for _, s, e, _ in runner.requests)
    hour = timedelta(hours=1)
    assert windows == [(0 * hour, hour), (hour, 2 * hour), (2 * hour, 3 * hour)] + (
        [(3 * hour, 4 * hour)] if tail_report else [])
    rows = result.frame.set_index("interval_start")
    assert rows.loc[pd.Timestamp(start), "entered_count"] == 1
    assert rows.loc[pd.Timestamp(start + timedelta(minutes=45)), "entered_count"] == 1  # the spanning contact
    assert rows.loc[pd.Timestamp(start + timedelta(minutes=165)), "abandoned_count"] == 1
    assert result.frame["entered_count"].sum() == 3
    raw = raw_store.read_window(engine, "calls", start - timedelta(days=1), start + timedelta(days=1),
                                account_id=DEFAULT_ACCOUNT_ID)
    assert sorted(raw.column(KEY_COLUMN).to_pylist()) == ["early", "late", "spanning"]


class OverlapProbe(ScriptedExplore):
    """A report job that will not finish until the next window's job has started (or 10 s passed): counts the
    waits that timed out, and how many jobs ran at once. The first report runs alone (its entry rate sizes the
    next windows) and the one ending at `last_end` has no next one: neither waits."""

    def __init__(self, *args, first_start: datetime, last_end: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_start, self.last_end = first_start, last_end
        self.lock = threading.Lock()
        self.started: list[datetime] = []
        self.running = self.most_running = 0
        self.waits_timed_out = 0

    def __call__(self, report_type, start, end):
        with self.lock:
            self.started.append(start)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        deadline = time.monotonic() + 10
        next_started = (start == self.first_start or end >= self.last_end
                        or any(other > start for other in list(self.started)))
        while not next_started and time.monotonic() < deadline:
            time.sleep(0.01)
            next_started = any(other > start for other in list(self.started))
        self.waits_timed_out += not next_started
        try:
            return super().__call__(report_type, start, end)
        finally:
            with self.lock:
                self.running -= 1


def test_the_next_report_is_generated_while_the_current_one_is_read(engine, raw_store):
    """Issue 11: 17 report jobs of a day ran one after another, each waiting for Talkdesk's generation."""
    start = DAY + timedelta(hours=10)
    probe = OverlapProbe(statuses(start, start + timedelta(hours=6), timedelta(minutes=5)),
                         "status_start_at", "status_end_at", first_start=start,
                         last_end=start + timedelta(hours=6))
    result = agent_states.collect_agent_state_transactions(
        probe, engine, raw_store, range_start=start, range_end=start + timedelta(hours=6), available_until=NOW,
        account_id=DEFAULT_ACCOUNT_ID,
        options=CollectionOptions(window_field="end", chunk=timedelta(hours=1)))
    assert result.reports_requested == 6
    assert probe.waits_timed_out == 0
    assert probe.most_running == 2  # the current report and one ahead, never more
    ending_in_range = [r for r in probe.records if r["status_end_at"] < iso(start + timedelta(hours=6))]
    assert len(result.frame) == len(ending_in_range) > 200


def test_a_failed_report_fails_the_collection_without_waiting_for_the_one_running_ahead(engine, raw_store):
    """The job running ahead may take Talkdesk's whole poll timeout; a failure before it must not wait for it."""
    start = DAY + timedelta(hours=10)
    release, finished = threading.Event(), threading.Event()
    records = statuses(start, start + timedelta(hours=4), timedelta(minutes=5))
    serve = ScriptedExplore(records, "status_start_at", "status_end_at")

    def runner(report_type, window_start, window_end):
        if window_start == start + timedelta(hours=1):
            raise RuntimeError("Talkdesk failed the report job")
        if window_start == start + timedelta(hours=2):  # the job ahead: still running when the failure comes
            release.wait(30)
            finished.set()
        return serve(report_type, window_start, window_end)

    with pytest.raises(RuntimeError, match="failed the report job"):
        agent_states.collect_agent_state_transactions(
            runner, engine, raw_store, range_start=start, range_end=start + timedelta(hours=4), available_until=NOW,
            account_id=DEFAULT_ACCOUNT_ID,
            options=CollectionOptions(window_field="end", chunk=timedelta(hours=1)))
    assert not finished.is_set()
    release.set()
