"""HDF5/NeXus reading: default-signal resolution, explicit paths, stacks, and bad files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import h5py
import hdf5plugin
import numpy as np
import pytest

from scivit.errors import ReadError
from scivit.io import count_frames, iter_frames, read_image


@pytest.fixture
def stack(rng: np.random.Generator) -> np.ndarray:
    return rng.poisson(20, size=(4, 32, 32)).astype(np.uint32)


def test_default_chain_reads_signal(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", stack)
    frame = read_image(path, frame=2)
    np.testing.assert_array_equal(frame.data, stack[2].astype(np.float32))
    meta = frame.meta
    assert meta["dataset"] == "/entry/data/data" and meta["format"] == "hdf5"
    assert (meta["frame"], meta["n_frames"], meta["shape"], meta["dtype"]) == (
        2,
        4,
        (32, 32),
        "uint32",
    )
    assert meta["units"] == "counts" and meta["count_time"] == 0.5
    assert count_frames(path) == 4


def test_default_chain_to_a_renamed_signal(tmp_path: Path, stack: np.ndarray) -> None:
    path = tmp_path / "chain.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["default"] = "scan_7"
        entry = handle.create_group("scan_7")
        entry.attrs.update({"NX_class": "NXentry", "default": "plot"})
        entry.create_dataset("decoy", data=np.zeros((3, 32, 32)))
        plot = entry.create_group("plot")
        plot.attrs.update({"NX_class": "NXdata", "signal": np.bytes_(b"counts")})
        plot.create_dataset("counts", data=stack)
    frame = read_image(path, frame=1)
    np.testing.assert_array_equal(frame.data, stack[1])
    assert frame.meta["dataset"] == "/scan_7/plot/counts"


def test_fallback_entry_data_data_without_attributes(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "bare.h5", stack, with_defaults=False)
    np.testing.assert_array_equal(read_image(path, frame=0).data, stack[0])


def test_fallback_first_nxdata_and_flagged_signal(tmp_path: Path, stack: np.ndarray) -> None:
    path = tmp_path / "old.nx5"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("measurement/plot")
        group.attrs["NX_class"] = "NXdata"
        group.create_dataset("axis", data=np.arange(32.0))
        signal = group.create_dataset("intensity", data=stack)
        signal.attrs["signal"] = 1
    assert read_image(path, frame=3).meta["dataset"] == "/measurement/plot/intensity"


def test_fallback_single_image_dataset(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.normal(size=(32, 48))
    path = tmp_path / "plain.hdf5"
    with h5py.File(path, "w") as handle:
        handle["images"] = image
        handle["energy"] = np.arange(5.0)
    frame = read_image(path)
    np.testing.assert_allclose(frame.data, image.astype(np.float32))
    assert frame.meta["frame"] is None and frame.meta["n_frames"] == 1


def test_explicit_dataset_path_and_group(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", stack)
    with pytest.warns(UserWarning, match="is constant"):
        mask_frame = read_image(path, dataset="/entry/instrument/detector/pixel_mask")
    assert mask_frame.meta["dataset"] == "/entry/instrument/detector/pixel_mask"
    via_group = read_image(path, frame=1, dataset="/entry/data")
    np.testing.assert_array_equal(via_group.data, stack[1])


def test_iter_frames_over_stack(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", stack)
    frames = list(iter_frames(path))
    np.testing.assert_array_equal(np.stack([f.data for f in frames]), stack)


def test_eiger_overflow_sentinel_masked(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    stack[0, 4, 4] = 2**32 - 1
    path = write_nexus(tmp_path / "eiger.h5", stack)
    frame = read_image(path, frame=0)
    assert frame.mask[4, 4] and frame.mask.sum() == 1 and frame.data[4, 4] == 0


def test_missing_dataset_lists_what_exists(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", stack)
    pattern = (
        r"scan\.nxs: no dataset '/entry/nothing'; the file has /entry/data/data \(4, 32, 32\), "
        r"/entry/instrument/detector/pixel_mask \(32, 32\)$"
    )
    with pytest.raises(ReadError, match=pattern):
        read_image(path, frame=0, dataset="/entry/nothing")


def test_no_image_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "table.h5"
    with h5py.File(path, "w") as handle:
        handle["a"] = np.arange(4.0)
        handle["b"] = np.arange(3.0)
    with pytest.raises(ReadError, match=r"no NeXus default image .* /a \(4,\), /b \(3,\)$"):
        read_image(path)


@pytest.mark.parametrize("shape", [(10,), (2, 3, 32, 32)])
def test_dataset_of_wrong_rank(tmp_path: Path, shape: tuple[int, ...]) -> None:
    path = tmp_path / "rank.h5"
    with h5py.File(path, "w") as handle:
        handle["x"] = np.ones(shape)
    with pytest.raises(ReadError, match=r"dataset '/x' has shape .*expected 2-D \(H, W\) or 3-D"):
        read_image(path, dataset="/x")


def test_non_numeric_dataset(tmp_path: Path) -> None:
    path = tmp_path / "text.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("names", data=np.array([[b"a", b"b"], [b"c", b"d"]]))
    with pytest.raises(ReadError, match=r"text\.h5:/names holds non-numeric data"):
        read_image(path, dataset="/names")


def test_frame_out_of_range_and_missing_frame(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "scan.nxs", stack)
    with pytest.raises(ReadError, match="frame 9 is out of range; the file holds 4 frames"):
        read_image(path, frame=9)
    with pytest.raises(ReadError, match=r"holds 4 frames; pass frame=0\.\.3"):
        read_image(path)


def test_truncated_hdf5(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "cut.h5", stack)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ReadError, match=r"cut\.h5: cannot read file \(OSError: .*truncated"):
        read_image(path, frame=0)


def test_all_nan_frame_names_the_frame(tmp_path: Path, write_nexus: Callable[..., Path]) -> None:
    images = np.ones((3, 32, 32))
    images[1] = np.nan
    path = write_nexus(tmp_path / "nan.h5", images)
    with pytest.raises(ReadError, match=r"nan\.h5: frame 1 contains no finite values$"):
        read_image(path, frame=1)
    with pytest.warns(UserWarning, match=r"nan\.h5: frame 2 is constant"):
        np.testing.assert_array_equal(read_image(path, frame=2).data, np.ones((32, 32)))


def test_bitshuffle_lz4_dataset(tmp_path: Path, stack: np.ndarray) -> None:
    path = tmp_path / "eiger_data.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset(
            "entry/data/data", data=stack, chunks=(1, 32, 32), **hdf5plugin.Bitshuffle()
        )
    np.testing.assert_array_equal(read_image(path, frame=3).data, stack[3])
