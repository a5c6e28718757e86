"""The architecture's import arrows, as import-linter contracts (`[tool.importlinter]` in pyproject.toml): they hold,
a planted wrong import breaks them, and docs/ARCHITECTURE.md names each one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def import_linter_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def contract_names() -> list[str]:
    return [contract["name"] for contract in import_linter_config()["contracts"]]


def copy_of_the_checked_packages(tree: Path) -> Path:
    """The packages the contracts are about, and pyproject.toml, copied under `tree` for planting imports in."""
    for package in import_linter_config()["root_packages"]:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "results"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first, so the packages of `tree` are analysed rather than the installed ones.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([LINT_IMPORTS, "--no-cache"], cwd=tree, env=env, capture_output=True, text=True,
                          timeout=240)


def test_the_import_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"Contracts: {len(contract_names())} kept, 0 broken." in done.stdout


def test_a_dagster_import_in_the_database_writer_or_a_defs_import_in_the_client_breaks_its_contract(tmp_path):
    copy_of_the_checked_packages(tmp_path)
    with open(tmp_path / "wfm_pipelines" / "db" / "engine.py", "a") as module:
        module.write("\nimport dagster  # planted\n")
    with open(tmp_path / "wfm_pipelines" / "talkdesk" / "http.py", "a") as module:
        module.write("\nimport wfm_pipelines.defs.jobs  # planted\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "wfm_pipelines.db.engine -> dagster" in done.stdout
    assert "wfm_pipelines.talkdesk.http -> wfm_pipelines.defs.jobs" in done.stdout
    assert f"Contracts: {len(contract_names()) - 3} kept, 3 broken." in done.stdout  # the layers, too


def test_a_benchmark_importing_a_test_module_or_the_harness_importing_pytest_breaks_its_contract(tmp_path):
    copy_of_the_checked_packages(tmp_path)
    with open(tmp_path / "benchmarks" / "environment.py", "a") as module:
        module.write("\nimport wfm_pipelines_tests.conftest  # planted\n")
    with open(tmp_path / "dagster_harness" / "rabbitmq.py", "a") as module:
        module.write("\nimport pytest  # planted\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "benchmarks.environment -> wfm_pipelines_tests" in done.stdout
    assert "dagster_harness.rabbitmq -> pytest" in done.stdout
    assert f"Contracts: {len(contract_names()) - 2} kept, 2 broken." in done.stdout


def test_the_architecture_page_names_every_contract():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    missing = [name for name in contract_names() if name not in page]
    assert missing == []
