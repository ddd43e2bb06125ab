"""Transformers that timm lacks, taken from `vit-pytorch`, behind timm's backbone interface.

- CvT: Wu et al., "CvT: Introducing Convolutions to Vision Transformers", ICCV 2021.
- CCT: Hassani et al., "Escaping the Big Data Paradigm with Compact Transformers", 2021.
- T2T-ViT: Yuan et al., "Tokens-to-Token ViT: Training Vision Transformers from Scratch on
  ImageNet", ICCV 2021.
- CrossFormer: Wang et al., "CrossFormer: A Versatile Vision Transformer Hinging on Cross-scale
  Attention", ICLR 2022.

vit-pytorch models end in a classifier and have no feature method, so each adapter keeps the
library's modules up to the classifier (which is dropped) and repeats the few lines of the
library's forward pass that come before pooling.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from math import prod
from operator import mul

import torch
from vit_pytorch.cct import CCT
from vit_pytorch.crossformer import CrossFormer
from vit_pytorch.cvt import CvT
from vit_pytorch.t2t import T2TViT

from scivit.models.zoo.base import Backbone, MapBackbone
from scivit.models.zoo.sizing import pad_to_multiple, padded_size, window_for

CVT_STRIDES = (4, 2, 2)
CROSSFORMER_STRIDES = (2, 2, 2, 2)
CROSSFORMER_KERNELS = ((2, 4, 8, 16), (2, 4), (2, 4), (2, 4))


class CvTBackbone(MapBackbone):
    """CvT's three stages of convolutional token embedding (strides 4, 2, 2) and
    convolutional-projection attention."""

    def __init__(
        self,
        in_chans: int,
        dims: Sequence[int],
        depths: Sequence[int],
        heads: Sequence[int],
    ) -> None:
        super().__init__()
        options: dict[str, int] = {}
        for stage, values in enumerate(zip(dims, depths, heads, CVT_STRIDES, strict=True), start=1):
            keys = ("emb_dim", "depth", "heads", "emb_stride")
            options.update(
                {f"s{stage}_{key}": value for key, value in zip(keys, values, strict=True)}
            )
        self.stages = CvT(num_classes=1, channels=in_chans, **options).layers
        self.num_features = dims[-1]
        self.feature_info = [
            {"num_chs": dim, "reduction": r, "module": f"stages.{index}"}
            for index, (dim, r) in enumerate(zip(dims, accumulate(CVT_STRIDES, mul), strict=True))
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stages(x)

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {"stem": r"^stages\.0\.0\.", "blocks": r"^stages\.(\d+)"}


class CCTBackbone(Backbone):
    """CCT: a convolutional tokenizer (3x3 convolutions, each followed by 2x max-pooling), a
    transformer encoder with learned position embeddings, and sequence pooling."""

    def __init__(
        self,
        in_chans: int,
        img_size: int,
        embedding_dim: int,
        n_conv_layers: int,
        num_layers: int,
        num_heads: int,
        mlp_ratio: float,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        model = CCT(
            img_size=img_size,
            embedding_dim=embedding_dim,
            n_input_channels=in_chans,
            n_conv_layers=n_conv_layers,
            kernel_size=3,
            stride=1,
            padding=1,
            num_layers=num_layers,
            num_heads=num_heads,
            mlp_ratio=mlp_ratio,
            num_classes=1,
            positional_embedding="learnable",
            stochastic_depth_rate=drop_path_rate,
        )
        encoder = model.classifier
        self.tokenizer = model.tokenizer
        self.positional_emb = encoder.positional_emb
        self.dropout = encoder.dropout
        self.blocks = encoder.blocks
        self.norm = encoder.norm
        self.attention_pool = encoder.attention_pool
        self.num_features = embedding_dim

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.dropout(self.tokenizer(x) + self.positional_emb)
        for block in self.blocks:
            tokens = block(tokens)
        return self.norm(tokens)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Sequence pooling: the tokens averaged with learned softmax weights."""
        weights = self.attention_pool(x).softmax(dim=1)
        return (weights * x).sum(dim=1)

    def no_weight_decay(self) -> set[str]:
        return {"positional_emb"}

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {"stem": r"^tokenizer|^positional_emb", "blocks": r"^blocks\.(\d+)"}


