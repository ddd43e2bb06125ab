"""An exponential moving average (EMA) of the weights, validated, checkpointed and kept.

Lightning's `WeightAveraging` callback keeps the average in a `torch.optim.swa_utils`
`AveragedModel` (parameters and batch-norm statistics), swaps it in for every validation, saves
it as the checkpoint's `state_dict` (the trained weights go to `current_model_state`, from which
a run resumes) and leaves it in the model when training ends. So the best checkpoint, the
evaluation and prediction all see the averaged weights.

Lightning's own `EMAWeightAveraging` uses a fixed decay from the first step, so with 0.999 and a
run of a few thousand steps the random initialisation still weighs in at the end. The decay here
warms up as in timm's `ModelEmaV3`: min(decay, (1 + n) / (10 + n)) after n updates.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import lightning as L
import torch
from lightning.pytorch.callbacks import WeightAveraging

EmaUpdate = Callable[[Sequence[torch.Tensor], Sequence[torch.Tensor], torch.Tensor], None]


def warmup_decay(decay: float, updates: int) -> float:
    """The EMA decay after `updates` earlier updates: short memory first, `decay` at length."""
    return min(decay, (1 + updates) / (10 + updates))


def ema_update(decay: float) -> EmaUpdate:
    """An `AveragedModel` update moving the average towards the current weights (counters such
    as batch norm's `num_batches_tracked` are copied)."""

    @torch.no_grad()
    def update(
        averaged: Sequence[torch.Tensor], current: Sequence[torch.Tensor], updates: torch.Tensor
    ) -> None:
        weight = 1.0 - warmup_decay(decay, int(updates))
        for average, value in zip(averaged, current, strict=True):
            if torch.is_floating_point(average):
                average.lerp_(value, weight)
            else:
                average.copy_(value)

    return update


class WeightEMA(WeightAveraging):
    """Keep an EMA of the weights, updated after every optimizer step, with `decay`."""

    def __init__(self, decay: float) -> None:
        super().__init__(multi_avg_fn=ema_update(decay))

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # Lightning warns that a module with its own `configure_model` may be sharded, which the
        # average cannot follow. The classifier's hook only converts to channels-last, and
        # sharded strategies are refused with `ema_decay`, so the warning would only mislead.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "You're using the WeightAveraging callback")
            super().setup(trainer, pl_module, stage)
