"""Run the `dagster` CLI once per environment, each in a process forked from one that imported Dagster once.

A `dagster definitions validate` costs about 5 s of CPU, two thirds of it importing Dagster and the libraries
the code location uses. This script imports those (never `wfm_pipelines`, which reads its settings when
imported), then forks one child per case: the child takes the case's environment and working directory, calls
`dagster._cli.main` (what the `dagster` script calls) with the case's arguments, and exits with its status.

    python -m wfm_pipelines_tests.cli_forks < cases.json > results.json

Input: [{"argv": [...], "env": {...}, "cwd": "..."}]; output: [{"returncode": int, "output": str}] in the same
order, `output` being the child's stdout and stderr together.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import dagster  # noqa: F401 - imported once, before the forks
import dagster._cli
import numpy  # noqa: F401
import pandas  # noqa: F401
import pyarrow.parquet  # noqa: F401
import requests  # noqa: F401
import sqlalchemy  # noqa: F401
import tenacity  # noqa: F401

AT_ONCE = 3


def _child(case: dict, output_path: str) -> int:
    handle = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(handle, 1)
    os.dup2(handle, 2)
    os.chdir(case["cwd"])
    os.environ.clear()
    os.environ.update(case["env"])
    sys.argv = ["dagster", *case["argv"]]
    try:
        status = dagster._cli.main()
    except SystemExit as exit_:
        status = exit_.code
    except BaseException:  # noqa: BLE001 - reported as the CLI process would report it
        traceback.print_exc()
        status = 1
    if status is None:
        status = 0
    elif not isinstance(status, int):
        print(status, file=sys.stderr)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return status


def main() -> None:
    leaked = sorted(name for name in sys.modules if name.split(".")[0] == "wfm_pipelines")
    assert not leaked, f"imported before the forks: {leaked}"
    cases = json.load(sys.stdin)
    outputs = [os.path.join(case["cwd"], "cli-output.txt") for case in cases]
    statuses: dict[int, int] = {}
    running: dict[int, int] = {}  # pid -> case index
    sys.stdout.flush()
    sys.stderr.flush()
    for index, case in enumerate(cases):
        while len(running) >= AT_ONCE:
            pid, status = os.wait()
            statuses[running.pop(pid)] = os.waitstatus_to_exitcode(status)
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = _child(case, outputs[index])
            finally:
                os._exit(status)  # never back into the parent's loop
        running[pid] = index
    while running:
        pid, status = os.wait()
        statuses[running.pop(pid)] = os.waitstatus_to_exitcode(status)
    results = []
    for index, path in enumerate(outputs):
        with open(path, errors="replace") as handle:
            results.append({"returncode": statuses[index], "output": handle.read()})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
