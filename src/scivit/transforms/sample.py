"""The sample dict that transforms pass along, and the checks every transform applies to it.

A sample is ``{"image": float32 (C, H, W), "mask": bool (H, W) or None (True = invalid),
"beam_center": (x, y) in pixels or None, "meta": dict}``. Pixel coordinates follow the array
convention: the centre of the pixel in row ``i`` and column ``j`` is at ``(x, y) = (j, i)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from scivit.errors import ConfigError

Sample = dict[str, Any]


def make_sample(
    image: np.ndarray,
    mask: np.ndarray | None = None,
    beam_center: Sequence[float] | None = None,
    meta: dict[str, Any] | None = None,
) -> Sample:
    """Build a checked sample; a 2-D image becomes (1, H, W) and is cast to float32.

    Non-finite pixels (in any channel) are set to 0 and masked, as `scivit.io` does.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[None]
    image = np.array(image, dtype=np.float32)
    mask = None if mask is None else np.asarray(mask, dtype=bool)
    if image.ndim == 3:
        image, mask = _mask_non_finite(image, mask)
    sample = {
        "image": image,
        "mask": mask,
        "beam_center": beam_center,
        "meta": dict(meta or {}),
    }
    check_sample(sample, "sample")
    sample["beam_center"] = as_center(beam_center, "sample")
    return sample


def check_sample(sample: Sample, name: str) -> tuple[int, int]:
    """Check the sample contract and return the image's (H, W); raise ConfigError otherwise."""
    if not isinstance(sample, dict) or "image" not in sample:
        raise ConfigError(f"{name}: expected a sample dict with an 'image' entry")
    image = sample["image"]
    if not isinstance(image, np.ndarray) or image.dtype != np.float32 or image.ndim != 3:
        raise ConfigError(
            f"{name}: sample image must be a float32 numpy array (C, H, W), got {_describe(image)}"
        )
    height, width = image.shape[1:]
    mask = sample.get("mask")
    if mask is not None:
        if not isinstance(mask, np.ndarray) or mask.dtype != bool:
            raise ConfigError(
                f"{name}: sample mask must be a bool numpy array, got {_describe(mask)}"
            )
        if mask.shape != (height, width):
            raise ConfigError(
                f"{name}: mask shape {mask.shape} does not match image {height}x{width}"
            )
    return height, width


def as_center(value: Sequence[float] | None, name: str) -> tuple[float, float] | None:
    """A beam centre as a tuple of two finite floats, or None."""
    if value is None:
        return None
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}: beam_center must be two numbers (x, y), got {value!r}"
        ) from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ConfigError(f"{name}: beam_center must be finite, got {value!r}")
    return (x, y)


def updated(sample: Sample, **changes: Any) -> Sample:
    """A new sample dict with `changes` applied; the input sample is left untouched."""
    result = dict(sample)
    result.update(changes)
    return result


def valid_pixels(sample: Sample) -> np.ndarray | None:
    """Bool (H, W) map of usable pixels, or None when the sample has no mask."""
    mask = sample.get("mask")
    return None if mask is None else ~mask


def merge_masks(*masks: np.ndarray | None) -> np.ndarray | None:
    """Union of the given masks (None entries ignored); None when all are None."""
    present = [mask for mask in masks if mask is not None]
    if not present:
        return None
    return np.logical_or.reduce(present) if len(present) > 1 else present[0].copy()


def _mask_non_finite(
    image: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    bad = ~np.isfinite(image)
    if not bad.any():
        return image, mask
    image[bad] = 0.0
    pixels = bad.any(axis=0)
    if mask is not None and mask.shape == pixels.shape:
        pixels = pixels | mask
    return image, pixels


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"{value.dtype} array of shape {value.shape}"
    return type(value).__name__
