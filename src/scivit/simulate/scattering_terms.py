"""Sample contributions of a scattering scene as 1-D curves with textures and labelled peaks.

A scene is a list of component specs (plain JSON-able dicts drawn by `scattering_scene`). Each
kind of component is built by a function registered in `COMPONENTS`, which turns a spec into
`Term`s on a q grid (nm^-1): the curve (counts per pixel at unit exposure, before solid angle
and polarization), its azimuthal texture, the peaks whose visibility decides the labels (with
the width at which the detector shows them, so that neighbouring reflections can be judged
resolved or not), and whether it is a diffuse low-q or high-q contribution. Textures follow
the usual orientation distribution I(q, chi) = I(q) (1 + a cos 2(chi - chi0))^n, and few-grain
powders put bright spots on their rings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from scivit.registry import Registry
from scivit.simulate.scattering_physics import (
    calibrant_ring_positions,
    lattice_curve,
    lattice_peak_positions,
    local_excess,
    sas_curve,
)

_CHI_SAMPLES = np.linspace(-np.pi, np.pi, 721)


@dataclass(frozen=True)
class Texture:
    """Azimuthal modulation of a term, normalised to a mean of 1 over chi.

    Args:
        kind: "isotropic", "oriented" ((1 + a cos 2(chi - chi0))^n) or "spotty" (grains).
        chi0: orientation (rad) of the maximum of an oriented texture.
        anisotropy: a in [0, 1).
        power: n >= 1, sharpens the arcs.
        spots: (chi, width, weight) of each grain reflection of a spotty ring.
    """

    kind: str = "isotropic"
    chi0: float = 0.0
    anisotropy: float = 0.0
    power: float = 1.0
    spots: tuple[tuple[float, float, float], ...] = ()

    def __call__(self, chi: np.ndarray) -> np.ndarray | float:
        if self.kind == "isotropic":
            return 1.0
        return self._raw(chi) / self._mean

    @cached_property
    def _mean(self) -> float:
        return float(self._raw(_CHI_SAMPLES).mean())

    def _raw(self, chi: np.ndarray) -> np.ndarray:
        if self.kind == "oriented":
            return (1.0 + self.anisotropy * np.cos(2.0 * (chi - self.chi0))) ** self.power
        centre, width, weight = np.array(self.spots, dtype=float).reshape(-1, 3).T
        delta = np.remainder(np.asarray(chi)[..., None] - centre + np.pi, 2.0 * np.pi) - np.pi
        return 0.03 + (weight * np.exp(-0.5 * (delta / width) ** 2)).sum(axis=-1)


@dataclass(frozen=True)
class Peak:
    """A peak whose visibility is judged from the parameters.

    Args:
        origin: what made it ("powder", "bcc", "fcc", "lamellar", "structure_factor", "halo").
        q: position (nm^-1).
        half_width: half width (nm^-1) of the band of pixels that show it.
        width: full width at half maximum (nm^-1) as the detector shows it (`apparent_width`).
        excess: the peak's rise above its own baseline on the grid (counts at unit exposure).
        order: reflection index within its periodicity (1 = first).
    """

    origin: str
    q: float
    half_width: float
    width: float
    excess: np.ndarray = field(repr=False)
    order: int = 1


@dataclass(frozen=True)
class Term:
    """One contribution: a curve on the grid, its texture, its peaks and its diffuse role."""

    curve: np.ndarray = field(repr=False)
    texture: Texture
    peaks: tuple[Peak, ...] = ()
    diffuse: str | None = None


Builder = Callable[[dict[str, Any], np.ndarray, float], list[Term]]
COMPONENTS: Registry[Builder] = Registry("scattering component")


def apparent_width(excess: np.ndarray, grid: np.ndarray, resolution: float) -> float:
    """FWHM (nm^-1) of the highest maximum of `excess`, at least two pixels (2 x `resolution`).

    Two rings closer than this cannot be told apart on the detector: a dip between them needs
    a pixel in between.
    """
    top = int(np.argmax(excess))
    half = 0.5 * float(excess[top])
    if half <= 0.0:
        return 2.0 * resolution
    left = np.flatnonzero(excess[:top] < half)
    right = np.flatnonzero(excess[top:] < half)
    start = int(left[-1]) + 1 if left.size else 0
    stop = top + int(right[0]) - 1 if right.size else grid.size - 1
    step = float(grid[1] - grid[0])
    return max(float(grid[stop] - grid[start]) + step, 2.0 * resolution)


def texture_from_spec(spec: dict[str, Any] | None) -> Texture:
    """Texture from its JSON form (missing -> isotropic)."""
    if not spec:
        return Texture()
    spots = tuple(tuple(spot) for spot in spec.get("spots", ()))
    return Texture(**{**spec, "spots": spots})


def _normalised(curve: np.ndarray, reference: float) -> np.ndarray:
    return curve / max(reference, 1e-30)


@COMPONENTS.register("diffuse_low_q")
def diffuse_low_q(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Form factor or polymer term that is strongest at low q (Guinier knee, Porod tail)."""
    curve = sas_curve(spec["model"], grid, **spec["params"])
    reference = float(np.interp(spec["q_ref"], grid, curve))
    curve = spec["amplitude"] * _normalised(curve, reference)
    return [Term(curve, texture_from_spec(spec.get("texture")), diffuse="low_q")]