class T2TBackbone(Backbone):
    """T2T-ViT: soft splits (overlapping unfolds, each but the last followed by a one-layer
    token transformer) build the tokens of a ViT encoder whose class token is the embedding.

    `t2t_layers` lists (kernel, stride) of the soft splits; the input must be square.
    """

    def __init__(
        self,
        in_chans: int,
        img_size: int,
        dim: int,
        depth: int,
        heads: int,
        mlp_dim: int,
        t2t_layers: Sequence[tuple[int, int]],
    ) -> None:
        super().__init__()
        model = T2TViT(
            image_size=img_size,
            num_classes=1,
            dim=dim,
            depth=depth,
            heads=heads,
            mlp_dim=mlp_dim,
            channels=in_chans,
            t2t_layers=tuple(t2t_layers),
        )
        self.to_patch_embedding = model.to_patch_embedding
        self.cls_token = model.cls_token
        self.pos_embedding = model.pos_embedding
        self.dropout = model.dropout
        self.transformer = model.transformer
        self.num_features = dim
        reduction = prod(stride for _, stride in t2t_layers)
        self.feature_info = [{"num_chs": dim, "reduction": reduction, "module": "transformer"}]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.to_patch_embedding(x)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        tokens = torch.cat((cls, tokens), dim=1) + self.pos_embedding[:, : tokens.shape[1] + 1]
        return self.transformer(self.dropout(tokens))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The class token."""
        return x[:, 0]

    def no_weight_decay(self) -> set[str]:
        return {"cls_token", "pos_embedding"}

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {
            "stem": r"^to_patch_embedding|^cls_token|^pos_embedding",
            "blocks": r"^transformer\.layers\.(\d+)",
        }


class CrossFormerBackbone(MapBackbone):
    """CrossFormer: four stages of cross-scale embedding and alternating short-distance
    (local window) and long-distance (dilated, global window) attention.

    For small images every stage halves the size (strides 2, 2, 2, 2 with first-stage kernels
    2/4/8/16 instead of the paper's 4, 2, 2, 2 and 4/8/16/32 at 224 px), so that a 64-px image
    keeps a 4x4 grid in the last stage. Inputs are padded to a multiple of 16 (the total
    stride). Each stage's local window is the largest size up to 7 (the paper's) and up to half
    the grid that tiles its grid; the global window is the grid over the local window, so
    long-distance groups sample one token per local window and neither attention is reduced
    to a single token (64 px: grids 32/16/8/4, local 4/4/4/2; 150 px padded to 160: grids
    80/40/20/10, local 5).
    """

    def __init__(
        self, in_chans: int, img_size: int, dims: Sequence[int], depths: Sequence[int]
    ) -> None:
        super().__init__()
        reductions = list(accumulate(CROSSFORMER_STRIDES, mul))
        self.pad_multiple = reductions[-1]
        grids = [padded_size(img_size, self.pad_multiple) // r for r in reductions]
        local = tuple(window_for(grid, max(1, min(7, grid // 2))) for grid in grids)
        model = CrossFormer(
            dim=tuple(dims),
            depth=tuple(depths),
            local_window_size=local,
            global_window_size=tuple(grid // w for grid, w in zip(grids, local, strict=True)),
            cross_embed_kernel_sizes=CROSSFORMER_KERNELS,
            cross_embed_strides=CROSSFORMER_STRIDES,
            channels=in_chans,
            num_classes=1,
        )
        self.stages = model.layers
        self.num_features = dims[-1]
        self.feature_info = [
            {"num_chs": dim, "reduction": r, "module": f"stages.{index}"}
            for index, (dim, r) in enumerate(zip(dims, reductions, strict=True))
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = pad_to_multiple(x, self.pad_multiple)
        for embed, transformer in self.stages:
            x = transformer(embed(x))
        return x

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        return {"stem": r"^stages\.0\.0\.", "blocks": r"^stages\.(\d+)"}
