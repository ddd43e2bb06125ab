"""TIFF reading through tifffile: single pages, stacks, RGB, tags, corrupted files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from scivit.errors import ReadError
from scivit.io import count_frames, iter_frames, read_image
from scivit.io.frame import LUMA_WEIGHTS


def test_single_page_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.integers(0, 1000, size=(32, 48), dtype=np.uint16)
    path = tmp_path / "frame.tif"
    tifffile.imwrite(path, image, description="Pixel_size 172e-6 m", resolution=(2.0, 4.0))
    frame = read_image(path)
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert frame.mask is None
    meta = frame.meta
    assert (meta["format"], meta["frame"], meta["n_frames"], meta["dataset"]) == (
        "tiff",
        None,
        1,
        None,
    )
    assert meta["shape"] == (32, 48) and meta["dtype"] == "uint16"
    assert meta["ImageDescription"] == "Pixel_size 172e-6 m"
    assert meta["XResolution"] == pytest.approx(2.0)
    assert meta["YResolution"] == pytest.approx(4.0)


def test_multipage_stack_reads_each_frame(tmp_path: Path, rng: np.random.Generator) -> None:
    stack = rng.normal(size=(5, 32, 32)).astype(np.float32)
    path = tmp_path / "stack.tiff"
    tifffile.imwrite(path, stack)
    assert count_frames(path) == 5
    frame = read_image(path, frame=3)
    np.testing.assert_array_equal(frame.data, stack[3])
    assert frame.meta["frame"] == 3 and frame.meta["n_frames"] == 5
    frames = list(iter_frames(path))
    np.testing.assert_array_equal(np.stack([f.data for f in frames]), stack)
    assert [f.meta["frame"] for f in frames] == [0, 1, 2, 3, 4]


def test_imagej_hyperstack_frames(tmp_path: Path, rng: np.random.Generator) -> None:
    stack = rng.integers(0, 50, size=(4, 32, 40)).astype(np.float32)
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, stack, imagej=True)
    np.testing.assert_array_equal(read_image(path, frame=2).data, stack[2])


def test_stack_without_frame_says_how_many(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.ones((6, 32, 32), np.float32))
    with pytest.raises(ReadError, match=r"stack\.tif holds 6 frames; pass frame=0\.\.5$"):
        read_image(path)


def test_frame_out_of_range(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.arange(2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32))
    with pytest.raises(ReadError, match="frame 2 is out of range; the file holds 2 frames"):
        read_image(path, frame=2)
    with pytest.raises(ReadError, match="frame -1 is out of range"):
        read_image(path, frame=-1)


def test_rgb_page_becomes_luminance(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, rgb, photometric="rgb")
    frame = read_image(path)
    np.testing.assert_allclose(frame.data, rgb @ np.array(LUMA_WEIGHTS), rtol=1e-5)
    assert frame.meta["shape"] == (32, 32)


def test_pilatus_style_gaps_are_masked(tmp_path: Path) -> None:
    image = np.arange(32 * 32, dtype=np.int32).reshape(32, 32)
    image[:, 10] = -1
    image[5, 5] = -2
    path = tmp_path / "pilatus.tif"
    tifffile.imwrite(path, image)
    frame = read_image(path)
    np.testing.assert_array_equal(frame.mask, image < 0)
    assert frame.data[frame.mask].max() == 0


def test_corrupted_tiff(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "noise.tif"
    path.write_bytes(rng.bytes(4096))
    with pytest.raises(ReadError, match=r"noise\.tif: cannot read file \(TiffFileError"):
        read_image(path)


def test_truncated_tiff(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, rng.normal(size=(64, 64)))
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ReadError, match=r"cut\.tif: cannot read file"):
        read_image(path)


def test_dataset_is_rejected_for_tiff(tmp_path: Path) -> None:
    path = tmp_path / "frame.tif"
    tifffile.imwrite(path, np.eye(32, dtype=np.float32))
    with pytest.raises(ReadError, match="dataset='/x' applies only to HDF5/NeXus and .npz"):
        read_image(path, dataset="/x")
