"""On-disk cache of preprocessed frames, so epochs after the first only pay augmentation.

The deterministic part of the pipeline (reading, dead-pixel repair, masking, log, scaling,
resizing) gives the same result every epoch; the cache stores it once per manifest row:

- `images.f16`: float16 `numpy.memmap` of shape (N, C, H, W);
- `masks.u8`: (N, H, W) invalid-pixel masks;
- `rows.bin`: one record per row: beam centre after preprocessing, whether a mask exists, a
  CRC-32 of the row's bytes, and the `valid` flag (the validity map).

A row is written data first, record next, and `valid` last, so a run killed mid-write leaves
the row unmarked and it is simply computed again; on a hit the checksum is verified as well,
so even pages lost in a machine crash can never be served as data. The cache lives in a folder
named by a hash of (manifest sha256, preprocessing spec, image size, scivit version), created
complete under a temporary name and renamed into place. Any process may fill rows lazily
(each DataLoader worker opens the files itself), or `fill(num_workers)` fills them in bulk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

import scivit
from scivit.data.dataset import Sample, describe_row, read_sample
from scivit.data.manifest import Manifest
from scivit.errors import DataError

FLOAT16_MAX = float(np.finfo(np.float16).max)
RECORD = np.dtype(
    [("center", "<f8", (2,)), ("crc", "<u4"), ("has_mask", "u1"), ("valid", "u1")], align=True
)


def cache_key(manifest: Manifest, spec: Sequence[dict[str, Any]], image_size: int) -> str:
    """Hex digest naming the cache of one manifest under one preprocessing.

    Besides the manifest's sha256 it covers the size and modification time of every image
    file, so rewriting a file in place starts a new cache.
    """
    files = [(str(path), *_stamp(path)) for path in sorted(set(manifest.paths))]
    content = {
        "manifest": manifest.sha256,
        "files": files,
        "preprocess": list(spec),
        "image_size": image_size,
        "version": scivit.__version__,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _stamp(path: Path) -> tuple[int, int]:
    try:
        status = path.stat()
    except OSError as err:
        raise DataError(f"{path}: cannot read image file ({err.strerror})") from None
    return status.st_size, status.st_mtime_ns


class FrameCache:
    """Preprocessed frames of one manifest, stored in `directory`.

    Use `FrameCache.open` to create or reopen one; the object can be pickled into DataLoader
    workers, each of which maps the files itself.

    Args:
        directory: the folder holding a complete cache (as made by `open`).
        manifest: the manifest whose rows are cached.
        preprocess: the deterministic sample -> sample pipeline (without ToTensor).
    """

    def __init__(
        self, directory: Path, manifest: Manifest, preprocess: Callable[[Sample], Sample]
    ) -> None:
        self.directory = Path(directory)
        self.manifest = manifest
        self.preprocess = preprocess
        info = _read_info(self.directory)
        self.shape: tuple[int, int, int] = tuple(info["shape"])
        if info["rows"] != len(manifest):
            raise DataError(
                f"{self.directory}: cache holds {info['rows']} rows, the manifest "
                f"{manifest.source} has {len(manifest)}; delete the cache folder"
            )
        self._maps: tuple[np.memmap, np.memmap, np.memmap] | None = None
        self._pid = -1

    @classmethod
    def open(
        cls,
        root: str | Path,
        manifest: Manifest,
        preprocess: Callable[[Sample], Sample],
        spec: Sequence[dict[str, Any]],
        image_size: int,
    ) -> FrameCache:
        """Open the cache of (manifest, spec, image_size) under `root`, creating it if needed.

        Creating it preprocesses (and stores) the first row to learn the shape (C, H, W).
        """
        directory = Path(root) / cache_key(manifest, spec, image_size)[:24]
        if directory.is_dir():
            return cls(directory, manifest, preprocess)
        first = preprocess(read_sample(manifest, 0))
        _create(directory, len(manifest), _image_of(first).shape, spec, manifest)
        cache = cls(directory, manifest, preprocess)
        cache._store(0, first)
        return cache

    def __len__(self) -> int:
        return len(self.manifest)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_maps"], state["_pid"] = None, -1
        return state

    def is_valid(self, row: int) -> bool:
        """Whether row `row` has been written completely."""
        return bool(self._arrays()[2]["valid"][row])

    def missing(self) -> np.ndarray:
        """Rows not yet written."""
        return np.flatnonzero(self._arrays()[2]["valid"] == 0)

    def sample(self, row: int) -> Sample:
        """The preprocessed sample of manifest row `row`, from disk or computed and stored."""
        images, masks, records = self._arrays()
        record = records[row]
        if record["valid"] and record["crc"] == _checksum(images[row], masks[row], record):
            return self._decode(row, images[row], masks[row], record)
        self._store(row, self.preprocess(read_sample(self.manifest, row)))
        return self._decode(row, images[row], masks[row], records[row])

    def fill(
        self, num_workers: int = 0, progress: bool = False, rows: np.ndarray | None = None
    ) -> int:
        """Compute the missing ones of `rows` (default: all rows) in `num_workers` processes;
        returns how many were filled."""
        missing = self.missing()
        rows = missing if rows is None else np.intersect1d(missing, rows)
        if rows.size == 0:
            return 0
        loader = DataLoader(
            _Filler(self, rows),
            batch_size=None,
            num_workers=num_workers,
            collate_fn=_identity,
            generator=torch.Generator(),  # leaves the global RNG, hence training, as it was
        )
        for _ in tqdm(loader, total=rows.size, desc="caching frames", disable=not progress):
            pass
        return int(rows.size)

    def _arrays(self) -> tuple[np.memmap, np.memmap, np.memmap]:
        if self._maps is None or self._pid != os.getpid():
            self._maps = _map(self.directory, len(self.manifest), self.shape, "r+")
            self._pid = os.getpid()
        return self._maps

    def _store(self, row: int, sample: Sample) -> None:
        images, masks, records = self._arrays()
        image = _image_of(sample)
        where = describe_row(self.manifest, row)
        if image.shape != self.shape:
            raise DataError(
                f"{where}: preprocessed shape {image.shape} differs from the cache's {self.shape}"
            )
        if np.any(np.abs(image[np.isfinite(image)]) > FLOAT16_MAX):
            raise DataError(
                f"{where}: preprocessed values exceed the float16 range of the cache; "
                "add a normalizing transform or turn the cache off"
            )
        records["valid"][row] = 0
        images[row] = image.astype(np.float16)
        mask = sample.get("mask")
        masks[row] = 0 if mask is None else np.asarray(mask, dtype=bool)
        centre = sample.get("beam_center")
        record = np.zeros((), dtype=RECORD)
        record["center"] = (np.nan, np.nan) if centre is None else centre
        record["has_mask"] = mask is not None
        record["crc"] = _checksum(images[row], masks[row], record)
        records[row] = record
        records["valid"][row] = 1

    def _decode(self, row: int, image: np.ndarray, mask: np.ndarray, record: np.void) -> Sample:
        centre = record["center"]
        return {
            "image": np.array(image, dtype=np.float32),
            "mask": np.array(mask, dtype=bool) if record["has_mask"] else None,
            "beam_center": None if np.isnan(centre).any() else (float(centre[0]), float(centre[1])),
            "meta": {
                "path": str(self.manifest.paths[row]),
                "frame": self.manifest.frames[row],
                "index": row,
                "group": self.manifest.groups[row],
            },
        }


class _Filler(Dataset):
    """Rows of a cache to compute; each item computes and stores one row."""

    def __init__(self, cache: FrameCache, rows: np.ndarray) -> None:
        self.cache = cache
        self.rows = rows

    def __len__(self) -> int:
        return int(self.rows.size)

    def __getitem__(self, item: int) -> int:
        row = int(self.rows[item])
        if not self.cache.is_valid(row):
            self.cache.sample(row)
        return row


def _identity(item: Any) -> Any:
    return item


def _image_of(sample: Sample) -> np.ndarray:
    image = np.asarray(sample["image"], dtype=np.float32)
    if image.ndim != 3:
        raise DataError(f"{sample['meta'].get('path')}: preprocessed image must be (C, H, W)")
    return image


def _checksum(image: np.ndarray, mask: np.ndarray, record: np.void) -> int:
    crc = zlib.crc32(np.ascontiguousarray(image).data)
    crc = zlib.crc32(np.ascontiguousarray(mask).data, crc)
    crc = zlib.crc32(np.asarray(record["center"], dtype="<f8").tobytes(), crc)
    return zlib.crc32(bytes([int(record["has_mask"])]), crc)


def _map(
    directory: Path, rows: int, shape: tuple[int, ...], mode: str
) -> tuple[np.memmap, np.memmap, np.memmap]:
    try:
        return (
            np.memmap(directory / "images.f16", np.float16, mode, shape=(rows, *shape)),
            np.memmap(directory / "masks.u8", np.uint8, mode, shape=(rows, *shape[1:])),
            np.memmap(directory / "rows.bin", RECORD, mode, shape=(rows,)),
        )
    except (OSError, ValueError) as err:
        raise DataError(f"{directory}: unreadable frame cache ({err}); delete the folder") from None


def _read_info(directory: Path) -> dict[str, Any]:
    try:
        return json.loads((directory / "cache.json").read_text())
    except (OSError, ValueError) as err:
        raise DataError(f"{directory}: unreadable frame cache ({err}); delete the folder") from None


def _create(
    directory: Path,
    rows: int,
    shape: tuple[int, ...],
    spec: Sequence[dict[str, Any]],
    manifest: Manifest,
) -> None:
    """Create empty cache files in a temporary folder, then rename it to `directory`."""
    staging = None
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
        for name, size in (
            ("images.f16", rows * int(np.prod(shape)) * 2),
            ("masks.u8", rows * int(np.prod(shape[1:]))),
            ("rows.bin", rows * RECORD.itemsize),
        ):
            with open(staging / name, "wb") as handle:
                handle.truncate(size)
        info = {
            "rows": rows,
            "shape": list(shape),
            "manifest": str(manifest.source),
            "sha256": manifest.sha256,
            "preprocess": list(spec),
            "version": scivit.__version__,
        }
        (staging / "cache.json").write_text(json.dumps(info, indent=2, default=str))
        os.rename(staging, directory)
    except OSError as err:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not directory.is_dir():
            raise DataError(f"{directory}: cannot create the frame cache ({err})") from None
