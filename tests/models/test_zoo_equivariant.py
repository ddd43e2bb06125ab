"""C4- and C8-equivariant ResNets: exact equivariance to 90-degree rotations, approximate to
45-degree ones for C8 (a plain CNN is far from it), and the group convolution's transformation
law for both groups."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from scivit.models.backbones import create_backbone
from scivit.models.zoo.equivariant import ORDERS, GroupConv, LiftingConv


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


def _equivariant(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_backbone(name, in_chans=1, img_size=64).eval()


@pytest.fixture(scope="module")
def c8() -> torch.nn.Module:
    return _equivariant("lens_c8_resnet")


def test_rotation_helper_matches_rot90():
    image = _smooth_image(65)
    torch.testing.assert_close(
        _rotate(image, 90), torch.rot90(image, 1, dims=(-2, -1)), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("size", [64, 150])
@pytest.mark.parametrize("name", ["lens_c8_resnet", "lens_c4_resnet"])
def test_exactly_equivariant_to_90_degree_rotations(name, size):
    model = _equivariant(name)
    image = torch.randn(2, 1, size, size)
    with torch.no_grad():
        features = model.forward_features(image)
        for turns in (1, 2, 3):
            turned = model.forward_features(torch.rot90(image, turns, dims=(-2, -1)))
            expected = torch.rot90(features, turns, dims=(-2, -1))
            torch.testing.assert_close(turned, expected, atol=5e-5, rtol=1e-4)
            pooled = model.forward_head(turned, pre_logits=True)
            torch.testing.assert_close(pooled, model.forward_head(features), atol=1e-5, rtol=1e-4)


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


@pytest.mark.parametrize("order", ORDERS)
def test_group_convolution_transformation_law(order):
    """Rotating the input by 90 degrees rotates the maps and shifts the rotation axis by a
    quarter of the group (2 for C8, 1 for C4)."""
    torch.manual_seed(0)
    lift, conv = LiftingConv(1, 3, 5, order), GroupConv(3, 2, 3, order)
    image = torch.randn(1, 1, 17, 17)

    def turn(maps: torch.Tensor) -> torch.Tensor:
        batch, chans, height, width = maps.shape
        fields = torch.rot90(maps, 1, dims=(-2, -1)).view(batch, -1, order, height, width)
        return fields.roll(order // 4, dims=2).view(batch, chans, height, width)

    with torch.no_grad():
        lifted = lift(image)
        torch.testing.assert_close(lift(torch.rot90(image, 1, dims=(-2, -1))), turn(lifted))
        torch.testing.assert_close(conv(turn(lifted)), turn(conv(lifted)))
    assert lifted.shape == (1, 3 * order, 17, 17)


def test_c4_filters_are_exact_quarter_turns():
    """C4's lifting filters are the learned filter and its rot90 copies, with no
    interpolation."""
    lift = LiftingConv(1, 2, 5, order=4)
    image = torch.zeros(1, 1, 9, 9)
    image[0, 0, 4, 4] = 1.0
    with torch.no_grad():
        response = lift(image)[0, :, 2:7, 2:7].view(2, 4, 5, 5)
        flipped = torch.flip(lift.weight[:, 0], dims=(-2, -1))
        for r in range(4):
            expected = torch.rot90(flipped, r, dims=(-2, -1))
            torch.testing.assert_close(response[:, r], expected)


def test_unknown_group_order_is_refused():
    with pytest.raises(ValueError, match=r"order must be one of \(4, 8\), got 6"):
        LiftingConv(1, 2, 3, order=6)
