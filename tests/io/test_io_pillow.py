"""PNG/JPEG/BMP through Pillow: precision, colour to luminance, corrupted files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scivit.errors import ReadError
from scivit.io import read_image
from scivit.io.frame import LUMA_WEIGHTS


def test_8bit_png_keeps_white(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.integers(0, 256, size=(32, 48), dtype=np.uint8)
    image[0, 0] = 255
    Image.fromarray(image).save(tmp_path / "xray.png")
    frame = read_image(tmp_path / "xray.png")
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert frame.mask is None
    assert frame.meta["format"] == "png" and frame.meta["mode"] == "L"


def test_16bit_png_full_precision(tmp_path: Path, rng: np.random.Generator) -> None:
    image = rng.integers(0, 65536, size=(32, 32), dtype=np.uint16)
    image[1, 1] = 65535
    Image.fromarray(image).save(tmp_path / "deep.png")
    frame = read_image(tmp_path / "deep.png")
    np.testing.assert_array_equal(frame.data, image.astype(np.float32))
    assert frame.data.max() > 255 and frame.meta["dtype"] == "uint16" and frame.mask is None


def test_rgb_png_becomes_luminance(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "colour.png")
    frame = read_image(tmp_path / "colour.png")
    np.testing.assert_allclose(frame.data, rgb @ np.array(LUMA_WEIGHTS), rtol=1e-5)
    reference = np.asarray(Image.fromarray(rgb).convert("L"), dtype=np.float32)
    assert np.abs(frame.data - reference).max() <= 1.0


def test_palette_and_gray_alpha(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).quantize(16).save(tmp_path / "palette.png")
    expected = np.asarray(Image.open(tmp_path / "palette.png").convert("RGB")) @ LUMA_WEIGHTS
    np.testing.assert_allclose(read_image(tmp_path / "palette.png").data, expected, rtol=1e-5)
    gray = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)
    Image.fromarray(gray).convert("LA").save(tmp_path / "alpha.png")
    np.testing.assert_array_equal(read_image(tmp_path / "alpha.png").data, gray)


def test_jpeg_and_bmp(tmp_path: Path, rng: np.random.Generator) -> None:
    gray = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)
    Image.fromarray(gray).save(tmp_path / "scan.JPG", quality=95)
    decoded = np.asarray(Image.open(tmp_path / "scan.JPG"), dtype=np.float32)
    frame = read_image(tmp_path / "scan.JPG")
    np.testing.assert_array_equal(frame.data, decoded)
    assert frame.meta["format"] == "jpeg"
    Image.fromarray(gray).save(tmp_path / "scan.bmp")
    np.testing.assert_array_equal(read_image(tmp_path / "scan.bmp").data, gray)


@pytest.mark.parametrize("suffix", ["png", "jpg", "bmp"])
def test_corrupted_image(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    path = tmp_path / f"noise.{suffix}"
    path.write_bytes(rng.bytes(2048))
    with pytest.raises(ReadError, match=rf"noise\.{suffix}: cannot read file \("):
        read_image(path)


def test_truncated_png(tmp_path: Path, rng: np.random.Generator) -> None:
    path = tmp_path / "cut.png"
    Image.fromarray(rng.integers(0, 256, size=(64, 64), dtype=np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ReadError, match=r"cut\.png: cannot read file"):
        read_image(path)
