"""timm architectures that take any image size by padding it first.

timm's LeViT (Graham et al., "LeViT: a Vision Transformer in ConvNet's Clothing for Faster
Inference", ICCV 2021) fixes its token grid to `img_size // stem_stride`, which its strided stem
only produces for multiples of the stride; Twins (Chu et al., "Twins: Revisiting the Design of
Spatial Attention in Vision Transformers", NeurIPS 2021) asserts that the size divides through
all its stages. These subclasses are built for the padded size and pad each input
symmetrically (`sizing.pad_to_multiple`) before timm's own `forward_features`; everything else
(heads, `group_matcher`, `feature_info`, `no_weight_decay`) is timm's.
"""

from __future__ import annotations

from typing import Any

import torch
from timm.models.levit import Levit
from timm.models.twins import Twins

from scivit.models.zoo.sizing import pad_to_multiple, padded_size


class _PaddedInput:
    """Mixin: build the timm model for the padded size and pad inputs to it."""

    def __init__(self, *, img_size: int, pad_multiple: int, **kwargs: Any) -> None:
        super().__init__(img_size=padded_size(img_size, pad_multiple), **kwargs)
        self.pad_multiple = pad_multiple

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward_features(pad_to_multiple(x, self.pad_multiple))


class PaddedLevit(_PaddedInput, Levit):
    """timm's LeViT on inputs padded to a multiple of its stem stride."""


class PaddedTwins(_PaddedInput, Twins):
    """timm's Twins on inputs padded to a size that divides through all its stages."""