@COMPONENTS.register("diffuse_high_q")
def diffuse_high_q(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Broad scattering rising towards the outer detector (a broad peak beyond the edge)."""
    curve = _broad_peak(spec, grid)
    return [Term(curve, Texture(), diffuse="high_q")]


@COMPONENTS.register("halo")
def halo(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Amorphous halo: one broad peak (sasmodels broad_peak) inside the detector range."""
    curve = _broad_peak(spec, grid)
    half_width = spec["relative_width"] * spec["q"]
    peak = Peak("halo", spec["q"], half_width, apparent_width(curve, grid, resolution), curve)
    return [Term(curve, texture_from_spec(spec.get("texture")), (peak,))]


def _broad_peak(spec: dict[str, Any], grid: np.ndarray) -> np.ndarray:
    q_angstrom = spec["q"] / 10.0
    curve = sas_curve(
        "broad_peak",
        grid,
        porod_scale=0.0,
        peak_scale=1.0,
        peak_pos=q_angstrom,
        correlation_length=1.0 / (spec["relative_width"] * q_angstrom),
        width_exp=2.0,
        shape_exp=spec.get("shape_exp", 1.0),
    )
    return spec["amplitude"] * curve


@COMPONENTS.register("structure_factor")
def structure_factor(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Hard-sphere liquid of particles: P(q) S(q); the peak is P(q) (S(q) - 1) above zero."""
    params = dict(spec["params"])
    with_s = sas_curve("sphere@hardsphere", grid, **params)
    volume_fraction = params.pop("volfraction")
    params.pop("radius_effective")
    alone = volume_fraction * sas_curve("sphere", grid, **params)
    reference = float(np.interp(spec["q_ref"], grid, with_s))
    scale = spec["amplitude"] / max(reference, 1e-30)
    excess = np.clip(with_s - alone, 0.0, None) * scale
    q_peak = float(grid[int(np.argmax(excess))])
    width = apparent_width(excess, grid, resolution)
    peak = Peak("structure_factor", q_peak, 0.15 * q_peak, width, excess)
    return [Term(with_s * scale, Texture(), (peak,), diffuse="low_q")]


@COMPONENTS.register("lattice")
def lattice(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """BCC or FCC superlattice (sasmodels paracrystal) with its Bragg reflections as peaks."""
    kind, dnn = spec["lattice"], spec["dnn_nm"]
    curve = spec["amplitude"] * lattice_curve(kind, dnn, spec["d_factor"], grid)
    positions = lattice_peak_positions(kind, dnn)
    return [
        Term(
            curve,
            texture_from_spec(spec.get("texture")),
            _ordered_peaks(kind, positions, curve, grid, resolution),
        )
    ]


@COMPONENTS.register("lamellar")
def lamellar(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Lamellar stack (sasmodels lamellar_stack_paracrystal); orders at q = 2 pi n / d."""
    spacing_angstrom = 10.0 * spec["d_nm"]
    curve = sas_curve(
        "lamellar_stack_paracrystal",
        grid,
        thickness=spec["thickness_fraction"] * spacing_angstrom,
        Nlayers=spec["layers"],
        d_spacing=spacing_angstrom,
        sigma_d=spec["sigma_fraction"] * spacing_angstrom,
        sld=1.0,
        sld_solvent=6.0,
    )
    positions = 2.0 * np.pi * np.arange(1, 7) / spec["d_nm"]
    reference = float(np.interp(positions[0], grid, curve)) if positions[0] < grid[-1] else 1.0
    curve = spec["amplitude"] * _normalised(curve, reference)
    peaks = _ordered_peaks("lamellar", positions, curve, grid, resolution)
    return [Term(curve, texture_from_spec(spec.get("texture")), peaks)]


def _ordered_peaks(
    origin: str, positions: np.ndarray, curve: np.ndarray, grid: np.ndarray, resolution: float
) -> tuple[Peak, ...]:
    """Peaks at `positions`, each the rise of `curve` above its valleys between neighbours."""
    edges = np.concatenate([[positions[0] * 0.8], positions, [positions[-1] * 1.2]])
    peaks = []
    for index, q in enumerate(positions):
        low = 0.5 * (edges[index] + q)
        high = 0.5 * (q + edges[index + 2])
        if q >= grid[-1]:
            break
        half_width = max(resolution, 0.25 * min(q - low, high - q))
        excess = local_excess(curve, grid, low, high)
        width = apparent_width(excess, grid, resolution)
        peaks.append(Peak(origin, float(q), float(half_width), width, excess, order=index + 1))
    return tuple(peaks)


@COMPONENTS.register("powder")
def powder(spec: dict[str, Any], grid: np.ndarray, resolution: float) -> list[Term]:
    """Powder rings of a pyFAI calibrant at q = 2 pi / d, one term per ring (own texture)."""
    positions = calibrant_ring_positions(spec["calibrant"])
    textures = spec.get("ring_textures") or [spec.get("texture")] * len(positions)
    terms = []
    for index, q in enumerate(positions):
        if q >= grid[-1] or index >= len(spec["heights"]):
            break
        sigma = float(np.hypot(resolution, spec["relative_width"] * q))
        curve = spec["heights"][index] * sas_curve(
            "gaussian_peak", grid, peak_pos=q / 10.0, sigma=sigma / 10.0
        )
        width = apparent_width(curve, grid, resolution)
        peak = Peak("powder", float(q), 2.0 * sigma, width, curve, order=index + 1)
        terms.append(Term(curve, texture_from_spec(textures[index]), (peak,)))
    return terms


def build_terms(
    components: list[dict[str, Any]], grid: np.ndarray, resolution: float
) -> list[Term]:
    """All terms of a scene's components on `grid` (nm^-1) at ring resolution `resolution`."""
    terms: list[Term] = []
    for spec in components:
        terms.extend(COMPONENTS.get(spec["kind"])(spec, grid, resolution))
    return terms
