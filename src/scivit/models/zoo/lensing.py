"""The strong-lensing architecture zoo: small, CPU-trainable members of the ten transformer
families the DeepLense benchmark compared, a ResNet baseline and C8- and C4-equivariant ResNets.

Every member is registered in `BACKBONES` and built with
`create_backbone(name, in_chans=1, img_size=S)`; all take the DeepLense sizes 64 (Models II and
III) and 150 (Model I). Patch, window and stride sizes follow from the image size by rules
rather than fixed values, so a 64-px image gets patch 4 (16x16 tokens), not patch 16 (4x4).

| name             | family, source        | configuration                              | params  |
|------------------|-----------------------|--------------------------------------------|---------|
| lens_cvt         | CvT, vit-pytorch      | dims 64/128/256, depths 1/2/2, heads 1/2/4 | 2.4 M   |
| lens_cct         | CCT, vit-pytorch      | dim 192, 6 layers, 4 heads, conv tokenizer | 1.9-2.0 |
| lens_twins_svt   | Twins-SVT, timm       | dims 64/128/256, depths 2/2/2, patch 4     | 2.4-3.0 |
| lens_levit       | LeViT, timm           | dims 96/192/256, depths 2/2/2, stem 8      | 2.4 M   |
| lens_cait        | CaiT, timm            | dim 192, 6 + 2 class-attention layers, *   | 3.7-4.1 |
| lens_crossvit    | CrossViT, timm        | dims 96/192, 3 multi-scale blocks, *       | 4.2-4.5 |
| lens_pit         | PiT, timm             | dims 64/128/256, depths 2/3/2              | 2.3-2.4 |
| lens_swin        | Swin, timm            | dim 64, depths 2/2/2, heads 2/4/8          | 2.2 M   |
| lens_t2t         | T2T-ViT, vit-pytorch  | dim 192, depth 6, 3 heads, 2 soft splits   | 1.9-2.0 |
| lens_crossformer | CrossFormer, vit-pyt. | dims 32/64/128/256, depths 1/1/2/1         | 3.0 M   |
| lens_resnet18    | ResNet-18, timm       | BasicBlock 2/2/2/2, widths 32/64/128/256 † | 2.8 M   |
| lens_c8_resnet   | C8 ResNet, scivit     | 16/32/64 fields of 8 rotations, 2/2/2      | 1.4 M   |
| lens_c4_resnet   | C4 ResNet, scivit     | 16/32/64 fields of 4 rotations, 2/2/2      | 0.7 M ‡ |

* tokens from a convolutional stem (`conv_stem.ConvPatchStem`; option `conv_stem: false` gives
timm's linear patch embedding, which sits at chance on lensing images: see that module).

† stem stride 4 as on ImageNet; option `stem_stride: 2` keeps twice the resolution.
The equivariant ResNets take option `fields: [a, b, c]` for the fields of their three stages.

‡ the C8 ResNet's fields with half the rotations: a quarter of its arithmetic, for exact
quarter-turn invariance without filter interpolation (training speeds: docs/results).

Parameters (millions) are counted at 64 and 150 px (position embeddings and sub-sampling
convolutions grow with the size); every member but the C4 ResNet has 1-6 M.

Size rules, with their values at 64 and 150 px:
- Plain-token ViTs (CaiT; CrossViT's small branch) take the smallest patch dividing the image
  into at most 16 tokens per side: patch 4 (16x16) and 10 (15x15). CrossViT's large branch
  allows at most 10 per side: patch 8 and 15.
- PiT's half-overlapping patch embedding (stride = patch / 2, as in the paper's 16/8) takes the
  smallest patch dividing the image with at most 20 tokens per side: 8 (15x15) and 15 (20x20).
- Swin takes the smallest patch giving at most 30 tokens per side: 4 (16x16) and 5 (30x30); 150
  is not divisible by 4 * 7, so instead of the ImageNet window 7 each stage's window is the
  largest size up to 7 that tiles its grid: 4/4/4 and 6/5/4 (grids 30, 15, 8; timm pads odd
  grids before patch merging).
- LeViT (stride-8 stem; 150 // 8 disagrees with the stem's 19), Twins-SVT (patch 4 and two
  2x merges: sizes divisible by 16) and CrossFormer (four 2x stages, see
  `CrossFormerBackbone`) pad the image symmetrically to the next size they take (150 -> 152,
  160, 160); Twins' and CrossFormer's windows are then the largest sizes up to 7 that tile
  each grid.
- CCT uses as many conv + pool tokenizer layers as bring the grid to at most 20 per side (2 at
  64 px: 16x16, 3 at 150 px: 19x19); T2T-ViT's first soft split has stride 2, or 4 when needed
  for at most 20 tokens per side (15x15 and 19x19).
- The C8 and C4 ResNets need even sizes (so 90-degree rotations map their sampling grid onto
  itself) and pad them to a multiple of their total stride 16 (150 -> 160).

A size an architecture cannot take raises a ModelError naming sizes that work.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from timm.layers import PatchEmbed
from timm.models.cait import Cait
from timm.models.crossvit import CrossVit
from timm.models.pit import PoolingVisionTransformer
from timm.models.resnet import BasicBlock, ResNet
from timm.models.swin_transformer import SwinTransformer
from torch import nn

from scivit.errors import ModelError
from scivit.models.backbones import BACKBONES
from scivit.models.zoo.conv_stem import ConvPatchStem
from scivit.models.zoo.equivariant import CyclicResNet
from scivit.models.zoo.sizing import check_min_size, padded_size, patch_for_grid, window_for
from scivit.models.zoo.timm_models import PaddedLevit, PaddedTwins
from scivit.models.zoo.vit_pytorch_models import (
    CCTBackbone,
    CrossFormerBackbone,
    CvTBackbone,
    T2TBackbone,
)

DEFAULT_SIZE = 64
MIN_SIZE = 32


def _no_drop_path(name: str, drop_path_rate: float) -> None:
    if drop_path_rate > 0:
        raise ModelError(
            f"backbone '{name}' has no stochastic depth; set model.drop_path_rate to 0"
        )


@BACKBONES.register("lens_cvt")
def lens_cvt(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """CvT: dims 64/128/256, depths 1/2/2, heads 1/2/4."""
    check_min_size("lens_cvt", img_size, MIN_SIZE)
    _no_drop_path("lens_cvt", drop_path_rate)
    return CvTBackbone(in_chans, dims=(64, 128, 256), depths=(1, 2, 2), heads=(1, 2, 4))


@BACKBONES.register("lens_cct")
def lens_cct(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """CCT: 3x3 conv + 2x max-pool tokenizer layers until at most 20 tokens per side; dim 192,
    6 layers, 4 heads, MLP ratio 2."""
    check_min_size("lens_cct", img_size, MIN_SIZE)
    layers, grid = 1, -(-img_size // 2)
    while grid > 20:
        layers, grid = layers + 1, -(-grid // 2)
    return CCTBackbone(
        in_chans,
        img_size,
        embedding_dim=192,
        n_conv_layers=layers,
        num_layers=6,
        num_heads=4,
        mlp_ratio=2.0,
        drop_path_rate=drop_path_rate,
    )


@BACKBONES.register("lens_twins_svt")
def lens_twins_svt(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """Twins-SVT: patch 4, dims 64/128/256, depths 2/2/2 (locally-grouped then global
    sub-sampled attention), windows tiling each grid, sub-sampling to one key per window."""
    check_min_size("lens_twins_svt", img_size, MIN_SIZE)
    multiple = 16
    grids = [padded_size(img_size, multiple) // r for r in (4, 8, 16)]
    windows = tuple(window_for(grid) for grid in grids)
    return PaddedTwins(
        img_size=img_size,
        pad_multiple=multiple,
        in_chans=in_chans,
        num_classes=0,
        patch_size=4,
        embed_dims=(64, 128, 256),
        num_heads=(2, 4, 8),
        mlp_ratios=(4, 4, 4),
        depths=(2, 2, 2),
        sr_ratios=tuple(grid // w for grid, w in zip(grids, windows, strict=True)),
        wss=windows,
        drop_path_rate=drop_path_rate,
    )


@BACKBONES.register("lens_levit")
def lens_levit(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """LeViT: stride-8 stem, dims 96/192/256, depths 2/2/2, heads 3/4/6, key dim 16."""
    check_min_size("lens_levit", img_size, MIN_SIZE)
    return PaddedLevit(
        img_size=img_size,
        pad_multiple=8,
        in_chans=in_chans,
        num_classes=0,
        stem_type="s8",
        embed_dim=(96, 192, 256),
        key_dim=16,
        depth=(2, 2, 2),
        num_heads=(3, 4, 6),
        drop_path_rate=drop_path_rate,
    )


@BACKBONES.register("lens_cait")
def lens_cait(
    in_chans: int = 1,
    img_size: int = DEFAULT_SIZE,
    drop_path_rate: float = 0.0,
    conv_stem: bool = True,
) -> nn.Module:
    """CaiT: patch for at most 16 tokens per side, dim 192, 6 self-attention and 2
    class-attention layers, 4 heads; LayerScale starts at 0.1, the paper's value for depths up
    to 18 (timm's default 1e-4 suits its 24-36-layer models and keeps a 6-layer model's residual
    branches near zero at the start). Tokens come from a `ConvPatchStem` unless `conv_stem` is
    false (the linear patch embedding, which stays at chance on lensing images)."""
    patch = patch_for_grid("lens_cait", img_size, 16)
    model = Cait(
        img_size=img_size,
        patch_size=patch,
        in_chans=in_chans,
        num_classes=0,
        embed_dim=192,
        depth=6,
        num_heads=4,
        depth_token_only=2,
        init_values=0.1,
        drop_path_rate=drop_path_rate,
    )
    if conv_stem:
        model.patch_embed = ConvPatchStem(in_chans, 192, patch, img_size)
    return model


@BACKBONES.register("lens_crossvit")
def lens_crossvit(
    in_chans: int = 1,
    img_size: int = DEFAULT_SIZE,
    drop_path_rate: float = 0.0,
    conv_stem: bool = True,
) -> nn.Module:
    """CrossViT: small-patch branch (at most 16 tokens per side, dim 96) and large-patch branch
    (at most 10 per side, dim 192), 3 multi-scale blocks of 1 + 2 layers and cross-attention.
    Each branch's tokens come from a `ConvPatchStem` unless `conv_stem` is false.

    `forward_features` returns timm's list of the two branches' tokens."""
    patches = [patch_for_grid("lens_crossvit", img_size, grid) for grid in (16, 10)]
    dims = (96, 192)
    model = CrossVit(
        img_size=img_size,
        patch_size=patches,
        in_chans=in_chans,
        num_classes=0,
        embed_dim=dims,
        depth=((1, 2, 0),) * 3,
        num_heads=(3, 6),
        mlp_ratio=(4.0, 4.0, 1.0),
        drop_path_rate=drop_path_rate,
    )
    if conv_stem:
        model.patch_embed = nn.ModuleList(
            ConvPatchStem(in_chans, dim, patch, img_size)
            for dim, patch in zip(dims, patches, strict=True)
        )
    return model


@BACKBONES.register("lens_pit")
def lens_pit(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """PiT: half-overlapping patches for at most 20 tokens per side, dims 64/128/256,
    depths 2/3/2, heads 2/4/8, pooling by stride-2 depthwise convolutions."""
    patch = patch_for_grid("lens_pit", img_size, 20, overlap=2)
    return PoolingVisionTransformer(
        img_size=img_size,
        patch_size=patch,
        stride=patch // 2,
        in_chans=in_chans,
        num_classes=0,
        base_dims=(32, 32, 32),
        depth=(2, 3, 2),
        heads=(2, 4, 8),
        drop_path_rate=drop_path_rate,
    )


@BACKBONES.register("lens_swin")
def lens_swin(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """Swin: patch for at most 30 tokens per side, dim 64, depths 2/2/2, heads 2/4/8, per-stage
    windows tiling each stage's grid, and no layer norm on the patch embeddings.

    Swin's per-token patch norm scales every patch embedding to the same size, so the patches of
    empty, noisy sky weigh as much as those of a bright arc; with it, Swin trained from scratch
    on lensing-like images stalled at chance level where the same network without it learned.
    """
    patch = patch_for_grid("lens_swin", img_size, 30)
    grids = [-(-img_size // (patch * 2**stage)) for stage in range(3)]
    return SwinTransformer(
        img_size=img_size,
        patch_size=patch,
        in_chans=in_chans,
        num_classes=0,
        embed_dim=64,
        depths=(2, 2, 2),
        num_heads=(2, 4, 8),
        window_size=tuple(window_for(grid) for grid in grids),
        embed_layer=_patch_embed_without_norm,
        drop_path_rate=drop_path_rate,
    )


def _patch_embed_without_norm(**options: Any) -> PatchEmbed:
    """timm's patch embedding with the norm layer that Swin passes dropped."""
    return PatchEmbed(**{**options, "norm_layer": None})


