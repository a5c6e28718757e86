"""One reader per kind of plain value (a number in a range, one of some words, on/off, the history start, the
shrink guard): each reads its variable's default and bounds from the registry and names the variable when refusing."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone

from wfm_pipelines.settings.environment import SettingsError, env_value, shown
from wfm_pipelines.settings.variables import (
    BY_NAME,
    DEFAULT_SHRINK_GUARD_MIN_DROP,
    OFF_WORDS,
    ON_WORDS,
    Choice,
    Number,
    Switch,
    range_text,
)

PARTITION_FORMAT = "%Y-%m-%d-%H:%M"


def read(env: Mapping[str, str], name: str) -> int | float | str | bool:
    """The value of a registered number, choice or on/off variable."""
    variable = BY_NAME[name]
    if isinstance(variable, Number):
        return _number(env, variable)
    if isinstance(variable, Choice):
        return _choice(env, variable)
    if isinstance(variable, Switch):
        return _on_off(env, variable)
    raise TypeError(f"{name} is not a number, a choice or an on/off variable")


def _number(env: Mapping[str, str], variable: Number) -> int | float:
    """A whole number in [low, high], or a finite fraction in (low, high]."""
    name, low, high, whole = variable.name, variable.low, variable.high, variable.whole
    raw = env_value(env, name, variable.default)
    kind = "whole number" if whole else "number"
    expected = f"expected a {kind} {range_text(low, high, low_open=not whole)} ({variable.meaning})"
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)} is not a {kind}; {expected}") from None
    ceiling = math.inf if high is None else high
    in_range = low <= value <= ceiling if whole else math.isfinite(value) and low < value <= ceiling
    if not in_range:
        raise SettingsError(f"{name}={value if whole else shown(raw)} is out of range; {expected}")
    return value


def _on_off(env: Mapping[str, str], variable: Switch) -> bool:
    raw = env_value(env, variable.name, variable.default)
    word = raw.lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    raise SettingsError(f"{variable.name}={shown(raw)} is neither on nor off; expected one of "
                        f"{'/'.join(ON_WORDS)} or {'/'.join(OFF_WORDS)} ({variable.meaning})")


def _choice(env: Mapping[str, str], variable: Choice) -> str:
    """One of the choices, any case; returned in the lower case the code uses."""
    raw = env_value(env, variable.name, variable.default)
    if raw.lower() not in variable.choices:
        raise SettingsError(f"{variable.name}={shown(raw)} is not a known value; expected one of "
                            f"{', '.join(variable.choices)} ({variable.meaning})")
    return raw.lower()


def history_start(env: Mapping[str, str], name: str = "WFM_HISTORY_START") -> str:
    """A 15-minute partition key `YYYY-MM-DD-HH:MM` (UTC) that is not in the future."""
    raw = env_value(env, name, BY_NAME[name].default)
    expected = "expected a UTC quarter hour YYYY-MM-DD-HH:MM (minutes 00, 15, 30 or 45), e.g. 2025-01-01-00:00"
    try:
        start = datetime.strptime(raw, PARTITION_FORMAT)
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)} is not a date and time; {expected}") from None
    if start.strftime(PARTITION_FORMAT) != raw:
        raise SettingsError(f"{name}={shown(raw)} is not zero-padded (did you mean "
                            f"{start.strftime(PARTITION_FORMAT)!r}?); {expected}")
    if start.minute % 15:
        raise SettingsError(f"{name}={shown(raw)} is not on a quarter hour; {expected}")
    if start.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc):
        raise SettingsError(f"{name}={shown(raw)} is in the future; {expected}, at or before now")
    return raw


def shrink_guard(env: Mapping[str, str], name: str = "WFM_SHRINK_GUARD") -> tuple[float | None, int]:
    """`off` | `<share>` | `<share>:<min_drop>` -> (share or None when off, min_drop)."""
    raw = env_value(env, name, BY_NAME[name].default)
    expected = ("expected off, a share like 0.5, or share:min_drop like 0.5:20 (share greater than 0 and at most 1, "
                "min_drop a whole number >= 0): a re-collection that would leave a window with fewer than share x "
                "the stored entries and at least min_drop fewer is refused")
    if raw.lower() in OFF_WORDS:
        return None, DEFAULT_SHRINK_GUARD_MIN_DROP
    share_text, separator, drop_text = raw.partition(":")
    try:
        share = float(share_text.strip())
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)} is neither off nor a share; {expected}") from None
    if not math.isfinite(share) or not 0 < share <= 1:
        raise SettingsError(f"{name}={shown(raw)}: the share is out of range; {expected}")
    if not separator:
        return share, DEFAULT_SHRINK_GUARD_MIN_DROP
    try:
        min_drop = int(drop_text.strip())
    except ValueError:
        raise SettingsError(f"{name}={shown(raw)}: min_drop is not a whole number; {expected}") from None
    if min_drop < 0:
        raise SettingsError(f"{name}={shown(raw)}: min_drop is negative; {expected}")
    return share, min_drop
