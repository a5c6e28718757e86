"""The benchmark's accounting (`benchmarks/accounting.py`): CPU of process trees from /proc and bytes on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from benchmarks import accounting
from benchmarks.accounting import CODE_SERVERS, DAEMON, RUN_WORKERS, WEBSERVER, ProcessStat, TreeProcess

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
