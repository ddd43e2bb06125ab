"""Scattering curves: lattice ratios, calibrant rings, sasmodels units."""

from __future__ import annotations

import numpy as np
import pytest
from pyFAI.calibrant import get_calibrant

from scivit.simulate.scattering_physics import (
    LATTICE_X,
    bragg_ratios,
    calibrant_ring_positions,
    dnn_for_first_peak,
    lattice_curve,
    lattice_peak_positions,
    sas_curve,
)
from scivit.simulate.scattering_terms import build_terms


def test_bcc_peak_ratios_are_1_sqrt2_sqrt3():
    positions = lattice_peak_positions("bcc", dnn_nm=12.0)
    np.testing.assert_allclose(positions[:3] / positions[0], [1.0, np.sqrt(2), np.sqrt(3)])


def test_fcc_peak_pattern_is_sqrt3_sqrt4_sqrt8():
    positions = lattice_peak_positions("fcc", dnn_nm=12.0)
    expected = np.array([np.sqrt(3), np.sqrt(4), np.sqrt(8)]) / np.sqrt(3)
    np.testing.assert_allclose(positions[:3] / positions[0], expected)
    assert bragg_ratios("fcc", 3) ** 2 == pytest.approx([3, 4, 8])


@pytest.mark.parametrize("lattice", ["bcc", "fcc"])
def test_first_peak_of_rendered_lattice_sits_where_parameters_say(lattice):
    q1 = 0.8
    dnn = dnn_for_first_peak(q1)
    assert lattice_peak_positions(lattice, dnn)[0] == pytest.approx(q1)
    grid = np.linspace(0.5, 1.1, 601)
    curve = lattice_curve(lattice, dnn, 0.04, grid)
    assert grid[np.argmax(curve)] == pytest.approx(q1, rel=0.02)


def test_lattice_template_covers_several_orders():
    ratios = bragg_ratios("bcc", 4)
    assert LATTICE_X[-1] > np.pi * np.sqrt(6) * ratios[-1] / ratios[0]


@pytest.mark.parametrize("name", ["AgBh", "LaB6", "Si"])
def test_calibrant_rings_match_pyfai_d_spacings(name):
    d_angstrom = np.unique(get_calibrant(name).dspacing)[::-1]
    np.testing.assert_allclose(calibrant_ring_positions(name), 2 * np.pi / (d_angstrom / 10.0))


def test_powder_terms_peak_at_calibrant_rings():
    grid = np.linspace(0.01, 6.0, 6000)
    spec = {"kind": "powder", "calibrant": "AgBh", "heights": [1.0] * 5, "relative_width": 0.002}
    terms = build_terms([spec], grid, resolution=0.003)
    centres = [grid[np.argmax(term.curve)] for term in terms]
    np.testing.assert_allclose(centres, calibrant_ring_positions("AgBh")[:5], atol=2e-3)


def test_sas_curve_converts_nm_to_angstrom():
    q_nm = np.array([0.05, 0.1, 0.2])
    rg_angstrom = 40.0
    curve = sas_curve("guinier", q_nm, rg=rg_angstrom)
    expected = np.exp(-((q_nm / 10.0) ** 2) * rg_angstrom**2 / 3.0)
    np.testing.assert_allclose(curve, expected, rtol=1e-6)


def test_structure_factor_peak_is_reported_near_hard_sphere_maximum():
    grid = np.linspace(0.01, 3.0, 1000)
    radius = 10.0 * 3.5 / 0.8
    spec = {
        "kind": "structure_factor",
        "params": {"radius": radius, "radius_effective": radius, "volfraction": 0.35},
        "q_ref": 0.05,
        "amplitude": 10.0,
    }
    (term,) = build_terms([spec], grid, resolution=0.01)
    (peak,) = term.peaks
    s_of_q = sas_curve("hardsphere", grid, radius_effective=radius, volfraction=0.35)
    assert peak.q == pytest.approx(grid[np.argmax(s_of_q)], rel=0.1)
    assert peak.excess.max() > 0
