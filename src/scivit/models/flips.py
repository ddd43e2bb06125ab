"""Test-time flip averaging: logits averaged over a frame and its mirror images.

A detector frame's tags do not change when it is mirrored (a scattering pattern about its beam
centre, a lens about its axis), so a model trained with random flips can be asked about all
of them and its answers averaged: the noise of any one view partly cancels. The recipe chooses
the views (`model.test_time_flips`): "none", "h" (left-right), "hv" (left-right, up-down and
both, i.e. the four mirror images) or "d4" (those four and the same four mirrored about the
main diagonal first: the eight symmetries of a square frame, rotations by 90 degrees
included; for models trained with `rand_flip` `diagonal: true`). Per-label thresholds are tuned
on the same views.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from scivit.errors import ConfigError

TestTimeFlips = Literal["none", "h", "hv", "d4"]
View = tuple[bool, tuple[int, ...]]
"""A view: whether rows and columns are swapped first, then the dimensions flipped."""

MIRRORS: tuple[View, ...] = ((False, (-1,)), (False, (-2,)), (False, (-2, -1)))
FLIP_VIEWS: dict[str, tuple[View, ...]] = {
    "none": (),
    "h": ((False, (-1,)),),
    "hv": MIRRORS,
    "d4": (*MIRRORS, (True, ()), *((True, dims) for _, dims in MIRRORS)),
}


def view(images: torch.Tensor, chosen: View) -> torch.Tensor:
    """`images` (N, C, H, W) seen as `chosen`."""
    swap, dims = chosen
    if swap:
        images = images.transpose(-2, -1)
    return torch.flip(images, dims) if dims else images


class FlipAveraged(nn.Module):
    """`model`'s logits averaged over the input and its `views`."""

    def __init__(self, model: nn.Module, views: tuple[View, ...]) -> None:
        super().__init__()
        self.model = model
        self.views = views

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        height, width = images.shape[-2:]
        if height != width and any(swap for swap, _ in self.views):
            raise ConfigError(
                f"test-time flips 'd4' need square frames, got {height}x{width}; use 'hv'"
            )
        total = self.model(images)
        for chosen in self.views:
            total = total + self.model(view(images, chosen))
        return total / (len(self.views) + 1)


def with_test_time_flips(model: nn.Module, flips: TestTimeFlips) -> nn.Module:
    """`model` itself for "none", else `model` averaged over the chosen flips."""
    return FlipAveraged(model, FLIP_VIEWS[flips]) if FLIP_VIEWS[flips] else model
