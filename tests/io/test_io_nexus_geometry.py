"""The beam centre a NeXus detector records reaches each frame's header and its sample, in
pixels, whether stored per frame, once, in pixels or in metres; anything else is ignored."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from scivit.data.dataset import frame_to_sample
from scivit.io import read_image


def nexus_stack(path: Path, centre_x, centre_y, units: str | None = "pixel", pixel=None) -> Path:
    with h5py.File(path, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        data = entry.create_group("data")
        data.attrs.update(NX_class="NXdata", signal="data")
        data.create_dataset("data", data=np.arange(240, dtype=np.float32).reshape(3, 8, 10))
        detector = entry.create_group("instrument/detector")
        detector.attrs["NX_class"] = "NXdetector"
        for name, value in (("beam_center_x", centre_x), ("beam_center_y", centre_y)):
            item = detector.create_dataset(name, data=value)
            if units is not None:
                item.attrs["units"] = units
        if pixel is not None:
            for axis in "xy":
                detector.create_dataset(f"{axis}_pixel_size", data=pixel[0]).attrs["units"] = pixel[
                    1
                ]
    return path


def test_per_frame_centres_in_pixels(tmp_path):
    path = nexus_stack(tmp_path / "a.nxs", [1.0, 2.0, 3.5], [4.0, 5.0, 6.5])
    frame = read_image(path, frame=2)
    assert (frame.meta["beam_center_x"], frame.meta["beam_center_y"]) == (3.5, 6.5)
    assert frame_to_sample(frame)["beam_center"] == (3.5, 6.5)
    assert frame_to_sample(frame, (0.0, 0.0))["beam_center"] == (0.0, 0.0)


@pytest.mark.parametrize(
    ("units", "pixel", "expected"),
    [
        (None, None, (12.0, 30.0)),
        ("mm", (75e-6, "m"), (160.0, 400.0)),
        ("m", (0.172, "mm"), (12e-3 / 0.172e-3, 30e-3 / 0.172e-3)),
    ],
)
def test_one_centre_for_the_stack_in_pixels_or_lengths(tmp_path, units, pixel, expected):
    scale = {None: 1.0, "mm": 1e-3 * 1e3, "m": 1e-3}[units]
    path = nexus_stack(tmp_path / "b.nxs", 12.0 * scale, 30.0 * scale, units, pixel)
    centre = frame_to_sample(read_image(path, frame=1))["beam_center"]
    assert centre == pytest.approx(expected)


@pytest.mark.parametrize(
    ("centre_x", "units", "pixel"),
    [
        ([1.0, 2.0], "pixel", None),
        (5.0, "furlong", None),
        (5.0, "mm", None),
        (np.nan, "pixel", None),
    ],
)
def test_centres_that_cannot_be_read_are_left_out(tmp_path, centre_x, units, pixel):
    path = nexus_stack(tmp_path / "c.nxs", centre_x, 4.0, units, pixel)
    frame = read_image(path, frame=0)
    assert "beam_center_x" not in frame.meta
    assert frame_to_sample(frame)["beam_center"] is None
