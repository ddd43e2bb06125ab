"""Input-size rules shared by the zoo: patch sizes that tile an image, windows that tile a token
grid, and symmetric padding to a size an architecture can take.

Lensing images come at 64x64 (DeepLense Models II/III) and 150x150 (Model I). 150 = 2 * 3 * 5^2
is not divisible by the powers of two that hierarchical transformers assume, so every builder
either picks its patch and window sizes from the image size or pads the image (symmetrically,
repeating the border: the sky background continues) to the next size it can take.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scivit.errors import ModelError


def patch_for_grid(name: str, img_size: int, max_grid: int, overlap: int = 1) -> int:
    """The smallest patch size dividing `img_size` into at most `max_grid` tokens per side.

    Patches are taken with stride `patch // overlap` (2 for PiT's half-overlapping patches).
    The grid must also keep more than `max_grid // 2` tokens per side (enough tokens); sizes
    without such a patch (primes, for instance) raise a ModelError naming sizes that work.
    """
    patch = _patch_or_none(img_size, max_grid, overlap)
    if patch is None:
        fits = [
            next((s for s in sizes if _patch_or_none(s, max_grid, overlap)), None)
            for sizes in (range(img_size - 1, 0, -1), range(img_size + 1, 4 * img_size + 64))
        ]
        raise ModelError(
            f"backbone '{name}' cannot take model.img_size={img_size}: it needs a patch size "
            f"dividing the image into {max_grid // 2 + 1}-{max_grid} tokens per side; try "
            + " or ".join(str(size) for size in fits if size)
        )
    return patch


def _patch_or_none(img_size: int, max_grid: int, overlap: int) -> int | None:
    for patch in range(overlap, img_size + 1):
        grid = (img_size - patch) // (patch // overlap) + 1
        if img_size % patch == 0 and grid <= max_grid:
            return patch if grid > max_grid // 2 else None
    return None


def window_for(grid: int, max_window: int = 7) -> int:
    """The largest window size up to `max_window` that tiles a `grid` x `grid` token map."""
    return max(w for w in range(1, min(grid, max_window) + 1) if grid % w == 0)


def check_min_size(name: str, img_size: int, minimum: int) -> None:
    """Raise a ModelError when `img_size` is below the smallest size the backbone takes."""
    if img_size < minimum:
        raise ModelError(f"backbone '{name}' takes model.img_size >= {minimum}, got {img_size}")


def padded_size(size: int, multiple: int) -> int:
    """`size` rounded up to a multiple of `multiple`."""
    return -(-size // multiple) * multiple


def pad_to_multiple(images: torch.Tensor, multiple: int) -> torch.Tensor:
    """Pad (N, C, H, W) images symmetrically, repeating the border, to multiples of `multiple`.

    An odd amount of padding puts the extra row (column) at the bottom (right).
    """
    height, width = images.shape[-2:]
    extra_h = padded_size(height, multiple) - height
    extra_w = padded_size(width, multiple) - width
    if not extra_h and not extra_w:
        return images
    pads = (extra_w // 2, extra_w - extra_w // 2, extra_h // 2, extra_h - extra_h // 2)
    return F.pad(images, pads, mode="replicate")
