"""Rotation-equivariant ResNets for the cyclic groups C8 (rotations by multiples of 45 degrees)
and C4 (quarter turns).

Group convolutions (Cohen & Welling, "Group Equivariant Convolutional Networks", ICML 2016) on
the regular representation of the group, as in the C8 networks of Weiler & Cesa ("General
E(2)-Equivariant Steerable CNNs", NeurIPS 2019), which gave the best published DeepLense
Model I accuracy. A lifting convolution correlates the image with the rotated copies of each
filter (8 for C8, 4 for C4); group convolutions correlate the feature maps with filters that
are rotated and cyclically shifted along the rotation axis; batch norm shares its statistics
across the orientations of a field; max-pooling over the orientations at the end gives
rotation-invariant feature maps, and their spatial mean a rotation-invariant embedding.

Filters are turned by quarter turns exactly (`torch.rot90`) and, for C8, by 45 degrees with
bilinear interpolation (`affine_grid`/`grid_sample` on the filter bank), so both networks are
exactly invariant to 90-degree rotations of the image and C8 approximately to 45-degree ones
too. C4 needs no interpolation and, with as many fields, has half the channels of C8 and so
about a quarter of its arithmetic. Exactness needs a sampling grid that rotates onto itself:
inputs are padded symmetrically to a multiple of the total stride and downsampled by average
pooling, so even image sizes are required.

escnn (Weiler & Cesa's library) is not used: it cannot be installed from a fresh environment
(its dependency py3nj needs a Fortran compiler, and lie_learn's wheels are built for NumPy 1 and
fail to import under NumPy 2), and the regular-representation layers of cyclic groups are small.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from timm.layers import DropPath
from torch import nn

from scivit.models.zoo.base import MapBackbone
from scivit.models.zoo.sizing import pad_to_multiple

ORDERS = (4, 8)


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


def _expansion_index(size: int, group_input: bool, order: int) -> torch.Tensor:
    """Where each entry of the `order` rotated filters comes from in the filter bank.

    The bank is [filter] for C4 and [filter, filter rotated 45 deg] for C8, flattened from
    (bank, size, size), or (bank, order, size, size) when the input has a rotation axis. The
    filter for output rotation r is bank entry r % len(bank) turned by r // len(bank) quarter
    turns, with its input-rotation axis shifted cyclically by r. The result has shape
    (order, size * size), or (order, order, size * size) (output, input rotation, position).
    """
    area = size * size
    bank = order // 4
    positions = torch.arange(area).view(size, size)
    rows = []
    for r in range(order):
        source = torch.rot90(positions, r // bank).flatten()
        if group_input:
            shifted = [(r % bank * order + (s - r) % order) * area + source for s in range(order)]
            rows.append(torch.stack(shifted))
        else:
            rows.append(r % bank * area + source)
    return torch.stack(rows)


class _CyclicConv(nn.Module):
    """Convolution with the `order` rotated copies of each filter, one output channel per
    rotation (channel = field * order + rotation); the copies are gathered with one precomputed
    index."""

    def __init__(self, shape: tuple[int, ...], group_input: bool, order: int) -> None:
        super().__init__()
        if order not in ORDERS:
            raise ValueError(f"rotation group order must be one of {ORDERS}, got {order}")
        self.order = order
        self.weight = nn.Parameter(torch.empty(shape))
        nn.init.kaiming_normal_(self.weight, nonlinearity="relu")
        index = _expansion_index(shape[-1], group_input, order)
        self.register_buffer("index", index, persistent=False)

    def filter_bank(self) -> torch.Tensor:
        """The filters and, for C8, their 45-degree rotations, stacked on a new axis 2."""
        if self.order == 4:
            return self.weight.unsqueeze(2)
        return torch.stack([self.weight, _rotate_45(self.weight)], dim=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = self.weight.shape[-1]
        filters = self.filter_bank().flatten(2)[:, :, self.index].transpose(1, 2)
        filters = filters.reshape(self.weight.shape[0] * self.order, -1, size, size)
        return F.conv2d(x, filters, padding=size // 2)


class LiftingConv(_CyclicConv):
    """Images (N, C, H, W) -> cyclic feature maps (N, fields * order, H, W)."""

    def __init__(self, in_chans: int, fields: int, kernel_size: int, order: int = 8) -> None:
        shape = (fields, in_chans, kernel_size, kernel_size)
        super().__init__(shape, group_input=False, order=order)


class GroupConv(_CyclicConv):
    """Cyclic feature maps (N, in_fields * order, H, W) -> (N, out_fields * order, H, W)."""

    def __init__(self, in_fields: int, out_fields: int, kernel_size: int, order: int = 8) -> None:
        shape = (out_fields, in_fields, order, kernel_size, kernel_size)
        super().__init__(shape, group_input=True, order=order)


class GroupBatchNorm(nn.BatchNorm3d):
    """Batch norm per field, with statistics and affine parameters shared by its rotations."""

    def __init__(self, fields: int, order: int = 8) -> None:
        super().__init__(fields)
        self.order = order

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, chans, height, width = x.shape
        fields = x.view(batch, chans // self.order, self.order, height, width)
        return super().forward(fields).view(batch, chans, height, width)


class CyclicBlock(nn.Module):
    """Residual block of two 3x3 group convolutions (ResNet basic block on cyclic fields)."""

    def __init__(
        self, in_fields: int, out_fields: int, order: int = 8, drop_path: float = 0.0
    ) -> None:
        super().__init__()
        self.conv1 = GroupConv(in_fields, out_fields, 3, order)
        self.bn1 = GroupBatchNorm(out_fields, order)
        self.conv2 = GroupConv(out_fields, out_fields, 3, order)
        self.bn2 = GroupBatchNorm(out_fields, order)
        self.shortcut: nn.Module = nn.Identity()
        if in_fields != out_fields:
            self.shortcut = nn.Sequential(
                GroupConv(in_fields, out_fields, 1, order), GroupBatchNorm(out_fields, order)
            )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(self.shortcut(x) + self.drop_path(out))


class CyclicResNet(MapBackbone):
    """C4- or C8-equivariant ResNet with timm's backbone interface (rotation-invariant
    features).

    Args:
        in_chans: input channels.
        order: the rotation group, 4 (quarter turns) or 8 (multiples of 45 degrees).
        fields: fields (each `order` channels) per stage; stages after the first halve the size.
        depths: residual blocks per stage.
        stem_kernel: kernel size of the lifting convolution.
        stem_stride: average-pooling factor after the lifting convolution.
        drop_path_rate: stochastic depth, growing linearly to this rate over the blocks.
    """

    def __init__(
        self,
        in_chans: int = 1,
        order: int = 8,
        fields: tuple[int, ...] = (12, 24, 48),
        depths: tuple[int, ...] = (2, 2, 2),
        stem_kernel: int = 5,
        stem_stride: int = 4,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            LiftingConv(in_chans, fields[0], stem_kernel, order),
            GroupBatchNorm(fields[0], order),
            nn.ReLU(),
            nn.AvgPool2d(stem_stride),
        )
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        stages, width = [], fields[0]
        for index, (out_fields, depth) in enumerate(zip(fields, depths, strict=True)):
            layers: list[nn.Module] = [nn.AvgPool2d(2)] if index else []
            for _ in range(depth):
                layers.append(CyclicBlock(width, out_fields, order, rates.pop(0)))
                width = out_fields
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pad_multiple = stem_stride * 2 ** (len(fields) - 1)
        self.num_features = fields[-1]
        self.order = order

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Rotation-invariant feature maps (N, num_features, h, w): max over the rotations."""
        x = self.stages(self.stem(pad_to_multiple(x, self.pad_multiple)))
        batch, chans, height, width = x.shape
        return x.view(batch, chans // self.order, self.order, height, width).amax(dim=2)

    def group_matcher(self, coarse: bool = False) -> dict[str, str]:
        """Parameter groups for layer-wise learning-rate decay (timm convention)."""
        return {"stem": r"^stem", "blocks": r"^stages\.(\d+)"}
