"""Pretrained weights: local files of every kind, adaptation to one channel, hub offline."""

from __future__ import annotations

import os

import pytest
import timm
import torch
from huggingface_hub import constants as hub_constants
from safetensors.torch import save_file

from scivit.errors import ModelError
from scivit.models.backbones import create_backbone
from scivit.models.weights import hub_model_name, load_weights


@pytest.fixture(scope="module")
def rgb_resnet():
    torch.manual_seed(0)
    return timm.create_model("resnet18", num_classes=7, in_chans=3).eval()


def _features(model, x):
    model.eval()
    with torch.no_grad():
        return model.forward_head(model.forward_features(x), pre_logits=True)


@pytest.mark.parametrize("suffix", [".safetensors", ".pth", ".pt", ".bin"])
def test_local_file_reproduces_the_source_model(rgb_resnet, tmp_path, suffix):
    path = tmp_path / f"weights{suffix}"
    state = {key: value.contiguous() for key, value in rgb_resnet.state_dict().items()}
    save_file(state, path) if suffix == ".safetensors" else torch.save(state, path)
    model = create_backbone("resnet18", in_chans=3, pretrained=str(path))
    x = torch.randn(2, 3, 32, 32)
    torch.testing.assert_close(_features(model, x), _features(rgb_resnet, x))


def test_rgb_weights_load_into_a_single_channel_model(rgb_resnet, tmp_path):
    path = tmp_path / "rgb.safetensors"
    save_file(rgb_resnet.state_dict(), path)
    gray = create_backbone("resnet18", in_chans=1, pretrained=str(path))
    assert gray.conv1.weight.shape[1] == 1
    x = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(_features(gray, x), _features(rgb_resnet, x.repeat(1, 3, 1, 1)))


@pytest.mark.parametrize("key", ["state_dict", "model"])
def test_nested_state_dicts(rgb_resnet, tmp_path, key):
    path = tmp_path / "nested.pth"
    torch.save({key: rgb_resnet.state_dict(), "epoch": 3}, path)
    model = create_backbone("resnet18", in_chans=3, pretrained=str(path))
    torch.testing.assert_close(model.conv1.weight, rgb_resnet.conv1.weight)


def test_lightning_checkpoint_of_a_classifier(rgb_resnet, tmp_path):
    state = {f"model.backbone.{key}": value for key, value in rgb_resnet.state_dict().items()}
    state["model.head.fc.weight"] = torch.zeros(4, 512)
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": state, "epoch": 2, "global_step": 10}, path)
    model = create_backbone("resnet18", in_chans=3, pretrained=str(path))
    x = torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(_features(model, x), _features(rgb_resnet, x))


def test_vit_weights_resample_to_a_small_image(tmp_path):
    source = timm.create_model("vit_tiny_patch16_224", num_classes=5, in_chans=3)
    path = tmp_path / "vit.safetensors"
    save_file(source.state_dict(), path)
    model = create_backbone("vit_tiny_patch16_224", in_chans=1, img_size=32, pretrained=str(path))
    assert model.pos_embed.shape == (1, 1 + 4, 192)
    torch.testing.assert_close(model.blocks[3].attn.qkv.weight, source.blocks[3].attn.qkv.weight)
    torch.testing.assert_close(
        model.patch_embed.proj.weight, source.patch_embed.proj.weight.sum(1, keepdim=True)
    )


def test_missing_tensors_are_reported(rgb_resnet, tmp_path):
    state = dict(rgb_resnet.state_dict())
    del state["layer4.1.conv2.weight"]
    path = tmp_path / "partial.pth"
    torch.save(state, path)
    with pytest.warns(
        UserWarning, match="1 tensors of the model are not in the file.*layer4.1.conv2"
    ):
        create_backbone("resnet18", in_chans=3, pretrained=str(path))


def test_unexpected_tensors_are_reported(tmp_path):
    source = timm.create_model("resnet34", num_classes=0)
    path = tmp_path / "r34.pth"
    torch.save(source.state_dict(), path)
    with pytest.warns(UserWarning, match="tensors of the file have no place in the model"):
        create_backbone("resnet18", in_chans=3, pretrained=str(path))


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nowhere.safetensors"
    with pytest.raises(ModelError, match=f"{missing}: pretrained weights file not found"):
        create_backbone("resnet18", pretrained=str(missing))


def test_unknown_format(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_bytes(b"x")
    with pytest.raises(ModelError, match="weights.npz: unknown weights format"):
        load_weights(timm.create_model("resnet18"), path)


def test_corrupt_file(tmp_path):
    path = tmp_path / "broken.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="broken.safetensors: cannot read weights"):
        create_backbone("resnet18", pretrained=str(path))


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "pickled.pth"
    torch.save({"state_dict": {"conv1.weight": torch.zeros(1)}, "cfg": _Opaque()}, path)
    with pytest.raises(ModelError, match="pickled.pth: cannot read weights"):
        create_backbone("resnet18", pretrained=str(path))


class _Opaque:
    """An arbitrary object that `weights_only=True` refuses to unpickle."""


def test_weights_of_another_architecture(rgb_resnet, tmp_path):
    path = tmp_path / "resnet.safetensors"
    save_file(rgb_resnet.state_dict(), path)
    with pytest.raises(ModelError, match="no tensor matches the model"):
        create_backbone("vit_tiny_patch16_224", img_size=32, pretrained=str(path))


def test_wrong_shapes_are_refused(tmp_path):
    path = tmp_path / "tiny.safetensors"
    save_file(timm.create_model("vit_tiny_patch16_224", img_size=32).state_dict(), path)
    with pytest.raises(ModelError, match="tensors do not fit the model"):
        create_backbone("vit_small_patch16_224", img_size=32, pretrained=str(path))


def test_unmerged_adapters_are_refused(tmp_path):
    state = {
        "model.backbone.base_model.model.conv1.weight": torch.zeros(64, 3, 7, 7),
        "model.backbone.base_model.model.layer4.0.conv1.base_layer.weight": torch.zeros(1),
        "model.backbone.base_model.model.layer4.0.conv1.lora_A.default.weight": torch.zeros(1),
    }
    path = tmp_path / "lora.ckpt"
    torch.save({"state_dict": state}, path)
    with pytest.raises(ModelError, match="unmerged LoRA/IA3 adapter tensors"):
        create_backbone("resnet18", pretrained=str(path))


def test_hub_names():
    assert hub_model_name("resnet18", "hub") == "resnet18"
    assert (
        hub_model_name("vit_small_patch14_dinov2", "lvd142m") == "vit_small_patch14_dinov2.lvd142m"
    )
    assert hub_model_name("resnet18", "weights/resnet18.safetensors") is None


@pytest.mark.parametrize("pretrained", ["hub", "a1_in1k"])
def test_offline_hub_download_says_how_to_pass_a_file(monkeypatch, pretrained):
    monkeypatch.setenv("SCIVIT_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    message = (
        r"cannot download pretrained weights for resnet18\S* \(offline\?\); pass a local file: "
        r"model.pretrained=/path/to/weights.safetensors"
    )
    with pytest.raises(ModelError, match=message):
        create_backbone("resnet18", pretrained=pretrained)
    assert hub_constants.HF_HUB_OFFLINE is False
    assert "HF_HUB_OFFLINE" not in os.environ
