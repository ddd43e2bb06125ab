"""Test-time flip averaging: logits averaged over a frame and its mirror images.

A detector frame's tags do not change when it is mirrored (a scattering pattern about its beam
centre, a lens about its axis), so a model trained with random flips can be asked about all
of them and its answers averaged: the noise of any one view partly cancels. The recipe chooses
the views (`model.test_time_flips`): "none", "h" (left-right) or "hv" (left-right, up-down and
both, i.e. the four mirror images). Per-label thresholds are tuned on the same views.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

TestTimeFlips = Literal["none", "h", "hv"]
FLIP_DIMS: dict[str, tuple[tuple[int, ...], ...]] = {
    "none": (),
    "h": ((-1,),),
    "hv": ((-1,), (-2,), (-2, -1)),
}


class FlipAveraged(nn.Module):
    """`model`'s logits averaged over the input and its flips along `flip_dims`."""

    def __init__(self, model: nn.Module, flip_dims: tuple[tuple[int, ...], ...]) -> None:
        super().__init__()
        self.model = model
        self.flip_dims = flip_dims

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        total = self.model(images)
        for dims in self.flip_dims:
            total = total + self.model(torch.flip(images, dims))
        return total / (len(self.flip_dims) + 1)


def with_test_time_flips(model: nn.Module, flips: TestTimeFlips) -> nn.Module:
    """`model` itself for "none", else `model` averaged over the chosen flips."""
    return FlipAveraged(model, FLIP_DIMS[flips]) if FLIP_DIMS[flips] else model
