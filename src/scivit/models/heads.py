"""Heads: what turns pooled backbone features into outputs (logits, embeddings).

`HEADS` maps a name to a module class built as `cls(in_features, num_outputs, **options)`;
`build_head` checks the options against the class signature so that a misspelt option is a
one-line ConfigError.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from scivit.registry import Registry

HEADS: Registry[type[nn.Module]] = Registry("head")


@HEADS.register("linear")
class LinearHead(nn.Module):
    """Dropout then one linear layer (the linear probe)."""

    def __init__(self, in_features: int, num_outputs: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(in_features, num_outputs)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.fc(self.drop(features))


@HEADS.register("mlp")
class MLPHead(nn.Module):
    """Hidden layers of Linear, GELU and dropout, then a linear output layer."""

    def __init__(
        self,
        in_features: int,
        num_outputs: int,
        hidden: Sequence[int] = (512,),
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
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
