"""The convolutional stem that tokenizes images for the zoo's plain ViTs (CaiT, CrossViT)."""

from __future__ import annotations

import pytest
import torch
from timm.layers import PatchEmbed

from scivit.models import create_backbone
from scivit.models.classifier import build_classifier
from scivit.models.zoo.conv_stem import ConvPatchStem
from scivit.recipe import load_recipe


@pytest.mark.parametrize(
    ("patch", "size", "grid"), [(4, 64, 16), (8, 64, 8), (10, 150, 15), (15, 150, 10), (5, 150, 30)]
)
def test_stem_tokens_tile_the_image_like_a_patch_embedding(patch, size, grid):
    stem = ConvPatchStem(1, 96, patch, size)
    tokens = stem(torch.randn(2, 1, size, size))
    assert tokens.shape == (2, grid * grid, 96)
    assert stem.num_patches == grid * grid
    assert stem.patch_size == (patch, patch)


def test_a_pixel_reaches_only_the_token_that_covers_it():
    torch.manual_seed(0)
    stem = ConvPatchStem(1, 32, 4, 16).eval()
    image = torch.randn(1, 1, 16, 16)
    changed = image.clone()
    changed[0, 0, 0, 0] += 5.0
    with torch.no_grad():
        moved = (stem(changed) - stem(image)).abs().amax(dim=-1)[0]
    assert moved[0] > 1e-3
    assert torch.all(moved[1:] == 0)


@pytest.mark.parametrize("name", ["lens_cait", "lens_crossvit"])
@pytest.mark.parametrize("size", [64, 150])
def test_plain_vits_use_the_stem_unless_told_not_to(name, size):
    stems = create_backbone(name, img_size=size).patch_embed
    linear = create_backbone(name, img_size=size, conv_stem=False).patch_embed
    for stem, embed in zip(
        stems if name == "lens_crossvit" else [stems],
        linear if name == "lens_crossvit" else [linear],
        strict=True,
    ):
        assert isinstance(stem, ConvPatchStem)
        assert not isinstance(embed, ConvPatchStem)
        assert stem.num_patches == embed.num_patches


def test_recipes_switch_the_stem_off_through_model_options():
    recipe = load_recipe(
        "lensing-base",
        ["model.backbone=lens_cait", "model.img_size=64", "model.options={conv_stem: false}"],
    )
    model = build_classifier(recipe.model, 3)
    assert isinstance(model.backbone.patch_embed, PatchEmbed)
