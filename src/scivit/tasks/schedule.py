"""Learning-rate schedule: linear warm-up followed by cosine decay, evaluated per optimizer step.

Written here rather than taken from timm's `CosineLRScheduler` because Lightning steps
`torch.optim.lr_scheduler` objects natively, while timm's schedulers need a custom
`lr_scheduler_step` hook; the rule itself is the standard one (Loshchilov & Hutter, 2017).
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """Multiplier of the base learning rate at `step`."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: Optimizer, warmup_steps: int, total_steps: int, min_ratio: float = 0.01
) -> LambdaLR:
    """A LambdaLR that applies `warmup_cosine_factor` to every parameter group."""
    return LambdaLR(
        optimizer, lambda step: warmup_cosine_factor(step, warmup_steps, total_steps, min_ratio)
    )
