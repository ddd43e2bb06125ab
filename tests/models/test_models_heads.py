"""Heads: registry, shapes, layer structure and option errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scivit.errors import ConfigError
from scivit.models.heads import HEADS, build_head


@pytest.mark.parametrize("name", HEADS.names())
def test_every_head_maps_features_to_outputs(name):
    head = build_head(name, 16, 3, dropout=0.1)
    assert head(torch.randn(4, 16)).shape == (4, 3)


def test_linear_head_is_dropout_then_linear():
    head = build_head("linear", 16, 3, dropout=0.25)
    assert head.drop.p == 0.25
    assert (head.fc.in_features, head.fc.out_features) == (16, 3)


def test_mlp_head_layers():
    head = build_head("mlp", 16, 3, hidden=[32, 8], dropout=0.1)
    linear = [layer for layer in head.layers if isinstance(layer, nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linear] == [
        (16, 32),
        (32, 8),
        (8, 3),
    ]
    assert sum(isinstance(layer, nn.GELU) for layer in head.layers) == 2
    assert isinstance(head.layers[-1], nn.Linear)


def test_unknown_head_suggests_the_closest():
    with pytest.raises(ConfigError, match="unknown head 'lineer'; did you mean 'linear'"):
        build_head("lineer", 16, 3)


def test_unknown_option_is_named():
    with pytest.raises(ConfigError, match="head 'linear': unknown option 'hidden'"):
        build_head("linear", 16, 3, hidden=[8])
