"""`inspect_file`: statistics, datasets listing and capped headers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fabio.edfimage
import numpy as np
import pytest

from scivit.errors import ReadError
from scivit.io import inspect_file
from scivit.io.inspection import MAX_HEADER_ENTRIES, MAX_HEADER_TEXT


def test_statistics_over_valid_pixels(
    tmp_path: Path, rng: np.random.Generator, write_nexus: Callable[..., Path]
) -> None:
    stack = rng.poisson(30, size=(3, 32, 32)).astype(np.int32)
    stack[0, :, 3] = -1
    path = write_nexus(tmp_path / "scan.nxs", stack)
    report = inspect_file(path)
    valid = stack[0][stack[0] >= 0].astype(np.float64)
    assert report["format"] == "hdf5" and report["n_frames"] == 3
    assert report["frame_shape"] == (32, 32) and report["dtype"] == "int32"
    assert report["dataset"] == "/entry/data/data"
    assert report["invalid_pixels"] == 32
    assert report["min"] == valid.min() and report["max"] == valid.max()
    assert report["mean"] == pytest.approx(valid.mean())
    assert report["std"] == pytest.approx(valid.std())
    assert report["header"]["units"] == "counts"
    assert report["datasets"] == [
        {"path": "/entry/data/data", "shape": (3, 32, 32), "dtype": "int32"},
        {"path": "/entry/instrument/detector/pixel_mask", "shape": (32, 32), "dtype": "uint32"},
    ]


def test_all_invalid_first_frame_is_reported_not_raised(tmp_path: Path) -> None:
    np.save(tmp_path / "nan.npy", np.full((32, 32), np.nan))
    report = inspect_file(tmp_path / "nan.npy")
    assert report["invalid_pixels"] == 32 * 32 and report["min"] is None
    assert "datasets" not in report


def test_header_is_capped(tmp_path: Path) -> None:
    header = {f"Key_{index:03d}": "x" * 500 for index in range(MAX_HEADER_ENTRIES + 10)}
    path = tmp_path / "long.edf"
    fabio.edfimage.EdfImage(data=np.eye(32, dtype=np.float32), header=header).write(str(path))
    report = inspect_file(path)
    assert report["format"] == "edf"
    values = [value for key, value in report["header"].items() if key != "..."]
    assert len(values) == MAX_HEADER_ENTRIES
    assert all(len(value) <= MAX_HEADER_TEXT for value in values if isinstance(value, str))
    assert report["header"]["..."].endswith("more entries")


def test_inspect_bad_file(tmp_path: Path) -> None:
    (tmp_path / "empty.cbf").touch()
    with pytest.raises(ReadError, match="file is empty"):
        inspect_file(tmp_path / "empty.cbf")
