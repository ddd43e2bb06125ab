"""Test-time flip averaging: the averaged logits, the views chosen, and the recipe key."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scivit.errors import ConfigError
from scivit.models.flips import FlipAveraged, with_test_time_flips
from scivit.recipe import load_recipe


class CornerReader(nn.Module):
    """Logits = the top-left pixel of each channel: changes under every flip."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images[:, :, 0, 0]


class NextToCornerReader(nn.Module):
    """Logits = the pixel right of the top-left corner: each of the eight views moves it."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images[:, :, 0, 1]


def test_hv_averages_the_four_mirror_images():
    images = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    averaged = with_test_time_flips(CornerReader(), "hv")
    assert isinstance(averaged, FlipAveraged)
    corners = images[:, :, [0, 0, -1, -1], [0, -1, 0, -1]]
    torch.testing.assert_close(averaged(images), corners.mean(dim=-1))


def test_d4_averages_the_eight_symmetries_of_the_square():
    images = torch.randn(2, 3, 5, 5)
    averaged = with_test_time_flips(NextToCornerReader(), "d4")
    turns = [torch.rot90(view, k, dims=(-2, -1)) for view in (images, images.mT) for k in range(4)]
    pixels = torch.stack([turn[:, :, 0, 1] for turn in turns])
    torch.testing.assert_close(averaged(images), pixels.mean(dim=0))
    assert len(set(pixels[:, 0, 0].tolist())) == 8


def test_d4_refuses_rectangular_frames():
    with pytest.raises(ConfigError, match="'d4' need square frames, got 4x6; use 'hv'"):
        with_test_time_flips(CornerReader(), "d4")(torch.zeros(1, 1, 4, 6))


def test_h_averages_left_and_right_and_none_is_the_model_itself():
    images = torch.randn(2, 1, 6, 6)
    model = CornerReader()
    expected = (images[:, :, 0, 0] + images[:, :, 0, -1]) / 2
    torch.testing.assert_close(with_test_time_flips(model, "h")(images), expected)
    assert with_test_time_flips(model, "none") is model


def test_a_mirror_symmetric_frame_gives_the_plain_prediction():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.LazyLinear(3))
    half = torch.randn(1, 1, 8, 4)
    symmetric = torch.cat([half, half.flip(-1)], dim=-1)
    symmetric = torch.cat([symmetric, symmetric.flip(-2)], dim=-2)
    model(symmetric)
    torch.testing.assert_close(with_test_time_flips(model, "hv")(symmetric), model(symmetric))


def test_unknown_view_set_is_a_config_error():
    with pytest.raises(ConfigError, match="model.test_time_flips.*'hv'"):
        load_recipe("scatter-demo", ["model.test_time_flips=diagonal"])
