"""The Parquet files under a raw store's root, through pyarrow's filesystem layer.

A file appears under its final name whole or not at all: it is written to a temporary name beside it,
flushed to disk (fsync, local directories) and renamed. Every name is unique (report type, window and a
random token), so a file is never overwritten: a window is replaced by cataloguing a new file and deleting
the old one. The default account's files lie under the root as they did before accounts; another account's
under `accounts/<account_id>/`. A file is read back whole and checked against its catalogue row (size, sha256, rows) before
any of it is believed.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from wfm_pipelines.db.guards import window_text
from wfm_pipelines.db.schema import DEFAULT_ACCOUNT_ID, check_account_id

PARQUET_SUFFIX = ".parquet"
TEMPORARY_SUFFIX = ".tmp"
REPORT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # one path segment: calls, contacts, user_status
# The folder of the accounts other than the default one; not a report type, so no file of the default account
# is ever taken for another account's.
ACCOUNTS_FOLDER = "accounts"
# zstd at pyarrow's default level, dictionary pages: 240,000 emulator `calls` entries (a large center's day) take
# 19 MB, against 286 MB as JSON text; levels 3 to 9 made the file no smaller and took up to 3.5 times as long.
PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}


@dataclass(frozen=True)
class RawFile:
    """One catalogued file of a report type's entries owned by [window_start, window_end)."""

    report_type: str
    window_start: datetime
    window_end: datetime
    path: str  # relative to the store's root, '/'-separated
    rows: int
    bytes: int
    sha256: str
    collected_at: datetime
    # Last, with a default: files described before accounts (migration 0003) are the default account's.
    account_id: str = DEFAULT_ACCOUNT_ID

    def describe(self) -> str:
        return f"{self.path} ('{self.report_type}' entries of {window_text(self.window_start, self.window_end)})"


class RawFileError(Exception):
    """A catalogued raw file is missing, truncated, corrupt or not the file its catalogue row describes."""

    def __init__(self, raw_file: RawFile, problem: str):
        self.raw_file, self.path, self.problem = raw_file, raw_file.path, problem
        super().__init__(f"raw file {raw_file.describe()} {problem}; re-collect that window (or restore the file "
                         "from a backup) to repair it")


def check_report_type(report_type: str) -> str:
    if not isinstance(report_type, str) or not REPORT_TYPE.match(report_type) or report_type == ACCOUNTS_FOLDER:
        raise ValueError(f"report type {report_type!r} is not a lower-case name like 'calls' or 'user_status'")
    return report_type


def account_folder(account_id: str) -> str:
    """Where an account's files lie under the root ('' for the default account: the layout before accounts)."""
    account_id = check_account_id(account_id)
    return "" if account_id == DEFAULT_ACCOUNT_ID else f"{ACCOUNTS_FOLDER}/{account_id}/"


def in_account_folder(path: str, account_id: str) -> bool:
    """Whether a relative path lies in the account's part of the store."""
    folder = account_folder(account_id)
    return path.startswith(folder) if folder else not path.startswith(f"{ACCOUNTS_FOLDER}/")


