import warnings

import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import ClipPercentile, LogIntensity, Standardize, make_sample


def test_log_intensity_values_and_mask_kept():
    mask = np.array([[False, True], [False, False]])
    sample = make_sample(np.array([[-5.0, 0.0], [1.0, np.e - 1]]), mask=mask)
    out = LogIntensity()(sample)
    np.testing.assert_allclose(out["image"][0], [[0.0, 0.0], [np.log(2.0), 1.0]], rtol=1e-6)
    assert out["mask"] is mask
    assert out["image"].dtype == np.float32
    with pytest.raises(ConfigError, match="offset"):
        LogIntensity(offset=0)


def test_clip_percentile_uses_valid_pixels():
    image = np.arange(100, dtype=np.float32).reshape(10, 10)
    mask = np.zeros((10, 10), dtype=bool)
    mask[9] = True
    out = ClipPercentile(10, 90)(make_sample(image, mask=mask))["image"][0]
    low, high = np.percentile(image[:9], [10, 90])
    assert out.min() == pytest.approx(low) and out.max() == pytest.approx(high)
    with pytest.raises(ConfigError, match="lower < upper"):
        ClipPercentile(90, 10)


def test_standardize_over_valid_pixels():
    rng = np.random.default_rng(0)
    image = rng.normal(5.0, 3.0, (2, 16, 16)).astype(np.float32)
    mask = np.zeros((16, 16), dtype=bool)
    mask[:4] = True
    image[:, :4] = 1e6
    out = Standardize()(make_sample(image, mask=mask))["image"]
    for channel in out:
        assert channel[~mask].mean() == pytest.approx(0.0, abs=1e-5)
        assert channel[~mask].std() == pytest.approx(1.0, abs=1e-5)
        assert (channel[mask] == 0).all()


def test_standardize_constant_and_fully_masked_warn_without_nan():
    with pytest.warns(UserWarning, match="constant"):
        out = Standardize()(make_sample(np.full((8, 8), 4.0)))
    np.testing.assert_array_equal(out["image"], 0.0)
    with pytest.warns(UserWarning, match="no valid pixel"):
        out = Standardize()(make_sample(np.ones((8, 8)), mask=np.ones((8, 8), bool)))
    assert np.isfinite(out["image"]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Standardize()(make_sample(np.arange(4.0).reshape(2, 2)))


def test_standardize_with_fixed_statistics_keeps_absolute_level():
    bright = make_sample(np.full((4, 4), 9.0))
    dim = make_sample(np.full((4, 4), 3.0), mask=np.eye(4, dtype=bool))
    fixed = Standardize(mean=1.0, std=2.0)
    assert np.allclose(fixed(bright)["image"], 4.0)
    out = fixed(dim)["image"][0]
    assert np.allclose(out[~np.eye(4, dtype=bool)], 1.0) and np.all(out[np.eye(4, dtype=bool)] == 0)


def test_standardize_needs_both_fixed_statistics():
    with pytest.raises(ConfigError, match="both mean and std"):
        Standardize(mean=1.0)
    with pytest.raises(ConfigError, match="std must be positive"):
        Standardize(mean=0.0, std=0.0)


def test_standardize_only_the_chosen_channels():
    image = np.stack([np.arange(16.0).reshape(4, 4), np.full((4, 4), 7.0), np.ones((4, 4))])
    out = Standardize(channels=[0, -1])(make_sample(image.astype(np.float32)))["image"]
    assert out[0].mean() == pytest.approx(0.0, abs=1e-6) and out[0].std() == pytest.approx(1.0)
    np.testing.assert_array_equal(out[1], image[1])
    with pytest.warns(UserWarning, match="channel 2 is constant"):
        Standardize(channels=[2])(make_sample(image.astype(np.float32)))
    with pytest.raises(ConfigError, match="channel 3 of a 3-channel frame"):
        Standardize(channels=[3])(make_sample(image.astype(np.float32)))
