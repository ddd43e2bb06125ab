"""Adaptation modes: trainable parameters, frozen batch norm, LoRA/IA3 merging."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel

from scivit.errors import ModelError
from scivit.models.adapters import (
    apply_adaptation,
    default_target_modules,
    merge_adapters,
    trainable_fraction,
)
from scivit.models.backbones import create_backbone
from scivit.models.classifier import AdaptConfig, ModelConfig, build_classifier


def _model(backbone: str, mode: str, img_size: int | None = 32, **adapt):
    cfg = ModelConfig(backbone=backbone, img_size=img_size, adapt={"mode": mode, **adapt})
    return build_classifier(cfg, num_outputs=3)


def _trainable_names(model) -> list[str]:
    return [name for name, param in model.named_parameters() if param.requires_grad]


MODES = [
    (backbone, mode)
    for backbone in ("resnet18", "vit_tiny_patch16_224")
    for mode in ("full", "probe", "lora", "ia3")
] + [("convnextv2_atto", "lora")]


@pytest.mark.parametrize(("backbone", "mode"), MODES)
def test_modes_train_what_they_should(backbone, mode):
    model = _model(backbone, mode)
    fraction = trainable_fraction(model)
    head = sum(param.numel() for param in model.head.parameters())
    total = sum(param.numel() for param in model.parameters())
    names = _trainable_names(model)
    if mode == "full":
        assert fraction == 1.0
    elif mode == "probe":
        assert fraction == pytest.approx(head / total)
        assert all(name.startswith("head.") for name in names)
    else:
        assert head / total < fraction < 0.05
        adapter = "lora_" if mode == "lora" else "ia3_l"
        assert all(name.startswith("head.") or adapter in name for name in names)
        assert any(adapter in name for name in names)
    loss = model(torch.randn(2, 1, 32, 32)).sum()
    loss.backward()
    assert all(
        param.grad is not None for _, param in model.named_parameters() if param.requires_grad
    )


def test_lora_on_dinov2_small_trains_under_two_percent():
    model = _model("vit_small_patch14_dinov2", "lora", img_size=28)
    assert 0.005 < trainable_fraction(model) < 0.02


def test_probe_keeps_batch_norm_frozen_in_train_mode():
    model = _model("resnet18", "probe")
    model.train()
    assert model.head.training and not model.backbone.training
    before = model.backbone.bn1.running_mean.clone()
    model(torch.randn(4, 1, 32, 32) * 5 + 3)
    torch.testing.assert_close(model.backbone.bn1.running_mean, before)


def _randomise_adapters(model) -> None:
    torch.manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name or "ia3_l" in name:
                param.copy_(torch.randn_like(param) * 0.1 + ("ia3_l" in name))


@pytest.mark.parametrize(
    ("backbone", "mode", "img_size"),
    [
        ("vit_small_patch14_dinov2", "lora", 28),
        ("resnet18", "lora", 32),
        ("vit_tiny_patch16_224", "ia3", 32),
    ],
)
def test_merged_model_computes_the_same_outputs(backbone, mode, img_size):
    model = _model(backbone, mode, img_size=img_size)
    _randomise_adapters(model)
    model.eval()
    merged = merge_adapters(model).eval()
    assert not isinstance(merged.backbone, PeftModel)
    assert isinstance(model.backbone, PeftModel)
    assert not any("lora_" in name or "ia3_l" in name for name, _ in merged.named_parameters())
    x = torch.randn(2, 1, img_size, img_size)
    with torch.no_grad():
        torch.testing.assert_close(merged(x), model(x), atol=1e-5, rtol=0)
    assert trainable_fraction(merged) == 1.0


def test_merging_a_plain_model_copies_it():
    model = _model("resnet18", "full")
    merged = merge_adapters(model)
    assert merged is not model
    torch.testing.assert_close(merged.head.fc.weight, model.head.fc.weight)


def test_default_targets():
    vit = create_backbone("vit_tiny_patch16_224", img_size=32)
    targets = default_target_modules(vit)
    assert len(targets) == 2 * len(vit.blocks)
    assert "blocks.0.attn.qkv" in targets and "blocks.11.attn.proj" in targets
    resnet = create_backbone("resnet18")
    targets = default_target_modules(resnet)
    assert targets and all(name.startswith("layer4.") for name in targets)
    assert "layer4.0.conv1" in targets


def test_explicit_target_modules():
    model = _model("vit_tiny_patch16_224", "lora", target_modules=["qkv"])
    names = _trainable_names(model)
    assert any("attn.qkv.lora_A" in name for name in names)
    assert not any("attn.proj.lora_" in name for name in names)


def test_targets_that_match_nothing():
    with pytest.raises(ModelError, match=r"model.adapt.target_modules \['nothing_here'\]"):
        _model("resnet18", "lora", target_modules=["nothing_here"])


def test_adapting_twice_is_refused():
    model = _model("resnet18", "lora")
    with pytest.raises(ModelError, match="already carries adapters"):
        apply_adaptation(model, AdaptConfig(mode="lora"))
