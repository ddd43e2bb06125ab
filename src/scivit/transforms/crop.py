"""`RandResizedCrop`: a random box of a detector frame, turned about the beam centre and
mirrored, in one mask-aware resampling (`CropView` maps view pixels to frame pixels).

The box sampling is torchvision's `RandomResizedCrop` (Szegedy et al., "Going Deeper with
Convolutions", CVPR 2015); the rotation turns about the beam centre, so the rings of a
scattering pattern stay rings about the view's beam centre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch.nn import functional

from scivit.errors import ConfigError
from scivit.transforms.base import RandomTransform
from scivit.transforms.geometry import resolve_center
from scivit.transforms.sample import Sample, check_sample, updated


class RandResizedCrop(RandomTransform):
    """A random box of the frame, turned about the beam centre and mirrored, resampled to
    `size` x `size`; the mask and the beam centre follow.

    The box covers a fraction of the image area drawn uniformly from `scale` and has an
    aspect ratio drawn log-uniformly from `ratio` (torchvision's `RandomResizedCrop` sampling;
    after ten misses the whole image is used). It is cut from the frame rotated about the beam
    centre by an angle drawn uniformly from [-degrees, degrees] (counter-clockwise as displayed,
    as `RandRotate`), then mirrored left-right and up-down with probability 1/2 each (when
    `flip`). All of it is one bilinear resampling (`torch.nn.functional.grid_sample`) weighted
    by the valid pixels, as in `Resize`: masked pixels never leak into valid ones, and an output
    pixel is masked when less than half of its weight is valid (pixels from outside the detector
    have none). Boxes larger than `size` are not low-pass filtered first.

    Args:
        size: output side in pixels; at most the image's shorter side.
        scale: range of the box area as a fraction of the image area.
        ratio: range of the box's width / height.
        degrees: largest absolute rotation angle (0: no rotation, no beam centre needed).
        flip: allow mirror images.
        seed: generator seed.
    """

    def __init__(
        self,
        size: int,
        scale: Sequence[float] = (0.08, 1.0),
        ratio: Sequence[float] = (3 / 4, 4 / 3),
        degrees: float = 0.0,
        flip: bool = False,
        seed: int | None = None,
    ) -> None:
        if not (isinstance(size, int) and size > 0):
            raise ConfigError(f"{self.name}: size must be a positive int, got {size!r}")
        if not 0 < scale[0] <= scale[1] <= 1:
            raise ConfigError(f"{self.name}: scale must satisfy 0 < low <= high <= 1, got {scale}")
        if not 0 < ratio[0] <= ratio[1]:
            raise ConfigError(f"{self.name}: ratio must satisfy 0 < low <= high, got {ratio}")
        if not 0 <= degrees <= 180:
            raise ConfigError(f"{self.name}: degrees must be in [0, 180], got {degrees}")
        super().__init__(1.0, seed)
        self.size = size
        self.scale = (float(scale[0]), float(scale[1]))
        self.log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        self.degrees = float(degrees)
        self.flip = flip

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        largest = min(height, width)
        if self.size > largest:
            raise ConfigError(
                f"{self.name}: crop size {self.size} does not fit the {height}x{width} image; "
                f"the largest allowed crop is {largest}"
            )
        angle = self.rng.uniform(-self.degrees, self.degrees)
        box = self._box(height, width)
        flips = (bool(self.rng.random() < 0.5), bool(self.rng.random() < 0.5))
        center = resolve_center(None, sample, self.name) if self.degrees > 0 else (0.0, 0.0)
        view = CropView(box, self.size, angle if self.degrees > 0 else 0.0, center)
        view = view.mirrored(*flips) if self.flip else view
        return view.apply(sample)

    def _box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) of the box."""
        for _ in range(10):
            area = height * width * self.rng.uniform(*self.scale)
            aspect = math.exp(self.rng.uniform(*self.log_ratio))
            box_w = round(math.sqrt(area * aspect))
            box_h = round(math.sqrt(area / aspect))
            if 0 < box_w <= width and 0 < box_h <= height:
                top = int(self.rng.integers(0, height - box_h + 1))
                left = int(self.rng.integers(0, width - box_w + 1))
                return top, left, box_h, box_w
        return 0, 0, height, width


