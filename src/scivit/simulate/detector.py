"""Detector side of a simulated frame: geometry, module layout, beam stops and counting.

Geometry is a pyFAI `Geometry` built from Fit2D parameters (direct-beam distance, beam centre,
tilt); its q map (nm^-1), azimuth chi (rad), solid angle and polarization factor give where and
how strongly each pixel sees the sample. Layouts mimic real hybrid-pixel detectors (Pilatus
modules of 487 x 195 pixels with 7/17-pixel gaps, Eiger modules of 1030 x 514 with 10/37-pixel
gaps) or a gapless CCD, cropped and binned to the requested frame size. Beam stops are signed
distance fields with a soft edge and a small leakage; counts are Poisson draws stored as int32
with gap pixels at -1, as Pilatus CBF files mark them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pyFAI.detectors import Detector
from pyFAI.geometry import Geometry
from pyFAI.geometry.fit2d import Fit2dGeometry, convert_from_Fit2d

GAP_VALUE = -1
SATURATION = 2**20 - 1
RATE_CAP = 64.0 * SATURATION  # a Poisson draw at this rate is never below saturation


@dataclass(frozen=True)
class Layout:
    """A detector family: native pixel (m), module size and gaps (rows, columns), and array."""

    pixel_m: float
    module: tuple[int, int] = (0, 0)
    gap: tuple[int, int] = (0, 0)
    modules: tuple[int, int] = (1, 1)
    native: tuple[int, int] = (2048, 2048)

    @property
    def shape(self) -> tuple[int, int]:
        """Native (rows, columns) of the whole array."""
        if self.module == (0, 0):
            return self.native
        return tuple(  # type: ignore[return-value]
            n * m + (n - 1) * g for n, m, g in zip(self.modules, self.module, self.gap, strict=True)
        )


LAYOUTS: dict[str, Layout] = {
    "pilatus": Layout(172e-6, module=(195, 487), gap=(17, 7), modules=(5, 2)),
    "eiger": Layout(75e-6, module=(514, 1030), gap=(37, 10), modules=(4, 2)),
    "ccd": Layout(79e-6, native=(2048, 2048)),
}


@dataclass(frozen=True)
class FrameGeometry:
    """Per-frame pixel maps from pyFAI plus the detector description."""

    q: np.ndarray
    chi: np.ndarray
    solid_angle: np.ndarray
    polarization: np.ndarray
    gaps: np.ndarray


def gap_mask(layout: Layout, size: int, crop: float, offset: tuple[float, float]) -> np.ndarray:
    """Output pixels (size x size) that fall mostly in module gaps of a square native crop.

    Args:
        crop: side of the crop as a fraction of the smaller native side.
        offset: crop origin as fractions (rows, columns) of the room left on each axis.
    """
    side = crop * min(layout.shape)
    axes = []
    for axis in range(2):
        start = offset[axis] * (layout.shape[axis] - side)
        edges = start + np.linspace(0.0, side, size + 1)
        axes.append(_gap_fraction(layout, axis, edges) >= 0.4)
    return axes[0][:, None] | axes[1][None, :]


def _gap_fraction(layout: Layout, axis: int, edges: np.ndarray) -> np.ndarray:
    """Fraction of each output bin (between `edges`, native px) lying in gaps along `axis`."""
    module, gap = layout.module[axis], layout.gap[axis]
    if module == 0 or gap == 0:
        return np.zeros(len(edges) - 1)
    period = module + gap

    def gap_length_below(x: np.ndarray) -> np.ndarray:
        whole, rest = np.divmod(x, period)
        return whole * gap + np.clip(rest - module, 0.0, gap)

    covered = np.diff(gap_length_below(edges))
    return covered / np.diff(edges)


@lru_cache(maxsize=32)
def _detector(pixel_m: float, size: int) -> Detector:
    return Detector(pixel1=pixel_m, pixel2=pixel_m, max_shape=(size, size))


def pyfai_geometry(
    size: int,
    pixel_m: float,
    distance_mm: float,
    wavelength_nm: float,
    center: tuple[float, float],
    tilt_deg: float,
    tilt_plane_deg: float,
) -> Geometry:
    """pyFAI geometry of a square frame from Fit2D parameters.

    `center` is the (x, y) beam centre in pixel indices (the centre of pixel 0 is 0).
    """
    poni = convert_from_Fit2d(
        Fit2dGeometry(
            directDist=distance_mm,
            centerX=center[0] + 0.5,
            centerY=center[1] + 0.5,
            tilt=tilt_deg,
            tiltPlanRotation=tilt_plane_deg,
            pixelX=pixel_m * 1e6,
            pixelY=pixel_m * 1e6,
        )
    )
    return Geometry(
        dist=poni.dist,
        poni1=poni.poni1,
        poni2=poni.poni2,
        rot1=poni.rot1,
        rot2=poni.rot2,
        rot3=poni.rot3,
        detector=_detector(pixel_m, size),
        wavelength=wavelength_nm * 1e-9,
    )


def frame_geometry(
    geometry: Geometry, gaps: np.ndarray, polarization_factor: float
) -> FrameGeometry:
    """pyFAI pixel maps (q, chi, solid angle, polarization) of a frame shaped like `gaps`."""
    shape = gaps.shape
    return FrameGeometry(
        q=geometry.center_array(shape, unit="q_nm^-1"),
        chi=geometry.center_array(shape, unit="chi_rad"),
        solid_angle=geometry.solidAngleArray(shape),
        polarization=geometry.polarization(shape, factor=polarization_factor),
        gaps=gaps,
    )


def _segment_distance(points: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Distance of each (x, y) point (last axis) to the segment start-end."""
    direction = end - start
    length2 = max(float(direction @ direction), 1e-12)
    t = np.clip(((points - start) @ direction) / length2, 0.0, 1.0)
    nearest = start + t[..., None] * direction
    return np.linalg.norm(points - nearest, axis=-1)


