"""Optimizer parameter groups: no weight decay on norms, biases and position embeddings, and
optional layer-wise learning-rate decay (Bao et al., "BEiT: BERT Pre-Training of Image
Transformers", ICLR 2022) through timm's group matchers (ViTs, ResNets, ConvNeXts, ...).

Only trainable parameters are grouped. Each group carries its final `lr` (base rate times the
layer scale), so any torch optimizer and scheduler can use the groups as they are.
"""

from __future__ import annotations

from typing import Any

from peft import PeftModel
from timm.optim import param_groups_layer_decay, param_groups_weight_decay

from scivit.errors import ModelError
from scivit.models.classifier import Classifier


def param_groups(
    model: Classifier, lr: float, weight_decay: float, layer_decay: float | None = None
) -> list[dict[str, Any]]:
    """Parameter groups of `model` for a torch optimizer.

    Args:
        model: the classifier (possibly carrying adapters).
        lr: learning rate of the head and the last backbone layer.
        weight_decay: decay of weight matrices; norms, biases and the backbone's
            `no_weight_decay()` tensors get none.
        layer_decay: when set, the rate of a backbone layer (timm's `group_matcher` grouping)
            is `lr * layer_decay**d`, d = 1 for the last layer and one more per layer below;
            the head is the top layer (d = 0), as in BEiT.

    Returns:
        Groups with `params`, `weight_decay` and `lr`.
    """
    backbone = model.backbone
    if isinstance(backbone, PeftModel):
        backbone = backbone.get_base_model()
    excluded = sorted(backbone.no_weight_decay()) if hasattr(backbone, "no_weight_decay") else []
    if layer_decay is None:
        groups = param_groups_weight_decay(backbone, weight_decay, no_weight_decay_list=excluded)
    else:
        groups = param_groups_layer_decay(
            backbone, weight_decay, no_weight_decay_list=excluded, layer_decay=layer_decay
        )
        for group in groups:
            group["lr_scale"] *= layer_decay
    groups += param_groups_weight_decay(model.head, weight_decay)
    result = [_with_lr(group, lr) for group in groups if group["params"]]
    if not result:
        raise ModelError("the model has no trainable parameters")
    return result


def _with_lr(group: dict[str, Any], lr: float) -> dict[str, Any]:
    """The group with its scaled `lr` and without timm's `lr_scale` (not applied twice)."""
    scale = group.get("lr_scale", 1.0)
    return {
        "params": group["params"],
        "weight_decay": group["weight_decay"],
        "lr": lr * scale,
    }