class CropView:
    """The map from a `size` x `size` view to frame pixels: box, rotation, mirrors.

    Args:
        box: (top, left, height, width) of the box in the rotated frame.
        size: side of the view in pixels.
        angle: rotation in degrees about `center` (counter-clockwise as displayed).
        center: (x, y) the rotation turns about.
        flip_x: mirror the view left-right.
        flip_y: mirror the view up-down.
    """

    def __init__(
        self,
        box: tuple[int, int, int, int],
        size: int,
        angle: float,
        center: tuple[float, float],
        flip_x: bool = False,
        flip_y: bool = False,
    ) -> None:
        self.box = box
        self.size = size
        self.angle = angle
        self.center = center
        self.flips = (flip_x, flip_y)

    def mirrored(self, flip_x: bool, flip_y: bool) -> CropView:
        """The same view with mirror images."""
        return CropView(self.box, self.size, self.angle, self.center, flip_x, flip_y)

    def source_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols), each (size, size): where every view pixel lies in the frame."""
        top, left, box_h, box_w = self.box
        steps = (np.arange(self.size, dtype=np.float64) + 0.5) / self.size
        rows = top + steps * box_h - 0.5
        cols = left + steps * box_w - 0.5
        rows = rows[::-1] if self.flips[1] else rows
        cols = cols[::-1] if self.flips[0] else cols
        rows, cols = np.meshgrid(rows, cols, indexing="ij")
        theta = math.radians(self.angle)
        cx, cy = self.center
        dr, dc = rows - cy, cols - cx
        return (
            cy + math.cos(theta) * dr + math.sin(theta) * dc,
            cx - math.sin(theta) * dr + math.cos(theta) * dc,
        )

    def view_point(self, point: tuple[float, float]) -> tuple[float, float]:
        """Where the frame point (x, y) lies in the view (the inverse of `source_pixels`)."""
        theta = math.radians(self.angle)
        cx, cy = self.center
        dx, dy = point[0] - cx, point[1] - cy
        row = cy + math.cos(theta) * dy - math.sin(theta) * dx
        col = cx + math.sin(theta) * dy + math.cos(theta) * dx
        top, left, box_h, box_w = self.box
        x = (col - left + 0.5) * self.size / box_w - 0.5
        y = (row - top + 0.5) * self.size / box_h - 0.5
        last = self.size - 1
        return (last - x if self.flips[0] else x, last - y if self.flips[1] else y)

    def apply(self, sample: Sample) -> Sample:
        """Resample image and mask of `sample` on the view's pixels."""
        image = torch.from_numpy(sample["image"])
        height, width = image.shape[1:]
        mask = sample.get("mask")
        valid = torch.ones((1, height, width)) if mask is None else torch.from_numpy(~mask)[None]
        valid = valid.to(torch.float32)
        rows, cols = self.source_pixels()
        grid = np.stack([(2 * cols + 1) / width - 1, (2 * rows + 1) / height - 1], axis=-1)
        stacked = torch.cat([image * valid, valid])[None]
        out = functional.grid_sample(
            stacked,
            torch.from_numpy(grid).to(torch.float32)[None],
            mode="bilinear",
            padding_mode="zeros",
            align_corners=False,
        )[0]
        weight = out[-1]
        resampled = torch.where(weight > 1e-6, out[:-1] / weight.clamp_min(1e-6), 0.0)
        new_mask = (weight < 0.5).numpy()
        center = sample.get("beam_center")
        return updated(
            sample,
            image=np.ascontiguousarray(resampled.numpy(), dtype=np.float32),
            mask=new_mask if mask is not None or new_mask.any() else None,
            beam_center=None if center is None else self.view_point(center),
        )
