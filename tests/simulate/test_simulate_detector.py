"""Detector side: pyFAI geometry, module gaps, beam stops, Poisson counting."""

from __future__ import annotations

import numpy as np
import pytest

from scivit.simulate.detector import (
    GAP_VALUE,
    LAYOUTS,
    SATURATION,
    beamstop_fields,
    count,
    frame_geometry,
    gap_mask,
    pyfai_geometry,
    transmission,
)


def _geometry(center=(20.0, 30.0), tilt=0.0, size=48):
    geometry = pyfai_geometry(size, 172e-6, 2000.0, 0.1, center, tilt, 0.0)
    return frame_geometry(geometry, np.zeros((size, size), bool), 0.95)


def test_q_map_follows_bragg_law_without_tilt():
    maps = _geometry()
    row, col = 10, 40
    radius = np.hypot(col - 20.0, row - 30.0) * 172e-6
    two_theta = np.arctan2(radius, 2.0)
    expected = 4 * np.pi / 0.1 * np.sin(two_theta / 2)
    assert maps.q[row, col] == pytest.approx(expected, rel=1e-4)
    assert np.unravel_index(np.argmin(maps.q), maps.q.shape) == (30, 20)


def test_pilatus_gaps_appear_at_native_scale():
    layout = LAYOUTS["pilatus"]
    size = 400
    gaps = gap_mask(layout, size, crop=size / min(layout.shape), offset=(0.0, 0.0))
    gap_rows = np.flatnonzero(gaps.all(axis=1))
    assert gap_rows.tolist() == list(range(195, 212))
    assert np.flatnonzero(gaps.all(axis=0)).tolist() == []


def test_ccd_has_no_gaps():
    assert not gap_mask(LAYOUTS["ccd"], 64, 0.7, (0.3, 0.6)).any()


def test_poisson_noise_variance_matches_mean_on_flat_region():
    rng = np.random.default_rng(0)
    expected = np.full((128, 128), 50.0)
    none = np.zeros_like(expected, dtype=bool)
    counts = count(expected, none, none, none, rng).astype(float)
    assert counts.mean() == pytest.approx(50.0, rel=0.01)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.05)
    assert not np.array_equal(counts, expected)


def test_count_marks_gaps_dead_and_hot_pixels():
    rng = np.random.default_rng(1)
    expected = np.full((32, 32), 10.0)
    gaps = np.zeros((32, 32), bool)
    gaps[5] = True
    dead = np.zeros_like(gaps)
    dead[0, 0] = True
    hot = np.zeros_like(gaps)
    hot[1, 1] = True
    counts = count(expected, gaps, dead, hot, rng)
    assert counts.dtype == np.int32
    assert (counts[5] == GAP_VALUE).all()
    assert counts[0, 0] == 0
    assert counts[1, 1] > 1000


def test_count_saturates_rates_beyond_numpys_poisson_range():
    # A lamellar form factor at an unshadowed beam centre once reached 1.6e21 counts.
    expected = np.array([[1.6e21, 4.0, 3.0 * SATURATION, np.inf]])
    none = np.zeros(expected.shape, bool)
    counts = count(expected, none, none, none, np.random.default_rng(0))
    assert counts[0, 0] == counts[0, 2] == counts[0, 3] == SATURATION
    assert 0 <= counts[0, 1] < 30


@pytest.mark.parametrize("kind", ["circular", "linear", "wedge"])
def test_beamstops_cover_the_beam(kind):
    params = {
        "dx": 0.0,
        "dy": 0.0,
        "angle": 0.3,
        "radius": 4.0,
        "arm_width": 2.0,
        "width": 6.0,
        "overshoot": 3.0,
        "half_angle": 0.1,
    }
    full, body = beamstop_fields(kind, 64, (32.0, 32.0), params)
    assert full[32, 32] < 0 and body[32, 32] < 0
    assert full[2, 2] > 0
    passed = transmission(full, 0.3, 1e-3)
    assert passed[32, 32] == pytest.approx(1e-3, abs=5e-4)
    assert passed[2, 2] == pytest.approx(1.0)


def test_circular_stop_body_excludes_its_arm():
    params = {"dx": 0.0, "dy": 0.0, "angle": 0.0, "radius": 4.0, "arm_width": 2.0}
    full, body = beamstop_fields("circular", 64, (32.0, 32.0), params)
    assert full[32, 60] < 0 and body[32, 60] > 0
