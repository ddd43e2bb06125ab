"""Header values become plain Python values."""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path

import h5py
import numpy as np

from scivit.io import read_image
from scivit.io.meta import MAX_ITEMS, MAX_TEXT, plain_header, plain_value


class Unit(IntEnum):
    CENTIMETER = 3


def test_plain_values() -> None:
    assert plain_value(np.float32(0.5)) == 0.5 and type(plain_value(np.int64(3))) is int
    assert plain_value(b"Pilatus3 1M\x00") == "Pilatus3 1M"
    assert plain_value(np.bytes_(b"Eiger")) == "Eiger"
    assert plain_value(Unit.CENTIMETER) == "CENTIMETER"
    assert plain_value(np.array([7])) == 7
    assert plain_value((72, 72)) == (72, 72)
    assert plain_value(np.arange(3.0)) == (0.0, 1.0, 2.0)
    assert plain_value(np.zeros((MAX_ITEMS + 1,))) == f"array({MAX_ITEMS + 1},)"
    assert plain_value("x" * (MAX_TEXT + 5)) == "x" * MAX_TEXT


def test_values_that_are_not_data_are_dropped() -> None:
    header = plain_header([("icc", b"\xff\xfe\x00\x81"), ("fn", print), ("ok", "1")])
    assert header == {"ok": "1"}


def test_hdf5_attributes_into_meta(tmp_path: Path) -> None:
    path = tmp_path / "attrs.h5"
    with h5py.File(path, "w") as handle:
        dataset = handle.create_dataset("image", data=np.arange(32 * 32.0).reshape(32, 32))
        dataset.attrs["long_name"] = b"intensity"
        dataset.attrs["beam_center"] = np.array([15.5, 16.0])
        dataset.attrs["frame"] = 99
    meta = read_image(path).meta
    assert meta["long_name"] == "intensity" and meta["beam_center"] == (15.5, 16.0)
    assert meta["frame"] is None and meta["header_frame"] == 99
