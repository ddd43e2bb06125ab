"""Batch-norm statistics recomputed for the current weights before every validation (precise BN).

In training, batch norm keeps exponential running averages (momentum 0.1) of the batch
statistics, each batch's taken with the weights of its own step. When the weights move fast
(early epochs, the peak of the learning-rate schedule) the averages lag behind them, and the
network validated in eval mode differs from the one trained: on images whose classes differ
by a faint signal (lensing substructure) the shift can push every image into one class, so the
validation accuracy swings between epochs while the training loss falls steadily, and the
best-checkpoint choice, early stopping and the pruning of tuning trials read noise (Wu &
Johnson, "Rethinking 'Batch' in BatchNorm", 2021, section 3: "precise BN").

The statistics are recomputed as plain averages over a number of training batches with the
weights held fixed, and then also go into the checkpoints written after that validation.
`torch.optim.swa_utils.update_bn` does the same but resets every batch norm, including those a
frozen backbone keeps in eval mode during training (`Classifier.train`), which it then leaves
at zero mean and unit variance; here only the batch norms that train are recomputed.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

import lightning as L
import torch
from lightning.pytorch.trainer.states import TrainerFn
from torch.nn.modules.batchnorm import _BatchNorm


def _training_norms(model: torch.nn.Module) -> dict[_BatchNorm, float | None]:
    """The batch norms that update their statistics in training mode, with their momenta."""
    return {
        module: module.momentum
        for module in model.modules()
        if isinstance(module, _BatchNorm) and module.training and module.track_running_stats
    }


@torch.no_grad()
def recompute_batch_norm(
    model: torch.nn.Module, batches: Iterable, count: int, device: torch.device | None = None
) -> int:
    """Set the running statistics of `model`'s training batch norms to their averages over the
    first `count` of `batches` ((images, targets) pairs or images), passed through `model` as
    it is now; return the number of batches used (statistics are untouched when none came)."""
    was_training = model.training
    model.train()
    norms = _training_norms(model)
    used = 0
    try:
        for batch in islice(batches, count) if norms else ():
            if not used:
                for norm in norms:
                    norm.reset_running_stats()
                    norm.momentum = None
            images = batch[0] if isinstance(batch, list | tuple) else batch
            model(images.to(device) if device is not None else images)
            used += 1
    finally:
        for norm, momentum in norms.items():
            norm.momentum = momentum
        model.train(was_training)
    return used


class PreciseBatchNorm(L.Callback):
    """Recompute batch-norm statistics over `batches` training batches before each validation
    during fitting (not before the sanity check, whose weights are untrained).

    Placed after a weight average's callback, it recomputes the statistics of the averaged
    weights that the validation uses."""

    def __init__(self, batches: int) -> None:
        self.batches = batches

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        loader = trainer.train_dataloader
        if loader is None:
            return
        with trainer.precision_plugin.forward_context():
            recompute_batch_norm(pl_module, loader, self.batches, pl_module.device)
