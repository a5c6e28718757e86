"""A raw store write in a process of its own, that the kernel or a kill stops at a chosen point.

`python -m wfm_pipelines_tests.raw_store.child <scenario> <database url> <store root>`, after the parent has
written the old window (`OLD_WINDOW`); each scenario replaces `NEW_WINDOW`:

- `disk_full`: the process may write files of at most `FILE_SIZE_LIMIT` bytes (RLIMIT_FSIZE, SIGXFSZ ignored),
  so the kernel refuses the new file's write (EFBIG) as a full disk would; prints `REFUSED <errno>`.
- `kill_before_commit`: SIGKILL when the catalogue transaction is about to commit (the new file is on disk).
- `kill_after_commit`: SIGKILL when the replaced file is about to be deleted (the catalogue is committed).
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from datetime import timedelta

import pyarrow as pa
import sqlalchemy as sa

from wfm_pipelines.db.engine import create_wfm_engine
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID
from wfm_pipelines.raw_store import RawStore
from wfm_pipelines.raw_store.files import RawFiles
from wfm_pipelines_tests.raw_store.entries import HOUR, MINUTE, T0, calls

OLD_WINDOW = (T0, T0 + 3 * HOUR)
NEW_WINDOW = (T0 + HOUR, T0 + 2 * HOUR)
COLLECTED = T0 + timedelta(days=1)
FILE_SIZE_LIMIT = 256 * 1024


def old_entries():
    return calls(18, T0, every=10 * MINUTE, prefix="old")


def new_entries(incompressible_bytes: int = 0):
    """Entries of the new window; with `incompressible_bytes`, a note per entry that no compression shrinks."""
    table = calls(12, T0 + HOUR, every=5 * MINUTE, prefix="new")
    if incompressible_bytes:
        notes = [os.urandom(incompressible_bytes // 24).hex() for _ in range(12)]
        table = table.append_column("notes", pa.array(notes, type=pa.string()))
    return table


def _kill_self(*_args, **_kwargs):
    os.kill(os.getpid(), signal.SIGKILL)


def main(scenario: str, database_url: str, root: str) -> int:
    engine = create_wfm_engine(database_url)
    store = RawStore(root)
    entries = new_entries()
    if scenario == "disk_full":
        entries = new_entries(incompressible_bytes=4 * FILE_SIZE_LIMIT)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write then fails with EFBIG instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    elif scenario == "kill_before_commit":
        sa.event.listen(engine, "commit", _kill_self)
    elif scenario == "kill_after_commit":
        RawFiles.delete = _kill_self
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")
    try:
        store.replace_window(engine, "calls", *NEW_WINDOW, entries, collected_at=COLLECTED + HOUR,
                             account_id=DEFAULT_ACCOUNT_ID)
    except OSError as exc:
        print(f"REFUSED {exc.errno} {exc}")
        return 0
    print("WRITTEN")
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
