"""Classifier = backbone + head, with timm's interface, and the `model` section of a recipe.

`Classifier.forward_features(x)` returns the backbone's unpooled features (tokens or feature
maps), `forward_head(features, pre_logits=True)` the pooled embedding and
`forward_head(features)` the logits, so localization, probes and metric learning work on any
backbone without per-model code.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field, PositiveInt
from torch import nn

from scivit.config import StrictModel
from scivit.errors import ModelError
from scivit.models.adapters import apply_adaptation
from scivit.models.backbones import create_backbone
from scivit.models.flips import TestTimeFlips
from scivit.models.heads import build_head


class HeadConfig(StrictModel):
    """`model.head`: which head, its hidden widths (mlp only; empty = one layer of 512), dropout,
    and whether the head standardises the features over the batch first (`feature_norm`,
    for linear probes of self-supervised backbones)."""

    name: str = "linear"
    hidden: list[PositiveInt] = Field(default_factory=list)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    feature_norm: bool = False


class AdaptConfig(StrictModel):
    """`model.adapt`: how the backbone is trained.

    `mode`: "full" trains everything, "probe" only the head (frozen backbone), "lora" / "ia3"
    train peft adapters and the head. `target_modules` defaults by architecture (see
    `scivit.models.adapters.default_target_modules`). `layer_decay` scales learning rates down
    layer by layer from the head (BEiT-style); None keeps one rate.
    """

    mode: Literal["full", "probe", "lora", "ia3"] = "full"
    lora_r: PositiveInt = 8
    lora_alpha: float = Field(16.0, gt=0.0)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] | None = None
    layer_decay: float | None = Field(None, gt=0.0, le=1.0)


class ModelConfig(StrictModel):
    """`model`: backbone, weights, input shape, head and adaptation.

    `grad_checkpointing` recomputes the backbone's activations in the backward pass instead of
    storing them (timm's `set_grad_checkpointing`): less memory, about a third more compute.
    `options` are further keyword arguments of the architecture (e.g. `patch_size: 8` for a
    timm ViT on small frames); one it does not take is a ModelError naming it.
    `test_time_flips` averages predictions over mirror images ("none", "h", "hv", "d4"; see
    `scivit.models.flips`) in threshold tuning, evaluation and prediction.
    """

    backbone: str = "resnet34"
    pretrained: str | None = None
    in_chans: PositiveInt = 1
    img_size: PositiveInt | None = None
    drop_path_rate: float = Field(0.0, ge=0.0, lt=1.0)
    grad_checkpointing: bool = False
    options: dict[str, Any] = Field(default_factory=dict)
    head: HeadConfig = Field(default_factory=HeadConfig)
    adapt: AdaptConfig = Field(default_factory=AdaptConfig)
    test_time_flips: TestTimeFlips = "none"


class Classifier(nn.Module):
    """A backbone with timm's interface followed by a head on its pooled features.

    When `backbone_frozen` is set (linear probing), `train()` keeps the backbone in eval mode,
    so batch-norm statistics and dropout of the backbone stay fixed while the head trains.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.num_features: int = backbone.num_features
        self.backbone_frozen = False

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unpooled backbone features: tokens (N, L, D) or feature maps (N, D, h, w)."""
        return self.backbone.forward_features(x)

    def forward_head(self, features: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pool `features`; return the pooled embedding if `pre_logits`, else the head output."""
        pooled = self.backbone.forward_head(features, pre_logits=True)
        return pooled if pre_logits else self.head(pooled)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()
        return self


def build_classifier(cfg: ModelConfig, num_outputs: int) -> Classifier:
    """Build backbone, head and adaptation from the `model` section of a recipe."""
    backbone = create_backbone(
        cfg.backbone,
        in_chans=cfg.in_chans,
        pretrained=cfg.pretrained,
        img_size=cfg.img_size,
        drop_path_rate=cfg.drop_path_rate,
        **cfg.options,
    )
    if cfg.grad_checkpointing:
        enable_grad_checkpointing(backbone, cfg.backbone)
    options: dict[str, object] = {"dropout": cfg.head.dropout}
    if cfg.head.hidden:
        options["hidden"] = cfg.head.hidden
    if cfg.head.feature_norm:
        options["feature_norm"] = True
    head = build_head(cfg.head.name, backbone.num_features, num_outputs, **options)
    return apply_adaptation(Classifier(backbone, head), cfg.adapt)


def enable_grad_checkpointing(backbone: nn.Module, name: str) -> None:
    """Turn on activation checkpointing through timm's interface, or say it is unsupported."""
    unsupported = ModelError(
        f"backbone '{name}' does not support model.grad_checkpointing; set it to false"
    )
    switch = getattr(backbone, "set_grad_checkpointing", None)
    if switch is None:
        raise unsupported
    try:
        switch(True)
    except (AssertionError, NotImplementedError):
        raise unsupported from None
