"""Pixel validation: masks for non-finite values and detector sentinels, warnings, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from scivit.errors import ReadError
from scivit.io.frame import LUMA_WEIGHTS, luminance, make_frame, validate_pixels


def _meta(frame: int | None = None) -> dict:
    return {"path": "f.tif", "frame": frame}


def test_float_nonfinite_masked_and_zeroed() -> None:
    raw = np.arange(16, dtype=np.float64).reshape(4, 4)
    raw[0, 1], raw[2, 3], raw[3, 0] = np.nan, np.inf, -np.inf
    frame = make_frame(raw, _meta())
    assert frame.data.dtype == np.float32 and frame.shape == (4, 4)
    expected_mask = ~np.isfinite(raw)
    np.testing.assert_array_equal(frame.mask, expected_mask)
    np.testing.assert_array_equal(frame.data, np.where(expected_mask, 0, raw).astype(np.float32))


def test_float64_overflowing_float32_is_masked() -> None:
    raw = np.array([[1.0, 1e300], [2.0, 3.0]])
    frame = make_frame(raw, _meta())
    np.testing.assert_array_equal(frame.mask, [[False, True], [False, False]])


def test_negative_counts_are_sentinels_in_signed_integers() -> None:
    raw = np.array([[5, -1], [-2, 7]], dtype=np.int32)
    frame = make_frame(raw, _meta())
    np.testing.assert_array_equal(frame.mask, raw < 0)
    np.testing.assert_array_equal(frame.data, [[5, 0], [0, 7]])


@pytest.mark.parametrize("dtype", [np.uint16, np.uint32])
def test_unsigned_maximum_is_a_sentinel(dtype: type) -> None:
    top = np.iinfo(dtype).max
    raw = np.array([[1, top], [3, 4]], dtype=dtype)
    frame = make_frame(raw, _meta())
    np.testing.assert_array_equal(frame.mask, [[False, True], [False, False]])
    assert frame.data[0, 1] == 0


def test_eight_bit_white_and_negative_floats_are_valid() -> None:
    assert make_frame(np.array([[0, 255], [3, 4]], dtype=np.uint8), _meta()).mask is None
    assert make_frame(np.array([[-1.5, 2.0], [3.0, 4.0]]), _meta()).mask is None


def test_sentinels_can_be_disabled() -> None:
    data, invalid = validate_pixels(np.array([[65535, 1]], dtype=np.uint16), sentinels=False)
    assert not invalid.any() and data[0, 0] == 65535


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_all_nonfinite_frame_is_an_error(value: float) -> None:
    raw = np.full((4, 4), value)
    with pytest.raises(ReadError, match=r"^f\.tif: frame 3 contains no finite values$"):
        make_frame(raw, _meta(3))


def test_all_sentinel_frame_is_an_error() -> None:
    with pytest.raises(ReadError, match="f.tif: image contains only detector sentinel values"):
        make_frame(np.full((3, 3), -1, dtype=np.int32), _meta())


def test_constant_frame_warns_naming_the_file() -> None:
    with pytest.warns(UserWarning, match=r"f\.tif: image is constant \(every valid pixel is 7\)"):
        make_frame(np.full((4, 4), 7.0), _meta())


def test_varying_frame_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_frame(np.eye(4), _meta())


def test_non_2d_raw_is_an_error() -> None:
    with pytest.raises(ReadError, match=r"has shape \(2, 3, 4\); expected a 2-D image"):
        make_frame(np.zeros((2, 3, 4)), _meta())


def test_luminance_matches_bt601() -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [10, 20, 30]]], dtype=np.uint8)
    expected = rgb.astype(np.float64) @ np.array(LUMA_WEIGHTS)
    np.testing.assert_allclose(luminance(rgb), expected, rtol=1e-6)
    rgba = np.concatenate([rgb, np.full((2, 2, 1), 9, np.uint8)], axis=-1)
    np.testing.assert_allclose(luminance(rgba), expected, rtol=1e-6)
