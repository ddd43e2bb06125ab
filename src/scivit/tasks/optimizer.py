"""AdamW for every scivit task, with torch's fused kernel where the parameters allow it.

The fused kernel updates all parameters of a group in one pass instead of one small kernel
launch per tensor and per operation; on a 2-core CPU it cut ResNet-18's training step by
about 6 % (same updates up to rounding). It needs plain floating-point tensors on the CPU or a
CUDA device, so sharded (DTensor) or meta parameters fall back to the default implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

FUSED_DEVICES = ("cpu", "cuda")


def adamw(
    groups: Iterable[dict[str, Any]],
    lr: float,
    weight_decay: float,
    betas: tuple[float, float] = (0.9, 0.999),
) -> torch.optim.AdamW:
    """AdamW over parameter `groups`, fused when `can_fuse` allows it."""
    groups = list(groups)
    parameters = [parameter for group in groups for parameter in group["params"]]
    return torch.optim.AdamW(
        groups, lr=lr, betas=betas, weight_decay=weight_decay, fused=can_fuse(parameters)
    )


def can_fuse(parameters: Iterable[torch.Tensor]) -> bool:
    """Whether torch's fused AdamW takes these parameters: plain floating-point tensors, all
    on one CPU or CUDA device."""
    parameters = list(parameters)
    if not parameters:
        return False
    devices = {parameter.device for parameter in parameters}
    return (
        len(devices) == 1
        and next(iter(devices)).type in FUSED_DEVICES
        and all(type(parameter) in (torch.Tensor, torch.nn.Parameter) for parameter in parameters)
        and all(parameter.is_floating_point() for parameter in parameters)
    )
