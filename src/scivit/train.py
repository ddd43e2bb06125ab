"""`train(recipe) -> TrainResult`: the library function behind `scivit train`.

Builds the data module, the classifier and its adaptation, and a Lightning Trainer with best
and last checkpoints, early stopping, an optional moving average of the weights, CSV and
TensorBoard logs and a progress bar; resumes from `last.ckpt` when the run folder already
holds one; after fitting, tunes one decision threshold per label on the validation split and
stores them inside the best checkpoint.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

from scivit.checkpoint import CHECKPOINT_KEY, load_checkpoint_dict, save_checkpoint_dict
from scivit.data.datamodule import FrameDataModule
from scivit.evaluate.inference import predict_probs
from scivit.evaluate.numerics import inference_model
from scivit.fileio import write_json, write_yaml
from scivit.metrics.thresholds import tune_thresholds
from scivit.models.adapters import trainable_fraction
from scivit.models.classifier import build_classifier
from scivit.models.flips import TestTimeFlips
from scivit.provenance import provenance
from scivit.recipe import Recipe
from scivit.tasks.classify import ClassifyTask, summary_metrics
from scivit.tasks.ema import WeightEMA
from scivit.tasks.precise_bn import PreciseBatchNorm
from scivit.tasks.trainer import last_checkpoint, make_trainer, training_seconds


@dataclass(frozen=True)
class TrainResult:
    """Where a finished run lives and what it reached on validation."""

    run_dir: Path
    best_checkpoint: Path
    val_metrics: dict[str, Any]
    train_seconds: float = 0.0


def run_directory(recipe: Recipe) -> Path:
    """`train.out_dir/run_name`, the run name defaulting to the recipe name."""
    return Path(recipe.train.out_dir) / (recipe.train.run_name or recipe.name)


def build_trainer(
    recipe: Recipe, run_dir: Path, task_kind: str, extra_callbacks: Sequence[L.Callback] = ()
) -> L.Trainer:
    """A Trainer with scivit's callbacks and loggers for `recipe`, plus `extra_callbacks`."""
    cfg = recipe.train
    monitor = cfg.monitor_metric(task_kind)  # type: ignore[arg-type]
    checkpoints = run_dir / "checkpoints"
    callbacks: list[L.Callback] = [
        ModelCheckpoint(
            dirpath=checkpoints, filename="best", monitor=monitor, mode="max", save_last=False
        ),
        last_checkpoint(checkpoints),
        *extra_callbacks,
    ]
    if cfg.ema_decay is not None:
        callbacks.append(WeightEMA(cfg.ema_decay))
    if cfg.precise_bn_batches is not None:
        callbacks.append(PreciseBatchNorm(cfg.precise_bn_batches))
    if cfg.early_stopping_patience is not None:
        callbacks.append(
            EarlyStopping(monitor=monitor, mode="max", patience=cfg.early_stopping_patience)
        )
    return make_trainer(cfg, run_dir, callbacks)


LIBRARY_NOISE = (
    r"Checkpoint directory .* exists and is not empty",
    r".*smaller than the logging interval.*",
    r".*treespec, LeafSpec.*",
    r".*does not have many workers which may be a bottleneck.*",
    r".*module\(s\) in eval mode at the start of training.*",
    r"Since DeepSpeed handles gradient clipping internally.*",
)


def silence_library_noise() -> None:
    """Hide Lightning warnings that say nothing actionable about a scivit run (each attempt of
    a resumed run logs into its own `version_N` folder, so re-using folders is expected; the
    tasks' own clipping hook defers to DeepSpeed's clipping there)."""
    for pattern in LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def train(recipe: Recipe, callbacks: Sequence[L.Callback] = ()) -> TrainResult:
    """Train `recipe`, resuming if its run folder holds a `last.ckpt`; return the result.

    `callbacks` are extra Lightning callbacks for the Trainer (a tuning trial's reporter).
    """
    silence_library_noise()
    L.seed_everything(recipe.train.seed, workers=True, verbose=False)
    datamodule = FrameDataModule(recipe.data)
    datamodule.setup("fit")
    datamodule.fill_cache(("train", "val"), progress=recipe.train.progress_bar)
    model = build_classifier(recipe.model, datamodule.num_labels)
    task = ClassifyTask(
        model,
        datamodule.label_names,
        recipe.data.task,
        recipe.train,
        layer_decay=recipe.model.adapt.layer_decay,
    )
    run_dir = run_directory(recipe)
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = recipe.model_dump(mode="json")
    origin = provenance(recipe.train.seed, datamodule.manifest.sha256)
    write_yaml(run_dir / "config.yaml", {**resolved, "provenance": origin})
    task.checkpoint_extras = {
        "recipe": resolved,
        "label_names": datamodule.label_names,
        "provenance": origin,
        "trainable_fraction": trainable_fraction(model),
    }
    trainer = build_trainer(recipe, run_dir, recipe.data.task, callbacks)
    last = run_dir / "checkpoints" / "last.ckpt"
    trainer.fit(task, datamodule=datamodule, ckpt_path=str(last) if last.exists() else None)
    best = _best_checkpoint(run_dir)
    seconds = training_seconds(trainer)
    if not trainer.is_global_zero:
        return TrainResult(run_dir, best, val_metrics={}, train_seconds=seconds)
    val_metrics = finalize_thresholds(
        best, task, datamodule, recipe.model.test_time_flips, recipe.train.progress_bar
    )
    write_json(run_dir / "val_metrics.json", val_metrics)
    return TrainResult(run_dir, best, val_metrics=val_metrics, train_seconds=seconds)


def _best_checkpoint(run_dir: Path) -> Path:
    """The best checkpoint as one file (else the last); a sharded DeepSpeed checkpoint folder
    is consolidated into a plain file first, its shards kept beside it for resuming."""
    folder = run_dir / "checkpoints"
    best = folder / "best.ckpt"
    if best.is_dir():
        from lightning.pytorch.utilities.deepspeed import (
            convert_zero_checkpoint_to_fp32_state_dict,
        )

        shards = best.replace(folder / "best.zero")
        convert_zero_checkpoint_to_fp32_state_dict(shards, best)
    return best if best.is_file() else folder / "last.ckpt"


def finalize_thresholds(
    checkpoint: Path,
    task: ClassifyTask,
    datamodule: FrameDataModule,
    flips: TestTimeFlips = "none",
    progress: bool = True,
) -> dict[str, Any]:
    """Load the best weights, tune per-label thresholds on validation (predictions averaged
    over the test-time `flips`), store them in the file.

    Inference runs in this process alone, so after a distributed run the global-zero process
    sees the whole validation split.
    """
    state = load_checkpoint_dict(checkpoint)
    task.load_state_dict(state["state_dict"])
    loader = datamodule.val_dataloader()
    predictor = inference_model(task.model, flips, task.train_cfg)
    probs = predict_probs(predictor, loader, task.task_kind, progress, desc="val")
    targets = datamodule.manifest.targets[datamodule.split_indices["val"]]
    thresholds = (
        tune_thresholds(probs, targets)
        if task.task_kind == "multilabel"
        else np.full(len(task.label_names), 0.5)
    )
    state["state_dict"]["thresholds"] = torch.as_tensor(thresholds, dtype=torch.float32)
    state[CHECKPOINT_KEY]["thresholds"] = [float(t) for t in thresholds]
    save_checkpoint_dict(state, checkpoint)
    return summary_metrics(probs, targets, task.task_kind, task.label_names, thresholds)
