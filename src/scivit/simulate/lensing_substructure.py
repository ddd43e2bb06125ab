"""Dark-matter substructure of the three DeepLense classes, drawn as point masses.

`SUBSTRUCTURES` maps a class name to a function `(rng, physics, cosmo, theta_e) -> dict` that
draws the class's point masses around a main lens of Einstein radius `theta_e` (arcsec) and
returns them as plain JSON-able lists (`masses_msun`, `theta_E`, `x`, `y`, in arcsec) plus what
defines the class (Alexander et al. 2020, ApJ 893, 15):

- "no_substructure": none.
- "cdm": a Poisson number of subhalos (mean `subhalo_mean_count`) with power-law masses, at
  radii drawn uniformly in `subhalo_radii` and uniform position angles.
- "axion": a vortex, `vortex_mass` spread evenly over `vortex_points` point masses on a line
  through the lens centre at a random angle, of length twice the de Broglie wavelength of an
  axion of mass 10**U(axion_log10_mass_range) eV moving at the host's velocity dispersion.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from lenstronomy.Cosmo.lens_cosmo import LensCosmo

from scivit.registry import Registry
from scivit.simulate.lensing_physics import (
    LensingPhysics,
    de_broglie_wavelength_arcsec,
    einstein_radius,
    power_law_masses,
    velocity_dispersion,
)

Substructure = Callable[[np.random.Generator, LensingPhysics, LensCosmo, float], dict[str, Any]]
SUBSTRUCTURES: Registry[Substructure] = Registry("lensing class")


def point_masses(
    masses: np.ndarray, x: np.ndarray, y: np.ndarray, cosmo: LensCosmo
) -> dict[str, Any]:
    """Point masses as JSON-able lists, with their Einstein radii."""
    return {
        "masses_msun": [float(value) for value in masses],
        "theta_E": [float(value) for value in np.atleast_1d(einstein_radius(masses, cosmo))],
        "x": [float(value) for value in x],
        "y": [float(value) for value in y],
    }


@SUBSTRUCTURES.register("no_substructure")
def no_substructure(
    rng: np.random.Generator, physics: LensingPhysics, cosmo: LensCosmo, theta_e: float
) -> dict[str, Any]:
    """The smooth main lens alone."""
    empty = np.zeros(0)
    return point_masses(empty, empty, empty, cosmo)


@SUBSTRUCTURES.register("cdm")
def cdm(
    rng: np.random.Generator, physics: LensingPhysics, cosmo: LensCosmo, theta_e: float
) -> dict[str, Any]:
    """Cold-dark-matter subhalos as point masses scattered around the main lens."""
    count = int(rng.poisson(physics.subhalo_mean_count))
    low, high = physics.subhalo_mass_range
    masses = power_law_masses(rng, count, low, high, physics.subhalo_slope)
    radius = rng.uniform(*physics.subhalo_radii, size=count)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=count)
    return point_masses(masses, radius * np.cos(angle), radius * np.sin(angle), cosmo)


@SUBSTRUCTURES.register("axion")
def axion(
    rng: np.random.Generator, physics: LensingPhysics, cosmo: LensCosmo, theta_e: float
) -> dict[str, Any]:
    """An axion vortex: a line of point masses through the lens centre."""
    mass_ev = float(10.0 ** rng.uniform(*physics.axion_log10_mass_range))
    velocity = velocity_dispersion(theta_e, cosmo)
    wavelength = de_broglie_wavelength_arcsec(mass_ev, velocity, cosmo)
    angle = float(rng.uniform(0.0, 2.0 * np.pi))
    along = np.linspace(-wavelength, wavelength, physics.vortex_points)
    masses = np.full(physics.vortex_points, physics.vortex_mass / physics.vortex_points)
    return {
        **point_masses(masses, along * np.cos(angle), along * np.sin(angle), cosmo),
        "axion_mass_ev": mass_ev,
        "velocity_km_s": velocity,
        "de_broglie_arcsec": wavelength,
        "vortex_angle_rad": angle,
    }
