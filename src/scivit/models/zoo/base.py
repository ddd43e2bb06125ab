"""The part of timm's backbone interface that the zoo's own architectures share.

A backbone defines `forward_features(x)` (unpooled tokens or feature maps) and
`forward_head(features, pre_logits=False)` (pooled features; there is no classifier, as with
timm's `num_classes=0`) and sets `num_features`; `forward` chains the two.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn


class Backbone(nn.Module, ABC):
    """Base class: `forward(x) = forward_head(forward_features(x))`."""

    num_features: int

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Unpooled features: tokens (N, L, D) or feature maps (N, D, h, w)."""

    @abstractmethod
    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooled features (N, num_features)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class MapBackbone(Backbone):
    """A backbone whose features are maps (N, num_features, h, w), pooled by their mean."""

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Global average pooling (there is no classifier)."""
        return x.mean(dim=(2, 3))
