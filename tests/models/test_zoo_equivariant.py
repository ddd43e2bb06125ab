"""C8-equivariant ResNet: exact equivariance to 90-degree rotations, approximate to 45-degree
ones (a plain CNN is far from it), and the group convolution's transformation law."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from scivit.models.backbones import create_backbone
from scivit.models.zoo.equivariant import ORDER, GroupConv, LiftingConv


def _smooth_image(size: int) -> torch.Tensor:
    """Two Gaussian blobs and an arc that fade out well inside the frame (N=1, C=1)."""
    axis = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    blobs = torch.exp(-((x - 0.25) ** 2 + (y + 0.1) ** 2) / 0.02)
    blobs = blobs + 0.5 * torch.exp(-((x + 0.3) ** 2 + (y - 0.2) ** 2) / 0.01)
    ring = torch.exp(-((torch.sqrt(x**2 + y**2) - 0.45) ** 2) / 0.004) * (x > 0)
    return (blobs + ring)[None, None]


def _rotate(images: torch.Tensor, degrees: float) -> torch.Tensor:
    """Bilinear rotation about the image centre, in torch.rot90's sense for +90."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    theta = torch.tensor([[[c, -s, 0.0], [s, c, 0.0]]])
    grid = F.affine_grid(theta, list(images.shape), align_corners=True)
    return F.grid_sample(images, grid, mode="bilinear", align_corners=True)


def _relative_change(model: torch.nn.Module, image: torch.Tensor, rotated: torch.Tensor) -> float:
    with torch.no_grad():
        a = model.forward_head(model.forward_features(image), pre_logits=True)
        b = model.forward_head(model.forward_features(rotated), pre_logits=True)
    return float((a - b).norm() / a.norm())


@pytest.fixture(scope="module")
def c8() -> torch.nn.Module:
    torch.manual_seed(0)
    return create_backbone("lens_c8_resnet", in_chans=1, img_size=64).eval()


def test_rotation_helper_matches_rot90():
    image = _smooth_image(65)
    torch.testing.assert_close(
        _rotate(image, 90), torch.rot90(image, 1, dims=(-2, -1)), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("size", [64, 150])
def test_exactly_equivariant_to_90_degree_rotations(c8, size):
    image = torch.randn(2, 1, size, size)
    with torch.no_grad():
        features = c8.forward_features(image)
        for turns in (1, 2, 3):
            turned = c8.forward_features(torch.rot90(image, turns, dims=(-2, -1)))
            expected = torch.rot90(features, turns, dims=(-2, -1))
            torch.testing.assert_close(turned, expected, atol=1e-5, rtol=1e-4)
            pooled = c8.forward_head(turned, pre_logits=True)
            torch.testing.assert_close(pooled, c8.forward_head(features), atol=1e-5, rtol=1e-4)


def test_approximately_invariant_to_45_degree_rotations_unlike_a_plain_cnn(c8):
    torch.manual_seed(0)
    cnn = create_backbone("lens_resnet18", in_chans=1, img_size=64).eval()
    image = _smooth_image(64)
    for degrees in (45, -45, 135):
        rotated = _rotate(image, degrees)
        equivariant = _relative_change(c8, image, rotated)
        plain = _relative_change(cnn, image, rotated)
        assert equivariant < 0.1
        assert plain > 3 * equivariant


def test_group_convolution_transformation_law():
    """Rotating the input by 90 degrees rotates the maps and shifts the rotation axis by 2."""
    torch.manual_seed(0)
    lift, conv = LiftingConv(1, 3, 5), GroupConv(3, 2, 3)
    image = torch.randn(1, 1, 17, 17)

    def turn(maps: torch.Tensor) -> torch.Tensor:
        batch, chans, height, width = maps.shape
        fields = torch.rot90(maps, 1, dims=(-2, -1)).view(batch, -1, ORDER, height, width)
        return fields.roll(2, dims=2).view(batch, chans, height, width)

    with torch.no_grad():
        lifted = lift(image)
        torch.testing.assert_close(lift(torch.rot90(image, 1, dims=(-2, -1))), turn(lifted))
        torch.testing.assert_close(conv(turn(lifted)), turn(conv(lifted)))
    assert lifted.shape == (1, 3 * ORDER, 17, 17)
