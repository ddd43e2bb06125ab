"""Backbone factory: timm names, scivit's registry, input sizes and name errors."""

from __future__ import annotations

import pytest
import timm
import torch

from scivit.errors import ModelError
from scivit.models import backbones
from scivit.models.backbones import BACKBONES, create_backbone
from scivit.registry import Registry

TINY = [
    ("resnet18", None, 32),
    ("resnet34", None, 32),
    ("vit_tiny_patch16_224", 32, 32),
    ("vit_small_patch14_dinov2", 28, 28),
    ("deit_tiny_patch16_224", 32, 32),
    ("convnextv2_atto", None, 32),
]


def _check_interface(model: torch.nn.Module, size: int, in_chans: int = 1) -> None:
    model.eval()
    with torch.no_grad():
        features = model.forward_features(torch.rand(2, in_chans, size, size))
        pooled = model.forward_head(features, pre_logits=True)
    assert pooled.shape == (2, model.num_features)
    assert torch.isfinite(pooled).all()


@pytest.mark.parametrize(("name", "img_size", "size"), TINY)
def test_timm_backbones_take_single_channel_images(name, img_size, size):
    model = create_backbone(name, in_chans=1, img_size=img_size)
    _check_interface(model, size)


# radial_hybrid reads a ring-average and a log-radius channel beside the frame
CHANNELS = {"radial_hybrid": 4}


def test_registered_backbones_share_the_interface():
    for name in BACKBONES:
        in_chans = CHANNELS.get(name, 1)
        _check_interface(create_backbone(name, in_chans=in_chans, img_size=32), 32, in_chans)


def test_registered_builder_is_used(monkeypatch):
    registry = Registry("backbone")
    calls = {}

    def tiny(in_chans, img_size, drop_path_rate, width=8):
        calls.update(in_chans=in_chans, img_size=img_size, width=width)
        return timm.create_model("resnet18", num_classes=0, in_chans=in_chans)

    registry.add("tiny", tiny)
    monkeypatch.setattr(backbones, "BACKBONES", registry)
    model = create_backbone("tiny", in_chans=1, img_size=32, width=4)
    assert calls == {"in_chans": 1, "img_size": 32, "width": 4}
    _check_interface(model, 32)
    with pytest.raises(ModelError, match="has no hub weights"):
        create_backbone("tiny", pretrained="hub")


def test_img_size_reaches_vits_and_is_ignored_by_convnets():
    assert create_backbone("vit_tiny_patch16_224", img_size=48).patch_embed.img_size == (48, 48)
    assert create_backbone("resnet18", img_size=48).num_features == 512


def test_drop_path_rate_reaches_the_model():
    model = create_backbone("vit_tiny_patch16_224", img_size=32, drop_path_rate=0.2)
    assert model.blocks[-1].drop_path1.drop_prob == pytest.approx(0.2)


def test_unknown_name_suggests_the_closest_timm_model():
    with pytest.raises(ModelError, match="unknown backbone 'resnet343'; did you mean 'resnet34'"):
        create_backbone("resnet343")


def test_dinov2_needs_multiples_of_14():
    with pytest.raises(ModelError, match="img_size=30 is not a multiple of the patch size 14.*28"):
        create_backbone("vit_small_patch14_dinov2", img_size=30)


def test_unknown_option_is_named():
    with pytest.raises(ModelError, match="'resnet18' does not accept the option 'colour'"):
        create_backbone("resnet18", colour=3)


def test_in_chans_must_be_positive():
    with pytest.raises(ModelError, match="in_chans must be at least 1"):
        create_backbone("resnet18", in_chans=0)
