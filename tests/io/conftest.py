"""Shared fixtures for the io tests: files are written by each test into tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
import pytest

from scivit.io import close_cached_files


@pytest.fixture(autouse=True)
def _close_hdf5_handles() -> Iterator[None]:
    yield
    close_cached_files()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def write_nexus() -> Callable[..., Path]:
    """Factory writing NeXus files (see `_write_nexus`)."""
    return _write_nexus


def _write_nexus(path: Path, images: np.ndarray, with_defaults: bool = True) -> Path:
    """A NeXus file /entry/data/data (NXentry/NXdata) plus a detector pixel_mask."""
    with h5py.File(path, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        dataset = data.create_dataset("data", data=images, chunks=(1, *images.shape[-2:]))
        dataset.attrs["units"] = "counts"
        dataset.attrs["count_time"] = np.float64(0.5)
        detector = entry.create_group("instrument/detector")
        detector.attrs["NX_class"] = "NXdetector"
        detector.create_dataset("pixel_mask", data=np.zeros(images.shape[-2:], dtype=np.uint32))
        if with_defaults:
            handle.attrs["default"] = "entry"
            entry.attrs["default"] = "data"
            data.attrs["signal"] = "data"
    return path
