"""`MaskBeamstop`: mask the beam stop, detector gaps and user-masked pixels.

Automatic detection finds
- detector gaps: whole rows or columns whose pixels are all zero or already invalid;
- the beam stop: the connected dark region that contains (or comes within `search_radius` of)
  the beam centre. Dark means a smoothed intensity at or below
  ``floor + threshold * (median - floor)``, with floor the 1st percentile and median the 50th
  of the valid smoothed pixels. Linear and wedge stops, whose shadow runs from the centre to
  the image edge, form one region with the stop itself and are found the same way.
The dark test is global: a far field as dark as the stop's shadow and touching it (a very weak
frame) joins the mask, which is then the honest answer, as those pixels hold no signal either.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import ndimage

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.geometry import Geometry, as_geometry, radius_map, resolve_center
from scivit.transforms.masks import fitted_mask, load_mask, mask_origin
from scivit.transforms.sample import Sample, check_sample, merge_masks, updated

STAT_STRIDE_PIXELS = 16384
SQUARE = np.ones((3, 3), dtype=bool)


class MaskBeamstop(Transform):
    """Union of a user mask, the sample's mask and (if `auto`) detected gaps and beam stop.

    Args:
        mask: bool (H, W) array or mask file, True = invalid.
        auto: detect detector gaps and the beam stop (needs a beam centre).
        threshold: dark level as a fraction of the way from the floor to the median.
        search_radius: pixels; dark regions closer than this to the beam centre are the stop.
        smooth: half-width in pixels of the box filter applied before thresholding.
        dilate: pixels added around the detected stop to cover its penumbra, on top of the
            `smooth` pixels that undo the blur of the box filter at its edge.
        geometry: Geometry, mapping of its fields, or PONI path; otherwise the sample's beam
            centre is used.
    """

    def __init__(
        self,
        mask: np.ndarray | str | Path | None = None,
        auto: bool = True,
        threshold: float = 0.1,
        search_radius: float = 8.0,
        smooth: int = 2,
        dilate: int = 1,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        if not 0 < threshold < 1:
            raise ConfigError(f"{self.name}: threshold must be in (0, 1), got {threshold}")
        if search_radius < 0 or smooth < 0 or dilate < 0:
            raise ConfigError(f"{self.name}: search_radius, smooth and dilate must be >= 0")
        self.mask = load_mask(mask, self.name)
        self.mask_origin = mask_origin(mask, self.name)
        self.auto = auto
        self.threshold = threshold
        self.search_radius = search_radius
        self.smooth = smooth
        self.dilate = dilate
        self.geometry = as_geometry(geometry)

    def __call__(self, sample: Sample) -> Sample:
        shape = check_sample(sample, self.name)
        mask = merge_masks(sample.get("mask"), fitted_mask(self.mask, shape, self.mask_origin))
        if self.auto:
            center = resolve_center(self.geometry, sample, self.name)
            invalid = np.zeros(shape, dtype=bool) if mask is None else mask
            invalid = invalid | detector_gaps(sample["image"], invalid)
            image = sample["image"].mean(axis=0)
            mask = invalid | self._shadow(image, invalid, center)
        return updated(sample, mask=mask)

    def _shadow(
        self, image: np.ndarray, invalid: np.ndarray, center: tuple[float, float]
    ) -> np.ndarray:
        size = 2 * self.smooth + 1
        smoothed = ndimage.uniform_filter(image, size, mode="nearest") if size > 1 else image
        level = dark_level(smoothed, invalid, self.threshold)
        if level is None:
            return np.zeros(image.shape, dtype=bool)
        labels, _ = ndimage.label((smoothed <= level) & ~invalid)
        near = radius_map(image.shape, center) <= self.search_radius
        found = np.unique(labels[near & (labels > 0)])
        stop = np.isin(labels, found)
        return dilate_region(stop, self.smooth + self.dilate) if found.size else stop


def detector_gaps(image: np.ndarray, invalid: np.ndarray) -> np.ndarray:
    """Rows and columns where every pixel of every channel is zero or invalid."""
    empty = invalid | (image == 0).all(axis=0)
    gaps = np.zeros(empty.shape, dtype=bool)
    gaps[empty.all(axis=1), :] = True
    gaps[:, empty.all(axis=0)] = True
    return gaps


def dark_level(smoothed: np.ndarray, invalid: np.ndarray, threshold: float) -> float | None:
    """Intensity at or below which a pixel counts as shadowed; None without any contrast."""
    values = smoothed[~invalid]
    values = values[:: max(1, values.size // STAT_STRIDE_PIXELS)]
    if values.size == 0:
        return None
    floor, median = np.percentile(values, [1, 50])
    if median <= floor:
        return None
    return float(floor + threshold * (median - floor))


def dilate_region(region: np.ndarray, pixels: int) -> np.ndarray:
    """Grow `region` by `pixels`, working only inside its bounding box."""
    if pixels == 0:
        return region
    rows, cols = np.nonzero(region.any(axis=1))[0], np.nonzero(region.any(axis=0))[0]
    box = (
        slice(max(rows[0] - pixels, 0), rows[-1] + pixels + 1),
        slice(max(cols[0] - pixels, 0), cols[-1] + pixels + 1),
    )
    grown = region.copy()
    grown[box] = ndimage.binary_dilation(region[box], SQUARE, iterations=pixels)
    return grown
