"""NumPy `.npy` and `.npz` files: a 2-D array is one frame, a 3-D array (N, H, W) a stack.

`.npy` files are memory-mapped, so one frame of a large stack is read without loading the rest.
Pickled content (object arrays, or a file that is a pickle) is refused unless the caller opts
in with `allow_pickle`, because unpickling runs code chosen by whoever wrote the file. The dtype
is checked from the `.npy` header before anything is unpickled. An opted-in object array
`[image, mass]` (two elements, the first a 2-D array or one of shape (1, H, W)), as the
DeepLense axion files hold, is read as the 2-D image, with the mass in the frame metadata as
`axion_mass` when it is a number.
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path
from typing import IO, Any

import numpy as np

from scivit.errors import ReadError
from scivit.io.source import FrameSource, reject_dataset

SUFFIXES = ("npy", "npz")
PICKLE_HINT = (
    "loading pickled data can execute arbitrary code; "
    "opt in (allow_pickle in Python, --allow-pickle on the command line) "
    "only for a file you trust"
)


class NumpySource(FrameSource):
    """A 2-D or 3-D NumPy array (possibly memory-mapped)."""

    def __init__(
        self,
        path: Path,
        array: np.ndarray,
        format_name: str,
        name: str | None,
        header: dict[str, Any] | None = None,
    ) -> None:
        label = f"{path}" if name is None else f"{path}:{name}"
        if array.ndim not in (2, 3):
            raise ReadError(
                f"{label}: array has shape {array.shape}; expected 2-D (H, W) or 3-D (N, H, W)"
            )
        self.format = format_name
        self._array = array
        super().__init__(
            path,
            n_frames=1 if array.ndim == 2 else array.shape[0],
            frame_shape=array.shape[-2:],
            dtype=array.dtype,
            dataset=name,
            header=header,
        )

    def read(self, index: int) -> tuple[np.ndarray, dict[str, Any]]:
        pixels = self._array if self._array.ndim == 2 else self._array[index]
        return np.asarray(pixels), self.header


def open_npy(path: Path, dataset: str | None, allow_pickle: bool) -> NumpySource:
    """Open a `.npy` file, memory-mapped unless it holds (opted-in) pickled data."""
    reject_dataset(path, dataset, ".npy")
    with path.open("rb") as stream:
        dtype = header_dtype(stream)
    if dtype is not None and not dtype.hasobject:
        return NumpySource(path, np.load(path, mmap_mode="r", allow_pickle=False), "npy", None)
    if not allow_pickle:
        raise ReadError(f"{path}: holds pickled data, not a plain array; {PICKLE_HINT}")
    array, header = _unpickled(path, np.load(path, allow_pickle=allow_pickle))
    return NumpySource(path, array, "npy", None, header)


def open_npz(path: Path, dataset: str | None, allow_pickle: bool) -> NumpySource:
    """Open the array `dataset` of a `.npz` archive (or its only array)."""
    with np.load(path, allow_pickle=allow_pickle) as archive:
        name = _member_name(path, archive.files, dataset)
        member = f"{name}.npy" if f"{name}.npy" in archive.zip.namelist() else name
        with archive.zip.open(member) as stream:
            dtype = header_dtype(stream)
        if dtype is not None and dtype.hasobject and not allow_pickle:
            raise ReadError(f"{path}: array '{name}' holds pickled objects; {PICKLE_HINT}")
        array, header = _unpickled(path, archive[name]) if allow_pickle else (archive[name], {})
    return NumpySource(path, array, "npz", name, header)


def header_dtype(stream: IO[bytes]) -> np.dtype | None:
    """dtype declared by a `.npy` header, or None when the stream has no `.npy` header."""
    try:
        version = np.lib.format.read_magic(stream)
    except ValueError:
        return None
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream)[2]
    return np.lib.format.read_array_header_2_0(stream)[2]


def _member_name(path: Path, names: list[str], dataset: str | None) -> str:
    if dataset is not None:
        if dataset not in names:
            raise ReadError(f"{path}: no array '{dataset}'; the archive has {', '.join(names)}")
        return dataset
    if not names:
        raise ReadError(f"{path}: the archive holds no arrays")
    if len(names) > 1:
        raise ReadError(f"{path}: holds arrays {', '.join(names)}; pass dataset= one of them")
    return names[0]


def _unpickled(path: Path, loaded: Any) -> tuple[np.ndarray, dict[str, Any]]:
    """Opted-in unpickled content as a numeric array plus header entries."""
    image_and_mass = _image_and_mass(loaded)
    if image_and_mass is not None:
        image, mass = image_and_mass
        return _numeric(path, image), {"axion_mass": float(mass)} if _is_number(mass) else {}
    return _numeric(path, loaded), {}


def _image_and_mass(loaded: Any) -> tuple[np.ndarray, Any] | None:
    """The parts of a two-element object array `[image, mass]`, or None.

    The image is 2-D, or 3-D with one channel first (1, H, W), as single-channel images
    are also stored; that axis is dropped.
    """
    if not (isinstance(loaded, np.ndarray) and loaded.dtype.hasobject and loaded.shape == (2,)):
        return None
    image, mass = loaded
    if not isinstance(image, np.ndarray) or np.ndim(mass) != 0:
        return None
    if image.ndim == 3 and image.shape[0] == 1:
        image = image[0]
    return (image, mass) if image.ndim == 2 else None


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, (bool, np.bool_))


def _numeric(path: Path, loaded: Any) -> np.ndarray:
    """Opted-in unpickled content as a float64 array."""
    if isinstance(loaded, np.ndarray) and loaded.dtype.hasobject and loaded.ndim == 0:
        loaded = loaded.item()
    if isinstance(loaded, np.ndarray) and not loaded.dtype.hasobject:
        return loaded
    try:
        return np.asarray(loaded, dtype=np.float64)
    except (TypeError, ValueError):
        raise ReadError(
            f"{path}: pickled content is a {type(loaded).__name__}, not a numeric array"
        ) from None
