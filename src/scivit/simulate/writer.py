"""Write simulated frames as NeXus/HDF5 shards or TIFF files, and the manifest CSV.

A shard holds N frames as `/entry/data/data` (N, H, W) int32 counts in an NXdata group
(`signal="data"`, one frame per chunk, gzip), with per-frame beam centre, distance, pixel
size, wavelength and exposure under `/entry/instrument`, and the sample group, tags and full
generation parameters (JSON) under `/entry/sample`. Every file is written under a temporary
name and renamed when complete, so a crash never leaves a half-written file under its final
name.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import tifffile


@dataclass(frozen=True)
class FrameRecord:
    """One rendered frame with what the manifest and the file metadata need."""

    index: int
    group: str
    counts: np.ndarray
    tags: list[str]
    center: tuple[float, float]
    parameters: dict[str, Any]


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.part")


def _strings(values: list[str]) -> np.ndarray:
    return np.array(values, dtype=h5py.string_dtype())


def write_shard(path: Path, records: list[FrameRecord], labelled: bool) -> None:
    """Write `records` as one NeXus HDF5 file at `path` (atomically)."""
    temporary = _temporary(path)
    stack = np.stack([record.counts for record in records])
    with h5py.File(temporary, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs.update({"NX_class": "NXentry", "default": "data"})
        data = entry.create_group("data")
        data.attrs.update({"NX_class": "NXdata", "signal": "data"})
        dataset = data.create_dataset(
            "data", data=stack, chunks=(1, *stack.shape[1:]), compression="gzip", compression_opts=4
        )
        dataset.attrs["units"] = "counts"
        _write_instrument(entry, records)
        sample = entry.create_group("sample")
        sample.attrs["NX_class"] = "NXsample"
        sample.create_dataset("group", data=_strings([record.group for record in records]))
        sample.create_dataset("frame_index", data=[record.index for record in records])
        parameters = [json.dumps(record.parameters) for record in records]
        sample.create_dataset("parameters", data=_strings(parameters))
        if labelled:
            tags = [json.dumps(record.tags) for record in records]
            sample.create_dataset("tags", data=_strings(tags))
    os.replace(temporary, path)


def _write_instrument(entry: h5py.Group, records: list[FrameRecord]) -> None:
    instrument = entry.create_group("instrument")
    instrument.attrs["NX_class"] = "NXinstrument"
    detector = instrument.create_group("detector")
    detector.attrs["NX_class"] = "NXdetector"
    beam = instrument.create_group("beam")
    beam.attrs["NX_class"] = "NXbeam"

    def column(group: h5py.Group, name: str, values: list[float], units: str) -> None:
        group.create_dataset(name, data=np.asarray(values, dtype=float)).attrs["units"] = units

    setups = [record.parameters["instrument"] for record in records]
    column(detector, "beam_center_x", [record.center[0] for record in records], "pixel")
    column(detector, "beam_center_y", [record.center[1] for record in records], "pixel")
    column(detector, "distance", [setup["distance_mm"] for setup in setups], "mm")
    column(detector, "x_pixel_size", [setup["pixel_m"] for setup in setups], "m")
    column(detector, "y_pixel_size", [setup["pixel_m"] for setup in setups], "m")
    exposures = [record.parameters["frame"]["exposure"] for record in records]
    column(detector, "count_time", exposures, "s")
    column(beam, "incident_wavelength", [setup["wavelength_nm"] for setup in setups], "nm")


def write_tiff(path: Path, record: FrameRecord) -> None:
    """Write one frame as an int32 TIFF at `path` (atomically) with its parameters as text."""
    temporary = _temporary(path)
    tifffile.imwrite(temporary, record.counts, description=json.dumps(record.parameters))
    os.replace(temporary, path)


def write_manifest(path: Path, rows: list[dict[str, Any]], labelled: bool) -> None:
    """Write the manifest CSV (atomically); `labels` is left out for unlabelled data."""
    columns = [
        "path",
        "frame",
        *(["labels"] if labelled else []),
        "group",
        "beam_center_x",
        "beam_center_y",
    ]
    temporary = _temporary(path)
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


def manifest_row(relative_path: str, frame: int, record: FrameRecord) -> dict[str, Any]:
    """The manifest row of `record` stored in `relative_path` at position `frame`."""
    return {
        "path": relative_path,
        "frame": frame,
        "labels": ";".join(record.tags),
        "group": record.group,
        "beam_center_x": f"{record.center[0]:.3f}",
        "beam_center_y": f"{record.center[1]:.3f}",
    }