def _stamp(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%S") + (f".{moment.microsecond:06d}" if moment.microsecond else "") + "Z"


def file_name(report_type: str, window_start: datetime, window_end: datetime, *, account_id: str) -> str:
    """`calls/2026/03/01/calls_20260301T090000Z_20260301T150000Z_<token>.parquet` (another account's under
    `accounts/<account_id>/`): a day's files in one folder, each name unique and telling what it holds."""
    start = window_start.astimezone(timezone.utc)
    token = uuid.uuid4().hex[:16]
    return (f"{account_folder(account_id)}{report_type}/{start:%Y/%m/%d}/"
            f"{report_type}_{_stamp(window_start)}_{_stamp(window_end)}_{token}{PARQUET_SUFFIX}")


def encode(entries: pa.Table, *, report_type: str, window_start: datetime, window_end: datetime,
           collected_at: datetime, account_id: str) -> pa.Buffer:
    """The Parquet file of entries already cut and sorted (`entries.entries_in_window`), in memory; its
    metadata names what it holds, so that a file found without its catalogue row can still be told apart."""
    described = entries.replace_schema_metadata({
        "wfm.account_id": account_id,
        "wfm.report_type": report_type,
        "wfm.window_start": window_start.astimezone(timezone.utc).isoformat(),
        "wfm.window_end": window_end.astimezone(timezone.utc).isoformat(),
        "wfm.collected_at": collected_at.astimezone(timezone.utc).isoformat(),
    })
    sink = pa.BufferOutputStream()
    pq.write_table(described, sink, **PARQUET_OPTIONS)
    return sink.getvalue()


def _fsync(path: str, *, directory: bool = False) -> None:
    descriptor = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class StoredFile:
    """A file found under the root: its relative path and when it was last written."""

    path: str
    modified: datetime | None  # aware (UTC); None where the filesystem keeps no time


class RawFiles:
    """The files under one root: a local directory (a path or file:// URL), or any URL pyarrow's
    `FileSystem.from_uri` opens."""

    def __init__(self, root: str | os.PathLike):
        root = os.fspath(root)
        if "://" in root:
            self.filesystem, base = pafs.FileSystem.from_uri(root)
        else:
            self.filesystem, base = pafs.LocalFileSystem(), os.path.abspath(root)
        self.root = root
        self.base = base.rstrip("/") or "/"
        # Only a local disk needs flushing; an object store's upload is durable once closed.
        self.local = isinstance(self.filesystem, pafs.LocalFileSystem)

    def full_path(self, path: str) -> str:
        parts = path.split("/")
        if path.startswith("/") or any(part in ("", ".", "..") for part in parts):
            raise ValueError(f"{path!r} is not a relative path inside the raw store")
        return f"{self.base}/{path}"

    def write(self, entries: pa.Table, *, report_type: str, window_start: datetime, window_end: datetime,
              collected_at: datetime, account_id: str) -> RawFile:
        """Write one new file of the account's `entries` (cut and sorted, `entries_in_window`) and describe it;
        it is not catalogued yet. On any failure (a full disk, say) nothing is left under a final name, and the
        temporary file is removed where the disk lets it be. (Migration 0003 writes the default account's files
        through here, before accounts existed.)"""
        check_report_type(report_type)
        data = encode(entries, report_type=report_type, window_start=window_start, window_end=window_end,
                      collected_at=collected_at, account_id=account_id)
        path = file_name(report_type, window_start, window_end, account_id=account_id)
        final = self.full_path(path)
        temporary = final + TEMPORARY_SUFFIX
        folder = final.rsplit("/", 1)[0]
        self.filesystem.create_dir(folder, recursive=True)
        try:
            with self.filesystem.open_output_stream(temporary) as stream:
                stream.write(data)
            if self.local:
                _fsync(temporary)
            self.filesystem.move(temporary, final)
            if self.local:
                _fsync(folder, directory=True)  # the rename itself survives a power cut
        except BaseException:
            self._discard(temporary)
            raise
        return RawFile(report_type=report_type, window_start=window_start, window_end=window_end, path=path,
                       rows=entries.num_rows, bytes=data.size, sha256=hashlib.sha256(data).hexdigest(),
                       collected_at=collected_at, account_id=account_id)

    def read(self, raw_file: RawFile, columns: Sequence[str] | None = None) -> pa.Table:
        """The file's entries (the given columns where it has them), after checking it is the catalogued file."""
        try:
            with self.filesystem.open_input_file(self.full_path(raw_file.path)) as stream:
                data = stream.read_buffer()
        except FileNotFoundError:
            raise RawFileError(raw_file, "is missing") from None
        except (OSError, ValueError) as exc:
            raise RawFileError(raw_file, f"cannot be read ({exc})") from None
        if data.size != raw_file.bytes:
            raise RawFileError(raw_file, f"is {data.size} bytes where its catalogue row says {raw_file.bytes} "
                                         "(truncated or overwritten)")
        digest = hashlib.sha256(data).hexdigest()
        if digest != raw_file.sha256:
            raise RawFileError(raw_file, f"has sha256 {digest[:16]}... where its catalogue row says "
                                         f"{raw_file.sha256[:16]}... (corrupted or replaced)")
        try:
            parquet = pq.ParquetFile(pa.BufferReader(data))
            present = set(parquet.schema_arrow.names)
            table = parquet.read(columns=None if columns is None else [c for c in columns if c in present])
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise RawFileError(raw_file, f"is not a readable Parquet file ({exc})") from None
        if table.num_rows != raw_file.rows:
            raise RawFileError(raw_file, f"holds {table.num_rows} rows where its catalogue row says {raw_file.rows}")
        return table

    def delete(self, path: str) -> None:
        """Remove a file; one already gone is fine, any other failure raises (OSError)."""
        try:
            self.filesystem.delete_file(self.full_path(path))
        except FileNotFoundError:
            pass

    def _discard(self, full_path: str) -> None:
        """Remove a half-written file while another error is on its way up: that error is the one to see."""
        try:
            self.filesystem.delete_file(full_path)
        except OSError:
            pass

    def listing(self) -> list[StoredFile]:
        """Every raw file and leftover temporary file under the root."""
        selector = pafs.FileSelector(self.base, allow_not_found=True, recursive=True)
        found = []
        for info in self.filesystem.get_file_info(selector):
            if info.type == pafs.FileType.File and info.path.endswith((PARQUET_SUFFIX, PARQUET_SUFFIX + TEMPORARY_SUFFIX)):
                relative = info.path[len(self.base):].lstrip("/")
                found.append(StoredFile(relative, info.mtime))
        return found
