"""Dependency floors sit past the known advisories, and what is installed honours them (issue 9, item 15)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# First fixed release of each advisory the project's HTTP stack was exposed to.
FIXED_IN = {
    "requests": Version("2.33.0"),   # CVE-2026-25645
    "urllib3": Version("2.7.0"),     # CVE-2026-44431, CVE-2026-44432
    "werkzeug": Version("3.1.6"),    # CVE-2026-27199
}


def requirements() -> dict[str, Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared.extend(extra)
    return {Requirement(text).name.lower(): Requirement(text) for text in declared}


@pytest.mark.parametrize("package", sorted(FIXED_IN))
def test_the_floor_excludes_every_vulnerable_release(package):
    requirement = requirements()[package]
    floors = [Version(spec.version) for spec in requirement.specifier if spec.operator in (">=", "==", "~=")]
    assert floors and min(floors) >= FIXED_IN[package], f"{requirement} admits releases before {FIXED_IN[package]}"
    assert Version(version(package)) >= FIXED_IN[package]
