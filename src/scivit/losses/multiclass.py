"""Multi-class losses on logits (N, C) with class-index targets (N,) or one-hot /
probability targets (N, C).

- "ce": cross-entropy with optional label smoothing (Szegedy et al., "Rethinking the Inception
  Architecture for Computer Vision", CVPR 2016) and per-class weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scivit.losses._checks import check_per_class, check_range, per_class_tensor
from scivit.losses.factory import LOSSES


@LOSSES.register("ce")
class CrossEntropyLoss(nn.Module):
    """Cross-entropy, weighted mean over samples.

    Args:
        label_smoothing: mass in [0, 1) spread uniformly over the classes.
        weight: optional per-class weight.
    """

    def __init__(self, label_smoothing: float = 0.0, weight: list[float] | None = None) -> None:
        super().__init__()
        check_range("label_smoothing", label_smoothing, 0.0, 0.999)
        self.label_smoothing = label_smoothing
        self.register_buffer("weight", per_class_tensor("weight", weight))

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if logits.ndim != 2:
            raise ValueError(f"cross-entropy needs logits (N, C), got {tuple(logits.shape)}")
        check_per_class("weight", self.weight, logits.shape[1])
        if targets.shape == logits.shape:
            targets = targets.to(logits.dtype)
        elif targets.shape == logits.shape[:1] and not targets.is_floating_point():
            targets = targets.long()
        else:
            raise ValueError(
                f"cross-entropy targets must be class indices (N,) or one-hot (N, C) for logits "
                f"{tuple(logits.shape)}, got {tuple(targets.shape)} {targets.dtype}"
            )
        weight = None if self.weight is None else self.weight.to(logits.dtype)
        return F.cross_entropy(logits, targets, weight=weight, label_smoothing=self.label_smoothing)
