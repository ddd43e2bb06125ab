"""Lensing physics against hand computations: Einstein radii, de Broglie lengths, subhalos."""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units
from astropy.cosmology import FlatLambdaCDM
from scipy import stats

from scivit.simulate.lensing_physics import (
    LensingPhysics,
    de_broglie_wavelength_arcsec,
    de_broglie_wavelength_kpc,
    einstein_radius,
    lens_cosmo,
    power_law_masses,
    velocity_dispersion,
)
from scivit.simulate.lensing_scene import draw_scene, lens_models
from scivit.simulate.lensing_substructure import SUBSTRUCTURES

G = 6.67430e-11  # m^3 kg^-1 s^-2 (CODATA 2018)
C = 299792458.0  # m/s
M_SUN = 1.988409870698051e30  # kg (IAU 2015 nominal GM_sun / G)
H = 6.62607015e-34  # J s
EV = 1.602176634e-19  # J
KPC = 3.0856775814913673e19  # m
ARCSEC = math.pi / 180 / 3600
COSMO = FlatLambdaCDM(H0=70, Om0=0.3, Ob0=0.05)


def distances_m(z_lens=0.5, z_source=1.0):
    d_l = COSMO.angular_diameter_distance(z_lens).to(units.m).value
    d_s = COSMO.angular_diameter_distance(z_source).to(units.m).value
    d_ls = COSMO.angular_diameter_distance(z_lens, z_source).to(units.m).value
    return d_l, d_s, d_ls


@pytest.mark.parametrize("mass", [1e12, 3e8, 1e6])
def test_einstein_radius_matches_the_point_mass_formula(mass):
    d_l, d_s, d_ls = distances_m()
    theta = math.sqrt(4 * G * mass * M_SUN / C**2 * d_ls / (d_l * d_s)) / ARCSEC
    # lenstronomy's G M_sun (6.67384e-11 x 1.9891e30) is 2.8e-4 above the IAU value
    assert einstein_radius(mass, lens_cosmo(0.5, 1.0)) == pytest.approx(theta, rel=2e-4)


def test_main_lens_einstein_radius_value():
    theta = float(einstein_radius(1e12, lens_cosmo(0.5, 1.0)))
    assert theta == pytest.approx(1.665, abs=0.002)
    many = einstein_radius(np.array([1e12, 4e12]), lens_cosmo(0.5, 1.0))
    np.testing.assert_allclose(many, [theta, 2 * theta], rtol=1e-12)


def test_de_broglie_wavelength_by_hand():
    mass_kg = 1e-22 * EV / C**2
    expected = H / (mass_kg * 10e3) / KPC
    assert de_broglie_wavelength_kpc(1e-22, 10.0) == pytest.approx(expected, rel=1e-9)
    assert de_broglie_wavelength_kpc(1e-22, 10.0) / (2 * math.pi) == pytest.approx(1.92, rel=3e-3)
    assert de_broglie_wavelength_kpc(1e-24, 250.0) == pytest.approx(100 * expected / 25, rel=1e-9)


def test_de_broglie_angle_and_halo_velocity_by_hand():
    d_l, d_s, d_ls = distances_m()
    cosmo = lens_cosmo(0.5, 1.0)
    theta_e = float(einstein_radius(1e12, cosmo))
    sigma = C * math.sqrt(theta_e * ARCSEC * d_s / (4 * math.pi * d_ls)) / 1e3
    assert velocity_dispersion(theta_e, cosmo) == pytest.approx(sigma, rel=1e-6)
    length_m = H / (1e-23 * EV / C**2 * sigma * 1e3)
    angle = length_m / d_l / ARCSEC
    assert de_broglie_wavelength_arcsec(1e-23, sigma, cosmo) == pytest.approx(angle, rel=1e-5)