@BACKBONES.register("lens_t2t")
def lens_t2t(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """T2T-ViT: soft splits (7, 2 or 4) and (3, 2), dim 192, depth 6, 3 heads, MLP 384."""
    check_min_size("lens_t2t", img_size, MIN_SIZE)
    _no_drop_path("lens_t2t", drop_path_rate)
    stride = 2 if _t2t_grid(img_size, 2) <= 20 else 4
    return T2TBackbone(
        in_chans,
        img_size,
        dim=192,
        depth=6,
        heads=3,
        mlp_dim=384,
        t2t_layers=((7, stride), (3, 2)),
    )


def _t2t_grid(img_size: int, stride: int) -> int:
    """Tokens per side after soft splits (7, stride) and (3, 2), padded by stride // 2."""
    first = (img_size - 7 + 2 * (stride // 2)) // stride + 1
    return (first - 3 + 2) // 2 + 1


@BACKBONES.register("lens_crossformer")
def lens_crossformer(
    in_chans: int = 1, img_size: int = DEFAULT_SIZE, drop_path_rate: float = 0.0
) -> nn.Module:
    """CrossFormer: dims 32/64/128/256, depths 1/1/2/1."""
    check_min_size("lens_crossformer", img_size, MIN_SIZE)
    _no_drop_path("lens_crossformer", drop_path_rate)
    return CrossFormerBackbone(in_chans, img_size, dims=(32, 64, 128, 256), depths=(1, 1, 2, 1))


RESNET_STEM_STRIDES = (2, 4)
CYCLIC_FIELDS = (16, 32, 64)


@BACKBONES.register("lens_resnet18")
def lens_resnet18(
    in_chans: int = 1,
    img_size: int = DEFAULT_SIZE,
    drop_path_rate: float = 0.0,
    stem_stride: int = 4,
) -> nn.Module:
    """ResNet-18 (BasicBlock 2/2/2/2) at half width: channels 32/64/128/256.

    `stem_stride` 4 is ImageNet's stem (stride-2 convolution, stride-2 max-pooling); 2 drops
    the max-pooling (timm has no option for that), so every stage sees twice the resolution,
    at about 2.7 times the training time.
    """
    check_min_size("lens_resnet18", img_size, MIN_SIZE)
    if stem_stride not in RESNET_STEM_STRIDES:
        raise ModelError(
            f"backbone 'lens_resnet18' takes model.options.stem_stride "
            f"{' or '.join(map(str, RESNET_STEM_STRIDES))}, got {stem_stride}"
        )
    model = ResNet(
        block=BasicBlock,
        layers=(2, 2, 2, 2),
        channels=(32, 64, 128, 256),
        stem_width=32,
        in_chans=in_chans,
        num_classes=0,
        drop_path_rate=drop_path_rate,
    )
    if stem_stride == 2:
        model.maxpool = nn.Identity()
    return model


def _cyclic_resnet(
    name: str,
    order: int,
    in_chans: int,
    img_size: int,
    drop_path_rate: float,
    fields: Sequence[int],
) -> nn.Module:
    """A rotation-equivariant ResNet with three stages of `fields`, depths 2/2/2, at an even
    size."""
    check_min_size(name, img_size, MIN_SIZE)
    if img_size % 2:
        raise ModelError(
            f"backbone '{name}' takes even model.img_size (exact 90-degree rotation "
            f"invariance needs it), got {img_size}; try {img_size - 1} or {img_size + 1}"
        )
    fields = tuple(fields)
    if len(fields) != 3 or not all(isinstance(f, int) and f > 0 for f in fields):
        raise ModelError(
            f"backbone '{name}' takes model.options.fields as three positive integers (fields "
            f"of its three stages), got {list(fields)}"
        )
    return CyclicResNet(
        in_chans, order, fields=fields, depths=(2, 2, 2), drop_path_rate=drop_path_rate
    )


@BACKBONES.register("lens_c8_resnet")
def lens_c8_resnet(
    in_chans: int = 1,
    img_size: int = DEFAULT_SIZE,
    drop_path_rate: float = 0.0,
    fields: Sequence[int] = CYCLIC_FIELDS,
) -> nn.Module:
    """C8-equivariant ResNet: 16/32/64 fields (option `fields`), depths 2/2/2; even image
    sizes only."""
    return _cyclic_resnet("lens_c8_resnet", 8, in_chans, img_size, drop_path_rate, fields)


@BACKBONES.register("lens_c4_resnet")
def lens_c4_resnet(
    in_chans: int = 1,
    img_size: int = DEFAULT_SIZE,
    drop_path_rate: float = 0.0,
    fields: Sequence[int] = CYCLIC_FIELDS,
) -> nn.Module:
    """C4-equivariant ResNet (quarter turns, no filter interpolation): 16/32/64 fields (option
    `fields`), depths 2/2/2, about a quarter of the C8 ResNet's arithmetic; even image sizes
    only."""
    return _cyclic_resnet("lens_c4_resnet", 4, in_chans, img_size, drop_path_rate, fields)


LENSING_BACKBONES = tuple(name for name in BACKBONES.names() if name.startswith("lens_"))
