"""Readers for detector and image files: one `read_image(path) -> Frame` front door.

Formats: TIFF (tifffile), EDF/CBF/MarCCD/Mar345/Bruker/... (fabio), HDF5/NeXus (h5py),
NumPy `.npy`/`.npz`, PNG/JPEG/BMP (Pillow). Every frame comes back as float32 (H, W) with a
mask of the pixels the file marks invalid and plain metadata.
"""

from scivit.io.frame import Frame
from scivit.io.h5cache import close_cached_files
from scivit.io.inspection import inspect_file
from scivit.io.mask import read_mask
from scivit.io.readers import (
    READERS,
    count_frames,
    is_supported,
    iter_frames,
    open_source,
    read_image,
    supported_suffixes,
)
from scivit.io.source import FrameSource

__all__ = [
    "READERS",
    "Frame",
    "FrameSource",
    "close_cached_files",
    "count_frames",
    "inspect_file",
    "is_supported",
    "iter_frames",
    "open_source",
    "read_image",
    "read_mask",
    "supported_suffixes",
]
