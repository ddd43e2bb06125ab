"""Self-supervised pretraining: the registry of methods and the LightningModule that trains one.

A method is found by name in `PRETRAIN_METHODS`. Its `MethodSpec` gives the typed options of
the recipe's `method` section, a builder of the method module from those options and the
`model` section, and a builder of its views. The module (`PretrainMethod`) owns its networks,
loss and any teacher; `PretrainTask` owns what every method shares: the optimizer (AdamW, no
weight decay on biases and norms), the warm-up + cosine learning rate, logging, checkpoint
extras, and the hooks after the backward pass and after each optimizer step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import lightning as L
import torch
from pydantic import Field, PositiveInt, field_validator, model_validator
from timm.optim import param_groups_weight_decay
from torch import nn

from scivit.checkpoint import CHECKPOINT_KEY
from scivit.config import StrictModel
from scivit.errors import ModelError
from scivit.models.backbones import create_backbone
from scivit.models.dino import DINOMethod, DinoOptions
from scivit.models.mae_method import MAEMethod, MAEOptions
from scivit.registry import Registry
from scivit.tasks.classify import TrainConfig
from scivit.tasks.optimizer import FusedClipping, adamw
from scivit.tasks.schedule import warmup_cosine
from scivit.transforms.views import MultiCropViews, build_multicrop

CLASSIFICATION_ONLY = (
    "loss",
    "loss_params",
    "early_stopping_patience",
    "ema_decay",
    "precise_bn_batches",
    "monitor",
    "limit_val_batches",
)


class PretrainModelConfig(StrictModel):
    """`model`: the backbone to pretrain (a timm name or a scivit backbone), its start and
    further options of its architecture (as in classification recipes)."""

    backbone: str = "vit_small_patch14_dinov2"
    pretrained: str | None = None
    in_chans: PositiveInt = 1
    img_size: PositiveInt | None = None
    drop_path_rate: float = Field(0.1, ge=0.0, lt=1.0)
    options: dict[str, Any] = Field(default_factory=dict)


class PretrainTrainConfig(TrainConfig):
    """`train`: the classification training settings less those of its loss and validation
    (loss, monitored metric, early stopping, the validated weight average, the batch-norm
    statistics recomputed for validation: pretraining has no labels, and DINO keeps its own
    moving-average teacher), plus periodic checkpoints and AdamW's betas (MAE uses (0.9,
    0.95))."""

    checkpoint_every_n_epochs: PositiveInt | None = 10
    betas: tuple[float, float] = (0.9, 0.999)
    loss: str | None = Field(None, exclude=True)
    loss_params: dict[str, Any] = Field(default_factory=dict, exclude=True)
    early_stopping_patience: int | None = Field(None, exclude=True)
    ema_decay: float | None = Field(None, exclude=True)
    precise_bn_batches: int | None = Field(None, exclude=True)
    monitor: str = Field("auto", exclude=True)
    limit_val_batches: float | int = Field(1.0, exclude=True)

    @model_validator(mode="after")
    def _no_classification_keys(self) -> PretrainTrainConfig:
        given = [name for name in CLASSIFICATION_ONLY if name in self.model_fields_set]
        if given:
            raise ValueError(f"'{given[0]}' is a classification setting; pretraining has none")
        return self

    @field_validator("betas")
    @classmethod
    def _betas_in_unit_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0 <= beta < 1 for beta in value):
            raise ValueError(f"betas must lie in [0, 1), got {list(value)}")
        return value


class PretrainMethod(Protocol):
    """What a pretraining method module (an `nn.Module`) provides to `PretrainTask`."""

    backbone_file: str

    def training_loss(self, views: list[torch.Tensor], epoch: float) -> dict[str, torch.Tensor]:
        """`{"loss": scalar, ...}` for a batch of views (followed by their masks when the
        method's views carry them); the other entries are logged."""

    def after_backward(self, epoch: int) -> None:
        """Called after every backward pass (e.g. to cancel gradients)."""

    def after_optimizer_step(self, step: int, total_steps: int) -> dict[str, float]:
        """Called after optimizer step `step` of `total_steps` (e.g. an EMA); returns values
        to log."""

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled (B, D) features of whole frames, as fine-tuning will see them."""

    def export_backbone(self) -> nn.Module:
        """The backbone handed to fine-tuning (timm interface, no head)."""


@dataclass(frozen=True)
class MethodSpec:
    """A registered pretraining method.

    Attributes:
        options: the typed `method` section (a StrictModel with a `name` literal).
        build: (options, model section, input size of the views) -> method module.
        views: (options, data preprocessing steps) -> the views of a frame (`MultiCropViews`).
    """

    options: type[StrictModel]
    build: Callable[[Any, PretrainModelConfig, int], nn.Module]
    views: Callable[[Any, Sequence[dict[str, Any]]], MultiCropViews]


PRETRAIN_METHODS: Registry[MethodSpec] = Registry("pretraining method")


def create_view_backbone(
    cfg: PretrainModelConfig, view_sizes: Sequence[int], start: bool = True
) -> nn.Module:
    """A backbone that accepts every view size (ViTs get `dynamic_img_size`).

    Args:
        cfg: the model section; `img_size` defaults to the first (largest) view size.
        view_sizes: the view sides in pixels, global first.
        start: load `cfg.pretrained` and use `cfg.drop_path_rate` (False: a plain copy for an
            EMA teacher: random weights, no stochastic depth).
    """
    options = {
        **cfg.options,
        "in_chans": cfg.in_chans,
        "pretrained": cfg.pretrained if start else None,
        "img_size": cfg.img_size or view_sizes[0],
        "drop_path_rate": cfg.drop_path_rate if start else 0.0,
    }
    try:
        backbone = create_backbone(cfg.backbone, dynamic_img_size=True, **options)
    except ModelError as err:
        if "dynamic_img_size" not in str(err):
            raise
        backbone = create_backbone(cfg.backbone, **options)
    _check_view_sizes(cfg, backbone, view_sizes)
    return backbone


def _check_view_sizes(cfg: PretrainModelConfig, backbone: nn.Module, sizes: Sequence[int]) -> None:
    """One tiny forward per view size, so an architecture that fixes its input size fails here
    with a message instead of inside the first training step."""
    was_training = backbone.training
    backbone.eval()
    try:
        for size in sorted(set(sizes)):
            with torch.no_grad():
                try:
                    backbone.forward_features(torch.zeros(1, cfg.in_chans, size, size))
                except (RuntimeError, AssertionError, ValueError) as err:
                    reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
                    raise ModelError(
                        f"backbone '{cfg.backbone}' cannot take {size}-px views ({reason}); "
                        "change method.views sizes or model.backbone"
                    ) from None
    finally:
        backbone.train(was_training)


def _build_dino(options: DinoOptions, model: PretrainModelConfig, input_size: int) -> DINOMethod:
    views = options.views
    sizes = [input_size, views.local_size] if views.n_local else [input_size]
    student = create_view_backbone(model, sizes)
    teacher = create_view_backbone(model, sizes, start=False)
    return DINOMethod(options, student, teacher)


def _dino_views(options: DinoOptions, preprocess: Sequence[dict[str, Any]]) -> MultiCropViews:
    return build_multicrop(options.views, preprocess)


def _build_mae(options: MAEOptions, model: PretrainModelConfig, input_size: int) -> MAEMethod:
    return MAEMethod(options, create_view_backbone(model, [input_size]))


def _mae_views(options: MAEOptions, preprocess: Sequence[dict[str, Any]]) -> MultiCropViews:
    return build_multicrop(options.views.as_multicrop(), preprocess, n_global=1, with_masks=True)


PRETRAIN_METHODS.add("dino", MethodSpec(DinoOptions, _build_dino, _dino_views))
PRETRAIN_METHODS.add("mae", MethodSpec(MAEOptions, _build_mae, _mae_views))


class PretrainTask(FusedClipping, L.LightningModule):
    """Train a pretraining method; batches are lists of view batches.

    Args:
        method: the method module (see `PretrainMethod`).
        train: optimisation settings.
    """

    def __init__(self, method: nn.Module, train: PretrainTrainConfig) -> None:
        super().__init__()
        self.method = method
        self.train_cfg = train
        self.checkpoint_extras: dict[str, Any] = {}

    def training_step(self, views: list[torch.Tensor], _: int) -> torch.Tensor:
        terms = self.method.training_loss(views, self.epoch_progress())
        batch = len(views[0])
        for key, value in terms.items():
            show = key == "loss"
            self.log(f"train/{key}", value, prog_bar=show, on_epoch=True, batch_size=batch)
        return terms["loss"]

    def epoch_progress(self) -> float:
        """Epochs done, fractional, counted in optimizer steps."""
        per_epoch = max(1, self.steps_total() // max(1, self.trainer.max_epochs or 1))
        return self.trainer.global_step / per_epoch

    def steps_total(self) -> int:
        return max(1, int(self.trainer.estimated_stepping_batches))

    def on_after_backward(self) -> None:
        self.method.after_backward(self.current_epoch)

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        logged = self.method.after_optimizer_step(self.trainer.global_step, self.steps_total())
        for key, value in logged.items():
            self.log(f"train/{key}", value, on_step=True, on_epoch=False)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[CHECKPOINT_KEY] = {**self.checkpoint_extras, "task": "pretrain"}

    def configure_optimizers(self) -> dict[str, Any]:
        cfg = self.train_cfg
        groups = param_groups_weight_decay(self.method, cfg.weight_decay)
        optimizer = adamw(groups, cfg.lr, cfg.weight_decay, cfg.betas, trainer=self.trainer)
        total = self.steps_total()
        per_epoch = max(1, total // max(1, self.trainer.max_epochs or 1))
        warmup = min(total - 1, int(round(cfg.warmup_epochs * per_epoch)))
        scheduler = warmup_cosine(optimizer, warmup, total, cfg.min_lr_ratio)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
