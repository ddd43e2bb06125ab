"""The beam centre a NeXus file records for its detector, in pixels.

NXdetector's `beam_center_x` / `beam_center_y` give where the direct beam hits the detector,
one value or one per frame, "in physical units or pixels as documented by the units attribute"
(https://manual.nexusformat.org/classes/base_classes/NXdetector.html). Pixels (or no units) are
taken as they are; lengths are divided by the detector's `x_pixel_size` / `y_pixel_size`. The
detector is looked for in the NXentry that holds the image dataset.
"""

from __future__ import annotations

import h5py
import numpy as np

from scivit.io.nexus import attribute_text, get_item

PIXEL_UNITS = {"", "pixel", "pixels", "px"}
METRES_PER = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "micron": 1e-6}


def recorded_beam_centers(found: h5py.Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) beam centres in pixels, each of one value or one per frame of `found`, or None
    when the file records none (or in units that cannot be turned into pixels, or a count of
    values that matches neither)."""
    detector = _detector_of(found)
    if detector is None:
        return None
    frames = found.shape[0] if found.ndim == 3 else 1
    centres = [_in_pixels(detector, axis) for axis in ("x", "y")]
    if any(values is None or values.size not in (1, frames) for values in centres):
        return None
    return centres[0], centres[1]


def _detector_of(found: h5py.Dataset) -> h5py.Group | None:
    entry = found.parent
    while entry.name != "/" and attribute_text(entry, "NX_class") != "NXentry":
        entry = entry.parent

    def visit(_name: str, item: object) -> h5py.Group | None:
        is_detector = (
            isinstance(item, h5py.Group) and attribute_text(item, "NX_class") == "NXdetector"
        )
        has_centre = is_detector and "beam_center_x" in item and "beam_center_y" in item
        return item if has_centre else None

    return entry.visititems(visit)


def _in_pixels(detector: h5py.Group, axis: str) -> np.ndarray | None:
    centre = _values(detector, f"beam_center_{axis}")
    if centre is None:
        return None
    units = (attribute_text(detector[f"beam_center_{axis}"], "units") or "").strip()
    if units in PIXEL_UNITS:
        return centre
    size = _values(detector, f"{axis}_pixel_size")
    if size is None or units not in METRES_PER or size.size not in (1, centre.size):
        return None
    size_units = (attribute_text(detector[f"{axis}_pixel_size"], "units") or "m").strip()
    if size_units not in METRES_PER:
        return None
    return centre * METRES_PER[units] / (size * METRES_PER[size_units])


def _values(group: h5py.Group, name: str) -> np.ndarray | None:
    item = get_item(group, name)
    if not isinstance(item, h5py.Dataset) or item.dtype.kind not in "iuf":
        return None
    values = np.asarray(item[()], dtype=np.float64).reshape(-1)
    return values if values.size and np.isfinite(values).all() else None
