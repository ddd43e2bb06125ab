"""Writers of tiny NeXus shards and manifest CSVs for the data tests."""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np

LABELS = ["ring", "halo", "diffuse"]


def write_nexus(path: Path, frames: np.ndarray) -> Path:
    """Write (N, H, W) counts as a NeXus file: /entry/data/data is the NXdata signal."""
    with h5py.File(path, "w") as handle:
        handle.attrs["default"] = "entry"
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["default"] = "data"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["signal"] = "data"
        data.create_dataset("data", data=frames)
    return path


def write_csv(path: Path, rows: list[dict[str, object]], columns: list[str] | None = None) -> Path:
    """Write dict rows as CSV; the columns default to the first row's keys."""
    columns = columns or list(rows[0])
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def scattering_frames(rng: np.random.Generator, flags: np.ndarray, size: int) -> np.ndarray:
    """Poisson counts around a beam at the centre: a ring, a halo and a low-q background."""
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    frames = []
    for ring, halo, diffuse in flags:
        rate = 5.0 + 40.0 * ring * np.exp(-((radius - size / 4) ** 2) / 4.0)
        rate = rate + 20.0 * halo * np.exp(-((radius - size / 3) ** 2) / 30.0)
        rate = rate + 60.0 * diffuse * np.exp(-radius / 4.0)
        frames.append(rng.poisson(rate))
    stack = np.stack(frames).astype(np.int32)
    stack[:, 0, 0] = -1
    return stack
