"""PNG, JPEG and BMP through Pillow: one frame per file, colour converted to luminance.

Grayscale modes keep their full precision (a 16-bit PNG stays 0..65535). Colour and palette
images become ITU-R BT.601 luminance computed in float32. These are display formats written by
cameras and hospital exports, not by counting detectors, so no pixel value is a sentinel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from scivit.io.frame import luminance
from scivit.io.meta import plain_header
from scivit.io.source import FrameSource, reject_dataset

SUFFIXES = ("png", "jpg", "jpeg", "bmp")
GRAY_MODES = ("1", "L", "I", "I;16", "I;16B", "I;16L", "F")


class PillowSource(FrameSource):
    """A single image decoded by Pillow at open time."""

    format = "pillow"
    sentinels = False

    def __init__(self, path: Path) -> None:
        with Image.open(path) as image:
            image.load()
            self.format = (image.format or "pillow").lower()
            self._pixels, dtype = _gray_pixels(image)
            header = plain_header([("mode", image.mode), *image.info.items()])
        super().__init__(
            path, n_frames=1, frame_shape=self._pixels.shape, dtype=dtype, header=header
        )

    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        return self._pixels, self.header


def open_pillow(path: Path, dataset: str | None, allow_pickle: bool) -> PillowSource:
    """Open a PNG/JPEG/BMP image (`allow_pickle` does not apply)."""
    reject_dataset(path, dataset, "PNG/JPEG/BMP")
    return PillowSource(path)


def _gray_pixels(image: Image.Image) -> tuple[np.ndarray, np.dtype]:
    """(H, W) pixels and the dtype the file stores them in."""
    if image.mode in GRAY_MODES:
        pixels = np.asarray(image)
        return pixels, pixels.dtype
    if image.mode == "LA":
        pixels = np.asarray(image.getchannel("L"))
        return pixels, pixels.dtype
    rgb = np.asarray(image.convert("RGB"))
    return luminance(rgb), rgb.dtype
