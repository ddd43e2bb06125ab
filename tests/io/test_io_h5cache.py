"""The per-process cache of open HDF5 handles behind repeated frame reads."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from scivit.io import close_cached_files, h5cache, read_image


@pytest.fixture
def stack(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(size=(10, 32, 32)).astype(np.float32)


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every real h5py.File open made by the cache."""
    calls: list[Path] = []
    real_open = h5cache._open

    def counting_open(path: Path) -> h5py.File:
        calls.append(path)
        return real_open(path)

    monkeypatch.setattr(h5cache, "_open", counting_open)
    return calls


def test_repeated_frame_reads_open_the_file_once(
    tmp_path: Path, stack: np.ndarray, opens: list[Path], write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "shard.h5", stack)
    for step in range(200):
        index = step % len(stack)
        np.testing.assert_array_equal(read_image(path, frame=index).data, stack[index])
    assert opens == [path]


def test_only_the_requested_frame_is_read(
    tmp_path: Path,
    stack: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    write_nexus: Callable[..., Path],
) -> None:
    path = write_nexus(tmp_path / "shard.h5", stack)
    selections: list[object] = []
    real_getitem = h5py.Dataset.__getitem__

    def spy(self: h5py.Dataset, selection: object, *args: object, **kwargs: object) -> object:
        selections.append(selection)
        return real_getitem(self, selection, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    read_image(path, frame=7)
    assert selections == [7]


def test_eviction_closes_least_recently_used(
    tmp_path: Path,
    stack: np.ndarray,
    monkeypatch: pytest.MonkeyPatch,
    write_nexus: Callable[..., Path],
) -> None:
    monkeypatch.setattr(h5cache, "MAX_OPEN_FILES", 2)
    paths = [write_nexus(tmp_path / f"shard{i}.h5", stack) for i in range(3)]
    first = h5cache.open_h5(paths[0])
    for path in paths[1:]:
        read_image(path, frame=0)
    assert not first.id.valid
    assert h5cache.cached_paths() == [str(paths[1]), str(paths[2])]
    close_cached_files()
    assert h5cache.cached_paths() == []


def test_replaced_file_is_reopened(
    tmp_path: Path, stack: np.ndarray, opens: list[Path], write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "live.h5", stack)
    read_image(path, frame=0)
    fresh = write_nexus(tmp_path / "fresh.h5", stack[::-1].copy())
    os.replace(fresh, path)
    np.testing.assert_array_equal(read_image(path, frame=0).data, stack[-1])
    assert opens == [path, path]


def _child_read(path: str) -> tuple[float, int]:
    inherited = len(h5cache._handles)
    return float(read_image(path, frame=3).data.sum()), inherited


def test_forked_child_opens_its_own_handle(
    tmp_path: Path, stack: np.ndarray, write_nexus: Callable[..., Path]
) -> None:
    path = write_nexus(tmp_path / "shard.h5", stack)
    parent_handle = h5cache.open_h5(path)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        total, inherited = pool.apply(_child_read, (str(path),))
    assert inherited == 0
    assert total == pytest.approx(float(stack[3].sum()), rel=1e-5)
    assert parent_handle.id.valid
    np.testing.assert_array_equal(read_image(path, frame=3).data, stack[3])
