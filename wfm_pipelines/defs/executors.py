"""Where the steps of a run execute (WFM_EXECUTOR): in the run's own process (`in_process`, the default),
in a process per step, up to WFM_MAX_CONCURRENT_STEPS at once (`multiprocess`), or on Celery workers fed
through RabbitMQ (`celery`).

The Celery workers run `wfm_pipelines.celery_app`, whose Celery app takes the same `CELERY_APP_SETTINGS` as
the executor here, so the side that sends a step and the side that runs it cannot disagree.
"""

from __future__ import annotations

import dagster as dg

from wfm_pipelines.settings import Settings

# Celery settings (its lowercase names) of the app that sends steps and of the workers that run them.
CELERY_APP_SETTINGS = {
    # A step's task is acknowledged when it has finished, not when a worker takes it: a worker that dies
    # mid-step (SIGKILL, out of memory, host lost) leaves it unacknowledged, and RabbitMQ hands it to another
    # worker as soon as the dead worker's connection closes. Steps replace their windows, so a rerun is safe.
    "task_acks_late": True,
    # ... and when only the pool process running the step dies, the task goes back to the queue instead of
    # failing with WorkerLostError.
    "task_reject_on_worker_lost": True,
    # One task per worker process at a time: the others wait in the queue for an idle worker, instead of
    # behind a long step in a busy worker's prefetch buffer.
    "worker_prefetch_multiplier": 1,
    # A worker cut off from RabbitMQ stops its running steps: RabbitMQ has already given them to another
    # worker, and two copies of a step would only take turns on the same write.
    "worker_cancel_long_running_tasks_on_connection_loss": True,
    "broker_connection_retry_on_startup": True,
}

# What the multiprocess executor's forkserver imports before it forks any step: `warm_start`, which builds the
# code location and resolves its jobs, and the instance's storage (dagster-postgres pulls in what the
# SQLite storage needs too), which each step opens (0.5 s of CPU per step when not preloaded, 0.1 s when).
FORKSERVER_PRELOAD_MODULES = ("wfm_pipelines.warm_start", "dagster_postgres")


def celery_broker(settings: Settings) -> str | dict[str, str]:
    """The broker as executor config: the variable's name when the process environment sets it (the URL may
    hold a password; Dagster reads it when the run starts and shows only the name), else the default URL."""
    return {"env": settings.celery_broker_url_var} if settings.celery_broker_url_var else settings.celery_broker_url


def build_executor(settings: Settings) -> dg.ExecutorDefinition:
    if settings.executor == "celery":
        from dagster_celery import celery_executor  # only here: importing Celery costs every other load time

        return celery_executor.configured(
            {"broker": celery_broker(settings), "config_source": CELERY_APP_SETTINGS}, name="celery")
    if settings.executor == "multiprocess":
        # A step spends most of its time waiting on Talkdesk's report jobs, so many steps share a core: run
        # more at once than there are cores. `forkserver` forks each step's process from a server that
        # imported the preloaded modules once, so a step starts warm; Dagster's default, `spawn`, starts a
        # fresh interpreter per step that imports Dagster and builds every account's definitions again
        # (~3 s of CPU at 50 accounts).
        return dg.multiprocess_executor.configured(
            {"max_concurrent": settings.max_concurrent_steps,
             "start_method": {"forkserver": {"preload_modules": list(FORKSERVER_PRELOAD_MODULES)}}},
            name="multiprocess")
    # Small, I/O-bound runs: one process per run is enough, and saves a process start per step.
    return dg.in_process_executor
