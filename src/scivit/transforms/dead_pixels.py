"""`FixDeadPixels`: find hot and dead pixels and fill them from their valid neighbours.

Bad pixels come from a user mask and/or a robust outlier test: a pixel is an outlier when it
lies above (or below) all of its 8 neighbours and departs from the median of its 3x3
neighbourhood by more than `threshold` robust standard deviations (1.4826 times the median
absolute deviation, MAD, of those departures over the frame). Requiring it to beat every
neighbour keeps the test to isolated pixels: the rim of a beam stop or a dead detector line is
left for `MaskBeamstop`. The test runs on ``sqrt(max(I, 0))``, which makes Poisson noise
about equally wide at every count level (Anscombe, Biometrika 35, 1948), so one threshold fits
the bright centre and the dim edge of a frame. Apply it to counts, before `LogIntensity`.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.masks import fitted_mask, load_mask, mask_origin
from scivit.transforms.median import median3x3
from scivit.transforms.sample import Sample, check_sample, merge_masks, updated

MAD_TO_SIGMA = 1.4826
MEAN_ABS_TO_SIGMA = 1.2533
MAX_STAT_PIXELS = 32768
NEIGHBOURS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


class FixDeadPixels(Transform):
    """Replace bad pixels by the median of their valid 3x3 neighbours.

    Pixels already masked in the sample are never used as neighbours and are left masked. A bad
    pixel with no valid neighbour is set to 0 and added to the sample's mask.

    Args:
        mask: known bad pixels, a bool (H, W) array or a mask file (True = bad).
        detect_outliers: also flag isolated pixels that differ from their neighbourhood
            median by more than `threshold` robust standard deviations.
        threshold: outlier threshold in robust standard deviations (MAD units).
    """

    def __init__(
        self,
        mask: np.ndarray | str | Path | None = None,
        detect_outliers: bool = True,
        threshold: float = 8.0,
    ) -> None:
        if threshold <= 0:
            raise ConfigError(f"{self.name}: threshold must be positive, got {threshold}")
        self.mask = load_mask(mask, self.name)
        self.mask_origin = mask_origin(mask, self.name)
        self.detect_outliers = detect_outliers
        self.threshold = threshold

    def __call__(self, sample: Sample) -> Sample:
        shape = check_sample(sample, self.name)
        known = fitted_mask(self.mask, shape, self.mask_origin)
        invalid = sample.get("mask")
        unusable = np.zeros(shape, dtype=bool) if invalid is None else invalid
        channels, lost = [], []
        for channel in sample["image"]:
            bad = merge_masks(known, self._outliers(channel, unusable))
            if bad is None or not bad.any():
                channels.append(channel)
                continue
            bad &= ~unusable
            fixed, unfilled = fill_from_neighbours(channel, bad, unusable | bad)
            channels.append(fixed)
            if unfilled.any():
                lost.append(unfilled)
        mask = merge_masks(invalid, *lost) if lost else invalid
        return updated(sample, image=np.stack(channels), mask=mask)

    def _outliers(self, channel: np.ndarray, unusable: np.ndarray) -> np.ndarray | None:
        if not self.detect_outliers:
            return None
        return outlier_pixels(channel, unusable, self.threshold)


def outlier_pixels(channel: np.ndarray, unusable: np.ndarray, threshold: float) -> np.ndarray:
    """Isolated pixels whose stabilised value departs from the 3x3 median by > threshold sigma."""
    stabilised = np.sqrt(np.maximum(channel, 0))
    residual = stabilised - median3x3(stabilised)
    stride = max(1, residual.size // MAX_STAT_PIXELS)
    sigma = robust_sigma(residual.ravel()[::stride][~unusable.ravel()[::stride]])
    outliers = np.zeros(channel.shape, dtype=bool)
    if sigma == 0:
        return outliers
    rows, cols = np.nonzero(np.abs(residual) > threshold * sigma)
    keep = ~unusable[rows, cols]
    rows, cols = rows[keep], cols[keep]
    neighbours = gather_neighbours(stabilised, unusable, rows, cols)
    value = stabilised[rows, cols]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        isolated = (value > np.nanmax(neighbours, axis=1)) | (value < np.nanmin(neighbours, axis=1))
    outliers[rows[isolated], cols[isolated]] = True
    return outliers


def robust_sigma(values: np.ndarray) -> float:
    """Standard deviation estimated from the MAD (mean absolute deviation if the MAD is 0)."""
    if values.size == 0:
        return 0.0
    deviation = np.abs(values - np.median(values))
    sigma = MAD_TO_SIGMA * float(np.median(deviation))
    return sigma if sigma > 0 else MEAN_ABS_TO_SIGMA * float(deviation.mean())


def gather_neighbours(
    channel: np.ndarray, unusable: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """(n, 8) values of the 8 neighbours of each pixel; NaN outside the image or unusable."""
    height, width = channel.shape
    columns = []
    for dy, dx in NEIGHBOURS:
        r, c = rows + dy, cols + dx
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        r, c = np.clip(r, 0, height - 1), np.clip(c, 0, width - 1)
        columns.append(np.where(inside & ~unusable[r, c], channel[r, c], np.nan))
    return np.stack(columns, axis=1) if columns[0].size else np.empty((0, 8))


def fill_from_neighbours(
    channel: np.ndarray, bad: np.ndarray, unusable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fill `bad` pixels with the median of their 8 neighbours that are not `unusable`.

    Returns the filled channel and the bad pixels that had no usable neighbour (set to 0).
    """
    rows, cols = np.nonzero(bad)
    neighbours = gather_neighbours(channel, unusable, rows, cols)
    has_any = ~np.isnan(neighbours).all(axis=1)
    values = np.zeros(rows.size, dtype=np.float32)
    values[has_any] = np.nanmedian(neighbours[has_any], axis=1)
    filled = channel.copy()
    filled[rows, cols] = values
    unfilled = np.zeros(channel.shape, dtype=bool)
    unfilled[rows[~has_any], cols[~has_any]] = True
    return filled, unfilled
