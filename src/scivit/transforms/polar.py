"""`PolarRemap`: resample a frame onto a (radius, azimuth) grid about the beam centre.

Powder and lattice rings become horizontal lines, the beam stop's shadow a band at small radius
plus its holder at one azimuth, texture a modulation along a row. With `log_radius` the radius
axis is logarithmic, so the ratios that identify a lattice (1 : sqrt2 : sqrt3 for BCC,
sqrt3 : sqrt4 : sqrt8 for FCC) become fixed offsets wherever the first peak falls — a pattern a
convolution finds at any scale. Output rows run from the smallest to the largest radius (the
farthest image corner from the beam centre, so nothing is lost even when the beam is off the
image), columns over azimuth chi in [0, 2 pi) measured from the +x (column) axis towards +y.

scipy's `map_coordinates` does the interpolation; the grid of source coordinates is cached per
(shape, centre, size), as the same geometry is reused for every frame of an experiment.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        geometry: fixed geometry (beam centre); else the sample's `beam_center` is used.
    """

    def __init__(
        self,
        size: int | Sequence[int] = 128,
        log_radius: bool = True,
        r_min: float = 1.0,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        sizes = (size, size) if isinstance(size, int) else tuple(size)
        if len(sizes) != 2 or min(sizes) < 2:
            raise ConfigError(f"{self.name}: size must be an int or (n_radius, n_chi) >= 2")
        if not r_min > 0:
            raise ConfigError(f"{self.name}: r_min must be positive, got {r_min}")
        self.size = (int(sizes[0]), int(sizes[1]))
        self.log_radius = bool(log_radius)
        self.r_min = float(r_min)
        self.geometry = as_geometry(geometry) if geometry is not None else None

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        center = resolve_center(self.geometry, sample, self.name)
        rows, cols = polar_grid((height, width), center, self.size, self.log_radius, self.r_min)
        coords = np.stack([rows, cols])
        image = np.stack(
            [
                ndimage.map_coordinates(
                    channel, coords, order=1, mode="constant", cval=0.0, prefilter=False
                )
                for channel in sample["image"]
            ]
        ).astype(np.float32)
        valid = np.ones((height, width), np.float32)
        if sample.get("mask") is not None:
            valid[sample["mask"]] = 0.0
        coverage = ndimage.map_coordinates(
            valid, coords, order=1, mode="constant", cval=0.0, prefilter=False
        )
        mask = coverage < 0.5
        image[:, mask] = 0.0
        return updated(sample, image=image, mask=mask, beam_center=None)


@lru_cache(maxsize=64)
def polar_grid(
    shape: tuple[int, int],
    center: tuple[float, float],
    size: tuple[int, int],
    log_radius: bool,
    r_min: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Source (row, column) coordinates of every output pixel, each shaped `size`."""
    height, width = shape
    x0, y0 = center
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]])
    r_max = max(float(np.hypot(*(corners - [x0, y0]).T).max()), 2 * r_min)
    spacing = np.geomspace if log_radius else np.linspace
    radius = spacing(r_min if log_radius else 0.0, r_max, size[0])
    chi = np.arange(size[1]) * (2 * np.pi / size[1])
    rows = y0 + radius[:, None] * np.sin(chi)[None, :]
    cols = x0 + radius[:, None] * np.cos(chi)[None, :]
    rows.setflags(write=False)
    cols.setflags(write=False)
    return rows, cols
