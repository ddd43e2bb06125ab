"""Photometric changes of pretraining views that keep the physics: a gamma contrast curve
(`RandGamma`), a mask-aware Gaussian blur (`RandGaussianBlur`) and `Unlog`, the inverse of
`log`, which lets counts-space changes run on frames cached as ``log(I + offset)``.
Never colour jitter: detector frames have one channel of counts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from scivit.errors import ConfigError
from scivit.transforms.base import RandomTransform, Transform
from scivit.transforms.sample import Sample, check_sample, updated


class RandGamma(RandomTransform):
    """A gamma contrast curve on each channel's valid range: with lo, hi the extremes of the
    valid pixels, ``x -> lo + (hi - lo) * ((x - lo) / (hi - lo)) ** gamma``, gamma drawn
    log-uniformly from [low, high]. Defined for any sign of the values; the range is kept.

    Args:
        low: smallest gamma (> 0).
        high: largest gamma (>= low).
        prob: probability of applying the curve.
        seed: generator seed.
    """

    def __init__(
        self, low: float = 0.7, high: float = 1.4, prob: float = 1.0, seed: int | None = None
    ) -> None:
        if not 0 < low <= high:
            raise ConfigError(f"{self.name}: need 0 < low <= high, got {low}, {high}")
        super().__init__(prob, seed)
        self.log_range = (math.log(low), math.log(high))

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        apply = self._draw_apply()
        gamma = math.exp(self.rng.uniform(*self.log_range))
        if not apply:
            return updated(sample)
        valid = sample.get("mask")
        valid = None if valid is None else ~valid
        channels = [_gamma_curve(channel, valid, gamma) for channel in sample["image"]]
        return updated(sample, image=np.stack(channels).astype(np.float32, copy=False))


def _gamma_curve(channel: np.ndarray, valid: np.ndarray | None, gamma: float) -> np.ndarray:
    values = channel if valid is None else channel[valid]
    if values.size == 0:
        return channel
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return channel
    unit = np.clip((channel - low) / (high - low), 0.0, 1.0)
    return (low + (high - low) * unit**gamma).astype(np.float32)


class RandGaussianBlur(RandomTransform):
    """Gaussian blur with a width drawn uniformly from [low, high] pixels, mask-aware.

    Normalised convolution: ``G * (x v) / G * v`` with v the valid pixels, so masked pixels
    never leak into valid ones; the mask is unchanged.

    Args:
        low: smallest standard deviation in pixels (> 0).
        high: largest standard deviation in pixels (>= low).
        prob: probability of blurring.
        seed: generator seed.
    """

    def __init__(
        self, low: float = 0.1, high: float = 2.0, prob: float = 1.0, seed: int | None = None
    ) -> None:
        if not 0 < low <= high:
            raise ConfigError(f"{self.name}: need 0 < low <= high, got {low}, {high}")
        super().__init__(prob, seed)
        self.low = low
        self.high = high

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        apply = self._draw_apply()
        sigma = self.rng.uniform(self.low, self.high)
        if not apply:
            return updated(sample)
        mask = sample.get("mask")
        shape = sample["image"].shape[1:]
        valid = np.ones(shape, np.float32) if mask is None else (~mask).astype(np.float32)
        weight = ndimage.gaussian_filter(valid, sigma)
        channels = []
        for channel in sample["image"]:
            total = ndimage.gaussian_filter(channel * valid, sigma)
            channels.append(np.divide(total, weight, out=np.zeros_like(total), where=weight > 1e-6))
        return updated(sample, image=np.stack(channels).astype(np.float32, copy=False))


class Unlog(Transform):
    """The inverse of `log`: ``max(exp(x) - offset, 0)`` recovers counts from log frames.

    Args:
        offset: the offset the frames were logged with.
    """

    def __init__(self, offset: float = 1.0) -> None:
        if not offset > 0:
            raise ConfigError(f"{self.name}: offset must be positive, got {offset}")
        self.offset = np.float32(offset)

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        counts = np.maximum(np.exp(sample["image"]) - self.offset, 0).astype(np.float32)
        return updated(sample, image=counts)
