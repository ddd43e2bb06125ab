"""Manifests for data sets laid out as one folder of images per class.

The published DeepLense sets look like `root/no_sub/*.npy`, `root/cdm/*.npy`,
`root/axion/*.npy`. `manifest_from_class_folders` indexes such a tree into a scivit manifest:
one row per frame, `path` relative to the manifest's folder, `labels` the canonical name of the
class folder, `group` the file stem (or what a `group` function returns), and
`beam_center_x/y` at the image centre, where the lens sits in these sets, so augmentation can
rotate about it. Folder names map to canonical class names through `CLASS_ALIASES`
(case-insensitive; other names are kept as they are):

- "no_substructure": no_sub, nosub, no, no_substructure
- "cdm": cdm, sphere, subhalo (point-mass or spherical subhalos)
- "axion": axion, vort, vortex

Every file is opened once through `scivit.io` (a `.npy` header costs one small read) to learn
its frame count and shape. Pickled files, such as the axion files holding `[image, mass]`, are
refused there with the reason unless `allow_pickle` is set; opted-in, they are unpickled once
and their axion mass goes into an `axion_mass` column. A file that cannot be read stops the
indexing (`on_error="fail"`), or is left out and reported (`on_error="skip"`).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from scivit.errors import DataError, OnError, ReadError
from scivit.fileio import atomic_open
from scivit.io.readers import open_source

CLASS_ALIASES = {
    "no_sub": "no_substructure",
    "nosub": "no_substructure",
    "no": "no_substructure",
    "no_substructure": "no_substructure",
    "cdm": "cdm",
    "sphere": "cdm",
    "subhalo": "cdm",
    "axion": "axion",
    "vort": "axion",
    "vortex": "axion",
}
COLUMNS = ("path", "frame", "labels", "group", "beam_center_x", "beam_center_y")


@dataclass(frozen=True)
class FolderIndex:
    """The manifest written, its number of rows, and each file left out with the reason."""

    out_csv: Path
    rows: int
    failures: list[tuple[Path, str]]


def canonical_class(folder: str) -> str:
    """The class name of a folder: its `CLASS_ALIASES` entry, else the name itself."""
    return CLASS_ALIASES.get(folder.lower(), folder)


def manifest_from_class_folders(
    root: str | Path,
    out_csv: str | Path,
    classes: Sequence[str] | None = None,
    allow_pickle: bool = False,
    suffixes: Sequence[str] = (".npy",),
    group: Callable[[Path], str] | None = None,
    progress: bool = False,
    on_error: OnError = "fail",
) -> FolderIndex:
    """Write a manifest of the class folders under `root` to `out_csv`.

    Args:
        root: folder holding one sub-folder per class.
        out_csv: manifest to write (atomically); paths in it are relative to its folder.
        classes: folders to index, by folder name or canonical class name (default: every
            non-hidden sub-folder that holds files with one of `suffixes`).
        allow_pickle: accept pickled `.npy`/`.npz` files (unpickling can execute code).
        suffixes: file suffixes to index (case-insensitive).
        group: maps a file to its group (default: the file stem).
        progress: show a tqdm progress bar while the files are opened.
        on_error: "fail" stops at the first file that cannot be read (pickled files without
            `allow_pickle` among them); "skip" leaves it out and lists it in the result.

    Raises:
        DataError: `root` holds no class folders, a requested class folder is missing, a folder
            holds no files, a file cannot be read (with "fail"), or none can (with "skip").
    """
    root, out_csv = Path(root), Path(out_csv)
    folders = _class_folders(root, classes, suffixes)
    files = [(folder, path) for folder in folders for path in _files(folder, suffixes)]
    group = group or (lambda path: path.stem)
    rows: list[dict[str, Any]] = []
    failures: list[tuple[Path, str]] = []
    for folder, path in tqdm(files, desc="index", unit="file", disable=not progress):
        label = canonical_class(folder.name)
        try:
            rows.extend(_rows(path, label, group(path), out_csv, allow_pickle))
        except DataError as error:
            if on_error == "fail":
                raise
            failures.append((path, str(error)))
    if not rows:
        raise DataError(f"{root}: none of its {len(files)} files can be read; {failures[0][1]}")
    columns = [*COLUMNS, *(["axion_mass"] if any("axion_mass" in row for row in rows) else [])]
    with atomic_open(out_csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return FolderIndex(out_csv=out_csv, rows=len(rows), failures=failures)


def _class_folders(
    root: Path, classes: Sequence[str] | None, suffixes: Sequence[str]
) -> list[Path]:
    if not root.is_dir():
        raise DataError(f"{root}: class-folder root not found or not a folder")
    present = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if classes is None:
        present = [folder for folder in present if _files(folder, suffixes)]
        if not present:
            shown = "/".join(suffixes)
            raise DataError(f"{root}: no class folders holding {shown} files (one per class)")
        return present
    chosen = []
    for name in classes:
        matches = [p for p in present if name in (p.name, canonical_class(p.name))]
        if not matches:
            listing = ", ".join(p.name for p in present) or "none"
            raise DataError(f"{root}: no class folder '{name}'; folders present: {listing}")
        chosen.extend(match for match in matches if match not in chosen)
    for folder in chosen:
        if not _files(folder, suffixes):
            raise DataError(f"{folder}: class folder holds no {'/'.join(suffixes)} files")
    return chosen


def _files(folder: Path, suffixes: Sequence[str]) -> list[Path]:
    wanted = tuple(suffix.lower() for suffix in suffixes)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(wanted))


def _rows(
    path: Path, label: str, group: str, out_csv: Path, allow_pickle: bool
) -> list[dict[str, Any]]:
    """One manifest row per frame of `path`."""
    try:
        with open_source(path, allow_pickle=allow_pickle) as source:
            n_frames, (height, width) = source.n_frames, source.frame_shape
            header = source.header
    except ReadError as error:
        raise DataError(str(error)) from None
    relative = Path(os.path.relpath(path.resolve(), out_csv.resolve().parent)).as_posix()
    extra = {"axion_mass": header["axion_mass"]} if "axion_mass" in header else {}
    return [
        {
            "path": relative,
            "frame": frame if n_frames > 1 else "",
            "labels": label,
            "group": group,
            "beam_center_x": f"{(width - 1) / 2:.1f}",
            "beam_center_y": f"{(height - 1) / 2:.1f}",
            **extra,
        }
        for frame in range(n_frames)
    ]
