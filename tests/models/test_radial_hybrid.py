"""radial_hybrid: the log-radius profile it reads, its features beside a CNN's maps or a ViT's
tokens, gradients through both branches, and option errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scivit.errors import ModelError
from scivit.models.backbones import create_backbone
from scivit.models.classifier import ModelConfig, build_classifier
from scivit.models.zoo.radial_hybrid import log_radius_profile
from scivit.transforms import RadialChannels, RadiusChannel, make_sample


def prepared(center=(20.0, 30.0), size=48, ring=14.0):
    """A frame with one ring, as radial_channels + radius_channel give it: 4 channels."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(xx - center[0], yy - center[1])
    frame = (1.0 + 5.0 * np.exp(-((r - ring) ** 2) / 4.0)).astype(np.float32)
    sample = RadiusChannel()(RadialChannels()(make_sample(frame, beam_center=center)))
    return torch.from_numpy(sample["image"])


def test_profile_is_the_bin_mean_over_the_log_radius():
    image = prepared()
    values, radius = image[1], image[3]
    profile, coverage = log_radius_profile(values[None, None], radius[None], bins=32)
    profile = profile[:, 0]
    index = np.clip(np.floor(radius.numpy() * 32), 0, 31).astype(int).ravel()
    counts = np.bincount(index, minlength=32)
    sums = np.bincount(index, weights=values.numpy().ravel(), minlength=32)
    expected = np.divide(sums, counts, out=np.zeros(32), where=counts > 0)
    np.testing.assert_allclose(profile[0].numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(coverage[0].numpy(), counts / counts.sum(), rtol=1e-6)
    ring_bin = int(np.log(14.0) / np.log(np.hypot(48, 48)) * 32)
    assert int(profile[0].argmax()) in (ring_bin - 1, ring_bin, ring_bin + 1)


@pytest.mark.parametrize("image_backbone", ["resnet18", "vit_tiny_patch16_224"])
def test_classifier_on_cnn_maps_or_vit_tokens_trains_both_branches(image_backbone):
    torch.manual_seed(0)
    cfg = ModelConfig(
        backbone="radial_hybrid",
        in_chans=4,
        img_size=48,
        options={"image_backbone": image_backbone, "bins": 32, "profile_features": 16},
    )
    model = build_classifier(cfg, num_outputs=5)
    batch = torch.stack([prepared(), prepared(center=(10.0, 12.0), ring=20.0)])
    features = model.forward_features(batch)
    pooled = model.forward_head(features, pre_logits=True)
    assert pooled.shape == (2, model.backbone.num_features)
    logits = model(batch)
    assert logits.shape == (2, 5)
    logits.square().sum().backward()
    hybrid = model.backbone
    assert hybrid.encoder.project.weight.grad.abs().sum() > 0
    first = next(p for p in hybrid.image.parameters() if p.grad is not None)
    assert first.grad.abs().sum() > 0


def test_profile_embedding_changes_when_only_the_ring_moves():
    torch.manual_seed(0)
    hybrid = create_backbone("radial_hybrid", in_chans=4, bins=32, profile_features=16).eval()
    a, b = prepared(ring=10.0)[None], prepared(ring=18.0)[None]
    width = hybrid.image.num_features
    with torch.no_grad():
        first = hybrid.forward_head(hybrid.forward_features(a))[:, width:]
        second = hybrid.forward_head(hybrid.forward_features(b))[:, width:]
    assert (first - second).abs().max() > 1e-3


def test_a_level_profile_reaches_only_the_embedding_when_the_image_branch_skips_it():
    image = prepared()
    level = image[1] * 3.0 + 2.0
    stacked = torch.cat([image[:3], level[None], image[3:]])[None]
    both, _ = log_radius_profile(stacked[:, [1, 3]], stacked[:, 4], bins=32)
    torch.testing.assert_close(both[0, 1], both[0, 0] * 3.0 + 2.0 * (both[0, 0] != 0))
    torch.manual_seed(0)
    hybrid = create_backbone(
        "radial_hybrid",
        in_chans=5,
        image_backbone="resnet18",
        profile_channels=[1, 3],
        image_channels=[0, 1, 2, 4],
        bins=32,
        profile_features=16,
    ).eval()
    assert hybrid.image.conv1.in_channels == 4
    shifted = stacked.clone()
    shifted[:, 3] += 1.0
    width = hybrid.image.num_features
    with torch.no_grad():
        first = hybrid.forward_head(hybrid.forward_features(stacked))
        second = hybrid.forward_head(hybrid.forward_features(shifted))
    torch.testing.assert_close(first[:, :width], second[:, :width])
    assert (first[:, width:] - second[:, width:]).abs().max() > 1e-3


def test_image_branch_can_see_a_smaller_frame_than_the_profile():
    torch.manual_seed(0)
    options = {"image_backbone": "resnet18", "bins": 32, "profile_features": 16}
    small = create_backbone("radial_hybrid", in_chans=4, image_size=24, **options).eval()
    batch = prepared()[None]
    with torch.no_grad():
        features = small.forward_features(batch)
        resized = torch.nn.functional.interpolate(
            batch, size=(24, 24), mode="bilinear", antialias=True
        )
        direct = small.image.forward_features(resized)
    full = small.image.forward_features(batch)
    assert features.shape[-2:] == direct.shape[-2:] != full.shape[-2:]
    torch.testing.assert_close(features[:, : small.image.num_features], direct)
    with torch.no_grad():
        expected = small.encoder(*log_radius_profile(batch[:, [1]], batch[:, 3], bins=32))
    torch.testing.assert_close(features[:, small.image.num_features :, 0, 0], expected)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"profile_channels": 5}, "profile_channels=5"),
        ({"profile_channels": [1, "x"]}, "profile_channels=x"),
        ({"radius_channel": 1}, "other than radius_channel"),
        ({"profile_channels": [1, 1]}, "distinct"),
        ({"profile_channels": []}, "distinct"),
        ({"image_channels": [0, 0]}, "image_channels"),
        ({"image_channels": [0, 7]}, "image_channels=7"),
        ({"image_size": 8}, "image_size"),
        ({"bins": 4}, "bins"),
    ],
)
def test_bad_options_are_model_errors(options, message):
    with pytest.raises(ModelError, match=message):
        create_backbone("radial_hybrid", in_chans=4, **options)


def test_image_branch_loads_its_own_weights(tmp_path):
    torch.manual_seed(1)
    source = create_backbone("resnet18", in_chans=4)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    hybrid = create_backbone(
        "radial_hybrid", in_chans=4, image_backbone="resnet18", image_pretrained=str(path)
    )
    for name, tensor in source.state_dict().items():
        assert torch.equal(hybrid.image.state_dict()[name], tensor), name
