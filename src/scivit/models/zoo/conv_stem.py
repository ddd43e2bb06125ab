"""A convolutional stem in place of a plain ViT's linear patch embedding (Xiao et al., "Early
convolutions help transformers see better", NeurIPS 2021).

Why the zoo needs it: on standardized lensing images (mostly sky noise, zero mean) a linear
patch embedding followed by near-uniform attention gives pooled features that hardly differ
between images at initialisation. For CaiT the cosine between any two of 96 Model II images'
features is 0.9997, against 0.95-0.99 for Swin, PiT and Twins. CaiT and CrossViT then sat at
the class prior (loss ln 3) for whole 10-epoch runs, and CaiT could not fit 48 training
images in 40 full-batch steps (loss 1.064, the prior). With this stem, whose batch norm
rescales the small differences between images as a ResNet's does, the same CaiT fits them
(loss 1.08 -> 0.04 in 80 steps). In `benchmarks/lensing_zoo.py` (Model II, 500 images per
class, 10 epochs) CaiT then reaches 44.7 % and CrossViT 44.0 %, against 32.7 % and 33.3 %
without the stem on twice the data: off the plateau, but still far behind the hierarchical
and convolutional members (70-83 %). The transformer after the stem is unchanged; only the
tokenizer sees pixels through two 3x3 convolutions before the patchifying one.
"""

from __future__ import annotations

import torch
from torch import nn


class ConvPatchStem(nn.Module):
    """Tokens of a `patch_size` grid from 3x3 conv, 3x3 conv, then a patchifying conv.

    The first convolution's stride is the smallest prime factor of `patch_size`, so the last
    one patchifies the reduced map with kernel = stride = the rest (4 = 2 x 2, 8 = 2 x 4,
    10 = 2 x 5, 15 = 3 x 5). Output: (N, tokens, embed_dim), as timm's PatchEmbed.
    """

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int, img_size: int) -> None:
        super().__init__()
        stride = next(f for f in range(2, patch_size + 1) if patch_size % f == 0)
        kernel = max(3, stride)
        width = max(embed_dim // 2, 8)
        self.convs = nn.Sequential(
            nn.Conv2d(in_chans, width // 2, kernel, stride, (kernel - stride + 1) // 2, bias=False),
            nn.BatchNorm2d(width // 2),
            nn.GELU(),
            nn.Conv2d(width // 2, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
            nn.GELU(),
            nn.Conv2d(width, embed_dim, patch_size // stride, patch_size // stride),
        )
        grid = img_size // patch_size
        self.img_size = (img_size, img_size)
        self.patch_size = (patch_size, patch_size)
        self.grid_size = (grid, grid)
        self.num_patches = grid * grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x).flatten(2).transpose(1, 2)
