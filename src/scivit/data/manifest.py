"""Manifest: the CSV index of a dataset (which frame of which file, with which labels).

A manifest has a `path` column (relative to the manifest's folder, or to `root`, unless
absolute) and the labels, either as one `labels` column of `;`-separated names or as one 0/1
column per label name. Optional columns: `frame` (index in a multi-frame file), `group` (frames
that must stay in the same split, e.g. one sample or one patient), `beam_center_x`,
`beam_center_y` (pixels; x = column, y = row) and `split` (train, val or test).

An empty label vocabulary gives a label-free manifest (targets of shape (N, 0)): the label
columns are not read, as for the unlabelled frames of self-supervised pretraining.

Every problem raises a one-line `DataError` naming the manifest, the line and the column.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np

from scivit.errors import DataError, closest

Task = Literal["multilabel", "multiclass"]
TASKS = ("multilabel", "multiclass")
SPLIT_NAMES = ("train", "val", "test")


@dataclass(frozen=True, eq=False)
class Manifest:
    """A loaded manifest; every list has one entry per row, in file order.

    Attributes:
        paths: absolute image paths.
        frames: frame index inside each file, or None for single-frame files.
        groups: group of each row (the row index as text when the manifest has no group).
        targets: float32 (N, K) 0/1 matrix in the order of `label_names` (K = 0: label-free).
        beam_centers: (x, y) in pixels, or None where not given.
        label_names: the label vocabulary, in target order.
        splits: explicit split of each row ("train", "val", "test") or None.
        source: absolute path of the CSV file.
        sha256: hex digest of the CSV file's bytes, recorded with every run.
        task: "multilabel" or "multiclass".
    """

    paths: list[Path]
    frames: list[int | None]
    groups: list[str]
    targets: np.ndarray
    beam_centers: list[tuple[float, float] | None]
    label_names: list[str]
    splits: list[str | None]
    source: Path
    sha256: str
    task: Task = "multilabel"

    def __len__(self) -> int:
        return len(self.paths)


def load_manifest(
    csv_path: str | Path,
    label_names: Sequence[str],
    task: Task = "multilabel",
    root: str | Path | None = None,
) -> Manifest:
    """Read and validate a manifest CSV.

    Args:
        csv_path: the manifest file.
        label_names: the label vocabulary; targets follow this order. Empty: a label-free
            manifest whose `labels` and label columns are not read (multilabel only).
        task: "multilabel" (any number of labels per row) or "multiclass" (exactly one).
        root: folder that relative paths start from; defaults to the manifest's folder.

    Raises:
        DataError: one line naming the file, the line and the column that is wrong.
    """
    source = Path(csv_path).resolve()
    names = _check_vocabulary(source, label_names, task)
    header, rows = _read_rows(source)
    base = Path(root).resolve() if root is not None else source.parent
    reader = _RowParser(source, header, names, task, base)
    parsed = [reader.parse(line, row, index) for index, (line, row) in enumerate(rows)]
    targets = np.array([item.targets for item in parsed], dtype=np.float32)
    return Manifest(
        paths=[item.path for item in parsed],
        frames=[item.frame for item in parsed],
        groups=[item.group for item in parsed],
        targets=targets.reshape(len(parsed), len(names)),
        beam_centers=[item.beam_center for item in parsed],
        label_names=names,
        splits=[item.split for item in parsed],
        source=source,
        sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
        task=task,
    )


def _check_vocabulary(source: Path, label_names: Sequence[str], task: str) -> list[str]:
    if task not in TASKS:
        raise DataError(f"{source}: task must be one of {', '.join(TASKS)}, got '{task}'")
    names = [str(name) for name in label_names]
    if not names and task == "multiclass":
        raise DataError(f"{source}: a multiclass manifest needs label names; the list is empty")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(f"{source}: label '{duplicates[0]}' is listed more than once")
    return names


def _read_rows(source: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs of a CSV file; blank lines are skipped."""
    if not source.is_file():
        raise DataError(f"{source}: manifest file not found")
    try:
        with source.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows = [
                (reader.line_num, _cells_by_column(source, reader.line_num, header, cells))
                for cells in reader
                if any(cell.strip() for cell in cells)
            ]
    except (UnicodeDecodeError, csv.Error) as err:
        raise DataError(f"{source}: not a readable CSV file ({err})") from None
    if not any(header):
        raise DataError(f"{source}: the manifest is empty")
    if not rows:
        raise DataError(f"{source}: the manifest has a header but no rows")
    if "path" not in header:
        guess = closest("path", header)
        hint = f"; did you mean '{guess}'?" if guess else ""
        raise DataError(f"{source}: missing column 'path'{hint}")
    return header, rows


