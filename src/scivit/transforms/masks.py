"""User-given masks: a bool array or a mask file, checked against each sample's image shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scivit.errors import ConfigError
from scivit.io import read_mask


def load_mask(value: np.ndarray | str | Path | None, name: str) -> np.ndarray | None:
    """A bool (H, W) mask (True = invalid) from an array or a file read by `scivit.io.read_mask`."""
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        return read_mask(value)
    mask = np.asarray(value)
    if mask.ndim != 2:
        raise ConfigError(f"{name}: mask must be 2-D (H, W), got shape {mask.shape}")
    return mask.astype(bool)


def fitted_mask(mask: np.ndarray | None, shape: tuple[int, int], name: str) -> np.ndarray | None:
    """`mask` after checking that it matches an image of `shape`."""
    if mask is not None and mask.shape != tuple(shape):
        raise ConfigError(
            f"{name}: mask shape {mask.shape} does not match image {shape[0]}x{shape[1]}"
        )
    return mask
