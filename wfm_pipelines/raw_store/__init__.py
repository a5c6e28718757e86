"""The raw store: every kept Talkdesk report entry, as compressed Parquet files under `WFM_RAW_STORE` (no Dagster
here).

- `files.py`: the files themselves (naming, Parquet encoding, write whole or not at all, verified reads).
- `entries.py`: the shape of the entries a file holds (`talkdesk.report_table` plus owner and key columns).
"""

from wfm_pipelines.raw_store.entries import RawEntriesError, entries_in_window
from wfm_pipelines.raw_store.files import RawFile, RawFileError

__all__ = ["RawEntriesError", "RawFile", "RawFileError", "entries_in_window"]
