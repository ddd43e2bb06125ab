import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import LogIntensity, check_sample, make_sample


def test_make_sample_promotes_and_casts():
    sample = make_sample(np.ones((4, 5), dtype=np.uint16), beam_center=[1, 2])
    assert sample["image"].shape == (1, 4, 5) and sample["image"].dtype == np.float32
    assert sample["beam_center"] == (1.0, 2.0) and sample["mask"] is None
    assert check_sample(sample, "t") == (4, 5)


def test_wrong_mask_shape_and_image_contract():
    with pytest.raises(ConfigError, match=r"mask shape \(3, 3\) does not match image 4x5"):
        make_sample(np.ones((4, 5)), mask=np.zeros((3, 3)))
    bad = {"image": np.ones((4, 5)), "mask": None}
    with pytest.raises(ConfigError, match="LogIntensity: sample image must be a float32"):
        LogIntensity()(bad)
    with pytest.raises(ConfigError, match="beam_center"):
        make_sample(np.ones((4, 5)), beam_center=(1.0,))
    with pytest.raises(ConfigError, match="sample dict"):
        check_sample([1, 2], "t")


def test_non_finite_pixels_are_zeroed_and_masked():
    image = np.ones((3, 3))
    image[0, 1] = np.nan
    image[2, 2] = np.inf
    own = np.zeros((3, 3), dtype=bool)
    own[1, 1] = True
    sample = make_sample(image, mask=own)
    assert np.isfinite(sample["image"]).all() and sample["image"][0, 0, 1] == 0
    assert sample["mask"].sum() == 3 and sample["mask"][0, 1] and sample["mask"][2, 2]
