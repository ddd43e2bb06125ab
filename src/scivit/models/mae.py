"""Masked autoencoder (He et al., "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022)
around any timm VisionTransformer.

Each image is cut into the encoder's patches; a random `mask_ratio` of them is removed per sample
(an independent random shuffle per sample, Sec. 3 "Masking"); the encoder (the ViT's own
`patch_embed`, `_pos_embed` with its class/register tokens, `norm_pre`, `blocks`, `norm`) sees
only the kept patches; the light decoder (`scivit.models.mae_decoder`) predicts the pixels of
every patch and the loss (`scivit.losses.mae`) is taken on the removed ones. Targets are the
input images as the pipeline delivers them (the log-intensity frame when the recipe applies
`log_intensity`), normalised per patch when `norm_pix_loss`.

After pretraining, `encoder_state_dict()` (or the whole checkpoint) loads back with
`create_backbone(name, pretrained=<file>)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from timm.models import checkpoint_seq
from timm.models.vision_transformer import VisionTransformer
from torch import nn

from scivit.errors import ConfigError, DataError, ModelError
from scivit.losses.mae import MAELoss
from scivit.models.mae_decoder import MAEDecoder


@dataclass
class MAEOutput:
    """What one masked-autoencoder pass returns.

    Attributes:
        loss: scalar reconstruction loss on the removed patches.
        pred: predicted pixels (B, L, patch * patch * C), in the normalised target space when
            `norm_pix_loss` (see `scivit.losses.mae.patch_mean_std` to map back).
        mask: (B, L) float, 1 for removed patches, 0 for those the encoder saw.
    """

    loss: torch.Tensor
    pred: torch.Tensor
    mask: torch.Tensor


def random_masking(
    tokens: torch.Tensor, mask_ratio: float, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep a random ``round(L * (1 - mask_ratio))`` tokens of each sample.

    Args:
        tokens: (B, L, D).
        mask_ratio: fraction of tokens to remove, in [0, 1).
        generator: optional random generator (on the CPU or on the tokens' device).

    Returns:
        `kept` (B, K, D) in shuffled order, `mask` (B, L) float with 1 = removed, and
        `ids_restore` (B, L): gathering ``cat(kept, removed)`` with it restores the order.
    """
    batch, length, dim = tokens.shape
    if not 0 <= mask_ratio < 1:
        raise ConfigError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    keep = round(length * (1 - mask_ratio))
    if keep < 1:
        raise ConfigError(f"mask_ratio={mask_ratio} keeps no patch of {length}; lower it")
    device = tokens.device if generator is None else generator.device
    noise = torch.rand(batch, length, generator=generator, device=device).to(tokens.device)
    ids_shuffle = noise.argsort(dim=1)
    ids_restore = ids_shuffle.argsort(dim=1)
    kept = torch.gather(tokens, 1, ids_shuffle[:, :keep, None].expand(-1, -1, dim))
    mask = (ids_restore >= keep).to(tokens.dtype)
    return kept, mask, ids_restore


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """(B, C, H, W) -> (B, L, patch * patch * C): row-major patches, pixels (row, col, channel)."""
    batch, chans, height, width = images.shape
    if height % patch or width % patch:
        raise DataError(f"images of {height}x{width} px do not split into {patch}-px patches")
    rows, cols = height // patch, width // patch
    x = images.reshape(batch, chans, rows, patch, cols, patch).permute(0, 2, 4, 3, 5, 1)
    return x.reshape(batch, rows * cols, patch * patch * chans)


def unpatchify(
    patches: torch.Tensor, patch: int, grid: tuple[int, int] | None = None
) -> torch.Tensor:
    """Inverse of `patchify`; `grid` (rows, cols) defaults to a square grid."""
    batch, length, size = patches.shape
    rows, cols = grid if grid is not None else (round(length**0.5),) * 2
    chans = size // (patch * patch)
    if rows * cols != length or chans * patch * patch != size:
        raise ValueError(
            f"{length} patches of {size} values do not form a {rows}x{cols} grid of {patch}-px "
            "patches"
        )
    x = patches.reshape(batch, rows, cols, patch, patch, chans).permute(0, 5, 1, 3, 2, 4)
    return x.reshape(batch, chans, rows * patch, cols * patch)


class MaskedAutoencoder(nn.Module):
    """A timm ViT encoder, a light decoder and the masked-patch reconstruction loss.

    Args:
        encoder: a timm `VisionTransformer` (vit_*, deit_*, vit_*_dinov2, with or without
            register tokens), e.g. from `scivit.models.create_backbone(name, img_size=S)`.
        decoder_dim: decoder width (paper: 512).
        decoder_depth: decoder blocks (paper: 8).
        decoder_heads: decoder attention heads (paper: 16).
        mask_ratio: fraction of patches removed per sample (paper: 0.75).
        norm_pix_loss: per-patch normalised pixel targets (paper: on).

    Raises:
        ModelError: the encoder is not a patch-token ViT.
        ConfigError: a decoder option or the mask ratio is invalid.
    """

    def __init__(
        self,
        encoder: nn.Module,
        decoder_dim: int = 512,
        decoder_depth: int = 8,
        decoder_heads: int = 16,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = True,
    ) -> None:
        super().__init__()
        if not 0 < mask_ratio < 1:
            raise ConfigError(f"MAE mask_ratio must be in (0, 1), got {mask_ratio}")
        self.patch_size = _patch_size(encoder)
        self.encoder = encoder
        self.mask_ratio = mask_ratio
        chans = encoder.patch_embed.proj.in_channels
        self.decoder = MAEDecoder(
            encoder.embed_dim,
            self.patch_size**2 * chans,
            num_prefix_tokens=encoder.num_prefix_tokens,
            dim=decoder_dim,
            depth=decoder_depth,
            heads=decoder_heads,
        )
        self.loss_fn = MAELoss(norm_pix_loss=norm_pix_loss)

    def encoder_state_dict(self) -> dict[str, torch.Tensor]:
        """The encoder's weights, loadable with `create_backbone(name, pretrained=<file>)`."""
        return self.encoder.state_dict()

    def encode(
        self, images: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode a random subset of patches: `(latent, mask, ids_restore)`.

        `latent` is (B, prefix + kept, D), prefix (class/register) tokens first.
        """
        encoder = self.encoder
        tokens = encoder._pos_embed(encoder.patch_embed(images))
        prefix = encoder.num_prefix_tokens
        kept, mask, ids_restore = random_masking(tokens[:, prefix:], self.mask_ratio, generator)
        x = encoder.norm_pre(torch.cat([tokens[:, :prefix], kept], dim=1))
        if encoder.grad_checkpointing and not torch.jit.is_scripting():
            x = checkpoint_seq(encoder.blocks, x)
        else:
            x = encoder.blocks(x)
        return encoder.norm(x), mask, ids_restore

    def forward(
        self,
        images: torch.Tensor,
        pixel_mask: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> MAEOutput:
        """Mask, encode, decode and score a batch.

        Args:
            images: (B, C, H, W), H and W multiples of the patch size (and equal to the
                encoder's `img_size` unless it was built with `dynamic_img_size=True`).
            pixel_mask: optional bool (B, H, W) or (B, 1 or C, H, W), True = invalid pixel,
                left out of the loss.
            generator: optional random generator for the masks.
        """
        grid = self._grid(images)
        latent, mask, ids_restore = self.encode(images, generator)
        pred = self.decoder(latent, ids_restore, grid)
        invalid = None if pixel_mask is None else self._invalid_patches(pixel_mask, images)
        loss = self.loss_fn(pred, patchify(images, self.patch_size), mask, invalid)
        return MAEOutput(loss=loss, pred=pred, mask=mask)

    def _grid(self, images: torch.Tensor) -> tuple[int, int]:
        height, width = images.shape[-2:]
        patch = self.patch_size
        fixed = None if self.encoder.dynamic_img_size else self.encoder.patch_embed.img_size
        if height % patch or width % patch or (fixed is not None and (height, width) != fixed):
            size = "any multiple of the patch" if fixed is None else f"{fixed[0]}x{fixed[1]} px"
            raise DataError(
                f"images of {height}x{width} px do not fit the MAE encoder (patch {patch}, "
                f"takes {size}); set model.img_size to the image size or resize the images"
            )
        return height // patch, width // patch

    def _invalid_patches(self, pixel_mask: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        batch, chans, height, width = images.shape
        shaped = pixel_mask[:, None] if pixel_mask.ndim == 3 else pixel_mask
        fits = shaped.ndim == 4 and shaped.shape[1] in (1, chans)
        if not fits or shaped.shape[0] != batch or shaped.shape[-2:] != (height, width):
            raise DataError(
                f"pixel mask {tuple(pixel_mask.shape)} does not match images {tuple(images.shape)}"
            )
        full = shaped.bool().expand(batch, chans, height, width)
        return patchify(full, self.patch_size)


def _patch_size(encoder: nn.Module) -> int:
    """The square patch size of a timm ViT, or a ModelError for any other encoder."""
    if not isinstance(encoder, VisionTransformer):
        name = getattr(encoder, "pretrained_cfg", {}).get("architecture") or type(encoder).__name__
        raise ModelError(
            f"MAE needs a patch-token ViT backbone (e.g. vit_small_patch14_dinov2, "
            f"deit_tiny_patch16_224), not '{name}'; use DINO pretraining for CNNs and other "
            "backbones"
        )
    rows, cols = encoder.patch_embed.patch_size
    if rows != cols:
        raise ModelError(f"MAE needs square patches, the encoder has {rows}x{cols}")
    return int(rows)
