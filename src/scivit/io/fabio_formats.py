"""Detector formats read by fabio: EDF, CBF, MarCCD, Mar345, Bruker, d*TREK/Rigaku, ...

fabio (the ESRF/ImageD11 image library) identifies the format from the file content, decodes
the pixels and parses the text header. Multi-frame files (EDF stacks, Bruker/Esperanto
series) are stacks whose frames are decoded one at a time; each frame brings its own header.
gzip/bzip2-compressed files (`frame.cbf.gz`) are opened transparently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fabio
import numpy as np
from fabio.fabioformats import get_class_by_name

from scivit.io.header_geometry import header_beam_center
from scivit.io.meta import plain_header
from scivit.io.source import FrameSource, reject_dataset

FABIO_CODECS = (
    "edfimage",
    "cbfimage",
    "marccdimage",
    "mar345image",
    "bruker100image",
    "dtrekimage",
    "kcdimage",
    "fit2dimage",
    "fit2dmaskimage",
    "speimage",
    "esperantoimage",
    "dm3image",
)
COMPRESSIONS = ("gz", "bz2")


def _suffixes() -> tuple[str, ...]:
    plain = sorted(
        {ext for name in FABIO_CODECS for ext in get_class_by_name(name).DEFAULT_EXTENSIONS}
    )
    return tuple(plain) + tuple(f"{ext}.{comp}" for ext in plain for comp in COMPRESSIONS)


SUFFIXES = _suffixes()


class FabioSource(FrameSource):
    """A file opened by `fabio.open`; frame i is `getframe(i)`."""

    def __init__(self, path: Path) -> None:
        self._image = fabio.open(str(path))
        try:
            self.format = type(self._image).__name__.lower().removesuffix("image")
            super().__init__(
                path,
                n_frames=self._image.nframes,
                frame_shape=self._image.data.shape,
                dtype=self._image.data.dtype,
                header=_with_beam_center(self._image.header),
            )
        except BaseException:
            self._image.close()
            raise

    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        if index == 0:
            return self._image.data, self.header
        frame = self._image.getframe(index)
        return frame.data, _with_beam_center(frame.header)

    def close(self) -> None:
        self._image.close()


def _with_beam_center(header: dict[str, Any]) -> dict[str, Any]:
    """The plain header plus the beam centre it records (`scivit.io.header_geometry`)."""
    return {**plain_header(header.items()), **header_beam_center(header)}


def open_fabio(path: Path, dataset: str | None, allow_pickle: bool) -> FabioSource:
    """Open a detector image with fabio (`allow_pickle` does not apply)."""
    reject_dataset(path, dataset, "detector image")
    return FabioSource(path)
