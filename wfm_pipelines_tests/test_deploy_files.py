"""The deployment files cannot run here (no container runtime, no cluster), so everything they name is checked
against the code: each command's program and subcommands exist (`--help` answers) and take the options used,
each `-m`/`-A` module imports (with `defs` / a Celery `app`), each `make` target exists, each file copied into the
image exists, and each WFM_*/TALKDESK_* variable set is one `load_settings` reads (DAGSTER_PG_* ones the
instance yaml reads).

Files: deploy/Dockerfile, deploy/docker-compose.yaml, deploy/wfm.env.example, deploy/workspace.yaml,
deploy/helm/values.yaml and the deployment manual, docs/deployment.md.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from wfm_pipelines.settings import load_settings

from wfm_pipelines_tests.settings.recording_environment import RecordingEnvironment

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
# The operator's manual of the deployment: the commands it tells the operator to run are checked like the files'.
DEPLOYMENT_MANUAL = "docs/deployment.md"
BIN = Path(sys.executable).parent
# Programs of other projects the files name for the operator; they are not installed here.
EXTERNAL_PROGRAMS = {"docker", "helm", "kubectl", "cp", "curl", "pg_isready", "rabbitmq-diagnostics"}
VARIABLE = re.compile(r"\b(?:WFM|TALKDESK|DAGSTER_PG)_[A-Z0-9_]+\b")


def variables_the_code_reads() -> set[str]:
    environment = RecordingEnvironment()
    load_settings(environment)
    instance = (DEPLOY / "dagster.postgres.yaml").read_text()
    return environment.asked | set(re.findall(r"env:\s*(DAGSTER_PG_\w+)", instance))


# --- what the files name ------------------------------------------------------------------------------------


def shell_commands(text: str) -> list[list[str]]:
    """The commands of a shell line (`a && b`, `VAR=x prog ...`), split as the shell would."""
    commands = []
    for part in re.split(r"&&|\|\||;|\|", text):
        words = shlex.split(part, comments=True)
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words = words[1:]
        if words:
            commands.append(words)
    return commands


def commands_in(files: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """(where, argv) of every command the deployment files run or tell the operator to run."""
    found: list[tuple[str, list[str]]] = []
    dockerfile = files["deploy/Dockerfile"]
    for instruction, argv in re.findall(r"^(CMD|ENTRYPOINT)\s+(\[.*\])", dockerfile, flags=re.M):
        found.append((f"Dockerfile {instruction}", json.loads(argv)))
    compose = yaml.safe_load(files["deploy/docker-compose.yaml"])
    for name, service in compose["services"].items():
        command = service.get("command")
        if command is None:
            continue
        argv = command if isinstance(command, list) else shlex.split(command)
        if argv[:2] == ["sh", "-c"]:
            found += [(f"compose {name}", words) for words in shell_commands(argv[2])]
        else:
            found.append((f"compose {name}", argv))
    values = yaml.safe_load(files["deploy/helm/values.yaml"])
    for deployment in values["dagster-user-deployments"]["deployments"]:
        found.append((f"helm {deployment['name']}", ["dagster", "code-server", "start", *deployment["codeServerArgs"]]))
    manual = files[DEPLOYMENT_MANUAL]
    for text in [*re.findall(r"```(?:\w+)?\n(.*?)```", manual, flags=re.S), *re.findall(r"`([^`\n]+)`", manual)]:
        for line in text.splitlines():
            for words in shell_commands(line.strip()):
                if words[0] in ("make", "dagster", "dagster-celery", "dagster-webserver", "dagster-daemon", "wfm-db",
                                "celery", ".venv/bin/dagster-celery"):
                    found.append((DEPLOYMENT_MANUAL, words))
    return found


def variables_set_in(files: Mapping[str, str]) -> set[str]:
    """Every WFM_*, TALKDESK_* and DAGSTER_PG_* variable the files set or name."""
    return {name for text in files.values() for name in VARIABLE.findall(text)}


# --- checks ------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _help(argv: tuple[str, ...]) -> str:
    done = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, cwd=REPO)
    return done.stdout if done.returncode == 0 else f"EXIT {done.returncode}: {done.stderr[-500:]}"


def problems_with(files: Mapping[str, str]) -> list[str]:
    problems = []
    makefile_targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), flags=re.M))
    needs_help: dict[tuple[str, ...], list[tuple[str, list[str]]]] = {}
    for where, argv in commands_in(files):
        program = Path(argv[0]).name
        if program in EXTERNAL_PROGRAMS:
            continue
        if program == "make":
            problems += [f"{where}: no make target {t!r}" for t in argv[1:] if "=" not in t and t not in makefile_targets]
            continue
        if program == "sh":
            continue
        if not (BIN / program).exists():
            problems.append(f"{where}: {program!r} is no console script of the project's dependencies")
            continue
        words = argv[1:]
        subcommands = []
        while words and not words[0].startswith("-"):
            subcommands.append(words.pop(0))
        needs_help.setdefault((str(BIN / program), *subcommands), []).append((where, argv))
        for flag, value in zip(argv, argv[1:]):
            if flag in ("-m", "--module-name"):
                problems += _module_problems(where, value, "defs")
            if flag in ("-A", "--app"):
                problems += _module_problems(where, value, "app")
    with ThreadPoolExecutor(max_workers=4) as pool:
        helps = dict(zip(needs_help, pool.map(_help, needs_help)))
    for command, uses in needs_help.items():
        text = helps[command]
        if text.startswith("EXIT"):
            shown = " ".join([Path(command[0]).name, *command[1:]])
            problems.append(f"{uses[0][0]}: `{shown} --help` fails: {text}")
            continue
        for where, argv in uses:
            options = argv[:argv.index("--")] if "--" in argv else argv
            for option in options:
                name = option.split("=", 1)[0]
                if name.startswith("-") and not re.search(rf"(^|[\s,/\[]){re.escape(name)}([\s,=/\]]|$)", text, flags=re.M):
                    problems.append(f"{where}: {' '.join(argv[:3])} has no option {name}")
    readable = variables_the_code_reads()
    problems += [f"{name} is set in the deployment files but nothing reads it"
                 for name in sorted(variables_set_in(files) - readable)]
    dockerfile = files["deploy/Dockerfile"]
    for source in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+?)\s+\S+\s*$", dockerfile, flags=re.M):
        problems += [f"Dockerfile copies {path!r}, which does not exist" for path in source.split()
                     if not (REPO / path).exists()]
    workspace = yaml.safe_load(files["deploy/workspace.yaml"])
    compose_services = yaml.safe_load(files["deploy/docker-compose.yaml"])["services"]
    for entry in workspace["load_from"]:
        server = entry["grpc_server"]
        if server["host"] not in compose_services:
            problems.append(f"workspace.yaml names the code server {server['host']!r}, which is no compose service")
        if f'"{server["port"]}"' not in dockerfile:
            problems.append(f"workspace.yaml's port {server['port']} is not the port the image's code server serves")
    return problems


def _module_problems(where: str, module_name: str, attribute: str) -> list[str]:
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the problem reported
        return [f"{where}: module {module_name!r} does not import: {type(exc).__name__}: {exc}"]
    if not hasattr(module, attribute):
        return [f"{where}: module {module_name!r} has no {attribute!r}"]
    return []


def deployment_files() -> dict[str, str]:
    names = ["deploy/Dockerfile", "deploy/docker-compose.yaml", "deploy/wfm.env.example", "deploy/workspace.yaml",
             "deploy/helm/values.yaml"]
    files = {name: (REPO / name).read_text() for name in names}
    files[DEPLOYMENT_MANUAL] = (REPO / DEPLOYMENT_MANUAL).read_text()
    return files


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return deployment_files()


def test_everything_the_deployment_files_name_exists_in_the_code(files):
    assert problems_with(files) == []


def test_the_files_name_what_the_check_covers(files):
    """The check is not vacuous: the commands and variables it parses are there."""
    programs = {(Path(argv[0]).name, *argv[1:3]) for _, argv in commands_in(files)}
    assert {("dagster", "code-server", "start"), ("dagster-webserver", "-h", "0.0.0.0"), ("dagster-daemon", "run", "-w"),
            ("dagster-celery", "worker", "start"), ("make", "worker")} <= programs
    assert {"WFM_EXECUTOR", "WFM_CELERY_BROKER_URL", "WFM_DATABASE_URL", "TALKDESK_CLIENT_SECRET",
            "DAGSTER_PG_PASSWORD", "WFM_RAW_STORE"} <= variables_set_in(files)


@pytest.mark.parametrize("file, old, new, expected", [
    ("deploy/Dockerfile", "wfm_pipelines.definitions", "wfm_pipelines.definition", "does not import"),
    ("deploy/docker-compose.yaml", "wfm_pipelines.celery_app", "wfm_pipelines.celery_ap", "does not import"),
    ("deploy/docker-compose.yaml", '"worker", "start"', '"workers", "start"', "--help` fails"),
    ("deploy/docker-compose.yaml", '"-w", "/opt', '"-W", "/opt', "has no option -W"),
    ("deploy/docker-compose.yaml", "WFM_EXECUTOR: celery", "WFM_EXECUTER: celery", "WFM_EXECUTER is set"),
    ("deploy/helm/values.yaml", "WFM_RAW_STORE", "WFM_RAWSTORE", "WFM_RAWSTORE is set"),
    ("deploy/wfm.env.example", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_PASSWD", "DAGSTER_PG_PASSWD is set"),
    (DEPLOYMENT_MANUAL, "make worker", "make workers", "no make target 'workers'"),
    ("deploy/Dockerfile", "COPY wfm_pipelines ", "COPY wfm_pipeline ", "copies 'wfm_pipeline'"),
    ("deploy/workspace.yaml", "host: code-server", "host: code_server", "which is no compose service"),
])
def test_a_typo_in_a_deployment_file_is_caught(files, file, old, new, expected):
    assert old in files[file], (file, old)
    broken = {**files, file: files[file].replace(old, new)}
    problems = problems_with(broken)
    assert any(expected in problem for problem in problems), problems


# --- the two instance files ------------------------------------------------------------------------------


def instance_sections_apart(default: Mapping, postgres: Mapping) -> list[str]:
    """How deploy/dagster.postgres.yaml departs from dagster.yaml apart from its storage: missing, extra or
    different top-level sections."""
    problems = [f"section {name!r} of dagster.yaml is missing" for name in default if name not in postgres]
    problems += [f"section {name!r} is not in dagster.yaml" for name in postgres
                 if name not in default and name != "storage"]
    problems += [f"section {name!r} differs from dagster.yaml's" for name in default
                 if name in postgres and postgres[name] != default[name]]
    return problems


def test_the_postgres_instance_is_the_default_instance_with_postgresql_storage():
    """A deployment on deploy/dagster.postgres.yaml gets the run queue, pools, sensor threads, retention, retries
    and monitoring of dagster.yaml: only where the instance keeps its data differs."""
    default = yaml.safe_load((REPO / "dagster.yaml").read_text())
    postgres = yaml.safe_load((DEPLOY / "dagster.postgres.yaml").read_text())
    assert "storage" not in default and set(postgres["storage"]) == {"postgres"}
    assert instance_sections_apart(default, postgres) == []


def test_a_section_left_out_of_the_postgres_instance_is_caught():
    default = yaml.safe_load((REPO / "dagster.yaml").read_text())
    postgres = yaml.safe_load((DEPLOY / "dagster.postgres.yaml").read_text())
    assert {"sensors", "retention", "concurrency"} <= set(default)
    for name in ("sensors", "retention"):
        trimmed = {key: value for key, value in postgres.items() if key != name}
        assert instance_sections_apart(default, trimmed) == [f"section {name!r} of dagster.yaml is missing"]
    changed = {**postgres, "sensors": {**postgres["sensors"], "num_workers": 1}}
    assert instance_sections_apart(default, changed) == ["section 'sensors' differs from dagster.yaml's"]


def test_the_helm_values_retry_runs_as_dagster_yaml_does():
    """Only crashed runs are retried whole, the same number of times, on Kubernetes as elsewhere."""
    default = yaml.safe_load((REPO / "dagster.yaml").read_text())["run_retries"]
    helm = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text())["dagsterDaemon"]["runRetries"]
    assert (helm["enabled"], helm["maxRetries"], helm.get("retryOnAssetOrOpFailure")) == (
        default["enabled"], default["max_retries"], default["retry_on_asset_or_op_failure"])
