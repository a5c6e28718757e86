"""Reading one variable: its value without surrounding spaces (unset or blank means the default), the paths its
defaults hang off, how a value is quoted in a message, and the one error every bad value raises."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import load_dotenv


class SettingsError(ValueError):
    """A configuration variable has a bad value; the message starts with the variable's name."""


def load_dotenv_once() -> None:
    """Read `.env` from the working directory; real environment variables win."""
    load_dotenv(Path.cwd() / ".env", override=False)


def dagster_home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("DAGSTER_HOME") or Path.cwd() / ".dagster_home")


def default_database_url(env: Mapping[str, str] = os.environ) -> str:
    return f"sqlite:///{dagster_home(env) / 'wfm.db'}"


def default_raw_store(env: Mapping[str, str] = os.environ) -> str:
    return str(dagster_home(env) / "raw")


def env_value(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value without surrounding spaces; unset or blank means the default."""
    value = (env.get(name) or "").strip()
    return value or default


def is_set(env: Mapping[str, str], name: str) -> bool:
    return bool((env.get(name) or "").strip())


def first_set(env: Mapping[str, str], *names: str) -> str | None:
    return next((name for name in names if is_set(env, name)), None)


def shown(value: str) -> str:
    """A non-secret value as messages quote it (cut short: a long value is a paste error, not a setting)."""
    return repr(value if len(value) <= 60 else value[:57] + "...")
