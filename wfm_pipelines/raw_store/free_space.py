"""Room left on the raw store's volume: a collection stops before it replaces anything when the volume holds less
free space than the deployment keeps free (WFM_MIN_FREE_DISK_MB), rather than fill the disk the WFM database and
the Dagster instance may share."""

from __future__ import annotations

import os
import shutil

MIB = 1024 * 1024


class RawStoreFullError(Exception):
    """The raw store's volume has less free space than the deployment keeps free; nothing was written."""

    def __init__(self, where: str, free_mib: int, min_free_mib: int):
        self.where, self.free_mib, self.min_free_mib = where, free_mib, min_free_mib
        super().__init__(
            f"the raw store at {where} has {free_mib:,} MiB free, less than the {min_free_mib:,} MiB that "
            "WFM_MIN_FREE_DISK_MB keeps free: the collection stopped before replacing anything. Free space there "
            "(or lower WFM_MIN_FREE_DISK_MB); healing collects the interval again once there is room.")


def free_mib(local_base: str) -> int:
    """Free MiB on the volume of `local_base`, or of its nearest existing parent (the store may not exist yet)."""
    path = os.path.abspath(local_base)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return shutil.disk_usage(path).free // MIB
