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


def contract_names() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return [contract["name"] for contract in config["contracts"]]


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
    for package in ("wfm_pipelines", "talkdesk_emulator"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "wfm_pipelines" / "db" / "engine.py", "a") as module:
        module.write("\nimport dagster  # planted\n")
    with open(tmp_path / "wfm_pipelines" / "talkdesk" / "http.py", "a") as module:
        module.write("\nimport wfm_pipelines.defs.jobs  # planted\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "wfm_pipelines.db.engine -> dagster" in done.stdout
    assert "wfm_pipelines.talkdesk.http -> wfm_pipelines.defs.jobs" in done.stdout
    assert f"Contracts: {len(contract_names()) - 3} kept, 3 broken." in done.stdout  # the layers, too


def test_the_architecture_page_names_every_contract():
    page = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    missing = [name for name in contract_names() if name not in page]
    assert missing == []
