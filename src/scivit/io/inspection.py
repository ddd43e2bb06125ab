"""`inspect_file`: what a reader sees in a file, for `scivit inspect` and for debugging.

Reports the format, frame count and shape, the original dtype, statistics of the valid
pixels of the first frame, how many pixels are invalid, the datasets of HDF5 files, and the
header (capped to a readable size).
"""

from __future__ import annotations

from os import PathLike
from typing import Any

import numpy as np

from scivit.io.failures import parser_errors
from scivit.io.frame import validate_pixels
from scivit.io.readers import open_source

MAX_HEADER_ENTRIES = 40
MAX_HEADER_TEXT = 200


def inspect_file(
    path: str | PathLike[str], dataset: str | None = None, allow_pickle: bool = False
) -> dict[str, Any]:
    """Describe an image file without failing on its pixel values.

    Returns:
        dict with `path`, `format`, `dataset`, `n_frames`, `frame_shape`, `dtype`, `min`,
        `max`, `mean`, `std` (over the valid pixels of the first frame; None when there is
        none), `invalid_pixels`, `header`, and `datasets` (path, shape, dtype) for HDF5 files.
    """
    with open_source(path, dataset, allow_pickle) as source:
        report: dict[str, Any] = {
            "path": str(source.path),
            "format": source.format,
            "dataset": source.dataset,
            "n_frames": source.n_frames,
            "frame_shape": source.frame_shape,
            "dtype": str(source.dtype),
        }
        if source.n_frames:
            with parser_errors(source.path):
                pixels, header = source.read(0)
            report.update(pixel_statistics(pixels, source.sentinels))
            report["header"] = _capped(header)
        else:
            report["header"] = _capped(source.header)
        datasets = source.datasets()
        if datasets:
            report["datasets"] = datasets
    return report


def pixel_statistics(pixels: np.ndarray, sentinels: bool = True) -> dict[str, Any]:
    """min/max/mean/std of the valid pixels (float64) and the count of invalid ones."""
    data, invalid = validate_pixels(np.asarray(pixels), sentinels)
    valid = data[~invalid].astype(np.float64)
    stats: dict[str, Any] = {"invalid_pixels": int(invalid.sum())}
    if valid.size == 0:
        return {"min": None, "max": None, "mean": None, "std": None, **stats}
    return {
        "min": float(valid.min()),
        "max": float(valid.max()),
        "mean": float(valid.mean()),
        "std": float(valid.std()),
        **stats,
    }


def _capped(header: dict[str, Any]) -> dict[str, Any]:
    capped = {}
    for key, value in list(header.items())[:MAX_HEADER_ENTRIES]:
        text = value if not isinstance(value, str) else value[:MAX_HEADER_TEXT]
        capped[key] = text
    if len(header) > MAX_HEADER_ENTRIES:
        capped["..."] = f"{len(header) - MAX_HEADER_ENTRIES} more entries"
    return capped