def beamstop_fields(
    kind: str, size: int, center: tuple[float, float], params: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance (px, negative inside) of the whole stop and of its body alone.

    "circular": a disc on the beam held by a thin arm to the edge; "linear": a rod entering
    from the edge and ending just past the beam; "wedge": a tapered shadow whose rounded tip
    covers the beam and which widens by `width` at most. The body is the disc, the rod or the
    wedge (the arm is not).
    """
    rows, cols = np.mgrid[0:size, 0:size].astype(float)
    points = np.stack([cols, rows], axis=-1)
    beam = np.array(center) + np.array([params["dx"], params["dy"]])
    direction = np.array([np.cos(params["angle"]), np.sin(params["angle"])])
    far = beam + direction * 4.0 * size
    if kind == "circular":
        body = np.linalg.norm(points - beam, axis=-1) - params["radius"]
        arm = _segment_distance(points, beam, far) - params["arm_width"] / 2.0
        return np.minimum(body, arm), body
    if kind == "linear":
        tip = beam - direction * params["overshoot"]
        body = _segment_distance(points, tip, far) - params["width"] / 2.0
        return body, body
    relative = points - beam
    along = relative @ direction
    across = np.abs(relative @ np.array([-direction[1], direction[0]]))
    flare = np.minimum(along * np.tan(params["half_angle"]), params["width"])
    wedge = (across - params["radius"] - flare) * np.cos(params["half_angle"])
    wedge = np.where(along < 0.0, np.linalg.norm(relative, axis=-1) - params["radius"], wedge)
    return wedge, wedge


def transmission(distance: np.ndarray, softness: float, leakage: float) -> np.ndarray:
    """Fraction of photons reaching each pixel through a stop with a soft edge."""
    shadow = 1.0 / (1.0 + np.exp(np.clip(distance / softness, -50.0, 50.0)))
    return 1.0 - (1.0 - leakage) * shadow


def count(
    expected: np.ndarray,
    gaps: np.ndarray,
    dead: np.ndarray,
    hot: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Poisson counts of `expected`, with dead pixels 0, hot pixels high, gaps at -1 (int32).

    Rates are capped far above saturation first: such a pixel reads saturated either way, and
    a form factor's 1/q^n rise at an unshadowed beam centre can exceed what numpy's Poisson
    sampler takes (~1e19).
    """
    counts = rng.poisson(np.clip(expected, 0.0, RATE_CAP)).astype(np.int64)
    counts = np.minimum(counts, SATURATION)
    counts[dead] = 0
    counts[hot] = rng.integers(SATURATION // 8, SATURATION, size=int(hot.sum()))
    counts[gaps] = GAP_VALUE
    return counts.astype(np.int32)
