"""The product and the emulator are separate packages (that neither imports the other is an import contract,
test_architecture.py): the emulator's web server is not a core dependency, the product loads without it, and the
product's defaults name the emulator's demo client by value."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

import talkdesk_emulator.config as emulator_config
from wfm_pipelines import settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_emulators_web_server_is_not_a_core_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = {Requirement(text).name.lower() for text in project["dependencies"]}
    assert "werkzeug" not in core
    assert "werkzeug" in {Requirement(text).name.lower() for text in project["optional-dependencies"]["emulator"]}
    assert any(Requirement(text).name == "wfm_pipelines" and "emulator" in Requirement(text).extras
               for text in project["optional-dependencies"]["test"])


def test_the_code_location_loads_without_the_emulator_installed(tmp_path):
    """What `pip install wfm_pipelines` (no extra) gives: importing either package must fail, and the
    definitions must load all the same."""
    script = (
        "import sys\n"
        "sys.modules['talkdesk_emulator'] = None\n"
        "sys.modules['werkzeug'] = None\n"
        "from wfm_pipelines.definitions import defs\n"
        "print(sorted(a.key.to_user_string() for a in defs().resolve_all_asset_specs()))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path),
                                               "WFM_AUTOMATION": "off"})
    assert result.returncode == 0, result.stderr
    assert "contact_volume" in result.stdout


def test_the_products_emulator_defaults_are_the_emulators_demo_client():
    assert settings.EMULATOR_CLIENT_ID == emulator_config.DEMO_CLIENT_ID
    assert settings.EMULATOR_CLIENT_SECRET == emulator_config.DEMO_CLIENT_SECRET
    assert settings.EMULATOR_URL == f"http://{emulator_config.DEFAULT_HOST}:{emulator_config.DEFAULT_PORT}"


def test_the_emulator_command_without_its_extra_says_which_extra_to_install(tmp_path):
    script = ("import sys\nsys.modules['werkzeug'] = None\nsys.argv = ['talkdesk-emulator']\n"
              "from talkdesk_emulator.cli import main\nmain()\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0
    assert "pip install 'wfm_pipelines[emulator]'" in result.stderr and "Traceback" not in result.stderr
