"""`Resize`: change the image size; the mask and the beam centre follow.

The image is resampled with bilinear interpolation with anti-aliasing
(`torch.nn.functional.interpolate`) as a mask-weighted average, so masked pixels do not bleed
into their neighbours. An output pixel is masked when less than half of its weight comes from
valid pixels (for a plain up-sampling this is nearest-neighbour on the mask). The beam centre
is rescaled with the pixel grid. Transforms that hold a fixed `Geometry` must run before it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.sample import Sample, check_sample, updated


class Resize(Transform):
    """Resample to `size` = H = W, or (H, W).

    Args:
        size: output side, or (height, width), in pixels.
    """

    def __init__(self, size: int | Sequence[int]) -> None:
        sizes = _as_size(size)
        if sizes is None:
            raise ConfigError(
                f"{self.name}: size must be a positive int or (height, width), got {size!r}"
            )
        self.size: tuple[int, int] = sizes

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        mask = sample.get("mask")
        image = torch.from_numpy(sample["image"])[None]
        if mask is None:
            resized = _interpolate(image, self.size)[0].numpy()
            new_mask = None
        else:
            valid = torch.from_numpy(~mask)[None, None].to(torch.float32)
            weight = _interpolate(valid, self.size)[0, 0]
            total = _interpolate(image * valid, self.size)[0]
            resized = torch.where(weight > 0, total / weight.clamp_min(1e-12), 0.0).numpy()
            new_mask = (weight < 0.5).numpy()
        return updated(
            sample,
            image=np.ascontiguousarray(resized, dtype=np.float32),
            mask=new_mask,
            beam_center=_scale_center(sample.get("beam_center"), (height, width), self.size),
        )


def _as_size(size: object) -> tuple[int, int] | None:
    sizes = (size, size) if isinstance(size, int) else size
    if not isinstance(sizes, Sequence) or len(sizes) != 2:
        return None
    if not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes):
        return None
    return (sizes[0], sizes[1])


def _interpolate(tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return functional.interpolate(
        tensor, size=size, mode="bilinear", align_corners=False, antialias=True
    )


def _scale_center(
    center: Sequence[float] | None, old: tuple[int, int], new: tuple[int, int]
) -> tuple[float, float] | None:
    if center is None:
        return None
    x, y = center
    return ((x + 0.5) * new[1] / old[1] - 0.5, (y + 0.5) * new[0] / old[0] - 0.5)
