"""Physically valid augmentation for scattering frames.

A scattering pattern keeps its meaning under mirror images and rotations about the beam
centre, a change of overall intensity, and a change of exposure (counting noise); there is no
colour jitter, no crop that loses the beam centre, no shear. `RandFlip` and `RandRotate` keep
the beam centre and mask consistent with the image.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from scivit.errors import ConfigError
from scivit.transforms.base import RandomTransform
from scivit.transforms.geometry import Geometry, as_geometry, resolve_center
from scivit.transforms.sample import Sample, check_sample, updated


class RandFlip(RandomTransform):
    """Mirror the pattern left-right and/or up-down, each with probability `prob`, and with
    `diagonal` also about the main diagonal (rows and columns swapped).

    The whole detector array is flipped, so nothing is lost or invented. About the beam centre
    the pattern is mirrored (what a mirrored sample would give), and the beam centre follows
    the flip to ``x -> W - 1 - x`` and/or ``y -> H - 1 - y`` (and ``(x, y) -> (y, x)`` for the
    diagonal, which comes first). With all three, the eight results are the symmetries of the
    square, rotations by multiples of 90 degrees included, each equally likely at `prob` 0.5:
    exact rotations, without interpolation.

    Args:
        horizontal: allow left-right mirroring.
        vertical: allow up-down mirroring.
        prob: probability of each allowed mirroring.
        seed: generator seed.
        diagonal: allow mirroring about the main diagonal (square images only).
    """

    def __init__(
        self,
        horizontal: bool = True,
        vertical: bool = True,
        prob: float = 0.5,
        seed: int | None = None,
        diagonal: bool = False,
    ) -> None:
        super().__init__(prob, seed)
        self.horizontal = horizontal
        self.vertical = vertical
        self.diagonal = diagonal

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        if self.diagonal and height != width:
            raise ConfigError(
                f"{self.name}: diagonal mirroring needs a square image, got {height}x{width}"
            )
        flip_x = self._draw_apply() and self.horizontal
        flip_y = self._draw_apply() and self.vertical
        swap = self.diagonal and self._draw_apply()
        if swap:
            sample = _transposed(sample)
        axes = [axis for axis, flip in ((-1, flip_x), (-2, flip_y)) if flip]
        if not axes:
            return updated(sample)
        mask = sample.get("mask")
        center = sample.get("beam_center")
        if center is not None:
            x, y = center
            center = (width - 1 - x if flip_x else x, height - 1 - y if flip_y else y)
        return updated(
            sample,
            image=np.ascontiguousarray(np.flip(sample["image"], axis=axes)),
            mask=None if mask is None else np.ascontiguousarray(np.flip(mask, axis=axes)),
            beam_center=center,
        )


def _transposed(sample: Sample) -> Sample:
    """`sample` mirrored about its main diagonal: rows and columns swap, so does the centre."""
    mask = sample.get("mask")
    center = sample.get("beam_center")
    return updated(
        sample,
        image=np.ascontiguousarray(np.swapaxes(sample["image"], -1, -2)),
        mask=None if mask is None else np.ascontiguousarray(mask.T),
        beam_center=None if center is None else (center[1], center[0]),
    )


class RandRotate(RandomTransform):
    """Rotate about the beam centre by an angle drawn uniformly from [-degrees, degrees].

    Positive angles turn the pattern counter-clockwise as displayed (row 0 at the top). The
    image is interpolated bilinearly, the mask by nearest neighbour; pixels that come from
    outside the detector are set to 0 and masked. The beam centre does not move.

    Args:
        degrees: largest absolute rotation angle in degrees.
        prob: probability of rotating a sample.
        seed: generator seed.
        geometry: Geometry, mapping of its fields, or PONI path; otherwise the sample's beam
            centre is used.
    """

    def __init__(
        self,
        degrees: float = 180.0,
        prob: float = 1.0,
        seed: int | None = None,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        if not 0 <= degrees <= 180:
            raise ConfigError(f"{self.name}: degrees must be in [0, 180], got {degrees}")
        super().__init__(prob, seed)
        self.degrees = degrees
        self.geometry = as_geometry(geometry)

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        center = resolve_center(self.geometry, sample, self.name)
        apply = self._draw_apply()
        angle = self.rng.uniform(-self.degrees, self.degrees)
        if not apply:
            return updated(sample)
        return rotate_sample(sample, angle, center)


def rotate_sample(sample: Sample, angle: float, center: tuple[float, float]) -> Sample:
    """Rotate image and mask of `sample` by `angle` degrees about `center` = (x, y)."""
    theta = math.radians(angle)
    matrix = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
    pivot = np.array([center[1], center[0]])
    offset = pivot - matrix @ pivot
    image = np.stack(
        [
            ndimage.affine_transform(channel, matrix, offset, order=1, cval=0.0)
            for channel in sample["image"]
        ]
    )
    mask = sample.get("mask")
    source = (
        np.zeros(image.shape[1:], dtype=np.float32) if mask is None else mask.astype(np.float32)
    )
    moved = ndimage.affine_transform(source, matrix, offset, order=0, cval=1.0) > 0.5
    image[:, moved] = 0.0
    return updated(sample, image=image.astype(np.float32, copy=False), mask=moved)


class _LogUniformFactor(RandomTransform):
    """A random transform driven by one factor drawn log-uniformly from [low, high]."""

    def __init__(self, low: float, high: float, prob: float, seed: int | None) -> None:
        if not 0 < low <= high:
            raise ConfigError(f"{self.name}: need 0 < low <= high, got {low}, {high}")
        super().__init__(prob, seed)
        self.low = low
        self.high = high

    def _draw(self) -> tuple[bool, float]:
        """Whether to apply, and the factor (both drawn every call, so streams stay aligned)."""
        apply = self._draw_apply()
        return apply, math.exp(self.rng.uniform(math.log(self.low), math.log(self.high)))


class RandIntensityScale(_LogUniformFactor):
    """Multiply the intensities by a factor drawn log-uniformly from [low, high].

    Args:
        low: smallest factor (> 0).
        high: largest factor (>= low).
        prob: probability of scaling a sample.
        seed: generator seed.
    """

    def __init__(
        self, low: float = 0.5, high: float = 2.0, prob: float = 1.0, seed: int | None = None
    ) -> None:
        super().__init__(low, high, prob, seed)

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        apply, factor = self._draw()
        if not apply:
            return updated(sample)
        return updated(sample, image=sample["image"] * np.float32(factor))


class RandPoisson(_LogUniformFactor):
    """Resample counts as if recorded with a shorter exposure, keeping the mean intensity.

    A relative exposure ``e`` is drawn log-uniformly from [low, high] and each pixel becomes
    ``Poisson(max(I, 0) * e) / e``: the expected value is unchanged and the counting noise is
    that of an ``e`` times shorter exposure. It only makes sense on counts, so it must come
    before `LogIntensity`, `RadialNormalize` and `Standardize`.

    Args:
        low: shortest relative exposure (> 0).
        high: longest relative exposure (>= low).
        prob: probability of resampling a sample.
        seed: generator seed.
    """

    def __init__(
        self, low: float = 0.1, high: float = 1.0, prob: float = 1.0, seed: int | None = None
    ) -> None:
        super().__init__(low, high, prob, seed)

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        apply, exposure = self._draw()
        if not apply:
            return updated(sample)
        counts = self.rng.poisson(np.maximum(sample["image"], 0).astype(np.float64) * exposure)
        return updated(sample, image=(counts / exposure).astype(np.float32))


class RandAzimuthShift(RandomTransform):
    """Rotate a polar frame (rows = radius, columns = azimuth; see `PolarRemap`) about the beam
    centre: a circular shift of the columns by a uniformly drawn whole number of bins.

    It is `RandRotate` for frames already remapped to polar coordinates, where a rotation is
    exact (no interpolation, nothing leaves the frame). Mirror images of a polar frame are a
    left-right `RandFlip` (`vertical: false`: an up-down flip would reverse the radius axis).

    Args:
        prob: probability of rotating a sample.
        seed: generator seed.
    """

    def __call__(self, sample: Sample) -> Sample:
        _, width = check_sample(sample, self.name)
        apply = self._draw_apply()
        shift = int(self.rng.integers(width))
        if not apply or shift == 0:
            return updated(sample)
        mask = sample.get("mask")
        return updated(
            sample,
            image=np.roll(sample["image"], shift, axis=-1),
            mask=None if mask is None else np.roll(mask, shift, axis=-1),
        )
