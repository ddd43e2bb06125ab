"""Zoo size rules: patch sizes, windows, padding and the errors for sizes that cannot work."""

from __future__ import annotations

import pytest
import torch

from scivit.errors import ModelError
from scivit.models.zoo.sizing import (
    check_min_size,
    pad_to_multiple,
    padded_size,
    patch_for_grid,
    window_for,
)


@pytest.mark.parametrize(
    ("size", "max_grid", "overlap", "patch"),
    [
        (64, 16, 1, 4),
        (150, 16, 1, 10),
        (32, 16, 1, 2),
        (224, 16, 1, 14),
        (64, 30, 1, 4),
        (150, 30, 1, 5),
        (64, 20, 2, 8),
        (150, 20, 2, 15),
    ],
)
def test_patch_for_grid(size, max_grid, overlap, patch):
    assert patch_for_grid("m", size, max_grid, overlap) == patch
    grid = (size - patch) // (patch // overlap) + 1
    assert max_grid // 2 < grid <= max_grid
    assert size % patch == 0


def test_prime_sizes_have_no_patch_and_the_error_names_neighbours():
    with pytest.raises(ModelError, match=r"'m' cannot take model.img_size=149: .*try 144 or 150"):
        patch_for_grid("m", 149, 16)
    with pytest.raises(ModelError, match=r"img_size=5: .* 9-16 tokens per side; try 9$"):
        patch_for_grid("m", 5, 16)


@pytest.mark.parametrize(
    ("grid", "window"), [(16, 4), (8, 4), (30, 6), (15, 5), (40, 5), (7, 7), (13, 1)]
)
def test_window_for_tiles_the_grid(grid, window):
    assert window_for(grid) == window


def test_check_min_size():
    check_min_size("m", 32, 32)
    with pytest.raises(ModelError, match="'m' takes model.img_size >= 32, got 31"):
        check_min_size("m", 31, 32)


def test_padding_is_symmetric_and_repeats_the_border():
    images = torch.arange(2 * 150 * 150, dtype=torch.float32).view(2, 1, 150, 150)
    padded = pad_to_multiple(images, 16)
    assert padded.shape == (2, 1, 160, 160)
    assert padded_size(150, 16) == 160
    torch.testing.assert_close(padded[..., 5:155, 5:155], images)
    torch.testing.assert_close(padded[..., 0, 5:155], images[..., 0, :])
    torch.testing.assert_close(padded[..., 159, 5:155], images[..., 149, :])
    torch.testing.assert_close(padded[..., 5:155, 0], images[..., :, 0])
    assert pad_to_multiple(images[..., :64, :64], 16).shape == (2, 1, 64, 64)


def test_odd_padding_puts_the_extra_row_last():
    image = torch.zeros(1, 1, 7, 7)
    image[..., 0, :] = 1.0
    padded = pad_to_multiple(image, 8)
    assert padded.shape == (1, 1, 8, 8)
    assert padded[0, 0, 0, 0] == 1.0
    assert padded[0, 0, 7].sum() == 0.0
