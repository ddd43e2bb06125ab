"""Classifier = backbone + head: timm-style interface and the `model` recipe section."""

from __future__ import annotations

import pytest
import torch

from scivit.config import validate
from scivit.errors import ConfigError, ModelError
from scivit.models.classifier import Classifier, ModelConfig, build_classifier


@pytest.fixture(scope="module")
def vit() -> Classifier:
    cfg = ModelConfig(backbone="vit_tiny_patch16_224", img_size=32)
    return build_classifier(cfg, num_outputs=4).eval()


def test_forward_is_features_then_head(vit):
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        features = vit.forward_features(x)
        logits = vit(x)
        pooled = vit.forward_head(features, pre_logits=True)
    assert features.shape == (2, 1 + 4, 192)
    assert pooled.shape == (2, vit.num_features)
    assert logits.shape == (2, 4)
    torch.testing.assert_close(vit.forward_head(features), logits)
    torch.testing.assert_close(vit.head(pooled), logits)


def test_mlp_head_from_config():
    cfg = validate(
        ModelConfig,
        {"backbone": "resnet18", "head": {"name": "mlp", "hidden": [16], "dropout": 0.1}},
    )
    model = build_classifier(cfg, num_outputs=3)
    assert model.head.layers[0].out_features == 16
    assert model(torch.randn(2, 1, 32, 32)).shape == (2, 3)


def test_defaults():
    cfg = ModelConfig()
    assert (cfg.backbone, cfg.in_chans, cfg.pretrained, cfg.adapt.mode) == (
        "resnet34",
        1,
        None,
        "full",
    )
    assert (cfg.adapt.lora_r, cfg.adapt.lora_alpha, cfg.head.name) == (8, 16.0, "linear")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"adapt": {"mode": "prompt"}}, "invalid value for 'adapt.mode'"),
        ({"adapt": {"lora_rank": 4}}, "unknown key 'adapt.lora_rank'; did you mean 'adapt.lora_r'"),
        ({"in_chans": 0}, "invalid value for 'in_chans'"),
        ({"drop_path_rate": 1.5}, "invalid value for 'drop_path_rate'"),
        ({"head": {"dropout": -0.1}}, "invalid value for 'head.dropout'"),
        ({"adapt": {"layer_decay": 0}}, "invalid value for 'adapt.layer_decay'"),
        ({"backbon": "resnet18"}, "unknown key 'backbon'; did you mean 'backbone'"),
    ],
)
def test_bad_model_sections(data, match):
    with pytest.raises(ConfigError, match=match):
        validate(ModelConfig, data, source="recipe.yaml")


def test_linear_head_refuses_hidden_layers():
    cfg = ModelConfig(backbone="resnet18", head={"name": "linear", "hidden": [8]})
    with pytest.raises(ConfigError, match="head 'linear': unknown option 'hidden'"):
        build_classifier(cfg, num_outputs=2)


def test_grad_checkpointing_is_switched_on_through_timm():
    model = build_classifier(ModelConfig(backbone="resnet18", grad_checkpointing=True), 3)
    assert model.backbone.grad_checkpointing is True
    images = torch.randn(2, 1, 32, 32)
    model(images).sum().backward()
    assert model.backbone.conv1.weight.grad is not None


def test_grad_checkpointing_on_an_unsupported_backbone_is_a_clear_error():
    with pytest.raises(ModelError, match="does not support model.grad_checkpointing"):
        build_classifier(ModelConfig(backbone="lens_c8_resnet", grad_checkpointing=True), 3)


def test_architecture_options_reach_timm():
    cfg = ModelConfig(backbone="vit_tiny_patch16_224", img_size=32, options={"patch_size": 8})
    model = build_classifier(cfg, 3)
    assert tuple(model.backbone.patch_embed.patch_size) == (8, 8)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 3)


def test_an_option_the_architecture_lacks_is_named():
    cfg = ModelConfig(backbone="resnet18", options={"patch_sise": 8})
    with pytest.raises(ModelError, match="patch_sise"):
        build_classifier(cfg, 3)
