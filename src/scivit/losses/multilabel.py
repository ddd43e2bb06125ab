"""Multi-label losses on logits (N, K) and 0/1 float targets (N, K).

- "bce": binary cross-entropy with optional per-label positive weights.
- "focal": focal loss (Lin et al., "Focal Loss for Dense Object Detection", ICCV 2017) via
  `torchvision.ops.sigmoid_focal_loss`.
- "asl": asymmetric loss (Ridnik et al., "Asymmetric Loss For Multi-Label Classification",
  ICCV 2021) via timm's `AsymmetricLossMultiLabel`: with p = sigmoid(logit) and the shifted
  probability p_m = max(p - clip, 0),
  L+ = (1 - p)^gamma_pos * log(p) and L- = p_m^gamma_neg * log(1 - p_m), loss = -(y L+ + (1-y) L-).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.loss import AsymmetricLossMultiLabel
from torch import nn
from torchvision.ops import sigmoid_focal_loss

from scivit.errors import ConfigError
from scivit.losses._checks import check_per_class, check_range, per_class_tensor
from scivit.losses.factory import LOSSES

ASL_REDUCTIONS = ("mean", "batchmean", "sum")


def _check_targets(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Multi-label targets as floats with the logits' shape."""
    if logits.ndim != 2 or targets.shape != logits.shape:
        raise ValueError(
            f"multi-label loss needs logits (N, K) and targets of the same shape, got "
            f"{tuple(logits.shape)} and {tuple(targets.shape)}"
        )
    return targets.to(logits.dtype)


@LOSSES.register("bce")
class BCELoss(nn.Module):
    """Binary cross-entropy on logits, mean over samples and labels.

    Args:
        pos_weight: optional weight of the positive term per label (e.g. negatives / positives).
    """

    def __init__(self, pos_weight: list[float] | None = None) -> None:
        super().__init__()
        self.register_buffer("pos_weight", per_class_tensor("pos_weight", pos_weight))

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = _check_targets(logits, targets)
        check_per_class("pos_weight", self.pos_weight, logits.shape[1])
        return F.binary_cross_entropy_with_logits(logits, targets, pos_weight=self.pos_weight)


@LOSSES.register("focal")
class FocalLoss(nn.Module):
    """Sigmoid focal loss, mean over samples and labels.

    Args:
        gamma: focusing exponent (0 gives weighted BCE).
        alpha: weight of positives in [0, 1] (negatives get 1 - alpha); -1 disables weighting.
    """

    def __init__(self, gamma: float = 2.0, alpha: float = 0.25) -> None:
        super().__init__()
        check_range("gamma", gamma, 0.0, float("inf"))
        if alpha != -1:
            check_range("alpha", alpha, 0.0, 1.0)
        self.gamma = gamma
        self.alpha = alpha

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        targets = _check_targets(logits, targets)
        return sigmoid_focal_loss(logits, targets, self.alpha, self.gamma, reduction="mean")


@LOSSES.register("asl")
class AsymmetricLoss(nn.Module):
    """Asymmetric loss with asymmetric focusing and probability shifting of negatives.

    Args:
        gamma_neg: focusing exponent of negatives.
        gamma_pos: focusing exponent of positives.
        clip: probability margin m shifted off negatives (0 disables).
        eps: smallest probability inside the logarithms.
        reduction: "mean" over samples and labels, "batchmean" (sum over labels, mean over
            samples) or "sum" (the paper's code).
    """

    def __init__(
        self,
        gamma_neg: float = 4.0,
        gamma_pos: float = 0.0,
        clip: float = 0.05,
        eps: float = 1e-8,
        reduction: str = "mean",
    ) -> None:
        super().__init__()
        check_range("gamma_neg", gamma_neg, 0.0, float("inf"))
        check_range("gamma_pos", gamma_pos, 0.0, float("inf"))
        check_range("clip", clip, 0.0, 1.0)
        check_range("eps", eps, 0.0, 0.5)
        if reduction not in ASL_REDUCTIONS:
            raise ConfigError(
                f"loss option 'reduction' must be one of {', '.join(ASL_REDUCTIONS)}, "
                f"got '{reduction}'"
            )
        self.loss = AsymmetricLossMultiLabel(
            gamma_neg=gamma_neg, gamma_pos=gamma_pos, clip=clip, eps=eps, reduction=reduction
        )

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.loss(logits, _check_targets(logits, targets))
