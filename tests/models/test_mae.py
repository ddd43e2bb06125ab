"""Masked autoencoder: masking, patches, decoder positions, training signal and export."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from scivit.errors import ConfigError, DataError, ModelError
from scivit.losses.mae import MAELoss
from scivit.models.backbones import create_backbone
from scivit.models.mae import MaskedAutoencoder, patchify, random_masking, unpatchify
from scivit.models.mae_decoder import MAEDecoder

TINY = {"in_chans": 1, "img_size": 32, "patch_size": 8, "depth": 2}
DECODER = {"decoder_dim": 32, "decoder_depth": 1, "decoder_heads": 4}


def _tiny_vit() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_backbone("vit_tiny_patch16_224", **TINY)


def _images(batch: int = 2, size: int = 32) -> torch.Tensor:
    """Smooth detector-like frames: a log-scaled ring around a shifted centre plus noise."""
    gen = torch.Generator().manual_seed(1)
    axis = torch.arange(size, dtype=torch.float32)
    rows, cols = torch.meshgrid(axis, axis, indexing="ij")
    frames = []
    for shift in range(batch):
        radius = torch.hypot(rows - size / 2 - shift, cols - size / 2 + shift)
        ring = torch.exp(-((radius - size / 4) ** 2) / 8.0)
        frames.append(torch.log1p(100 * ring) + 0.05 * torch.randn(size, size, generator=gen))
    return torch.stack(frames)[:, None]


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(("length", "ratio"), [(16, 0.75), (49, 0.6), (4, 0.75), (10, 0.35)])
def test_masking_keeps_round_count_per_sample(length, ratio):
    kept, mask, ids_restore = random_masking(torch.randn(5, length, 3), ratio, _seeded())
    keep = round(length * (1 - ratio))
    assert kept.shape == (5, keep, 3)
    assert mask.shape == ids_restore.shape == (5, length)
    assert torch.all(mask.sum(dim=1) == length - keep)


def test_mask_and_ids_restore_are_consistent():
    batch, length, keep = 8, 16, 4
    tokens = torch.arange(batch * length * 2.0).reshape(batch, length, 2)
    kept, mask, ids_restore = random_masking(tokens, 0.75, _seeded(3))
    for row in ids_restore:
        assert sorted(row.tolist()) == list(range(length))
    ids_shuffle = ids_restore.argsort(dim=1)
    shuffled = torch.gather(tokens, 1, ids_shuffle[..., None].expand(-1, -1, 2))
    torch.testing.assert_close(shuffled[:, :keep], kept)
    restored = torch.gather(shuffled, 1, ids_restore[..., None].expand(-1, -1, 2))
    torch.testing.assert_close(restored, tokens)
    positions = ((kept[..., 0] - tokens[:, :1, 0]) / 2).long()
    visible = torch.zeros(batch, length).scatter_(1, positions, 1.0)
    torch.testing.assert_close(mask, 1 - visible)
    assert len({tuple(row.tolist()) for row in mask}) > 1


def test_masking_is_reproducible_with_a_generator():
    tokens = torch.randn(3, 16, 4)
    first = random_masking(tokens, 0.75, _seeded(7))
    second = random_masking(tokens, 0.75, _seeded(7))
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b)


def test_mask_ratio_that_keeps_nothing_is_refused():
    with pytest.raises(ConfigError, match="mask_ratio=0.9 keeps no patch of 4"):
        random_masking(torch.randn(1, 4, 2), 0.9)


def test_patchify_matches_slicing_and_round_trips():
    images = torch.randn(2, 3, 16, 24)
    patches = patchify(images, 8)
    assert patches.shape == (2, 6, 8 * 8 * 3)
    for i in range(2):
        for j in range(3):
            block = images[:, :, i * 8 : (i + 1) * 8, j * 8 : (j + 1) * 8]
            torch.testing.assert_close(patches[:, i * 3 + j], block.permute(0, 2, 3, 1).flatten(1))
    torch.testing.assert_close(unpatchify(patches, 8, grid=(2, 3)), images)
    square = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(unpatchify(patchify(square, 8), 8), square)
    with pytest.raises(DataError, match="30x32 px do not split into 8-px patches"):
        patchify(torch.zeros(1, 1, 30, 32), 8)


def test_patch_order_matches_the_encoder_tokens():
    encoder = _tiny_vit()
    torch.nn.init.zeros_(encoder.patch_embed.proj.bias)
    image = torch.zeros(1, 1, 32, 32)
    image[..., 8:16, 16:24] = 1.0
    tokens = encoder.patch_embed(image)[0].abs().sum(dim=-1)
    patches = patchify(image, 8)[0].abs().sum(dim=-1)
    assert tokens.nonzero().flatten().tolist() == [1 * 4 + 2]
    assert patches.nonzero().flatten().tolist() == [1 * 4 + 2]


def test_decoder_positions_are_fixed_2d_sincos():
    decoder = MAEDecoder(encoder_dim=16, patch_dim=4, dim=8, depth=1, heads=2)
    table = decoder.position_embedding((2, 3), torch.device("cpu"), torch.float64)
    omega = 1.0 / 10000 ** (np.arange(2) / 2)
    for index, (row, col) in enumerate(np.ndindex(2, 3)):
        angles = np.concatenate([row * omega, col * omega])
        expected = np.concatenate([np.sin(angles), np.cos(angles)])
        np.testing.assert_allclose(table[index].numpy(), expected, atol=1e-12)
    assert not [name for name, _ in decoder.named_parameters() if "pos" in name]


def test_forward_outputs_and_loss():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    images = _images()
    out = model(images, generator=_seeded())
    assert out.pred.shape == (2, 16, 64)
    assert torch.all(out.mask.sum(dim=1) == 12)
    expected = MAELoss()(out.pred, patchify(images, 8), out.mask)
    torch.testing.assert_close(out.loss, expected)
    again = model(images, generator=_seeded())
    torch.testing.assert_close(again.mask, out.mask)
    torch.testing.assert_close(again.loss, out.loss)


def test_pixel_mask_is_left_out_of_the_loss():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    images = _images()
    pixel_mask = torch.zeros(2, 32, 32, dtype=torch.bool)
    pixel_mask[:, 12:20, 12:20] = True
    pixel_mask[:, :, :3] = True
    out = model(images, pixel_mask, generator=_seeded())
    invalid = patchify(pixel_mask[:, None], 8)
    torch.testing.assert_close(
        out.loss, MAELoss()(out.pred, patchify(images, 8), out.mask, invalid)
    )
    plain = model(images, generator=_seeded())
    assert abs(out.loss.item() - plain.loss.item()) > 1e-4
    everything = model(images, torch.ones(2, 1, 32, 32, dtype=torch.bool), generator=_seeded())
    assert everything.loss.item() == 0.0


def test_encoder_never_sees_removed_patches():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER).eval()
    images = _images()
    latent, mask, _ = model.encode(images, _seeded(5))
    removed = unpatchify(mask[..., None].expand(-1, -1, 64), 8).bool()
    changed = torch.where(removed, torch.randn_like(images) * 10, images)
    latent_changed, mask_changed, _ = model.encode(changed, _seeded(5))
    torch.testing.assert_close(mask_changed, mask)
    torch.testing.assert_close(latent_changed, latent)


def test_gradients_reach_encoder_and_decoder():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    model(_images(), generator=_seeded()).loss.backward()
    encoder, decoder = model.encoder, model.decoder
    for param in (
        encoder.patch_embed.proj.weight,
        encoder.cls_token,
        encoder.pos_embed,
        encoder.blocks[0].attn.qkv.weight,
        encoder.blocks[1].mlp.fc2.weight,
        decoder.decoder_embed.weight,
        decoder.mask_token,
        decoder.decoder_blocks[0].attn.qkv.weight,
        decoder.decoder_pred.weight,
    ):
        assert param.grad is not None and float(param.grad.abs().sum()) > 0


def test_gradient_checkpointing_gives_the_same_loss_and_gradients():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    images = _images()
    model(images, generator=_seeded()).loss.backward()
    plain = model.encoder.patch_embed.proj.weight.grad.clone()
    model.zero_grad()
    model.encoder.set_grad_checkpointing(True)
    model(images, generator=_seeded()).loss.backward()
    torch.testing.assert_close(model.encoder.patch_embed.proj.weight.grad, plain)


def test_a_few_steps_reduce_the_loss_on_a_fixed_batch():
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    images = _images()
    losses = []
    for _ in range(10):
        loss = model(images, generator=_seeded()).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.75 * losses[0]


@pytest.mark.parametrize("name", ["vit_small_patch14_reg4_dinov2", "vit_small_patch14_dinov2"])
def test_dinov2_encoders(name):
    torch.manual_seed(0)
    encoder = create_backbone(name, in_chans=1, img_size=28, depth=2)
    model = MaskedAutoencoder(encoder, **DECODER)
    out = model(_images(size=28), generator=_seeded())
    assert out.pred.shape == (2, 4, 14 * 14)
    assert torch.all(out.mask.sum(dim=1) == 3)
    assert math.isfinite(out.loss.item())
    out.loss.backward()
    prefix = encoder.reg_token if encoder.reg_token is not None else encoder.cls_token
    assert float(prefix.grad.abs().sum()) > 0
    assert model.decoder.num_prefix_tokens == encoder.num_prefix_tokens


def test_dynamic_image_size_encoder_takes_other_sizes():
    torch.manual_seed(0)
    encoder = create_backbone(
        "vit_small_patch14_reg4_dinov2", in_chans=1, img_size=28, depth=2, dynamic_img_size=True
    )
    out = MaskedAutoencoder(encoder, **DECODER)(_images(size=42), generator=_seeded())
    assert out.pred.shape == (2, 9, 14 * 14)
    assert torch.all(out.mask.sum(dim=1) == 9 - round(9 * 0.25))
    assert math.isfinite(out.loss.item())


def test_non_vit_backbone_is_refused():
    with pytest.raises(ModelError, match="MAE needs a patch-token ViT.*'resnet18'.*DINO"):
        MaskedAutoencoder(create_backbone("resnet18", in_chans=1))


def test_bad_options_and_sizes():
    encoder = _tiny_vit()
    with pytest.raises(ConfigError, match=r"mask_ratio must be in \(0, 1\), got 1.0"):
        MaskedAutoencoder(encoder, mask_ratio=1.0)
    with pytest.raises(ConfigError, match="decoder_dim=30 must be a multiple of 4"):
        MaskedAutoencoder(encoder, decoder_dim=30, decoder_heads=3)
    model = MaskedAutoencoder(encoder, **DECODER)
    with pytest.raises(DataError, match="images of 40x40 px do not fit.*takes 32x32 px"):
        model(torch.zeros(1, 1, 40, 40))
    with pytest.raises(DataError, match=r"pixel mask \(1, 16, 16\) does not match"):
        model(torch.zeros(1, 1, 32, 32), torch.zeros(1, 16, 16, dtype=torch.bool))


def _features(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model.eval().forward_features(images)


def test_encoder_exports_and_loads_back(tmp_path):
    model = MaskedAutoencoder(_tiny_vit(), **DECODER)
    torch.optim.SGD(model.parameters(), lr=0.1).zero_grad()
    model(_images(), generator=_seeded()).loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    path = tmp_path / "encoder.safetensors"
    save_file({k: v.contiguous() for k, v in model.encoder_state_dict().items()}, path)
    loaded = create_backbone("vit_tiny_patch16_224", pretrained=str(path), **TINY)
    images = _images()
    torch.testing.assert_close(_features(loaded, images), _features(model.encoder, images))


def test_whole_checkpoint_loads_as_encoder_weights(tmp_path):
    model = MaskedAutoencoder(_tiny_vit(), decoder_dim=32, decoder_depth=3, decoder_heads=4)
    path = tmp_path / "last.ckpt"
    torch.save({"state_dict": {f"model.{k}": v for k, v in model.state_dict().items()}}, path)
    torch.manual_seed(123)
    loaded = create_backbone("vit_tiny_patch16_224", pretrained=str(path), **TINY)
    images = _images()
    torch.testing.assert_close(_features(loaded, images), _features(model.encoder, images))
