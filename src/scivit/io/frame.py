"""The `Frame` every reader returns, and the checks that turn raw pixels into one.

A frame is float32 (H, W). Pixels the file itself marks invalid are masked and set to 0:
non-finite values, and in integer detector frames the sentinels that detectors write for gaps
and dead pixels: negative counts (Pilatus writes -1 for gaps, -2 for bad pixels) and the
largest value of unsigned types of 16 bits or more (Eiger writes 2**32 - 1 in uint32 frames).
8-bit data and photographic formats have no sentinels: 255 is just white.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scivit.errors import ReadError

LUMA_WEIGHTS = (0.299, 0.587, 0.114)
"""ITU-R BT.601 luma weights, the ones Pillow uses for RGB -> L."""


@dataclass
class Frame:
    """One 2-D image read from a file.

    Attributes:
        data: float32 (H, W); invalid pixels are 0.
        mask: bool (H, W), True where the file marks a pixel invalid; None when none is.
        meta: `path`, `format`, `frame`, `n_frames`, `dataset`, `shape`, `dtype` (original)
            and the file's header entries, all plain str/num values.
    """

    data: np.ndarray
    mask: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) of the frame."""
        return self.data.shape  # type: ignore[return-value]


def luminance(rgb: np.ndarray) -> np.ndarray:
    """float32 (H, W) luma of an (H, W, 3 or 4) colour array (alpha ignored)."""
    weights = np.asarray(LUMA_WEIGHTS, dtype=np.float32)
    return rgb[..., :3].astype(np.float32) @ weights


def validate_pixels(raw: np.ndarray, sentinels: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return float32 data (invalid pixels set to 0) and the bool mask of invalid pixels."""
    with np.errstate(over="ignore"):
        data = raw.astype(np.float32)
    if raw.dtype.kind == "f":
        invalid = ~np.isfinite(data)
    elif sentinels:
        invalid = sentinel_pixels(raw)
    else:
        invalid = np.zeros(raw.shape, dtype=bool)
    data[invalid] = 0
    return data, invalid


def sentinel_pixels(raw: np.ndarray) -> np.ndarray:
    """Bool mask of integer detector sentinels: negative counts and the unsigned maximum."""
    kind = raw.dtype.kind
    if kind == "i":
        return raw < 0
    if kind == "u" and raw.dtype.itemsize >= 2:
        return raw == np.iinfo(raw.dtype).max
    return np.zeros(raw.shape, dtype=bool)


def make_frame(raw: np.ndarray, meta: dict[str, Any], sentinels: bool = True) -> Frame:
    """Validate a raw 2-D array read from `meta['path']` and wrap it as a Frame.

    Raises:
        ReadError: the frame is not 2-D, or no pixel is valid.
    """
    where = _where(meta)
    if raw.ndim != 2:
        raise ReadError(f"{where} has shape {raw.shape}; expected a 2-D image")
    data, invalid = validate_pixels(raw, sentinels)
    has_invalid = bool(invalid.any())
    if has_invalid and invalid.all():
        found = "no finite values" if raw.dtype.kind == "f" else "only detector sentinel values"
        raise ReadError(f"{where} contains {found}")
    valid = ~invalid if has_invalid else True
    low = np.min(data, where=valid, initial=np.inf)
    if low == np.max(data, where=valid, initial=-np.inf):
        warnings.warn(f"{where} is constant (every valid pixel is {low:g})", UserWarning, 2)
    return Frame(data=data, mask=invalid if has_invalid else None, meta=meta)


def _where(meta: dict[str, Any]) -> str:
    frame = meta.get("frame")
    return f"{meta['path']}: frame {frame}" if frame is not None else f"{meta['path']}: image"
