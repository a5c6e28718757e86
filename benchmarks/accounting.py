"""What a scenario cost: CPU seconds of processes (from /proc) and bytes stored (database + raw store).

CPU of a process tree, in total: for every process of the tree alive at a snapshot (zombies included), its
own user+system time plus that of the children it has already reaped (`cutime` + `cstime` of
/proc/<pid>/stat, which the kernel adds when a parent waits for a child, with that child's own reaped
descendants). The difference of two snapshots is exactly what the tree spent in between, processes that
started and ended in between included, as long as every process is reaped by a parent inside the tree
(one re-parented to init would be lost; Dagster's processes wait for their children).

One process escapes its tree's reaping: the multiprocess executor's forkserver (WFM_EXECUTOR=multiprocess),
parent of every step's process, which exits a moment AFTER its run worker, so that init, not the tree, would
reap it with all the steps' CPU. During a window the sampler makes this process the child subreaper of its
descendants (Linux `PR_SET_CHILD_SUBREAPER`): such an orphan is re-parented here, stays in the tree (as a
zombie once it exits) and is counted, then reaped when the window ends.

CPU by role (run workers, code servers, daemon, webserver) cannot come from the reaped times: Dagster's
daemon replaces its code server every 60 s, and the old one, once its run is done, is reaped by the
daemon with the run worker's CPU inside. So each process's own time is read every sampling interval and
booked to its role; what a process spent after its last sample before exiting lands in "unattributed"
(the exact total minus the booked parts).
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Mapping
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")
PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h

# Roles of the processes of a Dagster deployment, as /proc shows them under Dagster 1.13.
RUN_WORKERS = "run workers"  # the run worker (multiprocessing child of a code server) and what it starts
CODE_SERVERS = "code servers"  # `dagster api grpc`, started by the webserver and by the daemon
DAEMON = "daemon"
WEBSERVER = "webserver"
ROLES = (RUN_WORKERS, CODE_SERVERS, DAEMON, WEBSERVER)
UNATTRIBUTED = "unattributed"  # the exact total minus what the samples booked to roles


@dataclass(frozen=True)
class ProcessStat:
    pid: int
    ppid: int
    state: str
    started: int  # clock ticks after boot: with the pid, names one process even if the pid is reused
    own_seconds: float  # utime + stime of the process (all its threads)
    reaped_seconds: float  # cutime + cstime: its children that ended and were waited for

    @property
    def key(self) -> tuple[int, int]:
        return self.pid, self.started


def read_stat(pid: int) -> ProcessStat | None:
    """None when the process is gone."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return ProcessStat(pid, int(fields[1]), fields[0], int(fields[19]), (utime + stime) / CLOCK_TICKS,
                       (cutime + cstime) / CLOCK_TICKS)


def read_cmdline(pid: int) -> bytes:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def peak_rss_kib(pid: int) -> int:
    """VmHWM (the process's peak resident set) in KiB; 0 when gone or a zombie."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_cpu_seconds(pid: int) -> float:
    """A single process's CPU so far (own + reaped children); 0 when gone."""
    stat = read_stat(pid)
    return stat.own_seconds + stat.reaped_seconds if stat else 0.0


def all_stats() -> dict[int, ProcessStat]:
    stats = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit() and (stat := read_stat(int(entry.name))) is not None:
            stats[stat.pid] = stat
    return stats


def _role(cmdline: bytes, parent_role: str | None) -> str | None:
    if parent_role == RUN_WORKERS:
        return RUN_WORKERS
    if b"dagster_webserver" in cmdline:
        return WEBSERVER
    if b"dagster._daemon" in cmdline:
        return DAEMON
    if b"api\0grpc" in cmdline:
        return CODE_SERVERS
    if parent_role == CODE_SERVERS:
        # Runs start as multiprocessing children of the code server (`spawn_main`; a zombie's cmdline is
        # empty); only its resource tracker is not a run.
        return CODE_SERVERS if b"resource_tracker" in cmdline else RUN_WORKERS
    return parent_role


