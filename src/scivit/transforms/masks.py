"""User-given masks: a bool array or a mask file, checked against each sample's image shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scivit.errors import ConfigError
from scivit.io import read_mask


def mask_origin(value: np.ndarray | str | Path | None, name: str) -> str:
    """How messages refer to a user mask: the transform, and the file when there is one."""
    return f"{name} ({value})" if isinstance(value, (str, Path)) else name


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


def fitted_mask(mask: np.ndarray | None, shape: tuple[int, int], origin: str) -> np.ndarray | None:
    """`mask` after checking that it matches an image of `shape`; `origin` names it in errors."""
    if mask is not None and mask.shape != tuple(shape):
        raise ConfigError(
            f"{origin}: mask shape {mask.shape} does not match image {shape[0]}x{shape[1]}"
        )
    return mask
