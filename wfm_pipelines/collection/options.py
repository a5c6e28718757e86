"""How a collection asks for reports and guards what it stores: the options the settings' WFM_* collection
values fill in, and the report sizes they default to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from wfm_pipelines.collection import windows
from wfm_pipelines.db import guards

# Reports are sized to hold about this many entries (the sizer aims at half, for peaks). Entries are Arrow text
# columns, but parsing and writing a report still takes about 1.5 KB an entry at its peak; a night report sizes
# the first day report, which can hold twice the target (measured: 480,000 status records, 730 MB).
TARGET_ENTRIES_PER_REPORT = 200_000
INITIAL_CHUNK = timedelta(hours=6)
MAX_CHUNK = timedelta(days=30)  # plus the contact margin, still one report under Talkdesk's 31-day limit
# Report jobs running while the current report is parsed and written: one hides Talkdesk's generation time behind
# ours; with the `talkdesk_explore` pool's 4 steps that is at most 8 of the account's 15 simultaneous jobs.
REPORTS_AHEAD = 1


@dataclass(frozen=True)
class CollectionOptions:
    """How a collection asks for reports and guards what it stores (the settings' WFM_* collection values)."""

    # Which record timestamp the account's reports filter a window on: auto, start or end.
    window_field: str = "auto"
    # The longest span of one report, and about how many entries one should hold.
    chunk: timedelta = MAX_CHUNK
    target_entries: int = TARGET_ENTRIES_PER_REPORT
    # The longest contact to expect: how far past a chunk its contacts may still be reported.
    max_contact: timedelta = timedelta(hours=4)
    # None: write whatever Talkdesk answers (the guard is off, or the run accepts a smaller answer).
    shrink_guard: guards.ShrinkGuard | None = None
    # Report jobs started before their turn (0: one job at a time).
    reports_ahead: int = REPORTS_AHEAD


def chunk_sizer(max_chunk: timedelta, target_entries: int) -> windows.ChunkSizer:
    return windows.ChunkSizer(initial=INITIAL_CHUNK, maximum=max_chunk, target_entries=target_entries)
