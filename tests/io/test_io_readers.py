"""The front door: dispatch by suffix, file-level errors, the registry and frame counting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from scivit.errors import ReadError
from scivit.io import (
    READERS,
    count_frames,
    is_supported,
    iter_frames,
    read_image,
    supported_suffixes,
)
from scivit.io.readers import file_suffix


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match=r"absent\.tif: file not found$"):
        read_image(tmp_path / "absent.tif")


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "frames.h5"
    folder.mkdir()
    with pytest.raises(ReadError, match=r"frames\.h5: not a regular file$"):
        read_image(folder)


@pytest.mark.parametrize("name", ["empty.tif", "empty.h5", "empty.edf", "empty.npy", "empty.png"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).touch()
    with pytest.raises(ReadError, match=rf"{name.replace('.', '[.]')}: file is empty \(0 bytes\)$"):
        read_image(tmp_path / name)


def test_unknown_suffix_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "frame.xyz"
    path.write_bytes(b"data")
    with pytest.raises(ReadError) as caught:
        read_image(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: unsupported file type ('.xyz'); supported: ")
    for suffix in (".tif", ".edf", ".cbf", ".h5", ".nxs", ".npy", ".npz", ".png"):
        assert suffix in message
    assert "\n" not in message and "also as .bz2/.gz" in message


def test_no_suffix(tmp_path: Path) -> None:
    path = tmp_path / "frame"
    path.write_bytes(b"data")
    with pytest.raises(ReadError, match=r"unsupported file type \(no suffix\)"):
        read_image(path)


def test_suffix_dispatch() -> None:
    assert file_suffix(Path("a/B.TIF")) == "tif"
    assert file_suffix(Path("scan.0001.cbf.gz")) == "cbf.gz"
    assert file_suffix(Path("run.1.h5")) == "h5"
    assert file_suffix(Path("notes.txt.gz")) == "gz"
    names = supported_suffixes()
    assert names == sorted(names) and len(names) == len(READERS)
    assert {".tif", ".edf", ".cbf", ".cbf.gz", ".mccd", ".sfrm", ".mar3450", ".nxs"} <= set(names)
    assert is_supported("scan.0001.CBF.gz") and is_supported(Path("x.nx5"))
    assert not is_supported("notes.txt.gz") and not is_supported("README")


def test_meta_is_plain(tmp_path: Path) -> None:
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, np.arange(2 * 32 * 32, dtype=np.float32).reshape(2, 32, 32))
    frame = read_image(path, frame=np.int64(1))
    assert type(frame.meta["frame"]) is int and frame.meta["frame"] == 1
    plain = (str, int, float, bool, tuple, type(None))
    assert all(isinstance(value, plain) for value in frame.meta.values())
    assert frame.meta["path"] == str(path)


def test_iter_and_count_agree(tmp_path: Path, rng: np.random.Generator) -> None:
    stack = rng.normal(size=(3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "stack.npy", stack)
    frames = list(iter_frames(tmp_path / "stack.npy"))
    assert len(frames) == count_frames(tmp_path / "stack.npy") == 3
    for index, frame in enumerate(frames):
        np.testing.assert_array_equal(frame.data, stack[index])
        assert frame.meta["frame"] == index and frame.data.dtype == np.float32


def test_iter_frames_stops_at_invalid_frame(tmp_path: Path) -> None:
    stack = np.ones((3, 32, 32))
    stack[:, 0, 0] = 2.0
    stack[1] = np.nan
    np.save(tmp_path / "stack.npy", stack)
    frames = iter_frames(tmp_path / "stack.npy")
    assert next(frames).meta["frame"] == 0
    with pytest.raises(ReadError, match=r"stack\.npy: frame 1 contains no finite values"):
        next(frames)
