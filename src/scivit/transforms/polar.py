"""`PolarRemap`: resample a frame onto a (radius, azimuth) grid about the beam centre.

Powder and lattice rings become horizontal lines, the beam stop's shadow a band at small radius
plus its holder at one azimuth, texture a modulation along a row. With `log_radius` the radius
axis is logarithmic, so the ratios that identify a lattice (1 : sqrt2 : sqrt3 for BCC,
sqrt3 : sqrt4 : sqrt8 for FCC) become fixed offsets wherever the first peak falls — a pattern a
convolution finds at any scale. Output rows run from the smallest to the largest radius (the
farthest image corner from the beam centre, so nothing is lost even when the beam is off the
image), columns over azimuth chi in [0, 2 pi) measured from the +x (column) axis towards +y.

Each output pixel is the masked mean over `supersample`^2 points spread across its (radius,
azimuth) cell, not a single point: far from the beam a cell spans several detector pixels, and a
one-pixel-wide ring would otherwise fall between two sampled radii and vanish (aliasing).
Masked detector pixels never enter the mean; a cell less than half covered by valid pixels is
masked. `r_max` fixes the outermost radius so that one row is one radius for every frame of a
data set, whatever its beam centre; by default it is the farthest corner of each frame.

scipy's `map_coordinates` does the interpolation (pyFAI's `integrate2d` splits pixels exactly,
but needs a new integrator, and its look-up table, for every beam centre, and has no log-radius
axis); the grid of source coordinates is cached per (shape, centre, size, ...), as the same
geometry is reused for every frame of an experiment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import ndimage

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.geometry import Geometry, as_geometry, resolve_center
from scivit.transforms.sample import Sample, check_sample, updated


class PolarRemap(Transform):
    """Resample the image and its mask onto `size` = (radii, azimuths) about the beam centre.

    Args:
        size: output (n_radius, n_chi), or one int for both.
        log_radius: logarithmic radius axis (from `r_min` pixels) instead of linear (from 0).
        r_min: smallest radius in pixels on a logarithmic axis.
        r_max: largest radius in pixels; by default the frame's farthest corner.
        supersample: points per cell along each axis averaged into one output pixel (1 =
            point sampling, the fastest; thin rings far from the beam may then be missed).
        geometry: fixed geometry (beam centre); else the sample's `beam_center` is used.
    """

    def __init__(
        self,
        size: int | Sequence[int] = 128,
        log_radius: bool = True,
        r_min: float = 1.0,
        r_max: float | None = None,
        supersample: int = 4,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        sizes = (size, size) if isinstance(size, int) else tuple(size)
        if len(sizes) != 2 or min(sizes) < 2:
            raise ConfigError(f"{self.name}: size must be an int or (n_radius, n_chi) >= 2")
        if not r_min > 0:
            raise ConfigError(f"{self.name}: r_min must be positive, got {r_min}")
        if r_max is not None and not r_max > r_min:
            raise ConfigError(f"{self.name}: r_max must exceed r_min ({r_min}), got {r_max}")
        if int(supersample) != supersample or supersample < 1:
            raise ConfigError(f"{self.name}: supersample must be an integer >= 1")
        self.size = (int(sizes[0]), int(sizes[1]))
        self.log_radius = bool(log_radius)
        self.r_min = float(r_min)
        self.r_max = None if r_max is None else float(r_max)
        self.supersample = int(supersample)
        self.geometry = as_geometry(geometry) if geometry is not None else None

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        center = resolve_center(self.geometry, sample, self.name)
        axis = RadiusAxis(self.log_radius, self.r_min, self.r_max)
        grid = polar_grid((height, width), center, self.size, axis, self.supersample)
        valid = np.ones((height, width), np.float32)
        if sample.get("mask") is not None:
            valid[sample["mask"]] = 0.0
        weight = self._cell_sums(valid, grid)
        values = np.stack([self._cell_sums(channel * valid, grid) for channel in sample["image"]])
        mask = weight < 0.5 * self.supersample**2
        image = np.where(mask, 0.0, values / np.maximum(weight, 1e-12)).astype(np.float32)
        return updated(sample, image=image, mask=mask, beam_center=None)

    def _cell_sums(self, plane: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Sum of `plane` sampled at every point of each output cell."""
        points = ndimage.map_coordinates(
            plane, grid, order=1, mode="constant", cval=0.0, prefilter=False
        )
        k = self.supersample
        return points.reshape(self.size[0], k, self.size[1], k).sum(axis=(1, 3))


@dataclass(frozen=True)
class RadiusAxis:
    """How output rows map to radii: log or linear spacing, and its ends (pixels)."""

    log: bool
    r_min: float
    r_max: float | None

    def centres(self, r_far: float, n: int) -> np.ndarray:
        """The `n` row-centre radii, up to `r_max` or else `r_far`."""
        end = self.r_max if self.r_max is not None else max(r_far, 2 * self.r_min)
        if self.log:
            return np.geomspace(self.r_min, end, n)
        return np.linspace(0.0, end, n)


@lru_cache(maxsize=64)
def polar_grid(
    shape: tuple[int, int],
    center: tuple[float, float],
    size: tuple[int, int],
    axis: RadiusAxis,
    supersample: int = 1,
) -> np.ndarray:
    """Source (row, column) coordinates, shaped (2, n_radius * k, n_chi * k), of `k` =
    `supersample` points per axis spread evenly across each output cell."""
    height, width = shape
    x0, y0 = center
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]])
    r_far = float(np.hypot(*(corners - [x0, y0]).T).max())
    centres = axis.centres(r_far, size[0])
    offsets = (np.arange(supersample) + 0.5) / supersample - 0.5
    if axis.log:
        step = np.log(centres[1] / centres[0])
        radius = (np.log(centres)[:, None] + offsets[None, :] * step).ravel()
        radius = np.exp(radius)
    else:
        step = centres[1] - centres[0]
        radius = (centres[:, None] + offsets[None, :] * step).ravel()
    bin_width = 2 * np.pi / size[1]
    chi = ((np.arange(size[1])[:, None] + offsets[None, :]) * bin_width).ravel()
    grid = np.stack(
        [
            y0 + radius[:, None] * np.sin(chi)[None, :],
            x0 + radius[:, None] * np.cos(chi)[None, :],
        ]
    )
    grid.setflags(write=False)
    return grid
