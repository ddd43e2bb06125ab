"""Pixel masks from files: True = masked (excluded) pixel.

A mask is one image in any readable format, or an HDF5 dataset such as NeXus
`/entry/instrument/detector/pixel_mask` (nonzero = bad pixel, the default convention here,
shared with pyFAI and fit2d masks). Files that store 1 for *valid* pixels are read with
`invert=True`. Non-finite values are always masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike

import numpy as np

from scivit.errors import ReadError
from scivit.io.failures import parser_errors
from scivit.io.readers import open_source


def read_mask(
    path: str | PathLike[str],
    shape: Sequence[int] | None = None,
    dataset: str | None = None,
    invert: bool = False,
) -> np.ndarray:
    """Read a bool (H, W) mask, True where a pixel is masked.

    Args:
        path: image file or HDF5/NeXus file holding the mask.
        shape: the (H, W) of the images the mask applies to; a different mask shape is an error.
        dataset: HDF5 dataset path (e.g. `/entry/instrument/detector/pixel_mask`).
        invert: the file marks *valid* pixels with nonzero values (zero = masked).
    """
    with open_source(path, dataset) as source:
        if source.n_frames != 1:
            raise ReadError(f"{path}: a mask must be one image; the file holds {source.n_frames}")
        with parser_errors(source.path):
            values, _ = source.read(0)
    values = np.asarray(values)
    masked = (values == 0) if invert else (values != 0)
    if values.dtype.kind == "f":
        masked |= ~np.isfinite(values)
    if shape is not None and tuple(shape) != masked.shape:
        raise ReadError(
            f"{path}: mask shape {masked.shape} does not match image shape {tuple(shape)}"
        )
    return masked
