"""Heads: registry, shapes, layer structure and option errors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scivit.errors import ConfigError
from scivit.models.heads import HEADS, FeatureStandardiser, build_head


@pytest.mark.parametrize("name", HEADS.names())
def test_every_head_maps_features_to_outputs(name):
    head = build_head(name, 16, 3, dropout=0.1)
    assert head(torch.randn(4, 16)).shape == (4, 3)


def test_linear_head_is_dropout_then_linear():
    head = build_head("linear", 16, 3, dropout=0.25)
    assert head.drop.p == 0.25
    assert (head.fc.in_features, head.fc.out_features) == (16, 3)


def test_linear_head_feature_norm_standardises_over_the_batch():
    head = build_head("linear", 4, 2, feature_norm=True).double()
    scales = torch.tensor([1e-3, 1.0, 50.0, 3.0], dtype=torch.float64)
    features = torch.randn(64, 4, dtype=torch.float64) * scales + 7.0
    mean, var = features.mean(0), features.var(0, unbiased=False)
    expected = head.fc((features - mean) / torch.sqrt(var + head.norm.eps))
    torch.testing.assert_close(head.train()(features), expected)
    assert not list(head.norm.parameters())
    head.eval()
    running = (features - head.norm.running_mean) / torch.sqrt(head.norm.running_var + 1e-5)
    torch.testing.assert_close(head(features), head.fc(running))


def test_feature_norm_takes_a_lone_training_sample_with_running_statistics():
    head = build_head("linear", 4, 2, feature_norm=True)
    head.train()(torch.randn(16, 4) * 3 + 1)
    lone = torch.randn(1, 4)
    running = (head.norm.running_mean.clone(), head.norm.running_var.clone())
    trained = head(lone)
    assert torch.equal(head.norm.running_mean, running[0])
    torch.testing.assert_close(trained, head.eval()(lone))


def test_mlp_head_feature_norm_comes_first():
    head = build_head("mlp", 16, 3, hidden=[8], feature_norm=True)
    assert isinstance(head.layers[0], FeatureStandardiser) and not head.layers[0].affine
    assert not isinstance(build_head("mlp", 16, 3).layers[0], nn.BatchNorm1d)


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