@dataclass(frozen=True)
class TreeProcess:
    pid: int
    role: str
    stat: ProcessStat
    parent_role: str | None  # None for the webserver and the daemon

    @property
    def is_run_worker(self) -> bool:
        """The run's own process (not the helpers it starts)."""
        return self.role == RUN_WORKERS and self.parent_role == CODE_SERVERS


def read_environment(pid: int) -> bytes:
    try:
        return (PROC / str(pid) / "environ").read_bytes()
    except OSError:  # gone, or a zombie (whose environment reads empty anyway)
        return b""


def deployment_processes(dagster_home: Path, adopted: Mapping[tuple[int, int], str] | None = None) -> list[TreeProcess]:
    """Every process of one Dagster deployment: the webserver and daemon this process started for
    `dagster_home` (their command line names its workspace.yaml) and all their descendants, with roles; and
    the deployment's orphans this process adopted as subreaper: those `adopted` names (process key -> the role
    it had in the tree), and live ones whose environment has the deployment's DAGSTER_HOME (their role from
    their command line, else run workers': what outlives its parent in a deployment is a run's helper)."""
    stats = all_stats()
    children: dict[int, list[int]] = defaultdict(list)
    for stat in stats.values():
        children[stat.ppid].append(stat.pid)
    marker = str(dagster_home).encode()
    adopted = adopted or {}
    pending: list[tuple[int, str | None, str | None]] = []  # pid, its role if known, its parent's role
    for pid in children[os.getpid()]:
        if marker in read_cmdline(pid):
            pending.append((pid, None, None))
        elif stats[pid].key in adopted:
            pending.append((pid, adopted[stats[pid].key], None))
        elif b"DAGSTER_HOME=" + marker + b"\0" in read_environment(pid) + b"\0":
            pending.append((pid, _role(read_cmdline(pid), None) or RUN_WORKERS, None))
    found = []
    while pending:
        pid, known_role, parent_role = pending.pop()
        role = known_role or _role(read_cmdline(pid), parent_role)
        if role is None:  # not a Dagster process (should not happen under the deployment's roots)
            continue
        found.append(TreeProcess(pid, role, stats[pid], parent_role))
        pending.extend((child, None, role) for child in children[pid])
    return found


def set_child_subreaper(on: bool) -> None:
    """Orphaned descendants of this process are re-parented to it (on) or to init (off), from now on."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def tree_cpu_seconds(processes: list[TreeProcess]) -> float:
    """The whole tree's CPU so far: own + reaped time of every process alive in it (see the module's doc)."""
    return sum(process.stat.own_seconds + process.stat.reaped_seconds for process in processes)


def own_cpu_seconds() -> float:
    """This process's user + system CPU (all threads)."""
    times = os.times()
    return times.user + times.system


