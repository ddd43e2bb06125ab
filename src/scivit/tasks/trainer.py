"""The Lightning Trainer every scivit run uses, whatever it trains.

`make_trainer` turns the `train` section of a recipe into a Trainer: hardware, precision and
distribution strategy, gradient clipping and accumulation, CSV and TensorBoard logs in the run
folder, a learning-rate monitor, a clock of the training time (kept across resumes) and, when
asked, a progress bar. Each kind of run adds its own checkpoint (and early-stopping)
callbacks; every kind keeps `last_checkpoint`, the latest epoch that a run resumes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import LearningRateMonitor, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from scivit.tasks.classify import TrainConfig
from scivit.tasks.clock import TrainingClock
from scivit.tasks.hardware import resolve_precision
from scivit.tasks.strategy import build_strategy


def last_checkpoint(checkpoints: Path) -> ModelCheckpoint:
    """A callback writing `checkpoints/last.ckpt` at the end of every epoch.

    Lightning's `save_last` writes only when a monitored checkpoint is saved in the same step,
    so a run whose best epoch is not its last would resume from the best one."""
    return ModelCheckpoint(
        dirpath=checkpoints, filename="last", save_top_k=1, enable_version_counter=False
    )


def make_trainer(cfg: TrainConfig, run_dir: Path, callbacks: Sequence[L.Callback]) -> L.Trainer:
    """A Trainer for the settings `cfg`, logging into `run_dir`, with `callbacks`."""
    shared: list[L.Callback] = [LearningRateMonitor(logging_interval="step"), TrainingClock()]
    if cfg.progress_bar:
        shared.append(TQDMProgressBar(refresh_rate=10))
    precision = resolve_precision(cfg.precision, cfg.accelerator)
    return L.Trainer(
        default_root_dir=run_dir,
        max_epochs=cfg.max_epochs,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=build_strategy(cfg.strategy, cfg.accelerator, precision, run_dir),
        precision=precision,
        gradient_clip_val=cfg.grad_clip,
        accumulate_grad_batches=cfg.accumulate_grad_batches,
        deterministic=cfg.deterministic,
        log_every_n_steps=cfg.log_every_n_steps,
        limit_train_batches=cfg.limit_train_batches,
        limit_val_batches=cfg.limit_val_batches,
        callbacks=[*callbacks, *shared],
        logger=[CSVLogger(run_dir, name="logs"), TensorBoardLogger(run_dir, name="tensorboard")],
        enable_progress_bar=cfg.progress_bar,
        enable_model_summary=False,
    )


def training_seconds(trainer: L.Trainer) -> float:
    """Wall seconds the trainer's run has spent fitting, over all its resumed attempts."""
    clocks = [callback for callback in trainer.callbacks if isinstance(callback, TrainingClock)]
    return clocks[0].seconds if clocks else 0.0
