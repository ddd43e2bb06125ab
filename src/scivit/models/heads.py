"""Heads: what turns pooled backbone features into outputs (logits, embeddings).

`HEADS` maps a name to a module class built as `cls(in_features, num_outputs, **options)`;
`build_head` checks the options against the class signature so that a misspelt option is a
one-line ConfigError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from scivit.registry import Registry

HEADS: Registry[type[nn.Module]] = Registry("head")


class FeatureStandardiser(nn.BatchNorm1d):
    """Per-feature standardisation over the batch: batch norm without affine parameters. A
    training batch of one sample (the remainder of an epoch) is standardised with the running
    statistics, where batch norm would raise."""

    def __init__(self, in_features: int) -> None:
        super().__init__(in_features, affine=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if self.training and features.shape[0] == 1:
            return F.batch_norm(
                features, self.running_mean, self.running_var, training=False, eps=self.eps
            )
        return super().forward(features)


@HEADS.register("linear")
class LinearHead(nn.Module):
    """Dropout then one linear layer (the linear probe).

    `feature_norm` first standardises each feature over the batch (batch norm without affine
    parameters; running statistics at inference), as MAE's linear probe does (He et al.,
    "Masked Autoencoders Are Scalable Vision Learners", CVPR 2022, App. A.2): the features of
    a self-supervised backbone can have any scale, which a short probe schedule cannot undo.
    """

    def __init__(
        self, in_features: int, num_outputs: int, dropout: float = 0.0, feature_norm: bool = False
    ) -> None:
        super().__init__()
        self.norm = FeatureStandardiser(in_features) if feature_norm else nn.Identity()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(in_features, num_outputs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(self.norm(features)))


@HEADS.register("mlp")
class MLPHead(nn.Module):
    """Hidden layers of Linear, GELU and dropout, then a linear output layer; `feature_norm`
    standardises the features over the batch first (see `LinearHead`)."""

    def __init__(
        self,
        in_features: int,
        num_outputs: int,
        hidden: Sequence[int] = (512,),
        dropout: float = 0.0,
        feature_norm: bool = False,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = [FeatureStandardiser(in_features)] if feature_norm else []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.GELU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, num_outputs))
        self.layers = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers(features)


def build_head(name: str, in_features: int, num_outputs: int, **kwargs: Any) -> nn.Module:
    """Build the head called `name`; unknown names and options raise a ConfigError."""
    return HEADS.build(name, in_features, num_outputs, **kwargs)
