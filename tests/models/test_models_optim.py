"""Optimizer parameter groups: weight decay exclusions and layer-wise learning-rate decay."""

from __future__ import annotations

import pytest
import torch

from scivit.errors import ModelError
from scivit.models.classifier import ModelConfig, build_classifier
from scivit.models.optim import param_groups


def _model(backbone: str, mode: str = "full"):
    cfg = ModelConfig(backbone=backbone, img_size=32, adapt={"mode": mode})
    return build_classifier(cfg, num_outputs=3)


def _by_name(model, groups) -> dict[str, dict]:
    ids = {id(param): name for name, param in model.named_parameters()}
    return {ids[id(param)]: group for group in groups for param in group["params"]}


def test_without_layer_decay_every_group_has_the_base_rate():
    model = _model("vit_tiny_patch16_224")
    groups = param_groups(model, lr=1e-3, weight_decay=0.05)
    named = _by_name(model, groups)
    assert len(named) == len(list(model.parameters()))
    assert {group["lr"] for group in groups} == {1e-3}
    assert set(groups[0]) == {"params", "weight_decay", "lr"}
    for name in [
        "backbone.pos_embed",
        "backbone.cls_token",
        "backbone.norm.weight",
        "head.fc.bias",
    ]:
        assert named[name]["weight_decay"] == 0.0
    for name in ["backbone.blocks.0.attn.qkv.weight", "head.fc.weight"]:
        assert named[name]["weight_decay"] == 0.05


@pytest.mark.parametrize(
    ("backbone", "order"),
    [
        (
            "vit_tiny_patch16_224",
            ["patch_embed.proj.weight", "blocks.0.attn.qkv.weight", "blocks.11.mlp.fc2.weight"],
        ),
        ("resnet18", ["conv1.weight", "layer1.0.conv1.weight", "layer4.1.conv2.weight"]),
    ],
)
def test_layer_decay_rates_increase_toward_the_head(backbone, order):
    model = _model(backbone)
    named = _by_name(model, param_groups(model, lr=1e-3, weight_decay=0.05, layer_decay=0.7))
    rates = [named[f"backbone.{name}"]["lr"] for name in order] + [named["head.fc.weight"]["lr"]]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    assert rates[-1] == pytest.approx(1e-3)
    assert rates[-2] == pytest.approx(1e-3 * 0.7)


def test_only_trainable_parameters_are_grouped():
    model = _model("vit_tiny_patch16_224", "probe")
    named = _by_name(model, param_groups(model, lr=1e-3, weight_decay=0.05, layer_decay=0.75))
    assert set(named) == {"head.fc.weight", "head.fc.bias"}


def test_lora_groups_hold_adapters_and_head():
    model = _model("vit_tiny_patch16_224", "lora")
    named = _by_name(model, param_groups(model, lr=1e-3, weight_decay=0.05, layer_decay=0.75))
    assert named and all("lora_" in name or name.startswith("head.") for name in named)
    optimizer = torch.optim.AdamW(param_groups(model, lr=1e-3, weight_decay=0.05))
    assert sum(len(group["params"]) for group in optimizer.param_groups) == len(named)


def test_nothing_to_train():
    model = _model("resnet18")
    model.requires_grad_(False)
    with pytest.raises(ModelError, match="no trainable parameters"):
        param_groups(model, lr=1e-3, weight_decay=0.0)
