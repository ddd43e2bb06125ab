"""Lensing zoo: every member through the backbone factory, at 64 and 150 px, in a classifier,
with adapters and layer-wise learning rates; size rules and size errors."""

from __future__ import annotations

import pytest
import torch

from scivit.errors import ModelError
from scivit.models.backbones import BACKBONES, create_backbone
from scivit.models.classifier import Classifier, ModelConfig, build_classifier
from scivit.models.heads import LinearHead
from scivit.models.optim import param_groups
from scivit.models.zoo import LENSING_BACKBONES

FAMILIES = {
    "lens_cvt",
    "lens_cct",
    "lens_twins_svt",
    "lens_levit",
    "lens_cait",
    "lens_crossvit",
    "lens_pit",
    "lens_swin",
    "lens_t2t",
    "lens_crossformer",
    "lens_resnet18",
    "lens_c8_resnet",
    "lens_c4_resnet",
}
OWN_ARCHITECTURES = [
    "lens_cvt",
    "lens_cct",
    "lens_t2t",
    "lens_crossformer",
    "lens_c8_resnet",
    "lens_c4_resnet",
]


def _train_step(name: str, size: int) -> None:
    """Build through the factory, wrap in a classifier with a linear head, run fwd + bwd."""
    torch.manual_seed(0)
    backbone = create_backbone(name, in_chans=1, img_size=size)
    params = sum(param.numel() for param in backbone.parameters())
    assert (0.6e6 if name == "lens_c4_resnet" else 1e6) <= params <= 6e6, f"{name}: {params}"
    model = Classifier(backbone, LinearHead(backbone.num_features, 3)).train()
    features = model.forward_features(torch.randn(2, 1, size, size))
    pooled = model.forward_head(features, pre_logits=True)
    logits = model.forward_head(features)
    assert pooled.shape == (2, backbone.num_features)
    assert logits.shape == (2, 3)
    assert torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 2])).backward()
    unused = [n for n, p in model.named_parameters() if p.grad is None]
    assert not unused, f"{name}: parameters outside the graph: {unused[:5]}"


def test_the_zoo_registers_every_family():
    assert set(LENSING_BACKBONES) == FAMILIES
    assert all(name in BACKBONES for name in FAMILIES)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_members_run_forward_and_backward_at_64_px(name):
    _train_step(name, 64)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_members_run_forward_and_backward_at_150_px(name):
    _train_step(name, 150)


def test_small_images_get_small_patches():
    """At 64 px the token models see 15-16 tokens per side, not 4 (ImageNet's patch 16)."""
    assert create_backbone("lens_swin", img_size=64).patch_embed.patch_size == (4, 4)
    assert create_backbone("lens_swin", img_size=150).patch_embed.patch_size == (5, 5)
    assert create_backbone("lens_cait", img_size=64).patch_embed.patch_size == (4, 4)
    assert create_backbone("lens_cait", img_size=150).patch_embed.patch_size == (10, 10)
    pit = create_backbone("lens_pit", img_size=64).patch_embed
    assert (pit.patch_size, pit.grid_size) == ((8, 8), (15, 15))
    assert create_backbone("lens_pit", img_size=150).patch_embed.grid_size == (20, 20)
    crossvit = create_backbone("lens_crossvit", img_size=150).patch_embed
    assert [embed.patch_size for embed in crossvit] == [(10, 10), (15, 15)]


def test_swin_patch_embeddings_keep_the_brightness():
    """No per-token norm after Swin's patch embedding: embeddings are linear in brightness."""
    embed = create_backbone("lens_swin", img_size=64).patch_embed
    image = torch.zeros(1, 1, 64, 64)
    image[..., 30:34, 8:56] = 1.0
    with torch.no_grad():
        dark = embed(torch.zeros_like(image))
        torch.testing.assert_close(embed(3 * image) - dark, 3 * (embed(image) - dark))


def test_swin_windows_tile_every_stage_at_150_px():
    swin = create_backbone("lens_swin", img_size=150)
    windows = [stage.blocks[0].window_size for stage in swin.layers]
    assert windows == [(6, 6), (5, 5), (4, 4)]
    with torch.no_grad():
        features = swin.forward_features(torch.randn(1, 1, 150, 150))
    assert features.shape == (1, 8, 8, 256)


@pytest.mark.parametrize(
    ("name", "size", "tokens"),
    [("lens_cct", 64, 256), ("lens_cct", 150, 361), ("lens_t2t", 64, 226), ("lens_t2t", 150, 362)],
)
def test_token_grids_follow_the_image_size(name, size, tokens):
    model = create_backbone(name, img_size=size).eval()
    with torch.no_grad():
        assert model.forward_features(torch.randn(1, 1, size, size)).shape[1] == tokens


@pytest.mark.parametrize(
    ("name", "size", "features"),
    [
        ("lens_levit", 150, (1, 25, 256)),
        ("lens_twins_svt", 150, (1, 100, 256)),
        ("lens_crossformer", 150, (1, 256, 10, 10)),
        ("lens_c8_resnet", 150, (1, 64, 10, 10)),
        ("lens_c4_resnet", 150, (1, 64, 10, 10)),
    ],
)
def test_padded_members_take_150_px(name, size, features):
    model = create_backbone(name, img_size=size).eval()
    with torch.no_grad():
        assert tuple(model.forward_features(torch.randn(1, 1, size, size)).shape) == features


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [
        ("lens_cait", 149, r"lens_cait' cannot take model.img_size=149: .* 9-16 .*try 144 or 150"),
        ("lens_swin", 151, r"lens_swin' cannot take model.img_size=151: .*try 150 or 152"),
        ("lens_pit", 149, r"lens_pit' cannot take model.img_size=149"),
        ("lens_crossvit", 127, r"lens_crossvit' cannot take model.img_size=127"),
        ("lens_c8_resnet", 65, r"lens_c8_resnet' takes even model.img_size.*try 64 or 66"),
        ("lens_c4_resnet", 149, r"lens_c4_resnet' takes even model.img_size.*try 148 or 150"),
        ("lens_cvt", 16, r"lens_cvt' takes model.img_size >= 32, got 16"),
    ],
)
def test_unsupported_sizes_say_which_sizes_work(name, size, message):
    with pytest.raises(ModelError, match=message):
        create_backbone(name, in_chans=1, img_size=size)


