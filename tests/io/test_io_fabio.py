"""Detector formats through fabio: EDF (with header, multi-frame), CBF, compressed, corrupted."""

from __future__ import annotations

import gzip
from pathlib import Path

import fabio
import fabio.cbfimage
import fabio.edfimage
import numpy as np
import pytest

from scivit.errors import ReadError
from scivit.io import count_frames, iter_frames, read_image


def test_edf_round_trip_with_header(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.normal(100, 10, size=(32, 40)).astype(np.float32)
    path = tmp_path / "saxs_0001.edf"
    header = {"Center_1": "12.5", "SampleDistance": "1.2", "Title": "AgBh"}
    fabio.edfimage.EdfImage(data=image, header=header).write(str(path))
    frame = read_image(path)
    np.testing.assert_array_equal(frame.data, image)
    assert frame.meta["format"] == "edf" and frame.meta["n_frames"] == 1
    assert frame.meta["Center_1"] == "12.5" and frame.meta["Title"] == "AgBh"
    assert frame.meta["shape"] == (32, 40) and frame.meta["dtype"] == "float32"


def test_multiframe_edf_has_per_frame_headers(tmp_path: Path, rng: np.random.Generator) -> None:
    frames = rng.integers(0, 500, size=(3, 32, 32)).astype(np.int32)
    path = tmp_path / "scan.edf"
    edf = fabio.edfimage.EdfImage(data=frames[0], header={"Exposure": "0"})
    for index in (1, 2):
        edf.append_frame(data=frames[index], header={"Exposure": str(index)})
    edf.write(str(path))
    assert count_frames(path) == 3
    second = read_image(path, frame=2)
    np.testing.assert_array_equal(second.data, frames[2])
    assert second.meta["Exposure"] == "2" and second.meta["frame"] == 2
    read = list(iter_frames(path))
    np.testing.assert_array_equal(np.stack([f.data for f in read]), frames)
    assert [f.meta["Exposure"] for f in read] == ["0", "1", "2"]


def test_cbf_pilatus_sentinels(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.integers(0, 10_000, size=(32, 32)).astype(np.int32)
    image[:, 7] = -1
    image[3, 3] = -2
    path = tmp_path / "pilatus_00001.cbf"
    fabio.cbfimage.CbfImage(data=image).write(str(path))
    frame = read_image(path)
    assert frame.meta["format"] == "cbf" and frame.meta["dtype"] == "int32"
    np.testing.assert_array_equal(frame.mask, image < 0)
    np.testing.assert_array_equal(frame.data, np.where(image < 0, 0, image).astype(np.float32))


def test_gzipped_cbf(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.integers(0, 100, size=(32, 32)).astype(np.int32)
    plain = tmp_path / "frame.cbf"
    fabio.cbfimage.CbfImage(data=image).write(str(plain))
    packed = tmp_path / "frame.CBF.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    np.testing.assert_array_equal(read_image(packed).data, image)


@pytest.mark.parametrize("suffix", ["edf", "cbf", "mccd", "sfrm", "mar3450"])
def test_corrupted_detector_file(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    path = tmp_path / f"noise.{suffix}"
    path.write_bytes(rng.bytes(4096))
    with pytest.raises(ReadError, match=rf"noise\.{suffix}: cannot read file \("):
        read_image(path)


def test_dataset_is_rejected_for_edf(tmp_path: Path) -> None:
    path = tmp_path / "frame.edf"
    fabio.edfimage.EdfImage(data=np.eye(32, dtype=np.float32)).write(str(path))
    with pytest.raises(ReadError, match="applies only to HDF5/NeXus"):
        read_image(path, dataset="data")


def test_cbf_and_edf_headers_give_the_beam_centre_in_pixel_indices(tmp_path: Path) -> None:
    image = np.arange(32 * 40, dtype=np.int32).reshape(32, 40)
    contents = "# Detector: PILATUS 1M, S/N 1-0001\n# Beam_xy (487.50, 100.25) pixels\n"
    cbf = tmp_path / "pilatus_00002.cbf"
    header = {"_array_data.header_convention": "PILATUS_1.2"}
    header["_array_data.header_contents"] = contents
    fabio.cbfimage.CbfImage(data=image, header=header).write(str(cbf))
    meta = read_image(cbf).meta
    assert (meta["beam_center_x"], meta["beam_center_y"]) == (487.5, 100.25)
    edf = tmp_path / "saxs_0002.edf"
    fabio.edfimage.EdfImage(data=image, header={"Center_1": "12.5", "Center_2": "20"}).write(
        str(edf)
    )
    meta = read_image(edf).meta
    assert (meta["beam_center_x"], meta["beam_center_y"]) == (12.0, 19.5)
    fabio.edfimage.EdfImage(data=image, header={"Center_1": "12.5", "Center_2": "n/a"}).write(
        str(edf)
    )
    assert "beam_center_x" not in read_image(edf).meta
