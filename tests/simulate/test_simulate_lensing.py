"""simulate_lensing: files, manifest, balance, determinism, instruments, noise and errors."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter

import h5py
import numpy as np
import pytest
from lenstronomy.SimulationAPI.ObservationConfig.Euclid import Euclid
from lenstronomy.SimulationAPI.ObservationConfig.HST import HST

import scivit.simulate.lensing as lensing
from scivit.errors import ConfigError
from scivit.io import read_image
from scivit.simulate import LENSING_CLASSES, SIMULATORS, simulate_lensing
from scivit.simulate.lensing_instruments import INSTRUMENTS
from scivit.simulate.lensing_render import render
from scivit.simulate.lensing_scene import draw_scene

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


def _scenes(manifest):
    scenes = []
    for row in _rows(manifest):
        with h5py.File(manifest.parent / row["path"], "r") as handle:
            scenes.append(json.loads(handle["entry/sample/parameters"][int(row["frame"])]))
    return scenes


@pytest.fixture(scope="module")
def euclid(tmp_path_factory):
    out = tmp_path_factory.mktemp("lens")
    return simulate_lensing(out, 10, seed=3, model="II", frames_per_shard=4, progress=False)


def test_registry_and_classes():
    assert SIMULATORS.get("lensing") is simulate_lensing
    assert LENSING_CLASSES == ("no_substructure", "cdm", "axion")
    assert INSTRUMENTS.names() == ["I", "II", "III"]


def test_manifest_is_balanced_and_matches_the_shards(euclid):
    rows = _rows(euclid)
    assert list(rows[0]) == COLUMNS and len(rows) == 10
    assert Counter(row["labels"] for row in rows) == {"no_substructure": 4, "cdm": 3, "axion": 3}
    assert [row["path"] for row in rows] == ["shard_00000.h5"] * 4 + ["shard_00001.h5"] * 4 + [
        "shard_00002.h5"
    ] * 2
    assert {(row["beam_center_x"], row["beam_center_y"]) for row in rows} == {("31.500", "31.500")}
    assert len({row["group"] for row in rows}) == 10
    assert not list(euclid.parent.glob(".*"))
    for row, scene in zip(rows, _scenes(euclid), strict=True):
        assert scene["label"] == row["labels"] and scene["model"] == "II"


def test_shard_metadata(euclid):
    with h5py.File(euclid.parent / "shard_00000.h5", "r") as handle:
        data = handle["entry/data"]
        assert data.attrs["signal"] == "data" and data["data"].shape == (4, 64, 64)
        assert data["data"].dtype == np.float32
        sample = handle["entry/sample"]
        labels = [label.decode() for label in sample["label"][()]]
        assert labels == ["no_substructure", "cdm", "axion", "no_substructure"]
        axion_mass = sample["axion_mass"][()]
        assert np.isnan(axion_mass[[0, 1, 3]]).all() and 1e-24 <= axion_mass[2] <= 1e-22
        assert sample["axion_mass"].attrs["units"] == "eV"
        counts = sample["n_point_masses"][()]
        masses = sample["point_masses"][()]
        assert counts[0] == 0 and counts[2] == 100 and len(masses[1]) == counts[1]
        assert masses[2].sum() == pytest.approx(3e10)
        scenes = [json.loads(text) for text in sample["parameters"][()]]
        assert sample["source_center_x"][1] == scenes[1]["source"]["center_x"]
        assert sample["einstein_radius"][0] == pytest.approx(1.665, abs=0.002)
        detector = handle["entry/instrument/detector"]
        assert detector["x_pixel_size"][()] == 0.101 and detector["psf_fwhm"][()] == 0.16


def test_frames_read_through_scivit_io(euclid):
    frame = read_image(euclid.parent / "shard_00001.h5", frame=2)
    np.testing.assert_array_equal(frame.data, _frames(euclid)[6])
    assert frame.meta["units"] == "counts/s"


def test_same_seed_same_data_for_any_worker_count(euclid, tmp_path):
    again = simulate_lensing(
        tmp_path, 10, seed=3, model="II", workers=2, frames_per_shard=4, progress=False
    )
    np.testing.assert_array_equal(_frames(again), _frames(euclid))
    assert again.read_text() == euclid.read_text()
    other = simulate_lensing(
        tmp_path / "other", 3, seed=4, model="II", frames_per_shard=4, progress=False
    )
    assert not np.allclose(_frames(other), _frames(euclid)[:3])


def test_stored_frames_are_reproducible_from_their_parameters(euclid):
    scene = _scenes(euclid)[5]
    again = render(scene, INSTRUMENTS.get("II"), scene["noise_seed"])
    np.testing.assert_array_equal(again.image, _frames(euclid)[5])


def test_noiseless_frames_are_the_models_of_the_same_scenes(euclid, tmp_path):
    quiet = simulate_lensing(tmp_path, 10, seed=3, model="II", progress=False, noise=False)
    noisy_scenes, quiet_scenes = _scenes(euclid), _scenes(quiet)
    for noisy, plain in zip(noisy_scenes, quiet_scenes, strict=True):
        assert noisy.pop("noise") is True and plain.pop("noise") is False
        assert plain == noisy
    scene = quiet_scenes[4]
    expected = render(scene, INSTRUMENTS.get("II"), scene["noise_seed"]).model
    np.testing.assert_allclose(_frames(quiet)[4], expected, rtol=1e-6)
    for manifest, added in ((euclid, True), (quiet, False)):
        with h5py.File(manifest.parent / "shard_00000.h5", "r") as handle:
            detector = handle["entry/instrument/detector"]
            assert detector["noise_added"][()] == added
            background = detector["background_sigma"][()]
    residual = (_frames(euclid) - _frames(quiet)).std()
    assert background < residual < 2 * background


def test_noise_is_switched_off_from_the_command_line(tmp_path):
    from scivit.cli import main

    out = tmp_path / "quiet"
    arguments = ["simulate", "lensing", "--out", str(out), "--n", "3", "--model", "III"]
    assert main([*arguments, "--noise", "false", "--progress", "false"]) == 0
    scene = _scenes(out / "manifest.csv")[1]
    assert scene["noise"] is False
    expected = render(scene, INSTRUMENTS.get("III"), scene["noise_seed"]).model
    np.testing.assert_allclose(_frames(out / "manifest.csv")[1], expected, rtol=1e-6)


@pytest.mark.parametrize("model, size", [("I", 150), ("II", 64), ("III", 64)])
def test_frame_size_per_model(tmp_path, model, size):
    manifest = simulate_lensing(tmp_path, 3, model=model, progress=False)
    assert _frames(manifest).shape == (3, size, size)
    centre = f"{(size - 1) / 2:.3f}"
    assert {row["beam_center_x"] for row in _rows(manifest)} == {centre}


def _background_sigma_by_hand(band):
    """Sky plus read noise per pixel, in counts/s (lenstronomy's data units)."""
    exposure = band["exposure_time"] * band["num_exposures"]
    sky_cps = 10 ** (-0.4 * (band["sky_brightness"] - band["magnitude_zero_point"]))
    sky_counts = sky_cps * band["pixel_scale"] ** 2 * exposure
    read = band["read_noise"] ** 2 * band["num_exposures"]
    return math.sqrt(sky_counts + read) / exposure, exposure


@pytest.mark.parametrize("model", ["I", "II", "III"])
def test_noise_is_background_plus_shot_noise(model):
    instrument = INSTRUMENTS.get(model)
    scene = draw_scene(np.random.default_rng(5), "cdm")
    rendered = render(scene, instrument, noise_seed=11)
    sigma, exposure = _background_sigma_by_hand(instrument.band)
    assert rendered.background_sigma == pytest.approx(sigma, rel=1e-9)
    assert rendered.exposure_time == exposure
    residual = rendered.image.astype(np.float64) - rendered.model
    variance = sigma**2 + np.clip(rendered.model, 0, None) / exposure
    pulls = residual / np.sqrt(variance)
    assert pulls.std() == pytest.approx(1.0, abs=0.06)
    assert abs(pulls.mean()) < 0.06
    faint = rendered.model <= np.percentile(rendered.model, 20)
    bright = rendered.model >= np.percentile(rendered.model, 95)
    assert residual[faint].var() == pytest.approx(variance[faint].mean(), rel=0.15)
    assert residual[bright].var() == pytest.approx(variance[bright].mean(), rel=0.3)
    assert variance[bright].mean() > 3 * sigma**2


def test_model_one_has_peak_snr_25():
    instrument = INSTRUMENTS.get("I")
    rendered = render(draw_scene(np.random.default_rng(6), "axion"), instrument, noise_seed=1)
    peak = rendered.model.max()
    noise = math.sqrt(rendered.background_sigma**2 + peak / rendered.exposure_time)
    assert peak / noise == pytest.approx(25.0, rel=1e-9)
    assert (instrument.pixel_scale, instrument.psf_fwhm, instrument.num_pix) == (0.05, 0.087, 150)


def _light_radius_px(image, centre):
    rows, cols = np.indices(image.shape)
    weights = np.clip(image, 0, None)
    return float((np.hypot(rows - centre, cols - centre) * weights).sum() / weights.sum())


def test_hst_and_euclid_differ_in_pixels_and_psf():
    euclid, hst = INSTRUMENTS.get("II"), INSTRUMENTS.get("III")
    vis = Euclid(band="VIS", psf_type="GAUSSIAN", coadd_years=6).kwargs_single_band()
    f160w = HST(band="WFC3_F160W", psf_type="GAUSSIAN").kwargs_single_band()
    assert (euclid.pixel_scale, euclid.psf_fwhm) == (vis["pixel_scale"], vis["seeing"])
    assert (hst.pixel_scale, hst.psf_fwhm) == (f160w["pixel_scale"], f160w["seeing"])
    assert (euclid.pixel_scale, hst.pixel_scale) == (0.101, 0.08)
    scene = draw_scene(np.random.default_rng(7), "no_substructure")
    radius_euclid = _light_radius_px(render(scene, euclid, 0).model, euclid.center)
    radius_hst = _light_radius_px(render(scene, hst, 0).model, hst.center)
    assert radius_hst / radius_euclid == pytest.approx(0.101 / 0.08, rel=0.05)


def test_bad_model_letter_and_options(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown model 'IV'; valid: I, II, III"):
        simulate_lensing(tmp_path, 3, model="IV", progress=False)
    with pytest.raises(ConfigError, match=r"n must be a positive number of frames, got 0"):
        simulate_lensing(tmp_path, 0)
    with pytest.raises(ConfigError, match=r"workers must be at least 1"):
        simulate_lensing(tmp_path, 3, workers=0)
    assert not (tmp_path / "manifest.csv").exists()


def test_failed_frames_are_reported_and_the_rest_written(tmp_path, monkeypatch, capsys):
    real = lensing.render

    def flaky(scene, instrument, noise_seed, noise):
        if scene["label"] == "cdm":
            raise RuntimeError("ray tracing diverged")
        return real(scene, instrument, noise_seed, noise)

    monkeypatch.setattr(lensing, "render", flaky)
    manifest = simulate_lensing(tmp_path, 6, model="III", progress=False)
    assert "2 of 6 frames failed; first: frame 1: RuntimeError: ray tracing diverged" in (
        capsys.readouterr().err
    )
    rows = _rows(manifest)
    assert [row["labels"] for row in rows] == ["no_substructure", "axion"] * 2
    assert [row["frame"] for row in rows] == ["0", "1", "2", "3"]
    assert _frames(manifest).shape == (4, 64, 64)
