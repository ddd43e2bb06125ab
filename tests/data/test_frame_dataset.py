"""FrameDataset and read_sample: shapes, dtypes, values, and read errors naming file and frame."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from tiny_data import LABELS, write_csv, write_nexus

from scivit.data import FrameDataset, load_manifest, read_sample
from scivit.errors import DataError, ReadError
from scivit.transforms import build_transforms


@pytest.fixture
def manifest(make_dataset):
    return load_manifest(make_dataset(n=12, size=32, shards=2), LABELS)


def test_sample_matches_file(manifest):
    sample = read_sample(manifest, 7)
    with h5py.File(manifest.paths[7], "r") as handle:
        raw = handle["entry/data/data"][manifest.frames[7]]
    assert sample["image"].shape == (1, 32, 32)
    assert sample["image"].dtype == np.float32
    expected = np.where(raw < 0, 0, raw).astype(np.float32)
    np.testing.assert_array_equal(sample["image"][0], expected)
    assert sample["mask"].dtype == bool
    np.testing.assert_array_equal(sample["mask"], raw < 0)
    assert sample["beam_center"] == (16.0, 16.0)
    assert sample["meta"]["frame"] == manifest.frames[7]
    assert sample["meta"]["index"] == 7
    assert sample["meta"]["group"] == manifest.groups[7]


def test_items_are_float_tensors(manifest):
    dataset = FrameDataset(manifest, [3, 0, 11], build_transforms([{"name": "to_tensor"}]))
    assert len(dataset) == 3
    image, target = dataset[0]
    assert image.dtype == torch.float32 and image.shape == (1, 32, 32)
    assert target.dtype == torch.float32 and target.shape == (3,)
    np.testing.assert_array_equal(target.numpy(), manifest.targets[3])
    assert image[0, 0, 0] == 0
    np.testing.assert_array_equal(image.numpy(), read_sample(manifest, 3)["image"])


def test_target_is_a_copy(manifest):
    dataset = FrameDataset(manifest, [0], build_transforms([{"name": "to_tensor"}]))
    dataset[0][1].fill_(7)
    assert manifest.targets.max() <= 1


def test_indices_out_of_range(manifest):
    with pytest.raises(DataError, match=r"row indices must lie in \[0, 12\)"):
        FrameDataset(manifest, [0, 12], build_transforms([{"name": "to_tensor"}]))


def test_frame_out_of_range_names_file_and_frame(tmp_path):
    write_nexus(tmp_path / "a.nxs", np.ones((2, 8, 8), dtype=np.int32))
    rows = [{"path": "a.nxs", "frame": 5, "labels": "ring"}]
    manifest = load_manifest(write_csv(tmp_path / "m.csv", rows), LABELS)
    with pytest.raises(ReadError) as info:
        read_sample(manifest, 0)
    message = str(info.value)
    assert str(tmp_path / "a.nxs") in message and "frame 5" in message and "\n" not in message


def test_corrupted_file_names_file_and_frame(tmp_path):
    write_nexus(tmp_path / "a.nxs", np.ones((2, 8, 8), dtype=np.int32))
    rows = [{"path": "a.nxs", "frame": 1, "labels": "ring"}]
    manifest = load_manifest(write_csv(tmp_path / "m.csv", rows), LABELS)
    (tmp_path / "a.nxs").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(ReadError) as info:
        read_sample(manifest, 0)
    assert str(info.value).startswith(f"{tmp_path / 'a.nxs'}: frame 1: ")


def test_non_finite_frame_names_frame(tmp_path):
    stack = np.ones((2, 8, 8), dtype=np.float32)
    stack[1] = np.nan
    write_nexus(tmp_path / "a.nxs", stack)
    rows = [{"path": "a.nxs", "frame": 1, "labels": "ring"}]
    manifest = load_manifest(write_csv(tmp_path / "m.csv", rows), LABELS)
    with pytest.raises(ReadError, match="frame 1"):
        FrameDataset(manifest, [0], build_transforms([{"name": "to_tensor"}]))[0]
