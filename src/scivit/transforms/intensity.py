"""Intensity transforms: `LogIntensity`, `ClipPercentile`, `Standardize`.

Statistics are taken over valid pixels only (the sample's mask), per channel.
"""

from __future__ import annotations

import warnings

import numpy as np

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.sample import Sample, check_sample, updated


class LogIntensity(Transform):
    """``log(max(I, 0) + offset)``: compresses the decades a scattering frame spans.

    The mask is kept as it is.

    Args:
        offset: positive constant added before the logarithm.
    """

    def __init__(self, offset: float = 1.0) -> None:
        if not offset > 0:
            raise ConfigError(f"{self.name}: offset must be positive, got {offset}")
        self.offset = np.float32(offset)

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        return updated(sample, image=np.log(np.maximum(sample["image"], 0) + self.offset))


class ClipPercentile(Transform):
    """Clip each channel to the [lower, upper] percentiles of its valid pixels.

    Args:
        lower: lower percentile in [0, 100).
        upper: upper percentile in (lower, 100].
    """

    def __init__(self, lower: float = 0.5, upper: float = 99.5) -> None:
        if not 0 <= lower < upper <= 100:
            raise ConfigError(f"{self.name}: need 0 <= lower < upper <= 100, got {lower}, {upper}")
        self.lower = lower
        self.upper = upper

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        mask = sample.get("mask")
        channels = []
        for channel in sample["image"]:
            values = channel if mask is None else channel[~mask]
            if values.size == 0:
                channels.append(channel)
                continue
            low, high = np.percentile(values, [self.lower, self.upper])
            channels.append(np.clip(channel, low, high).astype(np.float32))
        return updated(sample, image=np.stack(channels))


class Standardize(Transform):
    """Zero mean and unit standard deviation over valid pixels, per channel — or, when `mean`
    and `std` are given, the fixed map ``(x - mean) / std`` for every frame.

    Per-frame statistics make frames of any exposure look alike; a fixed map keeps the absolute
    level, which tags such as weak/strong scattering or high background are about. Masked
    pixels become 0 (the per-frame mean, or `mean` for the fixed map). A channel without spread
    (constant, or with no valid pixel) becomes all zeros and a warning names it. `channels`
    limits the change to some channels (e.g. to keep a ring-average channel in log counts).

    Args:
        mean: fixed value subtracted from every frame (with `std`), or None for per-frame.
        std: fixed positive divisor (with `mean`), or None for per-frame.
        channels: indices of the channels to standardize; None for all.
    """

    def __init__(
        self,
        mean: float | None = None,
        std: float | None = None,
        channels: list[int] | None = None,
    ) -> None:
        if (mean is None) != (std is None):
            raise ConfigError(f"{self.name}: give both mean and std, or neither")
        if std is not None and not std > 0:
            raise ConfigError(f"{self.name}: std must be positive, got {std}")
        self.fixed = None if mean is None else (np.float32(mean), np.float32(std))
        self.channels = None if channels is None else [int(index) for index in channels]

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        mask = sample.get("mask")
        count = sample["image"].shape[0]
        chosen = range(count) if self.channels is None else self.channels
        for index in chosen:
            if not -count <= index < count:
                raise ConfigError(f"{self.name}: channel {index} of a {count}-channel frame")
        picked = {index % count for index in chosen}
        channels = [
            self._standardize(channel, mask, index) if index in picked else channel
            for index, channel in enumerate(sample["image"])
        ]
        return updated(sample, image=np.stack(channels))

    def _standardize(self, channel: np.ndarray, mask: np.ndarray | None, index: int) -> np.ndarray:
        if self.fixed is not None:
            result = (channel - self.fixed[0]) / self.fixed[1]
            if mask is not None:
                result[mask] = 0.0
            return result.astype(np.float32, copy=False)
        values = channel if mask is None else channel[~mask]
        std = float(values.std(dtype=np.float64)) if values.size else 0.0
        if std == 0.0 or not np.isfinite(std):
            source = "has no valid pixel" if values.size == 0 else "is constant"
            warnings.warn(f"{self.name}: channel {index} {source}; it is set to 0", stacklevel=3)
            return np.zeros_like(channel)
        mean = values.mean(dtype=np.float64)
        result = ((channel - mean) / std).astype(np.float32)
        if mask is not None:
            result[mask] = 0.0
        return result
