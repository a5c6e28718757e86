"""`benchmarks/targets.toml`: every target and earlier figure says where it came from, and the scenarios read theirs
from it."""

from __future__ import annotations

from benchmarks import large_center, many_accounts
from benchmarks.targets import BEFORE, TARGETS, target


def test_every_target_and_earlier_figure_names_its_source():
    assert TARGETS and BEFORE
    assert [name for name, entry in {**TARGETS, **BEFORE}.items() if not entry.source.strip()] == []


def test_the_scenarios_judge_by_the_files_targets():
    assert large_center.TARGET_BACKFILL_VS_FLOOR == target("backfill_vs_floor") == 1.2
    assert large_center.TARGET_BYTES // large_center.MIB == 250  # an int stays an int in the results' text
    assert many_accounts.TARGET_TICK_S == target("many_accounts_tick_s")
    assert f"<= {many_accounts.TARGET_RUNS_PER_DAY}" == "<= 300"
