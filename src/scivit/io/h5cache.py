"""A small per-process LRU cache of open read-only `h5py.File` handles.

Data loaders call `read_image(shard, frame=i)` thousands of times on the same few HDF5 shards;
opening an HDF5 file costs far more than reading one frame from it. Handles are kept open,
keyed by process id and absolute path, and closed when evicted, when the file changes on disk
(inode, size or modification time differ), and at interpreter exit. A forked child (a
DataLoader worker) forgets the parent's handles without touching them, since HDF5 handles must
not be shared across `fork`.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from pathlib import Path

import h5py
import hdf5plugin  # noqa: F401  (registers the Bitshuffle/LZ4/Blosc filters detectors write)

MAX_OPEN_FILES = 8

_Stamp = tuple[int, int, int]
_handles: OrderedDict[tuple[int, str], tuple[_Stamp, h5py.File]] = OrderedDict()
_lock = threading.Lock()


def open_h5(path: Path) -> h5py.File:
    """Return an open read-only handle to `path`, reusing the cached one when still current."""
    key = (os.getpid(), os.path.abspath(path))
    stamp = _stamp(path)
    with _lock:
        entry = _handles.get(key)
        if entry is not None and entry[0] == stamp and entry[1].id.valid:
            _handles.move_to_end(key)
            return entry[1]
        if entry is not None:
            _close(key)
        handle = _open(path)
        _handles[key] = (stamp, handle)
        while len(_handles) > MAX_OPEN_FILES:
            _close(next(iter(_handles)))
        return handle


def close_cached_files() -> None:
    """Close every HDF5 handle this process keeps open (needed before rewriting such a file)."""
    with _lock:
        for key in list(_handles):
            _close(key)


def cached_paths() -> list[str]:
    """Absolute paths of the files this process holds open, least recently used first."""
    pid = os.getpid()
    return [path for owner, path in _handles if owner == pid]


def _open(path: Path) -> h5py.File:
    return h5py.File(path, "r")


def _stamp(path: Path) -> _Stamp:
    status = os.stat(path)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _close(key: tuple[int, str]) -> None:
    _, handle = _handles.pop(key)
    if key[0] == os.getpid() and handle.id.valid:
        handle.close()


def _forget_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _handles.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(close_cached_files)
