"""Masked-autoencoder pretraining as the pretraining task drives it (He et al., "Masked
Autoencoders Are Scalable Vision Learners", CVPR 2022).

`MAEOptions` is the `method` section of an MAE recipe (defaults: the paper's mask ratio 0.75,
a 512-wide, 8-block decoder with 16 heads and normalised-pixel targets). Each frame gives one
view (`MAEViewOptions`): the paper's random-resized crop (area 20-100 %) and flip, here cut from
the frame turned about its beam centre, with counts rescaled and Poisson-resampled, then
standardised; no local views, no gamma or blur. The views carry the detector's invalid-pixel
mask (beam stop, gaps, pixels outside the turned frame); `MAEMethod` zeroes those pixels in
the input and leaves them out of the loss (`scivit.models.mae.MaskedAutoencoder`). The
encoder is exported to `encoder_backbone.safetensors`.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from pydantic import Field, PositiveInt
from torch import nn

from scivit.config import StrictModel
from scivit.models.mae import MaskedAutoencoder
from scivit.transforms.views import ViewOptions


class MAEViewOptions(StrictModel):
    """`method.views` of MAE: one view per frame (sizes in pixels of the cached frames).

    `normalize` are the deterministic steps the view ends with (after the counts-space
    changes).
    """

    size: PositiveInt = 224
    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    rotate_degrees: float = Field(180.0, ge=0, le=180)
    flip: bool = True
    intensity_scale: tuple[float, float] | None = (0.5, 2.0)
    poisson_exposure: tuple[float, float] | None = (0.1, 1.0)
    poisson_prob: float = Field(0.5, ge=0, le=1)
    normalize: list[dict[str, Any]] = Field(default_factory=lambda: [{"name": "standardize"}])

    def largest_size(self) -> int:
        """The view side."""
        return self.size

    def as_multicrop(self) -> ViewOptions:
        """The same view as multi-crop options: the global view, no local view, no gamma or
        blur."""
        return ViewOptions(
            global_size=self.size,
            global_scale=self.scale,
            n_local=0,
            ratio=self.ratio,
            rotate_degrees=self.rotate_degrees,
            flip=self.flip,
            intensity_scale=self.intensity_scale,
            poisson_exposure=self.poisson_exposure,
            poisson_prob=self.poisson_prob,
            gamma=None,
            blur_sigma=None,
            normalize=self.normalize,
        )


class MAEOptions(StrictModel):
    """`method` section of an MAE recipe (defaults: the paper's settings)."""

    name: Literal["mae"] = "mae"
    mask_ratio: float = Field(0.75, gt=0, lt=1)
    decoder_dim: PositiveInt = 512
    decoder_depth: PositiveInt = 8
    decoder_heads: PositiveInt = 16
    norm_pix_loss: bool = True
    views: MAEViewOptions = Field(default_factory=MAEViewOptions)


class MAEMethod(nn.Module):
    """MAE as the pretraining task drives it (see `scivit.tasks.pretrain.PretrainMethod`).

    Args:
        options: the method section of the recipe.
        encoder: a timm VisionTransformer taking the views.

    Raises:
        ModelError: the encoder is not a patch-token ViT.
    """

    backbone_file = "encoder_backbone.safetensors"

    def __init__(self, options: MAEOptions, encoder: nn.Module) -> None:
        super().__init__()
        self.autoencoder = MaskedAutoencoder(
            encoder,
            decoder_dim=options.decoder_dim,
            decoder_depth=options.decoder_depth,
            decoder_heads=options.decoder_heads,
            mask_ratio=options.mask_ratio,
            norm_pix_loss=options.norm_pix_loss,
        )

    def training_loss(self, views: list[torch.Tensor], epoch: float) -> dict[str, torch.Tensor]:
        """The reconstruction loss of a batch: `views` is [images (B, C, H, W), invalid-pixel
        masks (B, H, W)]; invalid pixels are zeroed in the input and left out of the loss."""
        images, invalid = views
        invalid = invalid.bool()
        images = images.masked_fill(invalid[:, None], 0.0)
        loss = self.autoencoder(images, pixel_mask=invalid).loss
        return {"loss": loss, "valid_pixels": 1.0 - invalid.float().mean()}

    def after_backward(self, epoch: int) -> None:
        """Nothing to do: every parameter learns from the first step."""

    def after_optimizer_step(self, step: int, total_steps: int) -> dict[str, float]:
        """Nothing to update after a step (no teacher); nothing to log."""
        return {}

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Pooled encoder features (B, D) of whole, unmasked frames."""
        encoder = self.autoencoder.encoder
        return encoder.forward_head(encoder.forward_features(images), pre_logits=True)

    def export_backbone(self) -> nn.Module:
        """The encoder, without decoder."""
        return self.autoencoder.encoder