def test_power_law_masses_follow_their_distribution():
    rng = np.random.default_rng(0)
    low, high, slope = 1e6, 1e10, -1.9
    masses = power_law_masses(rng, 4000, low, high, slope)
    assert masses.min() >= low and masses.max() <= high

    def cdf(m):
        return (m ** (slope + 1) - low ** (slope + 1)) / (high ** (slope + 1) - low ** (slope + 1))

    assert stats.kstest(masses, cdf).pvalue > 0.01
    assert stats.kstest(power_law_masses(rng, 4000, low, high, -0.9), cdf).pvalue < 1e-6


def test_subhalo_count_is_poisson_with_mean_25():
    rng = np.random.default_rng(1)
    physics, cosmo = LensingPhysics(), lens_cosmo(0.5, 1.0)
    draws = [SUBSTRUCTURES.get("cdm")(rng, physics, cosmo, 1.66) for _ in range(2000)]
    counts = np.array([len(draw["masses_msun"]) for draw in draws])
    assert counts.mean() == pytest.approx(25.0, abs=0.5)
    assert counts.var() / counts.mean() == pytest.approx(1.0, abs=0.15)
    masses = np.concatenate([draw["masses_msun"] for draw in draws])
    assert masses.min() >= 1e6 and masses.max() <= 1e10
    radii = np.concatenate([np.hypot(draw["x"], draw["y"]) for draw in draws])
    assert radii.min() >= 0.25 and radii.max() <= 2.0
    assert stats.kstest(radii, stats.uniform(0.25, 1.75).cdf).pvalue > 0.01
    theta = np.concatenate([draw["theta_E"] for draw in draws])
    np.testing.assert_allclose(theta, einstein_radius(masses, cosmo), rtol=1e-12)


def test_axion_vortex_is_a_line_twice_the_de_broglie_wavelength():
    rng = np.random.default_rng(2)
    cosmo = lens_cosmo(0.5, 1.0)
    theta_e = float(einstein_radius(1e12, cosmo))
    masses_ev = []
    for _ in range(20):
        vortex = SUBSTRUCTURES.get("axion")(rng, LensingPhysics(), cosmo, theta_e)
        mass_ev = vortex["axion_mass_ev"]
        masses_ev.append(mass_ev)
        d_l, _, _ = distances_m()
        length_m = H / (mass_ev * EV / C**2 * vortex["velocity_km_s"] * 1e3)
        points = np.stack([vortex["x"], vortex["y"]], axis=1)
        assert len(points) == 100
        span = np.linalg.norm(points[-1] - points[0])
        assert span == pytest.approx(2 * length_m / d_l / ARCSEC, rel=1e-5)
        np.testing.assert_allclose(points.mean(axis=0), 0.0, atol=1e-9)
        direction = (points[-1] - points[0]) / span
        across = points @ np.array([-direction[1], direction[0]])
        np.testing.assert_allclose(across, 0.0, atol=1e-9)
        assert sum(vortex["masses_msun"]) == pytest.approx(3e10)
    assert min(masses_ev) >= 1e-24 and max(masses_ev) <= 1e-22


def test_scene_and_lens_models():
    scene = draw_scene(np.random.default_rng(3), "cdm")
    names, kwargs = lens_models(scene)
    count = len(scene["substructure"]["masses_msun"])
    assert names == ["SIE", "SHEAR", *["POINT_MASS"] * count]
    assert kwargs[0] == {
        "theta_E": pytest.approx(1.665, abs=0.002),
        "e1": 0.1,
        "e2": 0.0,
        "center_x": 0.0,
        "center_y": 0.0,
    }
    assert kwargs[1] == {"gamma1": 0.05, "gamma2": 0.0}
    source = scene["source"]
    assert (source["R_sersic"], source["n_sersic"]) == (0.25, 1.0)
    assert max(abs(source["center_x"]), abs(source["center_y"])) <= 0.35
    smooth = draw_scene(np.random.default_rng(3), "no_substructure")
    assert lens_models(smooth)[0] == ["SIE", "SHEAR"]
