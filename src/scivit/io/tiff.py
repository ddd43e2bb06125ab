"""TIFF files through tifffile: a single page is one frame, a multi-page series is a stack.

The first image series of the file is read (tifffile groups the pages of a stack, an ImageJ
hyperstack or an OME-TIFF into series). One page is decoded per frame. RGB pages become
luminance. The tags that describe the acquisition (description, software, date, instrument,
resolution) go into the header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import tifffile

from scivit.io.frame import luminance
from scivit.io.meta import plain_header
from scivit.io.source import FrameSource, reject_dataset

SUFFIXES = ("tif", "tiff")

TAGS = (
    "ImageDescription",
    "Software",
    "DateTime",
    "Artist",
    "Make",
    "Model",
    "XResolution",
    "YResolution",
    "ResolutionUnit",
    "BitsPerSample",
    "SampleFormat",
)
RATIONAL_TAGS = ("XResolution", "YResolution")


class TiffSource(FrameSource):
    """The first series of a TIFF file; frame i is page i of the series."""

    format = "tiff"

    def __init__(self, path: Path) -> None:
        self._tiff = tifffile.TiffFile(path)
        try:
            series = self._tiff.series[0]
            page = series.keyframe
            self._samples_axis = page.axes.find("S")
            axes = zip(page.axes, page.shape, strict=True)
            super().__init__(
                path,
                n_frames=len(series),
                frame_shape=tuple(size for axis, size in axes if axis != "S"),
                dtype=page.dtype,
                header=plain_header(_tag_items(page)),
            )
        except BaseException:
            self._tiff.close()
            raise

    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        pixels = self._tiff.asarray(key=index, series=0)
        if self._samples_axis >= 0:
            pixels = luminance(np.moveaxis(pixels, self._samples_axis, -1))
        return pixels, self.header

    def close(self) -> None:
        self._tiff.close()


def open_tiff(path: Path, dataset: str | None, allow_pickle: bool) -> TiffSource:
    """Open a TIFF file (`allow_pickle` does not apply)."""
    reject_dataset(path, dataset, "TIFF")
    return TiffSource(path)


def _tag_items(page: tifffile.TiffPage) -> list[tuple[str, Any]]:
    items = []
    for name in TAGS:
        tag = page.tags.get(name)
        if tag is not None:
            value = _quotient(tag.value) if name in RATIONAL_TAGS else tag.value
            items.append((name, value))
    return items


def _quotient(value: Any) -> Any:
    """TIFF RATIONAL values arrive as (numerator, denominator); return their quotient."""
    numerator, denominator = value
    return numerator / denominator if denominator else value
