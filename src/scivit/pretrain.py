"""`pretrain(recipe) -> PretrainResult`: continue pretraining a backbone on unlabelled frames.

A pretraining recipe names the unlabelled data, the backbone, the method (`method.name`, one
of `scivit.tasks.pretrain.PRETRAIN_METHODS`, with that method's typed options), the training
settings and, optionally, a labelled manifest to monitor the features with. Recipes load like
classification recipes (`base:` chains, dotted overrides, unknown keys suggest the closest).

The run folder holds `config.yaml` (the resolved recipe and provenance), `checkpoints/last.ckpt`
(every epoch; a run resumes from it with its EMA teacher, loss centre and optimizer),
`checkpoints/epochNNN.ckpt` (every `train.checkpoint_every_n_epochs`), CSV and TensorBoard
logs, and the backbone to fine-tune — `teacher_backbone.safetensors` for DINO,
`encoder_backbone.safetensors` for MAE — which `create_backbone(name, pretrained=<file>)`
and `model.pretrained=<file>` load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from pydantic import Field, create_model, model_validator
from safetensors.torch import save as safetensors_bytes
from torch import nn

from scivit.config import StrictModel, apply_overrides, validate
from scivit.data.unlabelled import UnlabelledConfig, UnlabelledDataModule
from scivit.errors import ConfigError
from scivit.fileio import atomic_open, write_yaml
from scivit.provenance import provenance
from scivit.recipe import read_recipe_data
from scivit.tasks.pretrain import (
    PRETRAIN_METHODS,
    PretrainModelConfig,
    PretrainTask,
    PretrainTrainConfig,
)
from scivit.tasks.ssl_monitor import FeatureMonitor, MonitorConfig, monitor_loaders
from scivit.tasks.trainer import last_checkpoint, make_trainer, training_seconds
from scivit.train import silence_library_noise
from scivit.transforms import Compose

DEFAULT_METHOD = "dino"


class PretrainRecipe(StrictModel):
    """Everything a pretraining run needs; `method` is typed by the method's registered
    options (use `load_pretrain_recipe` / `pretrain_recipe_from_dict` to build one)."""

    name: str = "custom"
    description: str = ""
    data: UnlabelledConfig
    model: PretrainModelConfig = Field(default_factory=PretrainModelConfig)
    method: StrictModel
    train: PretrainTrainConfig = Field(default_factory=PretrainTrainConfig)
    monitor: MonitorConfig | None = None

    @model_validator(mode="after")
    def _views_fit(self) -> PretrainRecipe:
        views = getattr(self.method, "views", None)
        largest = views.largest_size() if views is not None else 0
        if largest > self.data.image_size:
            raise ValueError(
                f"views of {largest} px do not fit frames of data.image_size="
                f"{self.data.image_size}; the largest allowed view is {self.data.image_size}"
            )
        return self


@cache
def recipe_type(method: str) -> type[PretrainRecipe]:
    """`PretrainRecipe` with `method` typed by the options of the registered `method`."""
    options = PRETRAIN_METHODS.get(method).options
    return create_model(
        f"PretrainRecipe_{method}",
        __base__=PretrainRecipe,
        method=(options, Field(default_factory=options)),
    )


def pretrain_recipe_from_dict(data: dict[str, Any], source: str = "recipe") -> PretrainRecipe:
    """Validate a recipe mapping (as read from YAML or saved in a run folder)."""
    section = data.get("method")
    name = DEFAULT_METHOD
    if isinstance(section, dict):
        name = str(section.get("name", DEFAULT_METHOD))
    try:
        typed = recipe_type(name)
    except ConfigError as err:
        raise ConfigError(f"{source}: method.name: {err}") from None
    return validate(typed, data, source)


def load_pretrain_recipe(
    name_or_path: str | Path, overrides: Sequence[str] | None = None
) -> PretrainRecipe:
    """Read, merge (`base:` chain), override and validate a pretraining recipe."""
    data = apply_overrides(read_recipe_data(name_or_path), list(overrides or []))
    return pretrain_recipe_from_dict(data, str(name_or_path))


@dataclass(frozen=True)
class PretrainResult:
    """Where a finished pretraining run lives."""

    run_dir: Path
    checkpoint: Path
    backbone: Path
    metrics: dict[str, float]


def run_directory(recipe: PretrainRecipe) -> Path:
    """`train.out_dir/run_name`, the run name defaulting to the recipe name."""
    return Path(recipe.train.out_dir) / (recipe.train.run_name or recipe.name)


def pretrain(recipe: PretrainRecipe, callbacks: Sequence[L.Callback] = ()) -> PretrainResult:
    """Pretrain as `recipe` says, resuming from the run folder's `last.ckpt` if there is one.

    Args:
        recipe: the resolved recipe.
        callbacks: extra Lightning callbacks.
    """
    silence_library_noise()
    L.seed_everything(recipe.train.seed, workers=True, verbose=False)
    spec = PRETRAIN_METHODS.get(recipe.method.name)
    views = spec.views(recipe.method, recipe.data.preprocess)
    method = spec.build(recipe.method, recipe.model, views.input_size)
    datamodule = UnlabelledDataModule(recipe.data, views)
    datamodule.setup("fit")
    monitors = _monitors(recipe, views.plain)
    task = PretrainTask(method, recipe.train)
    run_dir = run_directory(recipe)
    task.checkpoint_extras = record_run(recipe, run_dir, datamodule.manifest.sha256)
    trainer = build_trainer(recipe, run_dir, [*monitors, *callbacks])
    last = run_dir / "checkpoints" / "last.ckpt"
    trainer.fit(task, datamodule=datamodule, ckpt_path=str(last) if last.is_file() else None)
    backbone = run_dir / method.backbone_file
    if trainer.is_global_zero:
        export_backbone(method.export_backbone(), backbone, _metadata(recipe, views.input_size))
    metrics = {key: float(value) for key, value in trainer.callback_metrics.items()}
    metrics["train_seconds"] = training_seconds(trainer)
    return PretrainResult(run_dir=run_dir, checkpoint=last, backbone=backbone, metrics=metrics)


def _monitors(recipe: PretrainRecipe, plain: Compose) -> list[L.Callback]:
    if recipe.monitor is None:
        return []
    loaders = monitor_loaders(recipe.monitor, recipe.data, plain)
    return [FeatureMonitor(recipe.monitor, *loaders)]


def record_run(recipe: PretrainRecipe, run_dir: Path, data_sha256: str) -> dict[str, Any]:
    """Write `config.yaml` (resolved recipe and provenance) into the run folder; return what
    every checkpoint stores beside the weights."""
    resolved = recipe.model_dump(mode="json")
    origin = provenance(recipe.train.seed, data_sha256)
    write_yaml(run_dir / "config.yaml", {**resolved, "provenance": origin})
    return {"recipe": resolved, "provenance": origin}


def build_trainer(recipe: PretrainRecipe, run_dir: Path, callbacks: list[L.Callback]) -> L.Trainer:
    """A Trainer with `last.ckpt` every epoch and periodic checkpoints (`make_trainer`)."""
    cfg = recipe.train
    checkpoints = run_dir / "checkpoints"
    every: list[L.Callback] = [last_checkpoint(checkpoints)]
    if cfg.checkpoint_every_n_epochs is not None:
        every.append(
            ModelCheckpoint(
                dirpath=checkpoints,
                filename="epoch{epoch:03d}",
                monitor="epoch",  # keeps every file; also tells it apart from the last.ckpt one
                mode="max",
                every_n_epochs=cfg.checkpoint_every_n_epochs,
                save_top_k=-1,
                auto_insert_metric_name=False,
            )
        )
    return make_trainer(cfg, run_dir, [*every, *callbacks])


def _metadata(recipe: PretrainRecipe, input_size: int) -> dict[str, str]:
    model = recipe.model
    return {
        "backbone": model.backbone,
        "in_chans": str(model.in_chans),
        "img_size": str(model.img_size or input_size),
        "method": recipe.method.name,
        "recipe": recipe.name,
    }


def export_backbone(backbone: nn.Module, path: Path, metadata: dict[str, str]) -> None:
    """Write the backbone's weights as safetensors, atomically."""
    state = backbone.state_dict()
    tensors = {key: value.detach().cpu().contiguous() for key, value in state.items()}
    with atomic_open(path, "wb") as handle:
        handle.write(safetensors_bytes(tensors, metadata=metadata))
