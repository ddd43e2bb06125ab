"""`FrameSource`: an open image file seen as a numbered sequence of 2-D frames.

Each format module opens its files as a `FrameSource` subclass. The front door
(`scivit.io.readers`) only talks to this interface: how many frames, their shape and original
dtype, and `read(index)` for one raw frame plus its header. A source reads a frame only when
asked, so a single frame of a large stack never loads the whole stack.
"""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np

from scivit.errors import ReadError

NUMERIC_KINDS = "biuf"


class FrameSource(ABC):
    """An open file holding `n_frames` frames of shape `frame_shape`.

    Subclasses set `format` and, for photographic formats, `sentinels = False` (no integer
    value marks an invalid pixel there).
    """

    format: str = ""
    sentinels: bool = True

    def __init__(
        self,
        path: Path,
        n_frames: int,
        frame_shape: tuple[int, ...],
        dtype: np.dtype,
        dataset: str | None = None,
        header: dict[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.n_frames = n_frames
        self.frame_shape = tuple(int(size) for size in frame_shape)
        self.dtype = np.dtype(dtype)
        self.dataset = dataset
        self.header = header or {}
        if self.dtype.kind not in NUMERIC_KINDS:
            raise ReadError(f"{self._name()} holds non-numeric data (dtype {self.dtype})")

    @abstractmethod
    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        """Raw 2-D array of frame `index` (0 <= index < n_frames) and its header."""

    def close(self) -> None:  # noqa: B027  (a hook: most sources hold nothing to release)
        """Release the file; the default has nothing to release."""

    def datasets(self) -> list[dict[str, Any]]:
        """Datasets inside the file (path, shape, dtype); only container formats have any."""
        return []

    def frame_index(self, frame: int | None) -> int:
        """Check a requested frame number; None is allowed only for single-frame files."""
        count = self.n_frames
        if frame is None:
            if count == 1:
                return 0
            if count == 0:
                raise ReadError(f"{self._name()} holds no frames")
            raise ReadError(f"{self._name()} holds {count} frames; pass frame=0..{count - 1}")
        index = operator.index(frame)
        if not 0 <= index < count:
            raise ReadError(
                f"{self._name()}: frame {index} is out of range; the file holds {count} frames"
            )
        return index

    def frame_meta(self, frame: int | None, header: dict[str, Any]) -> dict[str, Any]:
        """Metadata of one frame: the header entries plus the fields every frame has."""
        core = {
            "path": str(self.path),
            "format": self.format,
            "frame": frame,
            "n_frames": self.n_frames,
            "dataset": self.dataset,
            "shape": self.frame_shape,
            "dtype": str(self.dtype),
        }
        meta = {key if key not in core else f"header_{key}": value for key, value in header.items()}
        meta.update(core)
        return meta

    def _name(self) -> str:
        return f"{self.path}" if self.dataset is None else f"{self.path}:{self.dataset}"

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def reject_dataset(path: Path, dataset: str | None, format_name: str) -> None:
    """Raise when a dataset path is given for a format that holds a single array."""
    if dataset is not None:
        raise ReadError(
            f"{path}: dataset='{dataset}' applies only to HDF5/NeXus and .npz files, "
            f"not to {format_name} files"
        )
