"""Mask files: image and HDF5 masks, the invert convention, and shape checks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import fabio.edfimage
import h5py
import numpy as np
import pytest
import tifffile
from PIL import Image

from scivit.errors import ReadError
from scivit.io import read_mask


@pytest.fixture
def bad_pixels(rng: np.random.Generator) -> np.ndarray:
    return rng.random((32, 48)) < 0.1


def test_png_mask_nonzero_is_masked(tmp_path: Path, bad_pixels: np.ndarray) -> None:
    Image.fromarray((bad_pixels * 255).astype(np.uint8)).save(tmp_path / "mask.png")
    mask = read_mask(tmp_path / "mask.png", shape=(32, 48))
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, bad_pixels)


def test_invert_for_valid_is_one_files(tmp_path: Path, bad_pixels: np.ndarray) -> None:
    tifffile.imwrite(tmp_path / "valid.tif", (~bad_pixels).astype(np.uint8))
    np.testing.assert_array_equal(read_mask(tmp_path / "valid.tif", invert=True), bad_pixels)


def test_edf_mask_with_nan(tmp_path: Path, bad_pixels: np.ndarray) -> None:
    values = bad_pixels.astype(np.float32)
    values[0, 0] = np.nan
    fabio.edfimage.EdfImage(data=values).write(str(tmp_path / "mask.edf"))
    expected = bad_pixels.copy()
    expected[0, 0] = True
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.edf"), expected)
    inverted = ~bad_pixels
    inverted[0, 0] = True
    np.testing.assert_array_equal(read_mask(tmp_path / "mask.edf", invert=True), inverted)


def test_nexus_pixel_mask(
    tmp_path: Path, bad_pixels: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", np.ones((2, 32, 48)))
    with h5py.File(path, "a") as handle:
        pixel_mask = handle["/entry/instrument/detector/pixel_mask"]
        pixel_mask[...] = np.where(bad_pixels, 8, 0)
    mask = read_mask(path, shape=(32, 48), dataset="/entry/instrument/detector/pixel_mask")
    np.testing.assert_array_equal(mask, bad_pixels)


def test_mask_of_wrong_shape(tmp_path: Path, bad_pixels: np.ndarray) -> None:
    np.save(tmp_path / "mask.npy", bad_pixels)
    pattern = r"mask\.npy: mask shape \(32, 48\) does not match image shape \(64, 64\)$"
    with pytest.raises(ReadError, match=pattern):
        read_mask(tmp_path / "mask.npy", shape=(64, 64))


def test_mask_must_be_one_image(tmp_path: Path) -> None:
    np.save(tmp_path / "masks.npy", np.zeros((3, 32, 32), dtype=np.uint8))
    with pytest.raises(ReadError, match=r"masks\.npy: a mask must be one image; the file holds 3"):
        read_mask(tmp_path / "masks.npy")


def test_missing_mask_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"nomask\.png: file not found"):
        read_mask(tmp_path / "nomask.png")
