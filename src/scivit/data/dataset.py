"""A torch Dataset over manifest rows: read the frame, build the sample, transform it.

A sample is the dict every transform takes (see `scivit.transforms`): `image` float32
(1, H, W), `mask` bool (H, W) or None (True = invalid pixel), `beam_center` (x, y) from the
manifest, else from the file's header, else None, and `meta`. The dataset returns
`(image, target)`: the transformed image as a float32 tensor (C, H, W) and the row's float32
target vector (K,).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch.utils.data import Dataset

from scivit.data.manifest import Manifest
from scivit.errors import DataError, ReadError
from scivit.io import Frame, read_image

if TYPE_CHECKING:
    from scivit.data.cache import FrameCache

Sample = dict[str, Any]


def describe_row(manifest: Manifest, row: int) -> str:
    """The file (and frame, when there is one) of a manifest row, for messages."""
    frame = manifest.frames[row]
    path = str(manifest.paths[row])
    return path if frame is None else f"{path}: frame {frame}"


def read_sample(manifest: Manifest, row: int) -> Sample:
    """Read the frame of manifest row `row` into a sample dict (image shape (1, H, W)).

    Raises:
        ReadError: naming the file and the frame when the frame cannot be read.
    """
    path, frame = manifest.paths[row], manifest.frames[row]
    try:
        read = read_image(path, frame=frame)
    except (ReadError, OSError) as err:
        raise ReadError(_with_frame(str(err), manifest, row)) from None
    sample = frame_to_sample(read, manifest.beam_centers[row])
    sample["meta"].update(index=row, group=manifest.groups[row])
    return sample


def frame_to_sample(frame: Frame, beam_center: tuple[float, float] | None = None) -> Sample:
    """The sample dict of a frame read from disk (image shape (1, H, W)); the beam centre is
    `beam_center` when given, else the one the file records (`beam_center_x/y` in its header).
    """
    return {
        "image": np.asarray(frame.data, dtype=np.float32)[None],
        "mask": frame.mask,
        "beam_center": beam_center or recorded_center(frame.meta),
        "meta": dict(frame.meta),
    }


def recorded_center(meta: dict) -> tuple[float, float] | None:
    """(x, y) from a header's numeric `beam_center_x` and `beam_center_y`, else None."""
    x, y = meta.get("beam_center_x"), meta.get("beam_center_y")
    numeric = all(
        isinstance(value, int | float) and not isinstance(value, bool) for value in (x, y)
    )
    return (float(x), float(y)) if numeric else None


def _with_frame(message: str, manifest: Manifest, row: int) -> str:
    """`message` starting with the row's file and frame (unless it already names both)."""
    path, frame = str(manifest.paths[row]), manifest.frames[row]
    if path in message and (frame is None or f"frame {frame}" in message):
        return message
    return f"{describe_row(manifest, row)}: {message.removeprefix(f'{path}: ')}"


class FrameDataset(Dataset):
    """Manifest rows `indices` as `(image (C, H, W), target (K,))` float32 tensor pairs.

    Args:
        manifest: the loaded manifest.
        indices: which manifest rows this dataset serves, in order.
        transform: sample -> sample; ends with `ToTensor`. Without a cache it is the whole
            pipeline; with one it is what follows the cached preprocessing (augmentation and
            `ToTensor`).
        cache: optional `FrameCache` that supplies preprocessed samples.
    """

    def __init__(
        self,
        manifest: Manifest,
        indices: Sequence[int] | np.ndarray,
        transform: Callable[[Sample], Sample],
        cache: FrameCache | None = None,
    ) -> None:
        self.manifest = manifest
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(manifest)):
            raise DataError(
                f"{manifest.source}: row indices must lie in [0, {len(manifest)}), "
                f"got {self.indices.min()}..{self.indices.max()}"
            )
        self.transform = transform
        self.cache = cache

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor]:
        row = int(self.indices[item])
        if self.cache is not None:
            sample = self.cache.sample(row)
        else:
            sample = read_sample(self.manifest, row)
        image = torch.as_tensor(self.transform(sample)["image"], dtype=torch.float32)
        return image, torch.tensor(self.manifest.targets[row], dtype=torch.float32)