def directory_bytes(path: Path) -> int:
    """Sum of the sizes of the regular files under `path`; 0 when it does not exist."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # removed while walking
                continue
    return total


# Tables that hold raw Talkdesk entries or catalogue the raw store's files: the "raw part" of the database.
RAW_TABLES = ("talkdesk_raw_entry", "talkdesk_raw_file")


@dataclass(frozen=True)
class StoredBytes:
    database: int  # pg_database_size: every relation with its indexes and TOAST, free space included
    raw_tables: int  # pg_total_relation_size of the RAW_TABLES that exist
    raw_files: int  # the raw store directory (WFM_RAW_STORE), sum of file sizes

    def __sub__(self, other: StoredBytes) -> StoredBytes:
        return StoredBytes(self.database - other.database, self.raw_tables - other.raw_tables,
                           self.raw_files - other.raw_files)

    @property
    def total(self) -> int:
        return self.database + self.raw_files

    @property
    def raw(self) -> int:
        return self.raw_tables + self.raw_files

    @property
    def database_rest(self) -> int:
        return self.database - self.raw_tables


def stored_bytes(database_url: str, raw_store: Path) -> StoredBytes:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            database = connection.execute(sa.text("select pg_database_size(current_database())")).scalar_one()
            raw_tables = 0
            for table in RAW_TABLES:
                # to_regclass: NULL when the table does not exist (yet, or any more) in this schema version
                size = connection.execute(sa.text("select pg_total_relation_size(to_regclass(:name))"),
                                          {"name": table}).scalar_one()
                raw_tables += int(size or 0)
    finally:
        engine.dispose()
    return StoredBytes(int(database), raw_tables, directory_bytes(raw_store))


class DeploymentSampler:
    """One Dagster deployment over a window (the `with` block): its CPU in total and by role, and the peak
    resident memory (VmHWM) of its run workers, from /proc every `interval` seconds.

    The peak is the whole run process (in-process executor: the steps run in it), including the IO
    manager's write and the asset checks that the assets' own `peak_rss_mib` metadata does not see; a rise
    in a run worker's last `interval` before it exits is missed.
    """

    def __init__(self, dagster_home: Path, interval: float = 0.5):
        self.dagster_home = dagster_home
        self.interval = interval
        self.peak_kib = 0
        self.run_workers_seen: set[tuple[int, int]] = set()
        self.total_cpu_seconds = 0.0  # exact, over the window
        self._own_at_start: dict[tuple[int, int], float] = {}
        self._last_own: dict[tuple[int, int], tuple[str, float]] = {}  # process -> (role, own seconds)
        self._total_at_start = 0.0
        self._roles: dict[tuple[int, int], str] = {}  # every process seen in the tree -> its role
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, name="deployment-sampler", daemon=True)

    def __enter__(self) -> DeploymentSampler:
        set_child_subreaper(True)
        processes = deployment_processes(self.dagster_home)
        self._total_at_start = tree_cpu_seconds(processes)
        self._own_at_start = {process.stat.key: process.stat.own_seconds for process in processes}
        self._record(processes)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        processes = self._processes()
        self._record(processes)
        self.total_cpu_seconds = tree_cpu_seconds(processes) - self._total_at_start
        set_child_subreaper(False)
        self._reap_adopted_zombies(processes)

    def _processes(self) -> list[TreeProcess]:
        return deployment_processes(self.dagster_home, adopted=self._roles)

    @staticmethod
    def _reap_adopted_zombies(processes: list[TreeProcess]) -> None:
        """The deployment's orphans that exited while this process was their subreaper: counted, now reaped."""
        for process in processes:
            if (process.stat.ppid == os.getpid() and process.stat.state == "Z" and process.parent_role is None
                    and process.role not in (WEBSERVER, DAEMON)):  # the roots are Popen's to reap
                try:
                    os.waitpid(process.pid, os.WNOHANG)
                except ChildProcessError:  # already reaped (a Popen of ours)
                    pass

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @property
    def cpu_by_role(self) -> dict[str, float]:
        """Own CPU booked to each role over the window, up to each process's last sample."""
        totals = dict.fromkeys(ROLES, 0.0)
        for key, (role, own) in self._last_own.items():
            totals[role] += own - self._own_at_start.get(key, 0.0)
        return totals

    @property
    def unattributed_cpu_seconds(self) -> float:
        """Exact total minus the booked roles: processes' CPU after their last sample before exiting."""
        return self.total_cpu_seconds - sum(self.cpu_by_role.values())

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.interval):
            self._record(self._processes())

    def _record(self, processes: list[TreeProcess]) -> None:
        for process in processes:
            self._roles[process.stat.key] = process.role
            self._last_own[process.stat.key] = (process.role, process.stat.own_seconds)
            if process.is_run_worker and process.stat.state != "Z":
                self.run_workers_seen.add(process.stat.key)
                self.peak_kib = max(self.peak_kib, peak_rss_kib(process.pid))


def proc_stat() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine from /proc/stat's first line (idle + iowait are not busy)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())
