"""The variables are described once, in `wfm_pipelines/settings/variables.py`: docs/configuration.md and
deploy/wfm.env.example are written from it and must match it, the registry names every variable `load_settings`
reads, and importing the settings loads neither pandas nor the database layer."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from wfm_pipelines.settings import load_settings
from wfm_pipelines.settings.render_docs import CONFIGURATION_PAGE, ENV_EXAMPLE, main, rendered, stale_files
from wfm_pipelines.settings.variables import DEPLOYMENT, VARIABLES

from wfm_pipelines_tests.settings.recording_environment import RecordingEnvironment

REPO_ROOT = Path(__file__).resolve().parents[2]
RENDER = "python -m wfm_pipelines.settings.render_docs"


def test_the_configuration_page_and_the_env_example_are_what_the_registry_renders():
    for path, text in rendered().items():
        assert (REPO_ROOT / path).read_text(encoding="utf-8") == text, f"{path} is stale: run {RENDER}"


def test_the_registry_names_every_variable_the_settings_read_and_nothing_else():
    environment = RecordingEnvironment()
    load_settings(environment)
    registered = {variable.name for variable in VARIABLES if variable.section != DEPLOYMENT}
    assert environment.asked == registered
    assert len(registered) + sum(variable.section == DEPLOYMENT for variable in VARIABLES) == len(VARIABLES)


def test_a_hand_edit_of_either_file_is_reported_stale(tmp_path):
    for path in (CONFIGURATION_PAGE, ENV_EXAMPLE):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / path, tmp_path / path)
    assert stale_files(tmp_path) == []
    with open(tmp_path / ENV_EXAMPLE, "a") as example:
        example.write("WFM_STEP_RETRIES=3\n")
    (tmp_path / CONFIGURATION_PAGE).write_text("# Configuration\n")
    assert stale_files(tmp_path) == [CONFIGURATION_PAGE, ENV_EXAMPLE]
    assert main(["--check", "--root", str(tmp_path)]) == 1
    assert main(["--root", str(tmp_path)]) == 0
    assert main(["--check", "--root", str(tmp_path)]) == 0


def test_every_example_value_is_one_the_settings_accept():
    examples = {variable.name: variable.example for variable in VARIABLES
                if variable.example is not None and variable.section != DEPLOYMENT}
    load_settings({**examples, "WFM_EXECUTOR": "celery"})


def test_importing_the_settings_loads_neither_pandas_nor_the_database_layer():
    check = ("import sys, wfm_pipelines.settings; "
             "loaded = [m for m in ('pandas', 'sqlalchemy.orm', 'wfm_pipelines.db', 'dagster') if m in sys.modules]; "
             "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr
