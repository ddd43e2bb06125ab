"""The light transformer decoder of a masked autoencoder (He et al., "Masked Autoencoders Are
Scalable Vision Learners", CVPR 2022, Sec. 3 "MAE decoder").

The encoder's latents are projected to the decoder width; one shared, learned mask token fills
every removed position; the full set is put back in image order and given *fixed* 2-D sin-cos
position embeddings (the paper's choice; timm's `build_sincos2d_pos_embed`, computed for the
grid of each batch, so any image size works). The encoder's prefix tokens (class, registers) go
through the decoder without a position embedding, as the class token does in the authors'
implementation, and are dropped before the last linear layer predicts the pixels of each patch.

Parameter names follow the authors' implementation (`decoder_embed`, `mask_token`,
`decoder_blocks`, `decoder_norm`, `decoder_pred`); none of them collides with a ViT's own names,
so a checkpoint of the whole autoencoder loads into a backbone as encoder weights only.
"""

from __future__ import annotations

from functools import partial

import torch
from timm.layers import build_sincos2d_pos_embed
from timm.models.vision_transformer import Block
from torch import nn

from scivit.errors import ConfigError


class MAEDecoder(nn.Module):
    """Mask tokens + fixed sin-cos positions + timm `Block`s -> pixels of every patch.

    Args:
        encoder_dim: width of the encoder's tokens.
        patch_dim: pixels per patch (patch * patch * channels).
        num_prefix_tokens: class/register tokens in front of the encoder's patch tokens.
        dim: decoder width (a multiple of 4 and of `heads`).
        depth: number of transformer blocks.
        heads: attention heads per block.
        mlp_ratio: hidden width of each block's MLP relative to `dim`.
    """

    def __init__(
        self,
        encoder_dim: int,
        patch_dim: int,
        num_prefix_tokens: int = 1,
        dim: int = 512,
        depth: int = 8,
        heads: int = 16,
        mlp_ratio: float = 4.0,
    ) -> None:
        super().__init__()
        _check_width(dim, depth, heads)
        self.num_prefix_tokens = num_prefix_tokens
        self.decoder_embed = nn.Linear(encoder_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.decoder_blocks = nn.Sequential(
            *[
                Block(dim, heads, mlp_ratio, qkv_bias=True, norm_layer=norm_layer)
                for _ in range(depth)
            ]
        )
        self.decoder_norm = norm_layer(dim)
        self.decoder_pred = nn.Linear(dim, patch_dim)
        self.apply(_init_weights)
        nn.init.normal_(self.mask_token, std=0.02)

    def position_embedding(
        self, grid: tuple[int, int], device: torch.device, dtype: torch.dtype
    ) -> torch.Tensor:
        """Fixed sin-cos embedding (L, dim) of a (rows, cols) patch grid, row-major."""
        return build_sincos2d_pos_embed(
            list(grid), dim=self.mask_token.shape[-1], device=device, dtype=dtype
        )

    def forward(
        self, latent: torch.Tensor, ids_restore: torch.Tensor, grid: tuple[int, int]
    ) -> torch.Tensor:
        """Predict every patch.

        Args:
            latent: encoder output (B, prefix + kept, encoder_dim).
            ids_restore: (B, L) from `random_masking`, putting shuffled tokens back in order.
            grid: (rows, cols) of the patch grid, rows * cols = L.

        Returns:
            Predicted pixels (B, L, patch_dim), patches in row-major order.
        """
        x = self.decoder_embed(latent)
        prefix, visible = x[:, : self.num_prefix_tokens], x[:, self.num_prefix_tokens :]
        batch, length = ids_restore.shape
        fill = self.mask_token.to(x.dtype).expand(batch, length - visible.shape[1], -1)
        tokens = torch.cat([visible, fill], dim=1)
        index = ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[-1])
        tokens = torch.gather(tokens, 1, index)
        tokens = tokens + self.position_embedding(grid, x.device, x.dtype)
        x = self.decoder_norm(self.decoder_blocks(torch.cat([prefix, tokens], dim=1)))
        return self.decoder_pred(x[:, self.num_prefix_tokens :])


def _check_width(dim: int, depth: int, heads: int) -> None:
    if depth < 1 or heads < 1:
        raise ConfigError(f"MAE decoder_depth and decoder_heads must be >= 1, got {depth}, {heads}")
    if dim % 4 or dim % heads:
        raise ConfigError(
            f"MAE decoder_dim={dim} must be a multiple of 4 (sin-cos positions) and of "
            f"decoder_heads={heads}"
        )


def _init_weights(module: nn.Module) -> None:
    """Xavier-uniform linear layers, unit LayerNorms (the authors' initialisation)."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
