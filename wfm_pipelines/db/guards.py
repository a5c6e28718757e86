"""Guards that refuse to replace stored data by much less of it, unless someone asked for that.

Talkdesk can answer badly and still look well formed: an empty report for a busy window, a user listing that
suddenly holds nobody. Taken at its word, one such answer turns a forecast's history into zeros or marks every
agent inactive. A guard runs inside the write transaction (after the writers' lock, before anything is
deleted), compares what is stored with what would replace it, and raises `ShrinkRefusedError` when the new
set is much smaller; the transaction then rolls back and the stored rows stay. A run tagged
`wfm/accept_shrink=true` writes without a guard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

ACCEPT_SHRINK_TAG = "wfm/accept_shrink"
# An empty answer where this many (or min_drop, if smaller) are stored is refused even below min_drop:
# a report that suddenly holds nothing for a window that had contacts is the commonest bad answer.
EMPTY_ANSWER_MIN_STORED = 5
SHOWN_FINDINGS = 10


@dataclass(frozen=True)
class ShrinkGuard:
    """Refuse when the new set has fewer than `share` x the stored entries and at least `min_drop` fewer,
    or is empty where at least min(min_drop, 5) are stored. A window never collected has no guard."""

    share: float = 0.5
    min_drop: int = 20

    def refuses(self, stored: int, new: int, *, empty_answer: bool = True) -> bool:
        """`empty_answer=False` for one part of a window (a queue): its contacts may move to another queue (a
        renamed ring group) while the window as a whole is well answered."""
        if stored <= 0 or new >= stored:
            return False
        if empty_answer and new == 0 and stored >= min(self.min_drop, EMPTY_ANSWER_MIN_STORED):
            return True
        return new < self.share * stored and stored - new >= self.min_drop

    def describe(self) -> str:
        return (f"WFM_SHRINK_GUARD={self.share:g}:{self.min_drop}: refused when fewer than {self.share:.0%} of the "
                f"stored entries and at least {self.min_drop} fewer would remain, or none where "
                f"{min(self.min_drop, EMPTY_ANSWER_MIN_STORED)} or more are stored")


class ShrinkRefusedError(Exception):
    """A write would have replaced stored data by much less of it; nothing was changed."""

    def __init__(self, what: str, findings: list[str], guard: ShrinkGuard):
        self.what, self.findings, self.guard = what, findings, guard
        shown = "; ".join(findings[:SHOWN_FINDINGS]) + (f"; and {len(findings) - SHOWN_FINDINGS} more"
                                                        if len(findings) > SHOWN_FINDINGS else "")
        super().__init__(
            f"Refused to replace {what}: {shown}. The stored rows are kept ({guard.describe()}). Talkdesk may have "
            f"answered badly; the next attempt asks again. If Talkdesk really holds less now, rerun with the run tag "
            f"{ACCEPT_SHRINK_TAG}=true (Launchpad or backfill dialog: Tags) to accept it on purpose."
        )


def row_count_guard(guard: ShrinkGuard, what: str):
    """A `replace_window` guard on the number of rows in the window (e.g. raw report entries per type)."""

    def check(connection: Connection, table: sa.Table, condition: sa.ColumnElement[bool], new: pd.DataFrame) -> None:
        stored = connection.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one()
        if guard.refuses(int(stored), len(new)):
            raise ShrinkRefusedError(what, [f"{len(new)} entries where {stored} are stored"], guard)

    return check


def group_sum_guard(guard: ShrinkGuard, what: str, *, group: str, measure: str, label: str):
    """A `replace_window` guard on a measure summed per group and in total (e.g. contacts entered per queue)."""

    def check(connection: Connection, table: sa.Table, condition: sa.ColumnElement[bool], new: pd.DataFrame) -> None:
        rows = connection.execute(
            sa.select(table.c[group], sa.func.sum(table.c[measure])).where(condition).group_by(table.c[group])).all()
        stored = {str(key): int(total or 0) for key, total in rows}
        incoming = {str(k): int(v) for k, v in new.groupby(group)[measure].sum().items()} if len(new) else {}
        findings = []
        stored_total, new_total = sum(stored.values()), sum(incoming.values())
        if guard.refuses(stored_total, new_total):
            findings.append(f"{label} in all: {new_total} where {stored_total} are stored")
        for key, before in sorted(stored.items(), key=lambda item: -item[1]):
            after = incoming.get(key, 0)
            if guard.refuses(before, after, empty_answer=False):
                findings.append(f"{group} {key!r}: {after} {label} where {before} are stored")
        if findings:
            raise ShrinkRefusedError(what, findings, guard)

    return check


def deactivation_guard(guard: ShrinkGuard, what: str):
    """An `upsert_configuration` guard: (active keys stored, keys listed now) -> refuse deactivating most."""

    def check(active_stored: int, still_listed: int) -> None:
        if guard.refuses(active_stored, still_listed):
            raise ShrinkRefusedError(
                what, [f"Talkdesk now lists {still_listed} of the {active_stored} active ones; the rest would be "
                       "marked inactive"], guard)

    return check


def accepts_shrink(tags: Mapping[str, str]) -> bool:
    return str(tags.get(ACCEPT_SHRINK_TAG, "")).strip().lower() in ("true", "1", "yes", "on")


def window_text(start: datetime, end: datetime) -> str:
    return f"[{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC"
