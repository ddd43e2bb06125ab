"""Lightning callbacks that connect a training run to its Optuna trial.

`MetricHistory` keeps the tuned metric of every validation epoch, including those a re-run
trial inherited from the run it resumes (the trial's value is the best of them). Pruning uses
optuna-integration's `PyTorchLightningPruningCallback`, which is written against the
`lightning.pytorch` namespace scivit trains with: after each validation epoch (sanity checks
excepted) it reports the metric at step = epoch and raises `optuna.TrialPruned` when the
study's pruner says so, which ends `Trainer.fit`.
"""

from __future__ import annotations

from collections.abc import Mapping

import lightning as L
import optuna
from optuna_integration import PyTorchLightningPruningCallback


class MetricHistory(L.Callback):
    """Record `monitor` after every validation epoch (sanity checks excepted).

    `earlier`: values of epochs reported before this run (a re-run trial resuming training).
    """

    def __init__(self, monitor: str, earlier: Mapping[int, float] | None = None) -> None:
        super().__init__()
        self.monitor = monitor
        self.values: list[float] = list((earlier or {}).values())
        self.logged: list[str] = []

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self.logged = sorted(trainer.callback_metrics)
        value = trainer.callback_metrics.get(self.monitor)
        if value is not None:
            self.values.append(float(value))


def trial_callbacks(
    trial: optuna.Trial, monitor: str, earlier: Mapping[int, float] | None = None
) -> tuple[MetricHistory, PyTorchLightningPruningCallback]:
    """The callbacks a trial's training run needs: the metric history, then the pruner."""
    return MetricHistory(monitor, earlier), PyTorchLightningPruningCallback(trial, monitor)
