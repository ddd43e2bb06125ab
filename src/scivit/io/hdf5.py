"""HDF5 and NeXus files through h5py: a 2-D dataset is one frame, a 3-D dataset a stack.

The dataset is the NeXus default signal unless a path is given (see `scivit.io.nexus`). Only
the requested frame is read from a stack (`dataset[i]`), and the file handle comes from the
per-process cache in `scivit.io.h5cache`, so repeated frame reads do not reopen the file; the
dataset found in an open file is remembered with it, so they do not search the file again. The
dataset's attributes (units, long names, detector settings) go into the header, and the beam
centre the NeXus detector records (`scivit.io.nexus_geometry`) into each frame's
`beam_center_x` / `beam_center_y`, in pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import h5py
import numpy as np

from scivit.errors import ReadError
from scivit.io.h5cache import open_h5
from scivit.io.meta import plain_header
from scivit.io.nexus import find_image_dataset, list_datasets
from scivit.io.nexus_geometry import recorded_beam_centers
from scivit.io.source import FrameSource

SUFFIXES = ("h5", "hdf5", "nxs", "nx5")


_Centres = tuple[np.ndarray, np.ndarray] | None
_Resolved = tuple[h5py.Dataset, dict[str, Any], _Centres]
_resolved: WeakKeyDictionary[h5py.File, dict[str | None, _Resolved]] = WeakKeyDictionary()


class Hdf5Source(FrameSource):
    """One 2-D or 3-D dataset of an HDF5 file."""

    format = "hdf5"

    def __init__(self, path: Path, dataset: str | None) -> None:
        self._request = dataset
        self._found, header, self._centres = resolve_dataset(path, dataset)
        super().__init__(
            path,
            n_frames=1 if self._found.ndim == 2 else self._found.shape[0],
            frame_shape=self._found.shape[-2:],
            dtype=self._found.dtype,
            dataset=dataset or self._found.name,
            header=header,
        )

    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        found = self._dataset()
        pixels = found[()] if found.ndim == 2 else found[index]
        return pixels, {**self.header, **self._beam_center(index)}

    def _beam_center(self, index: int) -> dict[str, float]:
        """The recorded beam centre of frame `index` (one value for all, or one per frame)."""
        if self._centres is None:
            return {}
        picked = [values[index if values.size > 1 else 0] for values in self._centres]
        return {"beam_center_x": float(picked[0]), "beam_center_y": float(picked[1])}

    def datasets(self) -> list[dict[str, Any]]:
        return list_datasets(open_h5(self.path))

    def _dataset(self) -> h5py.Dataset:
        """The dataset, found again if its cached file handle was closed meanwhile."""
        if not self._found.id.valid:
            self._found, _, _ = resolve_dataset(self.path, self._request)
        return self._found


def resolve_dataset(path: Path, dataset: str | None) -> _Resolved:
    """The image dataset and its attributes, remembered for as long as the file stays open."""
    handle = open_h5(path)
    known = _resolved.get(handle)
    if known is None:
        known = _resolved[handle] = {}
    if dataset not in known:
        found = find_image_dataset(handle, path, dataset)
        if found.ndim not in (2, 3):
            raise ReadError(
                f"{path}: dataset '{found.name}' has shape {found.shape}; "
                "expected 2-D (H, W) or 3-D (N, H, W)"
            )
        known[dataset] = (found, plain_header(_attributes(found)), recorded_beam_centers(found))
    return known[dataset]


def _attributes(found: h5py.Dataset) -> list[tuple[str, Any]]:
    """The dataset's attributes, skipping any whose type h5py cannot decode."""
    items = []
    for name in found.attrs:
        try:
            items.append((name, found.attrs[name]))
        except (OSError, TypeError, ValueError):
            continue
    return items


def open_hdf5(path: Path, dataset: str | None, allow_pickle: bool) -> Hdf5Source:
    """Open an HDF5/NeXus image dataset (`allow_pickle` does not apply)."""
    return Hdf5Source(path, dataset)
