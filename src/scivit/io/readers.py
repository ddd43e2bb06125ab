"""The front door: `read_image`, `iter_frames` and `count_frames` for every supported format.

Readers are registered by file suffix in `READERS`; a file is dispatched on its suffix
(case-insensitive; `name.cbf.gz` matches `cbf.gz`). Every problem with the file itself (missing,
empty, unknown suffix, corrupted, no valid pixels, bad frame index) is a one-line `ReadError`
that names the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from os import PathLike
from pathlib import Path
from stat import S_ISREG

from scivit.errors import ReadError
from scivit.io import fabio_formats, hdf5, numpy_formats, pillow_formats, tiff
from scivit.io.failures import describe, parser_errors
from scivit.io.frame import Frame, make_frame
from scivit.io.source import FrameSource
from scivit.registry import Registry

Opener = Callable[[Path, str | None, bool], FrameSource]

READERS: Registry[Opener] = Registry("image format")
for _suffixes, _opener in (
    (tiff.SUFFIXES, tiff.open_tiff),
    (fabio_formats.SUFFIXES, fabio_formats.open_fabio),
    (hdf5.SUFFIXES, hdf5.open_hdf5),
    (("npy",), numpy_formats.open_npy),
    (("npz",), numpy_formats.open_npz),
    (pillow_formats.SUFFIXES, pillow_formats.open_pillow),
):
    for _suffix in _suffixes:
        READERS.add(_suffix, _opener)


def supported_suffixes() -> list[str]:
    """Every file suffix a reader is registered for, with its dot (`.tif`, `.cbf.gz`), sorted."""
    return [f".{name}" for name in READERS.names()]


def is_supported(path: str | PathLike[str]) -> bool:
    """Whether a reader is registered for the file's suffix (compound ones such as `.cbf.gz`)."""
    return file_suffix(Path(path)) in READERS


def file_suffix(path: Path) -> str:
    """Lower-case suffix used for dispatch: `cbf.gz` for `x.cbf.gz` when registered, else `gz`."""
    parts = [part.lower().lstrip(".") for part in path.suffixes]
    double = ".".join(parts[-2:])
    if len(parts) >= 2 and double in READERS:
        return double
    return parts[-1] if parts else ""


def open_source(
    path: str | PathLike[str], dataset: str | None = None, allow_pickle: bool = False
) -> FrameSource:
    """Open `path` with the reader registered for its suffix (use it as a context manager)."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ReadError(f"{path}: file not found") from None
    except OSError as err:
        raise ReadError(f"{path}: cannot access file ({describe(err)})") from None
    if not S_ISREG(status.st_mode):
        raise ReadError(f"{path}: not a regular file")
    suffix = file_suffix(path)
    if suffix not in READERS:
        shown = f"'.{suffix}'" if suffix else "no suffix"
        raise ReadError(f"{path}: unsupported file type ({shown}); supported: {_listing()}")
    if status.st_size == 0:
        raise ReadError(f"{path}: file is empty (0 bytes)")
    with parser_errors(path):
        return READERS.get(suffix)(path, dataset, allow_pickle)


def read_image(
    path: str | PathLike[str],
    frame: int | None = None,
    dataset: str | None = None,
    allow_pickle: bool = False,
) -> Frame:
    """Read one frame of an image file as a float32 (H, W) `Frame`.

    Args:
        path: the file; its suffix selects the reader.
        frame: frame number in a stack; may be None only when the file holds one frame.
        dataset: HDF5/NeXus dataset path or `.npz` array name; default: the file's image.
        allow_pickle: allow pickled `.npy`/`.npz` content (unpickling can execute code).
    """
    with open_source(path, dataset, allow_pickle) as source:
        index = source.frame_index(frame)
        return load_frame(source, index, None if frame is None else index)


def iter_frames(
    path: str | PathLike[str], dataset: str | None = None, allow_pickle: bool = False
) -> Iterator[Frame]:
    """Yield every frame of the file in order, keeping the file open meanwhile."""
    with open_source(path, dataset, allow_pickle) as source:
        for index in range(source.n_frames):
            yield load_frame(source, index, index)


def count_frames(
    path: str | PathLike[str], dataset: str | None = None, allow_pickle: bool = False
) -> int:
    """Number of frames in the file (1 for a single image)."""
    with open_source(path, dataset, allow_pickle) as source:
        return source.n_frames


def load_frame(source: FrameSource, index: int, frame: int | None) -> Frame:
    """Read frame `index` of an open source and validate it; `frame` is recorded in meta."""
    with parser_errors(source.path):
        pixels, header = source.read(index)
    return make_frame(pixels, source.frame_meta(frame, header), source.sentinels)


def _listing() -> str:
    names = supported_suffixes()
    plain = ", ".join(name for name in names if "." not in name[1:])
    compressed = sorted({name.split(".")[-1] for name in names if "." in name[1:]})
    return plain + (f" (detector formats also as .{'/.'.join(compressed)})" if compressed else "")
