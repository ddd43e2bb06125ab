"""NumPy .npy/.npz reading, memory-mapping, and the pickle opt-in."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from scivit.errors import ReadError
from scivit.io import count_frames, read_image
from scivit.io.readers import open_source

PICKLE_MESSAGE = (
    r"loading pickled data can execute arbitrary code; "
    r"opt in \(allow_pickle in Python, --allow-pickle on the command line\) "
    r"only for a file you trust"
)


def test_npy_image_and_stack(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.normal(size=(32, 40))
    np.save(tmp_path / "one.npy", image)
    frame = read_image(tmp_path / "one.npy")
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert frame.meta["format"] == "npy" and frame.meta["dtype"] == "float64"
    stack = rng.integers(0, 9, size=(3, 32, 32)).astype(np.int16)
    np.save(tmp_path / "stack.npy", stack)
    assert count_frames(tmp_path / "stack.npy") == 3
    np.testing.assert_array_equal(read_image(tmp_path / "stack.npy", frame=1).data, stack[1])


def test_npy_is_memory_mapped(tmp_path: Path) -> None:
    np.save(tmp_path / "stack.npy", np.zeros((4, 32, 32), np.float32))
    with open_source(tmp_path / "stack.npy") as source:
        assert isinstance(source._array, np.memmap)


def test_pickled_object_npy_needs_opt_in(tmp_path: Path) -> None:
    path = tmp_path / "objects.npy"
    values = [[1.0, 2.0], [3.0, 4.5]]
    np.save(path, np.array(values, dtype=object), allow_pickle=True)
    with pytest.raises(ReadError, match=rf"objects\.npy: holds pickled data.*{PICKLE_MESSAGE}$"):
        read_image(path)
    frame = read_image(path, allow_pickle=True)
    np.testing.assert_array_equal(frame.data, np.array(values, dtype=np.float32))


def test_raw_pickle_with_npy_suffix(tmp_path: Path) -> None:
    path = tmp_path / "raw.npy"
    path.write_bytes(pickle.dumps([[0.0, 1.0], [2.0, 3.0]]))
    with pytest.raises(ReadError, match=PICKLE_MESSAGE):
        read_image(path)
    np.testing.assert_array_equal(read_image(path, allow_pickle=True).data, [[0, 1], [2, 3]])


def test_opted_in_pickle_that_is_not_numeric(tmp_path: Path) -> None:
    path = tmp_path / "dict.npy"
    np.save(path, np.array({"a": 1}, dtype=object), allow_pickle=True)
    with pytest.raises(ReadError, match=r"dict\.npy: pickled content is a dict, not a numeric"):
        read_image(path, allow_pickle=True)


def test_npz_named_and_only_array(tmp_path: Path, rng: np.random.Generator) -> None:
    image, dark = rng.normal(size=(32, 32)), rng.normal(size=(32, 32))
    np.savez(tmp_path / "two.npz", image=image, dark=dark)
    frame = read_image(tmp_path / "two.npz", dataset="dark")
    np.testing.assert_array_equal(frame.data, dark.astype(np.float32))
    assert frame.meta["dataset"] == "dark" and frame.meta["format"] == "npz"
    np.savez_compressed(tmp_path / "one.npz", image=image)
    np.testing.assert_array_equal(read_image(tmp_path / "one.npz").data, image.astype(np.float32))


def test_npz_ambiguous_or_missing_array(tmp_path: Path) -> None:
    path = tmp_path / "two.npz"
    np.savez(path, image=np.eye(32), dark=np.eye(32))
    with pytest.raises(ReadError, match=r"holds arrays image, dark; pass dataset= one of them"):
        read_image(path)
    with pytest.raises(ReadError, match=r"no array 'flat'; the archive has image, dark"):
        read_image(path, dataset="flat")


def test_npz_pickled_member_needs_opt_in(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, image=np.array([[1, 2], [3, 4]], dtype=object))
    with pytest.raises(ReadError, match=rf"array 'image' holds pickled objects; {PICKLE_MESSAGE}"):
        read_image(path)
    np.testing.assert_array_equal(read_image(path, allow_pickle=True).data, [[1, 2], [3, 4]])


@pytest.mark.parametrize("shape", [(5,), (2, 2, 8, 8)])
def test_wrong_rank_array(tmp_path: Path, shape: tuple[int, ...]) -> None:
    np.save(tmp_path / "rank.npy", np.ones(shape))
    with pytest.raises(ReadError, match=r"rank\.npy: array has shape .* expected 2-D"):
        read_image(tmp_path / "rank.npy")


def test_truncated_npy(tmp_path: Path) -> None:
    path = tmp_path / "cut.npy"
    np.save(path, np.ones((64, 64)))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ReadError, match=r"cut\.npy: cannot read file"):
        read_image(path)


def test_all_inf_npy(tmp_path: Path) -> None:
    np.save(tmp_path / "inf.npy", np.full((32, 32), -np.inf))
    with pytest.raises(ReadError, match=r"inf\.npy: image contains no finite values"):
        read_image(tmp_path / "inf.npy")


def _axion_file(path: Path, image: np.ndarray, mass: object) -> Path:
    """A DeepLense axion file: a pickled object array [image, mass]."""
    np.save(path, np.array([image, mass], dtype=object), allow_pickle=True)
    return path


def test_axion_image_and_mass(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.normal(size=(32, 32))
    path = _axion_file(tmp_path / "axion_sim_1.npy", image, 3.2e-23)
    with pytest.raises(
        ReadError, match=rf"axion_sim_1\.npy: holds pickled data.*{PICKLE_MESSAGE}$"
    ):
        read_image(path)
    frame = read_image(path, allow_pickle=True)
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert frame.meta["axion_mass"] == 3.2e-23 and frame.meta["shape"] == (32, 32)
    assert count_frames(path, allow_pickle=True) == 1


def test_axion_numpy_scalar_mass_and_non_numeric_mass(tmp_path: Path) -> None:
    image = np.arange(1024.0).reshape(32, 32)
    frame = read_image(_axion_file(tmp_path / "a.npy", image, np.float64(1e-24)), allow_pickle=True)
    assert frame.meta["axion_mass"] == 1e-24 and isinstance(frame.meta["axion_mass"], float)
    frame = read_image(_axion_file(tmp_path / "b.npy", image, "heavy"), allow_pickle=True)
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert "axion_mass" not in frame.meta


def test_axion_image_with_a_leading_channel_axis(tmp_path: Path) -> None:
    image = np.arange(1024.0).reshape(1, 32, 32)
    frame = read_image(_axion_file(tmp_path / "c.npy", image, 2e-23), allow_pickle=True)
    np.testing.assert_array_equal(frame.data, image[0].astype(np.float32))
    assert frame.meta["axion_mass"] == 2e-23 and frame.meta["shape"] == (32, 32)
    two_channels = np.zeros((2, 32, 32))
    with pytest.raises(ReadError, match=r"d\.npy: pickled content is a ndarray, not a numeric"):
        read_image(_axion_file(tmp_path / "d.npy", two_channels, 2e-23), allow_pickle=True)


def test_axion_pair_in_npz_and_a_pair_of_images_is_not_one(tmp_path: Path) -> None:
    image = np.eye(32)
    path = tmp_path / "pair.npz"
    np.savez(path, sim=np.array([image, 5e-23], dtype=object))
    with pytest.raises(ReadError, match=rf"array 'sim' holds pickled objects; {PICKLE_MESSAGE}"):
        read_image(path)
    frame = read_image(path, allow_pickle=True)
    assert frame.meta["axion_mass"] == 5e-23 and frame.data.shape == (32, 32)
    two = np.empty(2, dtype=object)
    two[:] = [image, 2 * image]
    np.save(tmp_path / "two.npy", two, allow_pickle=True)
    with pytest.raises(ReadError, match=r"two\.npy: pickled content is a ndarray, not a numeric"):
        read_image(tmp_path / "two.npy", allow_pickle=True)
