"""Finding the image dataset inside an HDF5 / NeXus file.

Without an explicit dataset path the image is the plottable signal the NeXus standard
designates (NeXus NXDL "Find the plottable data", https://manual.nexusformat.org/datarules.html):
follow the `default` attributes from the root (NXroot -> NXentry -> NXdata), then take the
group's `signal` attribute. When a file has no such chain: `/entry/data/data`, then the signal
of the first NXdata group, then the only 2-D/3-D dataset of a plain HDF5 file. A path that
names a group is resolved the same way from that group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from scivit.errors import ReadError

FALLBACK_PATH = "/entry/data/data"
MAX_DEFAULT_HOPS = 8
SHOWN_DATASETS = 6


def find_image_dataset(handle: h5py.File, path: Path, dataset: str | None) -> h5py.Dataset:
    """The dataset named by `dataset` (a dataset or a NeXus group), or the file's default."""
    if dataset is not None:
        return _requested(handle, path, dataset)
    found = _signal_of(handle) or _dataset_at(handle, FALLBACK_PATH) or _first_nxdata(handle)
    found = found or _only_image(handle)
    if found is None:
        raise ReadError(
            f"{path}: no NeXus default image and no single 2-D/3-D dataset; "
            f"pass dataset= one of {_summary(handle)}"
        )
    return found


def list_datasets(handle: h5py.File, limit: int = 200) -> list[dict[str, Any]]:
    """Up to `limit` datasets of the file as {path, shape, dtype}, links included."""
    found: list[dict[str, Any]] = []

    def visit(name: str, _link: object) -> bool | None:
        item = get_item(handle, name)
        if isinstance(item, h5py.Dataset):
            found.append({"path": f"/{name}", "shape": item.shape, "dtype": str(item.dtype)})
        return True if len(found) >= limit else None

    handle.visititems_links(visit)
    return found


def _requested(handle: h5py.File, path: Path, dataset: str) -> h5py.Dataset:
    item = get_item(handle, dataset)
    if isinstance(item, h5py.Group):
        item = _signal_of(item)
        if item is None:
            raise ReadError(f"{path}: group '{dataset}' has no NeXus signal dataset")
    if not isinstance(item, h5py.Dataset):
        raise ReadError(f"{path}: no dataset '{dataset}'; the file has {_summary(handle)}")
    return item


def _signal_of(group: h5py.Group) -> h5py.Dataset | None:
    """Follow `default` attributes down from `group`; return the NXdata signal found."""
    for _ in range(MAX_DEFAULT_HOPS):
        signal = _named_signal(group) or _flagged_signal(group)
        if signal is not None:
            return signal
        child = get_item(group, attribute_text(group, "default"))
        if not isinstance(child, h5py.Group):
            return None
        group = child
    return None


def _named_signal(group: h5py.Group) -> h5py.Dataset | None:
    """NeXus 2014+: the NXdata group's `signal` attribute names the dataset."""
    item = get_item(group, attribute_text(group, "signal"))
    return item if isinstance(item, h5py.Dataset) else None


def _flagged_signal(group: h5py.Group) -> h5py.Dataset | None:
    """Older NeXus: inside an NXdata group, the dataset whose own `signal` attribute is 1."""
    if attribute_text(group, "NX_class") != "NXdata":
        return None
    for name in group:
        item = get_item(group, name)
        if isinstance(item, h5py.Dataset) and attribute_text(item, "signal") == "1":
            return item
    return None


def _dataset_at(handle: h5py.File, name: str) -> h5py.Dataset | None:
    item = get_item(handle, name)
    return item if isinstance(item, h5py.Dataset) else None


def _first_nxdata(handle: h5py.File) -> h5py.Dataset | None:
    def visit(_name: str, item: object) -> h5py.Dataset | None:
        if isinstance(item, h5py.Group) and attribute_text(item, "NX_class") == "NXdata":
            return _signal_of(item) or _dataset_at(item, "data")
        return None

    return handle.visititems(visit)


def _only_image(handle: h5py.File) -> h5py.Dataset | None:
    images = [entry for entry in list_datasets(handle) if len(entry["shape"] or ()) in (2, 3)]
    return _dataset_at(handle, images[0]["path"]) if len(images) == 1 else None


def _summary(handle: h5py.File) -> str:
    entries = list_datasets(handle)
    if not entries:
        return "no datasets"
    shown = ", ".join(f"{entry['path']} {entry['shape']}" for entry in entries[:SHOWN_DATASETS])
    more = len(entries) - SHOWN_DATASETS
    return shown + (f" and {more} more" if more > 0 else "")


def get_item(group: h5py.Group, name: str | None) -> object | None:
    """`group[name]`, or None when the name is empty, missing, or a dangling link."""
    if not name:
        return None
    try:
        return group.get(name)
    except (KeyError, OSError, ValueError):
        return None


def attribute_text(item: h5py.HLObject, name: str) -> str | None:
    """An attribute as text (bytes decoded, one-element arrays unwrapped), or None."""
    value = item.attrs.get(name)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.reshape(-1)[0]
    if isinstance(value, bytes | np.bytes_):
        return bytes(value).decode("utf-8", "replace")
    return None if value is None else str(value)
