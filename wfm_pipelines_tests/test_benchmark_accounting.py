"""The benchmark's accounting (`benchmarks/accounting.py`, `benchmarks/issue11.py`): CPU of process trees from
/proc, bytes on disk, and the per-weekday scaling of issue 11's figures."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from benchmarks import accounting
from benchmarks.accounting import CODE_SERVERS, DAEMON, RUN_WORKERS, WEBSERVER, ProcessStat, TreeProcess
from benchmarks.issue11 import two_years_seconds, weekday_scale

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_child_that_ended_counts_whole_in_its_parents_reaped_time():
    before = accounting.read_stat(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)
    after = accounting.read_stat(os.getpid())
    assert after.reaped_seconds - before.reaped_seconds >= 0.3


def test_a_running_process_shows_its_own_cpu_and_a_gone_one_none():
    child = subprocess.Popen([sys.executable, "-c", BURN + "\ntime.sleep(30)"])
    try:
        deadline = time.monotonic() + 20
        while accounting.process_cpu_seconds(child.pid) < 0.3:
            assert time.monotonic() < deadline, "the child's CPU never showed in /proc"
            time.sleep(0.05)
        assert accounting.read_stat(child.pid).ppid == os.getpid()
    finally:
        child.kill()
        child.wait()
    assert accounting.read_stat(child.pid) is None


@pytest.mark.parametrize(("cmdline", "parent_role", "role"), [
    (b"python\0-m\0dagster_webserver\0-h\0127.0.0.1", None, WEBSERVER),
    (b"python\0-m\0dagster._daemon\0run\0-w\0ws.yaml", None, DAEMON),
    (b"python\0-m\0dagster\0api\0grpc\0--lazy-load-user-code", DAEMON, CODE_SERVERS),
    (b"python\0-B\0-c\0from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=12)", CODE_SERVERS,
     RUN_WORKERS),
    (b"", CODE_SERVERS, RUN_WORKERS),  # a zombie run worker has no command line
    (b"python\0-B\0-c\0from multiprocessing.resource_tracker import main;main(11)", CODE_SERVERS, CODE_SERVERS),
    (b"python\0.../watch_orphans.py\0123", RUN_WORKERS, RUN_WORKERS),
])
def test_dagster_processes_get_their_roles_from_command_line_and_parent(cmdline, parent_role, role):
    assert accounting._role(cmdline, parent_role) == role


# A stand-in for a Dagster deployment, shaped as /proc shows Dagster 1.13's: a "daemon" starts a "code server",
# which starts a "run worker" that burns CPU; the code server exits after its run and the daemon reaps it, with
# the run worker's CPU inside its reaped time (what the daemon's 60 s code-server replacement does).
RUN_WORKER = BURN.replace("0.3", "1.0") + "\ntime.sleep(1.5)  # idle, so that a sample sees the burn whole"
CODE_SERVER = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {RUN_WORKER!r}, 'spawn_main'])"
DAEMON_SCRIPT = ("import subprocess, sys, time\n"
                 f"subprocess.run([sys.executable, '-c', {CODE_SERVER!r}, 'api', 'grpc'])\n"
                 "print('reaped', flush=True)\ntime.sleep(60)")


def test_the_sampler_books_a_run_worker_reaped_inside_a_reaped_code_server_to_the_run_workers(tmp_path):
    home = tmp_path / "instance"
    daemon = subprocess.Popen([sys.executable, "-c", DAEMON_SCRIPT, "dagster._daemon", "run", str(home)],
                              stdout=subprocess.PIPE, text=True)
    try:
        with accounting.DeploymentSampler(home, interval=0.1) as sampler:  # the window ends before the daemon
            assert daemon.stdout.readline() == "reaped\n"
            time.sleep(0.3)  # a sample after the reaping
    finally:
        daemon.kill()
        daemon.wait()
    roles = sampler.cpu_by_role
    assert 0.98 <= roles[RUN_WORKERS] < 1.5  # the burn (10 ms ticks) and the interpreter's start
    assert sampler.total_cpu_seconds >= roles[RUN_WORKERS]  # exact: the daemon's reaped time holds everything
    assert sampler.unattributed_cpu_seconds < 0.3  # only what the code server spent exiting
    assert set(roles) == {RUN_WORKERS, CODE_SERVERS, DAEMON, WEBSERVER} and roles[WEBSERVER] == 0
    assert len(sampler.run_workers_seen) == 1 and sampler.peak_mib > 1


# The multiprocess executor's shape: the run worker starts a forkserver, whose forked children run the steps and
# which exits a moment after the run worker, orphaned, with the steps' CPU in its reaped time.
STEP = BURN.replace("0.3", "1.0")
FORKSERVER = ("import os, subprocess, sys, time\n"
              f"subprocess.run([sys.executable, '-c', {STEP!r}])\n"
              "time.sleep(0.5)  # its run worker exits meanwhile\n"
              "open(os.environ['FORKSERVER_PID_FILE'], 'w').write(str(os.getpid()))")
RUN_WORKER_LEAVING_ITS_FORKSERVER = (f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {FORKSERVER!r}])\n"
                                     "time.sleep(0.3)")
CODE_SERVER_OF_A_MULTIPROCESS_RUN = ("import subprocess, sys\n"
                                     f"subprocess.run([sys.executable, '-c', {RUN_WORKER_LEAVING_ITS_FORKSERVER!r}, "
                                     "'spawn_main'])")
DAEMON_OF_A_MULTIPROCESS_RUN = ("import subprocess, sys, time\n"
                                f"subprocess.run([sys.executable, '-c', {CODE_SERVER_OF_A_MULTIPROCESS_RUN!r}, 'api', "
                                "'grpc'])\nprint('reaped', flush=True)\ntime.sleep(60)")


def test_the_steps_cpu_counts_though_their_forkserver_outlives_the_run_worker(tmp_path):
    home, pid_file = tmp_path / "instance", tmp_path / "forkserver.pid"
    daemon = subprocess.Popen([sys.executable, "-c", DAEMON_OF_A_MULTIPROCESS_RUN, "dagster._daemon", "run", str(home)],
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "DAGSTER_HOME": str(home), "FORKSERVER_PID_FILE": str(pid_file)})
    try:
        with accounting.DeploymentSampler(home, interval=0.1) as sampler:
            assert daemon.stdout.readline() == "reaped\n"  # the run worker is gone; its forkserver goes on
            # Past the forkserver's end, however slowly a loaded machine runs it: it names itself as it leaves.
            deadline = time.monotonic() + 60
            while _alive(pid_file):
                assert time.monotonic() < deadline, "the forkserver never ended"
                time.sleep(0.1)
            time.sleep(0.3)  # a sample after it ended
    finally:
        daemon.kill()
        daemon.wait()
    assert sampler.total_cpu_seconds >= 1.0  # the step, through the adopted forkserver's reaped time
    assert sampler.cpu_by_role[RUN_WORKERS] >= 0.9  # sampled in the step while it ran
    # the adopted forkserver, a zombie at the window's end, is reaped; orphans go to init again
    zombies = [stat for stat in accounting.all_stats().values() if stat.ppid == os.getpid() and stat.state == "Z"]
    assert zombies == []


def _alive(pid_file) -> bool:
    """Whether the process that writes its pid into `pid_file` as it leaves has not yet ended."""
    pid = pid_file.read_text() if pid_file.exists() else ""
    if not pid.strip():
        return True
    stat = accounting.read_stat(int(pid))
    return stat is not None and stat.state != "Z"


def test_a_run_worker_is_the_code_servers_child_not_its_helpers():
    def process(role, parent_role):
        return TreeProcess(1, role, ProcessStat(1, 0, "S", 0, 0.0, 0.0), parent_role)

    assert process(RUN_WORKERS, CODE_SERVERS).is_run_worker
    assert not process(RUN_WORKERS, RUN_WORKERS).is_run_worker
    assert not process(CODE_SERVERS, DAEMON).is_run_worker


def test_directory_bytes_sums_file_sizes_and_is_zero_without_the_directory(tmp_path):
    assert accounting.directory_bytes(tmp_path / "raw") == 0
    (tmp_path / "raw" / "calls").mkdir(parents=True)
    (tmp_path / "raw" / "calls" / "a.parquet").write_bytes(b"x" * 1000)
    (tmp_path / "raw" / "b.parquet").write_bytes(b"y" * 24)
    assert accounting.directory_bytes(tmp_path / "raw") == 1024


def test_stored_bytes_difference_and_parts():
    grown = accounting.StoredBytes(database=500, raw_tables=300, raw_files=80) - accounting.StoredBytes(100, 50, 0)
    assert (grown.database, grown.raw_tables, grown.raw_files) == (400, 250, 80)
    assert (grown.total, grown.raw, grown.database_rest) == (480, 330, 150)


def test_weekday_scale_is_the_weekday_mean_over_the_mean_day():
    monday = datetime(2026, 11, 23, tzinfo=timezone.utc)
    week = [100, 100, 100, 100, 100, 50, 50]  # Monday .. Sunday
    assert weekday_scale(monday, week) == pytest.approx(100 / (600 / 7))
    assert weekday_scale(monday, [100, 100]) == pytest.approx(1.0)
    saturday = datetime(2026, 11, 28, tzinfo=timezone.utc)
    assert weekday_scale(saturday, [50, 50]) is None


def test_two_years_scale_the_measured_backfill_wall():
    assert two_years_seconds(700.0, 7) == pytest.approx(73_000.0)


# ---- issue 12's helpers (benchmarks/issue12.py) ------------------------------------------------------------
def test_percentile_interpolates_between_closest_ranks_as_numpy_does():
    from benchmarks.issue12 import percentile

    assert percentile([30.0] * 19 + [90.0], 95) == pytest.approx(30.0 + 0.05 * 60)  # rank 18.05 of 0..19
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert percentile([5.0], 95) == 5.0
    assert percentile([40.0, 10.0, 30.0, 20.0], 50) == pytest.approx(25.0)
    assert percentile([], 95) != percentile([], 95)  # NaN: no gaps, no figure


def test_gaps_are_per_account_between_distinct_collection_times_in_order():
    from benchmarks.issue12 import consecutive_gaps

    t0 = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
    at = lambda seconds: t0 + timedelta(seconds=seconds)  # noqa: E731
    gaps = consecutive_gaps({"a": [at(60), at(0), at(30), at(30)], "b": [at(5)], "c": []})
    assert gaps == {"a": [30.0, 30.0], "b": [], "c": []}  # one account's gaps never span to another's


def test_extrapolations_to_a_day_and_to_one_account():
    from benchmarks.issue12 import core_share_per_account, machine_busy, per_day

    assert per_day(10 * 2**20, 240) == pytest.approx(3600 * 2**20)  # 10 MiB in 4 min -> 3,600 MiB a day
    assert core_share_per_account(cpu_seconds=120, window_seconds=240, accounts=50) == pytest.approx(0.01)
    assert machine_busy((100, 1000), (400, 1600), cores=2) == pytest.approx(1.0)  # half the jiffies busy


def test_runs_per_day_are_counted_from_the_schedules_cron_strings():
    from benchmarks.issue12 import cron_firings_per_day, runs_per_day

    assert cron_firings_per_day("5,20,35,50 * * * *") == 96
    assert cron_firings_per_day("*/15 * * * *") == 96
    assert cron_firings_per_day("7 * * * *") == 24
    assert cron_firings_per_day("30 2 * * *") == 1
    assert cron_firings_per_day("0 8-17 * * *") == 10
    with pytest.raises(ValueError):
        cron_firings_per_day("0 0 * * 1")
    assert sum(runs_per_day({"interval_collection_schedule": "5,20,35,50 * * * *",
                             "configuration_schedule": "7 * * * *",
                             "nightly_recollection_schedule": "30 2 * * *"}).values()) == 121


def test_the_tick_window_is_the_closed_interval_and_the_trailing_two_hours_fifteen_as_the_schedule_makes():
    from benchmarks.issue12 import LAG_MINUTES, tick_window
    from wfm_pipelines.defs.schedules import tick_range

    for now in (datetime(2026, 12, 1, 13, 21, 7, tzinfo=timezone.utc), datetime(2026, 12, 1, 0, 4, tzinfo=timezone.utc)):
        assert tick_window(now) == tick_range(now, LAG_MINUTES, datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_the_deployments_instance_database_is_read_back_from_its_dagster_pg_variables():
    from types import SimpleNamespace

    from benchmarks.issue12 import instance_database_url, instance_env

    url = "postgresql+psycopg://bench:pw@db.example:5433/wfm_bench_issue12_instance_1a2b"
    env = instance_env(url)
    assert env == {"DAGSTER_PG_HOST": "db.example", "DAGSTER_PG_PORT": "5433", "DAGSTER_PG_USER": "bench",
                   "DAGSTER_PG_PASSWORD": "pw", "DAGSTER_PG_DB": "wfm_bench_issue12_instance_1a2b"}
    assert instance_database_url(SimpleNamespace(env={"WFM_EXECUTOR": "multiprocess", **env})) == url
    trusted = instance_env("postgresql+psycopg://postgres@127.0.0.1/instance")  # no password, default port
    assert instance_database_url(SimpleNamespace(env=trusted)) == "postgresql+psycopg://postgres@127.0.0.1:5432/instance"
    assert instance_database_url(SimpleNamespace(env={})) is None  # SQLite instance: files only


def test_the_celery_phase_gives_its_processes_the_accounts_file_their_secrets_and_the_celery_executor(tmp_path):
    from benchmarks.issue12 import celery_phase_environment, secret_variable
    from talkdesk_emulator.account_sizes import benchmark_accounts

    configs = benchmark_accounts(2, 0, 0)
    accounts = list(configs)
    accounts_file = tmp_path / "accounts.yaml"
    urls = {"celery_wfm": "postgresql+psycopg://postgres@127.0.0.1:5432/wfm_bench_celery_wfm_1",
            "celery_instance": "postgresql+psycopg://postgres@127.0.0.1:5432/wfm_bench_celery_instance_1"}
    env = celery_phase_environment(tmp_path, accounts_file, configs, accounts, urls, "amqp://guest:guest@h:5672/v",
                                   datetime(2026, 11, 30, tzinfo=timezone.utc))
    assert env["WFM_ACCOUNTS_FILE"] == str(accounts_file) and env["WFM_EXECUTOR"] == "celery"
    assert env["WFM_DATABASE_URL"] == urls["celery_wfm"] and env["DAGSTER_PG_DB"] == "wfm_bench_celery_instance_1"
    assert env["WFM_CELERY_BROKER_URL"] == "amqp://guest:guest@h:5672/v"
    assert {env[secret_variable(a)] for a in accounts} == {configs[a].client_secret for a in accounts}
