"""Adaptation modes: full fine-tuning, linear probing, and parameter-efficient LoRA / IA3.

LoRA (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022) and IA3
(Liu et al., "Few-Shot Parameter-Efficient Fine-Tuning is Better and Cheaper than In-Context
Learning", NeurIPS 2022) come from peft: `get_peft_model` wraps the plain timm backbone, which
keeps its interface (peft forwards `forward_features`, `forward_head`, `num_features`). The
head stays outside the wrapper and trains. `merge_adapters` folds the adapters back into the
weights and returns a plain model for export.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING

from peft import IA3Config, LoraConfig, PeftConfig, PeftModel, get_peft_model
from torch import nn

from scivit.errors import ModelError

if TYPE_CHECKING:
    from scivit.models.classifier import AdaptConfig, Classifier

ATTENTION_LAYERS = ("attn.qkv", "attn.proj")
FEEDFORWARD_LAYERS = ("mlp.fc2",)


def apply_adaptation(model: Classifier, cfg: AdaptConfig) -> Classifier:
    """Set up `model` (in place) for training in `cfg.mode` and return it.

    - "full": every parameter trains.
    - "probe": the backbone is frozen (no gradients) and stays in eval mode, also under
      `model.train()`, so its batch-norm statistics and dropout do not change; the head trains.
    - "lora" / "ia3": peft adapters on `cfg.target_modules` (default by architecture, see
      `default_target_modules`) train with the head; the backbone's own weights are frozen.
      Batch-norm running statistics of adapted ConvNets still update in train mode.
    """
    if isinstance(model.backbone, PeftModel):
        raise ModelError("the model already carries adapters; merge_adapters first")
    _MODES[cfg.mode](model, cfg)
    return model


def _full(model: Classifier, cfg: AdaptConfig) -> None:
    model.requires_grad_(True)
    model.backbone_frozen = False
    model.train(model.training)


def _probe(model: Classifier, cfg: AdaptConfig) -> None:
    model.backbone.requires_grad_(False)
    model.head.requires_grad_(True)
    model.backbone_frozen = True
    model.train(model.training)


def _lora(model: Classifier, cfg: AdaptConfig) -> None:
    targets = cfg.target_modules or default_target_modules(model.backbone)
    config = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
    )
    _wrap(model, config, targets)


def _ia3(model: Classifier, cfg: AdaptConfig) -> None:
    if cfg.target_modules:
        targets, feedforward = cfg.target_modules, []
    else:
        targets = default_target_modules(model.backbone, include=FEEDFORWARD_LAYERS)
        feedforward = [name for name in targets if name.endswith(FEEDFORWARD_LAYERS)]
    config = IA3Config(target_modules=targets, feedforward_modules=feedforward)
    _wrap(model, config, targets)


def _wrap(model: Classifier, config: PeftConfig, targets: list[str]) -> None:
    """Wrap the backbone with peft adapters; the head keeps training."""
    model.backbone_frozen = False
    try:
        model.backbone = get_peft_model(model.backbone, config)
    except ValueError as err:
        raise ModelError(
            f"model.adapt.target_modules {targets} cannot be adapted in "
            f"{type(model.backbone).__name__} ({str(err).splitlines()[0]})"
        ) from None
    model.head.requires_grad_(True)


_MODES: dict[str, Callable[[Classifier, AdaptConfig], None]] = {
    "full": _full,
    "probe": _probe,
    "lora": _lora,
    "ia3": _ia3,
}


def default_target_modules(backbone: nn.Module, include: tuple[str, ...] = ()) -> list[str]:
    """Layers that adapters target when the recipe does not name them.

    Transformers: the attention projections (`attn.qkv`, `attn.proj`) of every block, plus the
    layers ending in `include`. ConvNets: the ungrouped convolutions and linear layers of the
    last stage (timm's `feature_info`).
    """
    suffixes = ATTENTION_LAYERS + include
    names = [
        name
        for name, module in backbone.named_modules()
        if isinstance(module, nn.Linear) and name.endswith(suffixes)
    ]
    if names:
        return names
    info = getattr(backbone, "feature_info", None)
    if not info:
        raise ModelError(
            f"no default adapter layers in {type(backbone).__name__}; "
            "set model.adapt.target_modules"
        )
    stage = f"{info[-1]['module']}."
    return [
        name
        for name, module in backbone.named_modules()
        if name.startswith(stage) and _adaptable(module)
    ]


def _adaptable(module: nn.Module) -> bool:
    if isinstance(module, nn.Conv2d):
        return module.groups == 1
    return isinstance(module, nn.Linear)


def merge_adapters(model: Classifier) -> Classifier:
    """A copy of `model` with adapters folded into the weights (plain timm backbone).

    The copy computes the same outputs as `model`; without adapters it is a plain copy.
    """
    merged = copy.deepcopy(model)
    if isinstance(merged.backbone, PeftModel):
        merged.backbone = merged.backbone.merge_and_unload()
        merged.requires_grad_(True)
    return merged


def trainable_fraction(model: nn.Module) -> float:
    """Fraction of parameters that receive gradients."""
    total = sum(param.numel() for param in model.parameters())
    trainable = sum(param.numel() for param in model.parameters() if param.requires_grad)
    return trainable / total if total else 0.0
