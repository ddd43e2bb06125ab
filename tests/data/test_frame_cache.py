"""FrameCache: hits equal cold reads, workers fill it, interrupted fills never yield garbage."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys

import numpy as np
import pytest
from tiny_data import LABELS

from scivit.data import FrameCache, cache_key, load_manifest, read_sample
from scivit.data.cache import RECORD
from scivit.errors import DataError
from scivit.transforms import build_transforms

SPEC = [{"name": "log"}, {"name": "standardize"}, {"name": "resize", "size": 16}]


@pytest.fixture
def manifest(make_dataset):
    return load_manifest(make_dataset(n=10, size=32, shards=2), LABELS)


def _open(tmp_path, manifest, spec=SPEC):
    return FrameCache.open(tmp_path / "cache", manifest, build_transforms(spec), spec, 16)


def _assert_same(a: dict, b: dict) -> None:
    np.testing.assert_array_equal(a["image"], b["image"])
    if a["mask"] is None:
        assert b["mask"] is None
    else:
        np.testing.assert_array_equal(a["mask"], b["mask"])
    assert a["beam_center"] == b["beam_center"]


def test_hit_equals_cold_read(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    assert cache.shape == (1, 16, 16)
    assert not cache.is_valid(3)
    cold = cache.sample(3)
    assert cache.is_valid(3)
    hit = _open(tmp_path, manifest).sample(3)
    _assert_same(cold, hit)
    assert hit["image"].dtype == np.float32
    assert hit["meta"]["path"] == str(manifest.paths[3])
    assert hit["meta"]["frame"] == manifest.frames[3]


def test_values_are_the_preprocessing_in_float16(tmp_path, manifest):
    cached = _open(tmp_path, manifest).sample(5)
    direct = build_transforms(SPEC)(read_sample(manifest, 5))
    np.testing.assert_array_equal(cached["image"], direct["image"].astype(np.float16))
    np.testing.assert_allclose(cached["image"], direct["image"], rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(cached["mask"], direct["mask"])
    assert cached["beam_center"] == pytest.approx(direct["beam_center"])
    assert cached["beam_center"] == pytest.approx((7.75, 7.75))


def test_fill_with_workers(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    assert cache.missing().size == len(manifest) - 1
    assert cache.fill(num_workers=2) == len(manifest) - 1
    assert cache.missing().size == 0
    assert cache.fill() == 0
    direct = build_transforms(SPEC)(read_sample(manifest, 9))
    np.testing.assert_array_equal(cache.sample(9)["image"], direct["image"].astype(np.float16))


def test_key_follows_spec_and_manifest(tmp_path, manifest, make_dataset):
    other_spec = [{"name": "log"}, {"name": "resize", "size": 16}]
    assert cache_key(manifest, SPEC, 16) == cache_key(manifest, list(SPEC), 16)
    assert cache_key(manifest, SPEC, 16) != cache_key(manifest, other_spec, 16)
    assert cache_key(manifest, SPEC, 16) != cache_key(manifest, SPEC, 32)
    assert _open(tmp_path, manifest).directory != _open(tmp_path, manifest, other_spec).directory
    assert _open(tmp_path, manifest).directory == _open(tmp_path, manifest).directory


def test_torn_rows_are_recomputed(tmp_path, manifest):
    """Rows whose data was written but not marked, or marked but lost, are never served."""
    cache = _open(tmp_path, manifest)
    cache.fill()
    expected = [cache.sample(row)["image"].copy() for row in range(len(manifest))]
    images = np.memmap(cache.directory / "images.f16", np.float16, "r+", shape=(10, 1, 16, 16))
    records = np.memmap(cache.directory / "rows.bin", RECORD, "r+", shape=(10,))
    images[2] = 1234.0
    records["valid"][2] = 0
    images[4] = -7.0
    images.flush()
    records.flush()
    reopened = _open(tmp_path, manifest)
    assert not reopened.is_valid(2)
    assert reopened.is_valid(4)
    for row in (2, 4):
        np.testing.assert_array_equal(reopened.sample(row)["image"], expected[row])
    assert reopened.missing().size == 0


KILLED_FILL = """
import os, signal, sys
from scivit.data import FrameCache, load_manifest
from scivit.transforms import build_transforms
spec = {spec}
manifest = load_manifest(sys.argv[1], {labels})
steps = build_transforms(spec)
def preprocess(sample):
    if sample["meta"]["index"] == 6:
        os.kill(os.getpid(), signal.SIGKILL)
    return steps(sample)
cache = FrameCache.open(sys.argv[2], manifest, preprocess, spec, 16)
for row in range(len(manifest)):
    cache.sample(row)
"""


def test_killed_fill_leaves_a_usable_cache(tmp_path, manifest):
    script = KILLED_FILL.format(spec=SPEC, labels=LABELS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", script, str(manifest.source), str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    cache = _open(tmp_path, manifest)
    assert list(cache.missing()) == [6, 7, 8, 9]
    steps = build_transforms(SPEC)
    for row in range(len(manifest)):
        direct = steps(read_sample(manifest, row))["image"].astype(np.float16)
        np.testing.assert_array_equal(cache.sample(row)["image"], direct)


def test_pickles_without_the_mapped_arrays(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    cache.sample(0)
    copy = pickle.loads(pickle.dumps(cache))
    assert len(pickle.dumps(cache)) < 64 * 1024
    _assert_same(copy.sample(0), cache.sample(0))


def test_overflowing_values_are_refused(tmp_path, manifest):
    spec = [{"name": "resize", "size": 16}]
    huge = build_transforms(spec)

    def scaled(sample):
        result = huge(sample)
        return {**result, "image": result["image"] * np.float32(1e5)}

    with pytest.raises(DataError, match="float16 range"):
        FrameCache.open(tmp_path / "cache", manifest, scaled, spec, 16)


def test_shape_change_is_refused(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    cache.preprocess = build_transforms([{"name": "resize", "size": 8}])
    with pytest.raises(DataError, match=r"frame \d+: preprocessed shape \(1, 8, 8\) differs"):
        cache.sample(1)


def test_truncated_data_file_is_recomputed(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    (cache.directory / "images.f16").write_bytes(b"")
    direct = build_transforms(SPEC)(read_sample(manifest, 0))["image"].astype(np.float16)
    np.testing.assert_array_equal(_open(tmp_path, manifest).sample(0)["image"], direct)


def test_damaged_cache_folder(tmp_path, manifest):
    cache = _open(tmp_path, manifest)
    (cache.directory / "cache.json").write_text("{")
    with pytest.raises(DataError, match="unreadable frame cache"):
        _open(tmp_path, manifest)
    (cache.directory / "cache.json").write_text(json.dumps({"rows": 10, "shape": [1, 16, 16]}))
    (cache.directory / "cache.json").write_text(json.dumps({"rows": 3, "shape": [1, 16, 16]}))
    with pytest.raises(DataError, match="cache holds 3 rows"):
        _open(tmp_path, manifest)


def test_rewritten_image_file_changes_the_key(tmp_path, manifest):
    before = cache_key(manifest, SPEC, 16)
    shard = manifest.paths[0]
    stamp = shard.stat()
    os.utime(shard, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))
    assert cache_key(manifest, SPEC, 16) != before


def test_cache_folder_that_cannot_be_made(tmp_path, manifest):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    with pytest.raises(DataError, match="cannot create the frame cache"):
        FrameCache.open(blocker / "cache", manifest, build_transforms(SPEC), SPEC, 16)
