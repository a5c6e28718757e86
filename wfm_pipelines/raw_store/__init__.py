"""The raw store: every kept Talkdesk report entry, as compressed Parquet files under `WFM_RAW_STORE`, catalogued
in `talkdesk_raw_file` (no Dagster here).

- `store.py`: `RawStore(root)`: replace a window's entries, read them back, count them per interval, verify
  the files, remove orphans.
- `files.py`: the files themselves (naming, Parquet encoding, write whole or not at all, verified reads).
- `catalogue.py`: the catalogue rows.
- `free_space.py`: the room a write leaves on the store's volume (`RawStoreFullError`).
- `entries.py`: the shape of the entries a file holds (`talkdesk.report_table` plus owner and key columns).
"""

from wfm_pipelines.raw_store.entries import RawEntriesError, entries_in_window
from wfm_pipelines.raw_store.files import RawFile, RawFileError
from wfm_pipelines.raw_store.free_space import RawStoreFullError
from wfm_pipelines.raw_store.store import RawStore, RawWrite

__all__ = ["RawEntriesError", "RawFile", "RawFileError", "RawStore", "RawStoreFullError", "RawWrite", "entries_in_window"]