def _cells_by_column(source: Path, line: int, header: list[str], cells: list[str]) -> dict:
    """Map column name -> stripped cell; short rows leave the last columns empty."""
    if len(cells) > len(header):
        raise DataError(
            f"{source}: line {line} has {len(cells)} cells but the header has {len(header)}"
        )
    return {name: cell.strip() for name, cell in zip(header[: len(cells)], cells, strict=True)}


class _Row(NamedTuple):
    path: Path
    frame: int | None
    group: str
    targets: list[float]
    beam_center: tuple[float, float] | None
    split: str | None


class _RowParser:
    """Turns one CSV row into a `_Row`, checking every cell."""

    def __init__(self, source: Path, header: list[str], names: list[str], task: str, root: Path):
        self.source = source
        self.header = header
        self.names = names
        self.task = task
        self.root = root
        self.index = {name: position for position, name in enumerate(names)}
        self.from_list = "labels" in header
        self.seen: set[Path] = set()
        self._check_label_columns()
        self._check_pair_columns()

    def _check_label_columns(self) -> None:
        if self.from_list:
            return
        missing = [name for name in self.names if name not in self.header]
        if missing:
            guess = closest(missing[0], self.header)
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise DataError(
                f"{self.source}: no 'labels' column and no column for label '{missing[0]}'{hint}"
            )

    def _check_pair_columns(self) -> None:
        present = [name for name in ("beam_center_x", "beam_center_y") if name in self.header]
        if len(present) == 1:
            other = "beam_center_y" if present[0] == "beam_center_x" else "beam_center_x"
            raise DataError(f"{self.source}: column '{present[0]}' is given without '{other}'")

    def error(self, line: int, column: str, what: str) -> DataError:
        return DataError(f"{self.source}: line {line}, column '{column}': {what}")

    def parse(self, line: int, row: dict[str, str], index: int) -> _Row:
        return _Row(
            self._path(line, row),
            self._frame(line, row),
            row.get("group") or str(index),
            self._targets(line, row),
            self._beam_center(line, row),
            self._split(line, row),
        )

    def _path(self, line: int, row: dict[str, str]) -> Path:
        text = row.get("path", "")
        if not text:
            raise self.error(line, "path", "empty path")
        path = Path(text).expanduser()
        path = path if path.is_absolute() else (self.root / path).resolve()
        if path not in self.seen:
            if not path.is_file():
                raise self.error(line, "path", f"file not found: {path}")
            self.seen.add(path)
        return path

    def _frame(self, line: int, row: dict[str, str]) -> int | None:
        text = row.get("frame", "")
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.error(line, "frame", f"'{text}' is not a frame number") from None
        if not value.is_integer() or value < 0:
            raise self.error(line, "frame", f"'{text}' is not a frame number (0, 1, 2, ...)")
        return int(value)

    def _targets(self, line: int, row: dict[str, str]) -> list[float]:
        if not self.names:
            return []
        values = self._from_list(line, row) if self.from_list else self._from_columns(line, row)
        if self.task == "multiclass" and sum(values) != 1:
            column = "labels" if self.from_list else ", ".join(self.names)
            raise self.error(
                line, column, f"a multiclass row needs exactly one label, got {int(sum(values))}"
            )
        return values

    def _from_list(self, line: int, row: dict[str, str]) -> list[float]:
        values = [0.0] * len(self.names)
        for name in (part.strip() for part in row.get("labels", "").split(";")):
            if not name:
                continue
            if name not in self.index:
                guess = closest(name, self.names)
                hint = f"; did you mean '{guess}'?" if guess else ""
                raise self.error(line, "labels", f"unknown label '{name}'{hint}")
            values[self.index[name]] = 1.0
        return values

    def _from_columns(self, line: int, row: dict[str, str]) -> list[float]:
        values = []
        for name in self.names:
            text = row.get(name, "")
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if value not in (0.0, 1.0):
                raise self.error(line, name, f"'{text}' is not 0 or 1")
            values.append(value)
        return values

    def _beam_center(self, line: int, row: dict[str, str]) -> tuple[float, float] | None:
        cells = {name: row.get(name, "") for name in ("beam_center_x", "beam_center_y")}
        if not any(cells.values()):
            return None
        centre = []
        for name, text in cells.items():
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                raise self.error(line, name, f"'{text}' is not a pixel position")
            centre.append(value)
        return centre[0], centre[1]

    def _split(self, line: int, row: dict[str, str]) -> str | None:
        text = row.get("split", "").lower()
        if not text:
            return None
        if text not in SPLIT_NAMES:
            guess = closest(text, SPLIT_NAMES)
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise self.error(line, "split", f"unknown split '{text}'{hint}")
        return text
