"""`ToTensor`: the last step of a pipeline, handing the image to PyTorch."""

from __future__ import annotations

import numpy as np
import torch

from scivit.transforms.base import Transform
from scivit.transforms.sample import Sample, check_sample, updated


class ToTensor(Transform):
    """Return the sample with `image` as a float32 tensor (C, H, W), masked pixels set to 0."""

    def __call__(self, sample: Sample) -> Sample:
        check_sample(sample, self.name)
        mask = sample.get("mask")
        image = sample["image"] if mask is None else np.where(mask, np.float32(0), sample["image"])
        return updated(
            sample, image=torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))
        )
