"""Render one detector frame of a scattering scene: expected counts, Poisson draw and tags.

The sample's 1-D curves (sasmodels, pyFAI calibrants) are interpolated onto the pyFAI q map of
the frame, modulated by their azimuthal textures, weighted by solid angle and polarization,
joined by air scattering, fluorescence, parasitic scattering around the direct beam and slit
streaks, shadowed by the beam stop, and counted with Poisson statistics. Tags come from the
expected counts (`scattering_labels`), never from the counted image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from scivit.simulate.detector import (
    LAYOUTS,
    FrameGeometry,
    beamstop_fields,
    count,
    frame_geometry,
    gap_mask,
    transmission,
)
from scivit.simulate.scattering_labels import Expected, frame_tags
from scivit.simulate.scattering_scene import instrument_geometry
from scivit.simulate.scattering_terms import Term, build_terms


@dataclass(frozen=True)
class RenderedFrame:
    """A simulated frame: int32 counts (gaps -1), tags, beam centre (x, y) in pixel indices."""

    counts: np.ndarray
    tags: list[str]
    center: tuple[float, float]
    exposure: float


def _geometry(instrument: dict[str, Any], size: int, center: tuple[float, float]) -> FrameGeometry:
    gaps = gap_mask(
        LAYOUTS[instrument["layout"]], size, instrument["crop"], tuple(instrument["crop_offset"])
    )
    return frame_geometry(
        instrument_geometry(instrument, size, center), gaps, instrument["polarization"]
    )


def _sample_image(terms: list[Term], grid: np.ndarray, geometry: FrameGeometry) -> np.ndarray:
    """Sum of all terms on the frame at unit exposure (isotropic ones interpolated once)."""
    isotropic = sum(
        (term.curve for term in terms if term.texture.kind == "isotropic"), np.zeros_like(grid)
    )
    image = np.interp(geometry.q, grid, isotropic)
    for term in terms:
        if term.texture.kind == "isotropic":
            continue
        values = np.interp(geometry.q, grid, term.curve)
        seen = values > 1e-6 * max(float(term.curve.max()), 1e-30)
        image[seen] += values[seen] * term.texture(geometry.chi[seen])
    return image


def _radial_pixels(size: int, center: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    dx, dy = cols - center[0], rows - center[1]
    return np.hypot(dx, dy), np.arctan2(dy, dx)


def _background_image(
    background: dict[str, float], geometry: FrameGeometry, q_low: float, center: tuple[float, float]
) -> np.ndarray:
    """Air scattering, fluorescence, parasitic halo and slit streaks at unit exposure."""
    q = np.maximum(geometry.q, 1e-6)
    air = background["air"] * (q / q_low) ** -background["air_exponent"] * geometry.solid_angle
    parasitic = (
        background["parasitic"] / (1.0 + (q / (background["parasitic_width"] * q_low)) ** 2) ** 2
    )
    image = background["flat"] + air + parasitic
    if background["streak"] > 0.0:
        radius, angle = _radial_pixels(q.shape[0], center)
        across = radius * np.abs(np.sin(angle - background["streak_angle"]))
        image = image + background["streak"] * (q / q_low) ** -1.5 * np.exp(-0.5 * across**2)
    return image


def _resolution(geometry: FrameGeometry) -> float:
    """Typical q step between neighbouring pixels (nm^-1): the sharpest ring width seen."""
    step_rows, step_cols = np.gradient(geometry.q)
    return float(np.median(np.hypot(step_rows, step_cols)))


def render_frame(
    scene: dict[str, Any], setup: dict[str, Any], size: int, rng: np.random.Generator
) -> RenderedFrame:
    """Render the frame `setup` (exposure, beam centre) of `scene` at `size` x `size` pixels."""
    instrument = scene["instrument"]
    center = (float(setup["center"][0]), float(setup["center"][1]))
    geometry = _geometry(instrument, size, center)
    grid = np.linspace(0.0, float(geometry.q.max()) * 1.01, 4 * size)
    terms = build_terms(scene["components"], grid, _resolution(geometry))
    stop = instrument["beamstop"]
    full, body = beamstop_fields(stop["kind"], size, center, stop)
    passed = transmission(full, stop["softness"], stop["leakage"])
    exposure = float(setup["exposure"])
    scale = exposure * geometry.solid_angle * geometry.polarization * passed
    sample = _sample_image(terms, grid, geometry) * scale
    backgrounds = instrument["background"]
    unit_background = _background_image(backgrounds, geometry, scene["q_range"][0], center)
    background = exposure * passed * unit_background
    radius, _ = _radial_pixels(size, center)
    direct = exposure * stop["direct_beam"] * np.exp(-0.5 * (radius / (0.6 * size / 128.0)) ** 2)
    rising = exposure * passed * (unit_background - backgrounds["flat"]) + direct
    expected = Expected(
        q=geometry.q,
        chi=geometry.chi,
        scale=scale,
        total=sample + background + direct,
        sample=sample,
        background=background,
        smooth_background=rising,
        valid=~geometry.gaps & (passed > 0.5),
    )
    defects = instrument["defects"]
    pixels = np.random.default_rng(defects["seed"]).random((2, size, size))
    dead, hot = pixels[0] < defects["dead"], pixels[1] < defects["hot"]
    counts = count(expected.total, geometry.gaps, dead, hot, rng)
    tags = frame_tags(terms, grid, expected, stop["kind"], body, center)
    return RenderedFrame(counts, tags, center, exposure)
