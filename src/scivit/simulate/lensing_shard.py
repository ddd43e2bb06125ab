"""Write simulated lensing frames as one NeXus/HDF5 shard with per-frame metadata.

Layout: `/entry/data/data` (N, H, W) float32 counts per second (NXdata, `signal="data"`, one frame
per chunk, gzip), so `scivit.io` reads it as any NeXus stack; `/entry/instrument/detector` holds the
pixel scale and PSF FWHM (arcsec), the exposure, the background noise, whether the noise was added
to the frames (`noise_added`) and the lens axis in pixels of each frame; `/entry/sample` holds, per
frame, the group, frame index, class label, Einstein radius and source centre (arcsec), the point
masses of the substructure (variable-length, solar masses), the axion mass (eV; NaN for other
classes), the de Broglie wavelength (arcsec; NaN for other classes), the noise seed, and the whole
scene as JSON. The file is written under a temporary name and renamed when complete
(`scivit.fileio`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from scivit.fileio import atomic_open
from scivit.simulate.lensing_instruments import Instrument
from scivit.simulate.writer import FrameRecord


def write_lensing_shard(path: Path, records: list[FrameRecord], instrument: Instrument) -> None:
    """Write `records` (rendered with `instrument`) as one HDF5 file at `path`, atomically."""
    stack = np.stack([record.counts for record in records]).astype(np.float32)
    with atomic_open(path, "w+b") as stream, h5py.File(stream, "w") as handle:
        entry = handle.create_group("entry")
        entry.attrs.update({"NX_class": "NXentry", "default": "data"})
        data = entry.create_group("data")
        data.attrs.update({"NX_class": "NXdata", "signal": "data"})
        dataset = data.create_dataset(
            "data", data=stack, chunks=(1, *stack.shape[1:]), compression="gzip", compression_opts=4
        )
        dataset.attrs["units"] = "counts/s"
        _write_detector(entry, records, instrument)
        _write_sample(entry, records)


def _column(group: h5py.Group, name: str, values: Any, units: str | None = None) -> None:
    dataset = group.create_dataset(name, data=values)
    if units is not None:
        dataset.attrs["units"] = units


def _write_detector(entry: h5py.Group, records: list[FrameRecord], instrument: Instrument) -> None:
    instrument_group = entry.create_group("instrument")
    instrument_group.attrs.update({"NX_class": "NXinstrument", "name": instrument.description})
    detector = instrument_group.create_group("detector")
    detector.attrs["NX_class"] = "NXdetector"
    _column(detector, "x_pixel_size", instrument.pixel_scale, "arcsec")
    _column(detector, "y_pixel_size", instrument.pixel_scale, "arcsec")
    _column(detector, "psf_fwhm", instrument.psf_fwhm, "arcsec")
    first = records[0].parameters
    _column(detector, "count_time", first["exposure_time"], "s")
    _column(detector, "background_sigma", first["background_sigma"], "counts/s")
    _column(detector, "noise_added", bool(first["noise"]))
    _column(detector, "beam_center_x", [record.center[0] for record in records], "pixel")
    _column(detector, "beam_center_y", [record.center[1] for record in records], "pixel")


def _write_sample(entry: h5py.Group, records: list[FrameRecord]) -> None:
    sample = entry.create_group("sample")
    sample.attrs["NX_class"] = "NXsample"
    scenes = [record.parameters for record in records]
    text = h5py.string_dtype()
    _column(sample, "group", np.array([record.group for record in records], dtype=text))
    _column(sample, "frame_index", [record.index for record in records])
    _column(sample, "label", np.array([scene["label"] for scene in scenes], dtype=text))
    _column(sample, "einstein_radius", [s["main_lens"]["theta_E"] for s in scenes], "arcsec")
    _column(sample, "source_center_x", [s["source"]["center_x"] for s in scenes], "arcsec")
    _column(sample, "source_center_y", [s["source"]["center_y"] for s in scenes], "arcsec")
    masses = np.empty(len(scenes), dtype=object)
    masses[:] = [np.asarray(s["substructure"]["masses_msun"], dtype=float) for s in scenes]
    _column(sample, "n_point_masses", [len(values) for values in masses])
    sample.create_dataset("point_masses", data=masses, dtype=h5py.vlen_dtype(np.float64))
    sample["point_masses"].attrs["units"] = "Msun"
    for name, key, units in (
        ("axion_mass", "axion_mass_ev", "eV"),
        ("de_broglie_wavelength", "de_broglie_arcsec", "arcsec"),
    ):
        values = [s["substructure"].get(key, np.nan) for s in scenes]
        _column(sample, name, np.asarray(values, dtype=float), units)
    _column(sample, "noise_seed", [s["noise_seed"] for s in scenes])
    _column(sample, "parameters", np.array([json.dumps(s) for s in scenes], dtype=text))
