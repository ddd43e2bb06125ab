"""One-dimensional scattering curves I(q) from sasmodels and pyFAI calibrants.

Every sample contribution of a simulated SAXS/WAXS frame is a 1-D curve on a q grid (nm^-1)
that the renderer maps onto the detector through its q map. The curves come from the field's
libraries: form factors, structure factors, paracrystal lattices, lamellar stacks, polymer
and broad-peak models from sasmodels (Doucet et al., SasView/sasmodels), and powder-ring
positions from the d-spacings of pyFAI calibrants (Kieffer & Karkoulis, J. Phys. Conf. Ser.
425, 202012, 2013). sasmodels works in Angstrom, pyFAI q maps in nm^-1; the conversion lives
here and nowhere else.

Paracrystal lattices (Matsuoka et al., Phys. Rev. B 36, 1754, 1987) are orientation-averaged
in sasmodels, which costs about a second per curve; they are therefore evaluated once per
process on a reduced grid x = q * d_nn and rescaled to each sample's nearest-neighbour distance.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from pyFAI.calibrant import get_calibrant
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel

ANGSTROM_PER_NM = 10.0
LATTICE_D_FACTORS = (0.04, 0.09)
LATTICE_RADIUS_RATIO = 0.22
LATTICE_X = np.linspace(3.0, 28.0, 300)
FIRST_LATTICE_PEAK_X = np.pi * np.sqrt(6.0)


@cache
def _model(name: str):
    return load_model(name)


def sas_curve(name: str, q_nm: np.ndarray, **params: float) -> np.ndarray:
    """Evaluate the sasmodels model `name` at `q_nm` (nm^-1); lengths in `params` are in A."""
    q_inv_angstrom = np.maximum(np.asarray(q_nm, dtype=float), 1e-6) / ANGSTROM_PER_NM
    kernel = _model(name).make_kernel([q_inv_angstrom])
    try:
        return np.asarray(call_kernel(kernel, {"scale": 1.0, "background": 0.0, **params}))
    finally:
        kernel.release()


@cache
def lattice_template(lattice: str, d_factor: float) -> np.ndarray:
    """I(x) of an orientation-averaged paracrystal on `LATTICE_X` (x = q * d_nn, unitless)."""
    dnn = 100.0
    q_nm = LATTICE_X / dnn * ANGSTROM_PER_NM
    curve = sas_curve(
        f"{lattice}_paracrystal",
        q_nm,
        dnn=dnn,
        d_factor=d_factor,
        radius=LATTICE_RADIUS_RATIO * dnn,
        sld=4.0,
        sld_solvent=1.0,
    )
    return curve / curve.max()


def lattice_curve(lattice: str, dnn_nm: float, d_factor: float, q_nm: np.ndarray) -> np.ndarray:
    """Paracrystal I(q) for nearest-neighbour distance `dnn_nm`, peak-normalised to 1.

    `d_factor` is blended between the two cached templates (`LATTICE_D_FACTORS`).
    """
    low, high = LATTICE_D_FACTORS
    weight = float(np.clip((d_factor - low) / (high - low), 0.0, 1.0))
    template = (1.0 - weight) * lattice_template(lattice, low) + weight * lattice_template(
        lattice, high
    )
    return np.interp(q_nm * dnn_nm, LATTICE_X, template, left=0.0, right=0.0)


def _allowed(lattice: str, h: int, k: int, l: int) -> bool:  # noqa: E741
    if lattice == "bcc":
        return (h + k + l) % 2 == 0
    parities = {h % 2, k % 2, l % 2}
    return len(parities) == 1


def bragg_ratios(lattice: str, count: int = 8) -> np.ndarray:
    """sqrt(h^2+k^2+l^2) of the first `count` allowed reflections of a cubic lattice.

    "bcc": h+k+l even (110, 200, 211, ...); "fcc": h, k, l all odd or all even (111, 200, ...).
    """
    sums = sorted(
        {
            h * h + k * k + l * l
            for h in range(6)
            for k in range(6)
            for l in range(6)  # noqa: E741
            if h + k + l > 0 and _allowed(lattice, h, k, l)
        }
    )
    return np.sqrt(np.array(sums[:count], dtype=float))


def lattice_peak_positions(lattice: str, dnn_nm: float, count: int = 8) -> np.ndarray:
    """Bragg peak positions q (nm^-1) of a bcc or fcc lattice with nearest-neighbour `dnn_nm`.

    The cubic cell is a = 2 d_nn / sqrt(3) (bcc) or a = sqrt(2) d_nn (fcc); q = 2 pi |hkl| / a.
    """
    cell = 2.0 * dnn_nm / np.sqrt(3.0) if lattice == "bcc" else np.sqrt(2.0) * dnn_nm
    return 2.0 * np.pi * bragg_ratios(lattice, count) / cell


def dnn_for_first_peak(q1_nm: float) -> float:
    """Nearest-neighbour distance (nm) whose first bcc/fcc reflection lies at `q1_nm`.

    Both lattices put their first reflection at q * d_nn = pi * sqrt(6).
    """
    return FIRST_LATTICE_PEAK_X / q1_nm


@cache
def calibrant_d_spacings(name: str) -> tuple[float, ...]:
    """Distinct d-spacings (nm) of the pyFAI calibrant `name`, largest first."""
    calibrant = get_calibrant(name)
    modern = hasattr(type(calibrant), "dspacing")
    spacings = calibrant.dspacing if modern else calibrant.dSpacing
    return tuple(sorted({float(d) / ANGSTROM_PER_NM for d in spacings}, reverse=True))


def calibrant_ring_positions(name: str) -> np.ndarray:
    """Powder-ring positions q = 2 pi / d (nm^-1) of the pyFAI calibrant `name`."""
    return 2.0 * np.pi / np.array(calibrant_d_spacings(name))


@cache
def calibrant_ring_span(name: str) -> tuple[float, float]:
    """Lowest and highest ring position (nm^-1) of the pyFAI calibrant `name`."""
    positions = calibrant_ring_positions(name)
    return float(positions.min()), float(positions.max())


def local_excess(curve: np.ndarray, grid: np.ndarray, low: float, high: float) -> np.ndarray:
    """Part of `curve` above its minimum over [low, high]; zero outside that window.

    This is how far a peak rises above the valleys of its own curve.
    """
    window = (grid >= low) & (grid <= high)
    excess = np.zeros_like(curve)
    if window.any():
        excess[window] = np.clip(curve[window] - curve[window].min(), 0.0, None)
    return excess
