"""Lensing physics of the DeepLense simulations: distances, Einstein radii, de Broglie lengths.

Distances come from lenstronomy's `LensCosmo` in a flat Lambda-CDM cosmology (H0 = 70 km/s/Mpc,
Omega_m = 0.3, Omega_b = 0.05, the one the DeepLense simulations used; Alexander et al. 2020,
ApJ 893, 15). A mass M enclosed by its Einstein ring has theta_E = sqrt(M / (pi Sigma_crit)),
i.e. theta_E = sqrt(4 G M / c^2 * D_ls / (D_l D_s)) with angular diameter distances.

The axion vortex length follows the de Broglie wavelength of the dark-matter particle moving at
the typical velocity of the host halo,

    lambda_dB = h / (m v),

(de Broglie 1924), which for ultralight dark matter reads lambda_dB / 2 pi = 1.92 kpc
(1e-22 eV / m) (10 km/s / v) (Hui, Ostriker, Tremaine & Witten 2017, Phys. Rev. D 95, 043541,
Sec. I). The velocity is the velocity dispersion of the singular isothermal sphere with the main
lens's Einstein radius, sigma_v = c sqrt(theta_E D_s / (4 pi D_ls)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from astropy import constants, units
from astropy.cosmology import FlatLambdaCDM
from lenstronomy.Cosmo.lens_cosmo import LensCosmo

COSMOLOGY = FlatLambdaCDM(H0=70.0, Om0=0.3, Ob0=0.05)


@dataclass(frozen=True)
class LensingPhysics:
    """Settings of the lens systems; the defaults are those of the DeepLense data sets.

    Angles are in arcsec, masses in solar masses, the axion mass in eV. The number of subhalos
    is Poisson with mean `subhalo_mean_count`, as the DeepLense data sets are described (the
    released code drew a fixed 25). Their masses follow dN/dm proportional to
    m**subhalo_slope; -0.9 is what the released code drew with (the canonical cold-dark-matter
    subhalo mass function has -1.9).
    """

    z_lens: float = 0.5
    z_source: float = 1.0
    halo_mass: float = 1e12
    halo_ellipticity: tuple[float, float] = (0.1, 0.0)
    shear: tuple[float, float] = (0.05, 0.0)
    source_radius: float = 0.25
    source_index: float = 1.0
    source_ellipticity: tuple[float, float] = (-0.1, 0.1)
    source_offset: float = 0.35
    subhalo_mean_count: float = 25.0
    subhalo_mass_range: tuple[float, float] = (1e6, 1e10)
    subhalo_slope: float = -0.9
    subhalo_radii: tuple[float, float] = (0.25, 2.0)
    vortex_mass: float = 3e10
    vortex_points: int = 100
    axion_log10_mass_range: tuple[float, float] = (-24.0, -22.0)


@lru_cache(maxsize=8)
def lens_cosmo(z_lens: float, z_source: float) -> LensCosmo:
    """lenstronomy's distances and unit conversions for one lens and source redshift."""
    return LensCosmo(z_lens=z_lens, z_source=z_source, cosmo=COSMOLOGY)


def einstein_radius(mass_msun: float | np.ndarray, cosmo: LensCosmo) -> float | np.ndarray:
    """Einstein radius (arcsec) of a mass (solar masses) enclosed by its Einstein ring."""
    return np.sqrt(np.asarray(mass_msun, dtype=float) / (np.pi * cosmo.sigma_crit_angle))


def velocity_dispersion(theta_e: float, cosmo: LensCosmo) -> float:
    """Velocity dispersion (km/s) of the singular isothermal sphere with Einstein radius
    `theta_e` (arcsec)."""
    return float(cosmo.sis_theta_E2sigma_v(theta_e))


def de_broglie_wavelength_kpc(mass_ev: float, velocity_km_s: float) -> float:
    """de Broglie wavelength h / (m v) in kpc of a particle of mass `mass_ev` (eV / c^2)."""
    mass = mass_ev * units.eV / constants.c**2
    velocity = velocity_km_s * units.km / units.s
    return float((constants.h / (mass * velocity)).to(units.kpc).value)


def de_broglie_wavelength_arcsec(mass_ev: float, velocity_km_s: float, cosmo: LensCosmo) -> float:
    """The de Broglie wavelength seen at the lens redshift, in arcsec."""
    return float(cosmo.phys2arcsec_lens(de_broglie_wavelength_kpc(mass_ev, velocity_km_s) / 1e3))


def power_law_masses(
    rng: np.random.Generator, count: int, low: float, high: float, slope: float
) -> np.ndarray:
    """`count` masses drawn from dN/dm proportional to m**slope on [low, high] (slope != -1),
    by inverting the cumulative distribution."""
    exponent = slope + 1.0
    u = rng.uniform(0.0, 1.0, size=count)
    low_u, high_u = low**exponent, high**exponent
    return (low_u + (high_u - low_u) * u) ** (1.0 / exponent)