@pytest.mark.parametrize(
    ("size", "local", "dilated"), [(64, [4, 4, 4, 2], [8, 4, 2, 2]), (150, [5] * 4, [16, 8, 4, 2])]
)
def test_crossformer_attends_over_more_than_one_token(size, local, dilated):
    """Neither the short- nor the long-distance attention of any stage sees a single token."""
    model = create_backbone("lens_crossformer", img_size=size)
    layers = [transformer.layers[0] for _, transformer in model.stages]
    assert [layer[0].window_size for layer in layers] == local
    assert [layer[2].window_size for layer in layers] == dilated


@pytest.mark.parametrize(("stem_stride", "grid"), [(4, 2), (2, 4)])
def test_resnet_stem_stride_sets_the_resolution_of_every_stage(stem_stride, grid):
    model = create_backbone("lens_resnet18", img_size=64, stem_stride=stem_stride).eval()
    with torch.no_grad():
        features = model.forward_features(torch.randn(1, 1, 64, 64))
    assert tuple(features.shape) == (1, 256, grid, grid)


def test_an_unknown_resnet_stem_stride_says_which_work():
    with pytest.raises(ModelError, match=r"stem_stride 2 or 4, got 8"):
        create_backbone("lens_resnet18", img_size=64, stem_stride=8)


def test_stochastic_depth_reaches_the_model_or_is_refused():
    swin = create_backbone("lens_swin", img_size=64, drop_path_rate=0.2)
    assert swin.layers[-1].blocks[-1].drop_path1.drop_prob == pytest.approx(0.2)
    c8 = create_backbone("lens_c8_resnet", img_size=64, drop_path_rate=0.2)
    assert c8.stages[-1][-1].drop_path.drop_prob == pytest.approx(0.2)
    with pytest.raises(ModelError, match="'lens_cvt' has no stochastic depth"):
        create_backbone("lens_cvt", img_size=64, drop_path_rate=0.1)


def test_several_input_channels():
    model = create_backbone("lens_crossformer", in_chans=3, img_size=64).eval()
    with torch.no_grad():
        features = model.forward_features(torch.randn(2, 3, 64, 64))
    assert model.forward_head(features).shape == (2, 256)


@pytest.mark.parametrize("name", ["lens_cvt", "lens_cct", "lens_t2t", "lens_crossformer"])
def test_lora_trains_adapters_on_the_vit_pytorch_members(name):
    cfg = ModelConfig(backbone=name, img_size=64, adapt={"mode": "lora"})
    model = build_classifier(cfg, num_outputs=3)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert any("lora_" in n for n in trainable)
    assert all(n.startswith("head.") or "lora_" in n for n in trainable)
    model(torch.randn(2, 1, 64, 64)).sum().backward()


def test_lora_on_the_equivariant_network_is_a_clear_error():
    cfg = ModelConfig(backbone="lens_c8_resnet", img_size=64, adapt={"mode": "lora"})
    with pytest.raises(ModelError, match="no default adapter layers in CyclicResNet"):
        build_classifier(cfg, num_outputs=3)


@pytest.mark.parametrize("name", OWN_ARCHITECTURES)
def test_layer_decay_groups_the_own_architectures_by_depth(name):
    model = build_classifier(ModelConfig(backbone=name, img_size=64), num_outputs=3)
    rates = sorted({group["lr"] for group in param_groups(model, 1e-3, 0.05, layer_decay=0.5)})
    assert len(rates) >= 4
    assert rates[-1] == pytest.approx(1e-3)
    assert rates[-2] == pytest.approx(5e-4)


def test_cait_residual_branches_start_open_at_its_shallow_depth():
    torch.manual_seed(0)
    model = create_backbone("lens_cait", img_size=64)
    tokens = model.patch_embed(torch.randn(2, 1, 64, 64)) + model.pos_embed
    changed = model.blocks[0](tokens)
    assert ((changed - tokens).norm() / tokens.norm()).item() > 0.005


@pytest.mark.parametrize(("name", "order"), [("lens_c8_resnet", 8), ("lens_c4_resnet", 4)])
def test_equivariant_fields_set_the_width_of_every_stage(name, order):
    model = create_backbone(name, img_size=64, fields=[8, 12, 20]).eval()
    assert model.stem[0].weight.shape[0] == 8
    with torch.no_grad():
        assert tuple(model.forward_features(torch.randn(1, 1, 64, 64)).shape) == (1, 20, 4, 4)
        assert model.stages(model.stem(torch.randn(1, 1, 64, 64))).shape[1] == 20 * order


@pytest.mark.parametrize("fields", [[16, 32], [16, 0, 64], ["a", 32, 64]])
def test_bad_equivariant_fields_say_what_is_taken(fields):
    with pytest.raises(ModelError, match=r"lens_c4_resnet' takes model.options.fields as three"):
        create_backbone("lens_c4_resnet", img_size=64, fields=fields)
