"""simulate_scattering: files, manifest, determinism, labels, errors."""

from __future__ import annotations

import csv
import json
from collections import Counter

import h5py
import numpy as np
import pytest
import tifffile

import scivit.simulate.scattering as scattering
from scivit.errors import ConfigError
from scivit.simulate import SCATTERING_TAGS, SIMULATORS, simulate_scattering
from scivit.simulate.scattering_render import render_frame
from scivit.simulate.scattering_scene import frame_setups, sample_scene

COLUMNS = ["path", "frame", "labels", "group", "beam_center_x", "beam_center_y"]


def _rows(manifest):
    with open(manifest, newline="") as handle:
        return list(csv.DictReader(handle))


def _frames(manifest):
    frames = []
    for row in _rows(manifest):
        with h5py.File(manifest.parent / row["path"], "r") as handle:
            frames.append(handle["entry/data/data"][int(row["frame"])])
    return np.stack(frames)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    manifest = simulate_scattering(out, 10, seed=7, size=32, frames_per_shard=4, progress=False)
    return manifest


def test_tags_and_registry():
    assert SCATTERING_TAGS[0] == "BCC" and SCATTERING_TAGS[-1] == "Wedge beamstop"
    assert len(SCATTERING_TAGS) == 17 and list(SCATTERING_TAGS) == sorted(SCATTERING_TAGS)
    assert SIMULATORS.get("scattering") is simulate_scattering


def test_manifest_schema(dataset):
    rows = _rows(dataset)
    assert list(rows[0]) == COLUMNS
    assert len(rows) == 10
    assert {row["path"] for row in rows} == {"shard_00000.h5", "shard_00001.h5", "shard_00002.h5"}
    for row in rows:
        assert all(tag in SCATTERING_TAGS for tag in row["labels"].split(";") if tag)
        float(row["beam_center_x"]), float(row["beam_center_y"])
    sizes = Counter(row["group"] for row in rows)
    assert max(sizes.values()) <= 4
    assert not list(dataset.parent.glob(".*part"))


def test_shards_are_nexus(dataset):
    with h5py.File(dataset.parent / "shard_00000.h5", "r") as handle:
        assert handle["entry"].attrs["NX_class"] == "NXentry"
        assert handle["entry"].attrs["default"] == "data"
        data_group = handle["entry/data"]
        assert data_group.attrs["NX_class"] == "NXdata" and data_group.attrs["signal"] == "data"
        data = data_group["data"]
        assert data.shape == (4, 32, 32) and data.dtype == np.int32
        assert data.chunks == (1, 32, 32) and data.compression == "gzip"
        centers = handle["entry/instrument/detector/beam_center_x"][()]
        parameters = json.loads(handle["entry/sample/parameters"][0])
        tags = json.loads(handle["entry/sample/tags"][0])
    rows = _rows(dataset)
    assert centers[0] == pytest.approx(float(rows[0]["beam_center_x"]), abs=1e-3)
    assert parameters["instrument"]["beamstop"]["kind"] in ("circular", "linear", "wedge")
    assert ";".join(tags) == rows[0]["labels"]


def test_same_seed_same_data_for_any_worker_count(dataset, tmp_path):
    again = simulate_scattering(
        tmp_path, 10, seed=7, workers=2, size=32, frames_per_shard=3, progress=False
    )
    assert [row["labels"] for row in _rows(again)] == [row["labels"] for row in _rows(dataset)]
    np.testing.assert_array_equal(_frames(again), _frames(dataset))
    other = simulate_scattering(tmp_path / "other", 10, seed=8, size=32, progress=False)
    assert not np.array_equal(_frames(other), _frames(dataset))


def test_tiff_and_unlabelled(tmp_path):
    manifest = simulate_scattering(
        tmp_path, 3, size=32, fmt="tiff", unlabelled=True, progress=False
    )
    rows = _rows(manifest)
    assert list(rows[0]) == ["path", "frame", "group", "beam_center_x", "beam_center_y"]
    image = tifffile.imread(tmp_path / rows[0]["path"])
    assert image.shape == (32, 32) and image.dtype == np.int32


def test_failed_frame_is_reported_and_others_written(tmp_path, monkeypatch, capsys):
    original = scattering.render_group_frame

    def flaky(seed, group, position, count, size, index):
        if index == 1:
            raise RuntimeError("detector on fire")
        return original(seed, group, position, count, size, index)

    monkeypatch.setattr(scattering, "render_group_frame", flaky)
    manifest = simulate_scattering(tmp_path, 4, size=32, progress=False)
    assert len(_rows(manifest)) == 3
    error = capsys.readouterr().err
    assert "1 of 4 frames failed" in error and "frame 1" in error and "detector on fire" in error


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"n": 0}, "n must"),
        ({"n": 2, "size": 16}, "size"),
        ({"n": 2, "fmt": "png"}, "fmt"),
        ({"n": 2, "workers": 0}, "workers"),
        ({"n": 2, "frames_per_shard": 0}, "frames_per_shard"),
    ],
)
def test_bad_arguments_raise_config_error(tmp_path, kwargs, word):
    with pytest.raises(ConfigError, match=word):
        simulate_scattering(tmp_path, progress=False, **kwargs)


@pytest.fixture(scope="module")
def many_frames():
    frames = []
    for index in range(300):
        rng = np.random.default_rng([11, index])
        scene = sample_scene(rng, 48)
        setup = frame_setups(rng, scene, 48, 1)[0]
        frames.append((scene, render_frame(scene, setup, 48, rng)))
    return frames


def test_every_tag_appears_at_a_sensible_rate(many_frames):
    counts = Counter(tag for _, frame in many_frames for tag in frame.tags)
    rates = {tag: counts[tag] / len(many_frames) for tag in SCATTERING_TAGS}
    assert all(0.02 <= rate <= 0.7 for rate in rates.values()), rates


def test_beam_off_image_frames_have_centre_outside(many_frames):
    off = [frame for _, frame in many_frames if "Beam Off Image" in frame.tags]
    assert off
    for frame in off:
        x, y = frame.center
        assert not (0 <= x < 48 and 0 <= y < 48)
    on = [frame for _, frame in many_frames if "Beam Off Image" not in frame.tags]
    assert all(0 <= x < 48 and 0 <= y < 48 for x, y in (frame.center for frame in on))


def test_tags_follow_the_scene(many_frames):
    for scene, frame in many_frames:
        kinds = {part["kind"] for part in scene["components"]}
        lattices = {part.get("lattice") for part in scene["components"]}
        if "BCC" in frame.tags:
            assert "bcc" in lattices and "Higher orders" in frame.tags
        if "FCC" in frame.tags:
            assert "fcc" in lattices
        if "Polycrystalline" in frame.tags:
            assert "powder" in kinds and "Ring" in frame.tags
        if "Many rings" in frame.tags:
            assert "Ring" in frame.tags
        if "Structure factor" in frame.tags:
            assert "structure_factor" in kinds
        if "Halo" in frame.tags:
            assert "halo" in kinds
        stop = scene["instrument"]["beamstop"]["kind"]
        for kind, tag in (
            ("circular", "Circular Beamstop"),
            ("linear", "Linear beamstop"),
            ("wedge", "Wedge beamstop"),
        ):
            if tag in frame.tags:
                assert stop == kind
        assert not {"Weak scattering", "Strong scattering"} <= set(frame.tags)
