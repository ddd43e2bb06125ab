"""Masked-autoencoder reconstruction loss (He et al., "Masked Autoencoders Are Scalable Vision
Learners", CVPR 2022).

The loss is the mean squared error between the predicted and the true pixels of each patch,
averaged over the removed (masked) patches only. With `norm_pix_loss` the target of each patch is
normalised by its own mean and standard deviation (the paper's "normalized pixels" target), with
the unbiased variance and `eps` inside the square root as in the authors' implementation:
``(x - mean) / sqrt(var + eps)``.

Detector pixels marked invalid (beam stop, module gaps, dead pixels; True = invalid) are left out
of everything: of the patch mean and variance, of the per-patch error (the mean over the patch's
valid pixels), and a patch with no valid pixel is left out of the average over masked patches.
Without invalid pixels the loss is exactly the paper's.
"""

from __future__ import annotations

import torch
from torch import nn


def patch_mean_std(
    target: torch.Tensor, invalid: torch.Tensor | None = None, eps: float = 1e-6
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and ``sqrt(unbiased var + eps)`` of each patch over its valid pixels.

    Args:
        target: patch pixels (B, L, D).
        invalid: optional bool (B, L, D), True where a pixel is left out.
        eps: added to the variance before the square root.

    Returns:
        `mean` and `std`, each (B, L, 1). A patch with no valid pixel has mean 0 and std
        ``sqrt(eps)``; `pred * std + mean` maps a normalised prediction back to pixel values.
    """
    valid = _valid(target, invalid)
    count = valid.sum(dim=-1, keepdim=True)
    values = torch.where(valid, target, torch.zeros_like(target))
    mean = values.sum(dim=-1, keepdim=True) / count.clamp(min=1)
    squares = torch.where(valid, (target - mean) ** 2, torch.zeros_like(target))
    var = squares.sum(dim=-1, keepdim=True) / (count - 1).clamp(min=1)
    return mean, torch.sqrt(var + eps)


class MAELoss(nn.Module):
    """Masked-patch MSE on (optionally per-patch normalised) pixels.

    Args:
        norm_pix_loss: normalise each target patch by its mean and standard deviation.
        eps: added to the per-patch variance before the square root.
    """

    def __init__(self, norm_pix_loss: bool = True, eps: float = 1e-6) -> None:
        super().__init__()
        self.norm_pix_loss = norm_pix_loss
        self.eps = eps

    def forward(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        invalid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Loss of predicted patches.

        Args:
            pred: predicted patch pixels (B, L, D).
            target: true patch pixels (B, L, D), e.g. `scivit.models.mae.patchify(images, p)`.
            mask: (B, L), 1 (or True) for patches removed from the encoder's input.
            invalid: optional bool (B, L, D), True for pixels to leave out.

        Returns:
            The scalar loss; 0 when no masked patch has a valid pixel.
        """
        _check_shapes(pred, target, mask, invalid)
        valid = _valid(target, invalid)
        target = torch.where(valid, target, torch.zeros_like(target))
        if self.norm_pix_loss:
            mean, std = patch_mean_std(target, invalid, self.eps)
            target = (target - mean) / std
        squares = torch.where(valid, (pred - target) ** 2, torch.zeros_like(pred))
        count = valid.sum(dim=-1)
        per_patch = squares.sum(dim=-1) / count.clamp(min=1)
        weight = mask.to(per_patch.dtype) * (count > 0).to(per_patch.dtype)
        return (per_patch * weight).sum() / weight.sum().clamp(min=1)


def _valid(target: torch.Tensor, invalid: torch.Tensor | None) -> torch.Tensor:
    if invalid is None:
        return torch.ones_like(target, dtype=torch.bool)
    return ~invalid.bool()


def _check_shapes(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, invalid: torch.Tensor | None
) -> None:
    if pred.ndim != 3 or pred.shape != target.shape:
        raise ValueError(
            f"MAE loss needs pred and target of the same shape (B, L, D), got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )
    if mask.shape != pred.shape[:2]:
        raise ValueError(
            f"MAE loss mask must be (B, L) = {tuple(pred.shape[:2])}, got {tuple(mask.shape)}"
        )
    if invalid is not None and invalid.shape != target.shape:
        raise ValueError(
            f"MAE loss invalid-pixel mask must match target {tuple(target.shape)}, got "
            f"{tuple(invalid.shape)}"
        )
