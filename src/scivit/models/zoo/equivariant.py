"""A rotation-equivariant ResNet for the cyclic group C8 (rotations by multiples of 45 degrees).

Group convolutions (Cohen & Welling, "Group Equivariant Convolutional Networks", ICML 2016) on
the regular representation of C8, as in the C8 networks of Weiler & Cesa ("General
E(2)-Equivariant Steerable CNNs", NeurIPS 2019), which gave the best published DeepLense
Model I accuracy. A lifting convolution correlates the image with 8 rotated copies of each
filter; group convolutions correlate C8 feature maps with filters that are rotated and
cyclically shifted along the rotation axis; batch norm shares its statistics across the 8
orientations of a field; max-pooling over the orientations at the end gives rotation-invariant
feature maps, and their spatial mean a rotation-invariant embedding.

Filters are rotated by 90-degree steps exactly (`torch.rot90`) and by 45 degrees with bilinear
interpolation (`affine_grid`/`grid_sample` on the filter bank), so the network is exactly
invariant to 90-degree rotations of the image and approximately to 45-degree ones. Exactness
needs a sampling grid that rotates onto itself: inputs are padded symmetrically to a multiple
of the total stride and downsampled by average pooling, so even image sizes are required.

escnn (Weiler & Cesa's library) is not used: it cannot be installed from a fresh environment
(its dependency py3nj needs a Fortran compiler, and lie_learn's wheels are built for NumPy 1 and
fail to import under NumPy 2), and the C8 regular-representation layers are small.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from timm.layers import DropPath
from torch import nn

from scivit.models.zoo.base import MapBackbone
from scivit.models.zoo.sizing import pad_to_multiple

ORDER = 8


def _rotate_45(weight: torch.Tensor) -> torch.Tensor:
    """Bilinear rotation of square filters (..., k, k) by 45 degrees about their centre pixel,
    in the sense in which two such rotations make `torch.rot90(weight, 1, dims=(-2, -1))`."""
    size = weight.shape[-1]
    if size == 1:
        return weight
    flat = weight.reshape(1, -1, size, size)
    cos = sin = math.sqrt(0.5)
    theta = torch.tensor([[[cos, -sin, 0.0], [sin, cos, 0.0]]], dtype=weight.dtype)
    grid = F.affine_grid(theta.to(weight.device), [1, 1, size, size], align_corners=True)
    rotated = F.grid_sample(flat, grid, mode="bilinear", align_corners=True)
    return rotated.reshape(weight.shape)


def _expansion_index(size: int, group_input: bool) -> torch.Tensor:
    """Where each entry of the 8 rotated filters comes from in [filter, filter rotated 45 deg].

    The source is flattened from (2, size, size), or (2, 8, size, size) when the input has a
    rotation axis. The filter for output rotation r is the source of parity r % 2 turned by
    (r // 2) * 90 degrees, with its input-rotation axis shifted cyclically by r. The result
    has shape (8, size * size), or (8, 8, size * size) (output, input rotation, position).
    """
    area = size * size
    positions = torch.arange(area).view(size, size)
    rows = []
    for r in range(ORDER):
        source = torch.rot90(positions, r // 2).flatten()
        if group_input:
            shifted = [(r % 2 * ORDER + (s - r) % ORDER) * area + source for s in range(ORDER)]
            rows.append(torch.stack(shifted))
        else:
            rows.append(r % 2 * area + source)
    return torch.stack(rows)


class _C8Conv(nn.Module):
    """Convolution with the 8 rotated copies of each filter, one output channel per rotation
    (channel = field * 8 + rotation); the copies are gathered with one precomputed index."""

    def __init__(self, shape: tuple[int, ...], group_input: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(shape))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        self.register_buffer("index", _expansion_index(shape[-1], group_input), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.weight.shape[-1]
        bank = torch.stack([self.weight, _rotate_45(self.weight)], dim=2).flatten(2)
        filters = bank[:, :, self.index].transpose(1, 2)
        filters = filters.reshape(self.weight.shape[0] * ORDER, -1, size, size)
        return F.conv2d(x, filters, padding=size // 2)


class LiftingConv(_C8Conv):
    """Images (N, C, H, W) -> C8 feature maps (N, fields * 8, H, W)."""

    def __init__(self, in_chans: int, fields: int, kernel_size: int) -> None:
        super().__init__((fields, in_chans, kernel_size, kernel_size), group_input=False)


class GroupConv(_C8Conv):
    """C8 feature maps (N, in_fields * 8, H, W) -> C8 feature maps (N, out_fields * 8, H, W)."""

    def __init__(self, in_fields: int, out_fields: int, kernel_size: int) -> None:
        shape = (out_fields, in_fields, ORDER, kernel_size, kernel_size)
        super().__init__(shape, group_input=True)


class GroupBatchNorm(nn.BatchNorm3d):
    """Batch norm per field, with statistics and affine parameters shared by its 8 rotations."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, chans, height, width = x.shape
        fields = x.view(batch, chans // ORDER, ORDER, height, width)
        return super().forward(fields).view(batch, chans, height, width)


class C8Block(nn.Module):
    """Residual block of two 3x3 group convolutions (ResNet basic block on C8 fields)."""

    def __init__(self, in_fields: int, out_fields: int, drop_path: float = 0.0) -> None:
        super().__init__()
        self.conv1 = GroupConv(in_fields, out_fields, 3)
        self.bn1 = GroupBatchNorm(out_fields)
        self.conv2 = GroupConv(out_fields, out_fields, 3)
        self.bn2 = GroupBatchNorm(out_fields)
        self.shortcut: nn.Module = nn.Identity()
        if in_fields != out_fields:
            self.shortcut = nn.Sequential(
                GroupConv(in_fields, out_fields, 1), GroupBatchNorm(out_fields)
            )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(self.shortcut(x) + self.drop_path(out))


class C8ResNet(MapBackbone):
    """C8-equivariant ResNet with timm's backbone interface (rotation-invariant features).

    Args:
        in_chans: input channels.
        fields: C8 fields (each 8 channels) per stage; stages after the first halve the size.
        depths: residual blocks per stage.
        stem_kernel: kernel size of the lifting convolution.
        stem_stride: average-pooling factor after the lifting convolution.
        drop_path_rate: stochastic depth, growing linearly to this rate over the blocks.
    """

    def __init__(
        self,
        in_chans: int = 1,
        fields: tuple[int, ...] = (12, 24, 48),
        depths: tuple[int, ...] = (2, 2, 2),
        stem_kernel: int = 5,
        stem_stride: int = 4,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            LiftingConv(in_chans, fields[0], stem_kernel),
            GroupBatchNorm(fields[0]),
            nn.ReLU(),
            nn.AvgPool2d(stem_stride),
        )
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        stages, width = [], fields[0]
        for index, (out_fields, depth) in enumerate(zip(fields, depths, strict=True)):
            layers: list[nn.Module] = [nn.AvgPool2d(2)] if index else []
            for _ in range(depth):
                layers.append(C8Block(width, out_fields, rates.pop(0)))
                width = out_fields
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pad_multiple = stem_stride * 2 ** (len(fields) - 1)
        self.num_features = fields[-1]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Rotation-invariant feature maps (N, num_features, h, w): max over the 8 rotations."""
        x = self.stages(self.stem(pad_to_multiple(x, self.pad_multiple)))
        batch, chans, height, width = x.shape
        return x.view(batch, chans // ORDER, ORDER, height, width).amax(dim=2)

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        """Parameter groups for layer-wise learning-rate decay (timm convention)."""
        return {"stem": r"^stem", "blocks": r"^stages\.(\d+)"}
