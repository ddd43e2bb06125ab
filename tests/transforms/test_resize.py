import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import Resize, make_sample


def test_resize_shape_and_beam_centre():
    sample = make_sample(np.ones((3, 64, 32)), beam_center=(10.0, 20.0))
    out = Resize((16, 16))(sample)
    assert out["image"].shape == (3, 16, 16)
    assert out["beam_center"] == pytest.approx(((10.5) * 0.5 - 0.5, (20.5) * 0.25 - 0.5))
    assert Resize(8)(make_sample(np.ones((4, 4))))["beam_center"] is None


def test_masked_pixels_do_not_bleed():
    image = np.full((32, 32), 5.0, dtype=np.float32)
    mask = np.zeros((32, 32), dtype=bool)
    mask[:, :8] = True
    image[mask] = 1e6
    out = Resize(16)(make_sample(image, mask=mask))
    np.testing.assert_allclose(out["image"][0][~out["mask"]], 5.0, rtol=1e-5)
    assert out["mask"][:, :4].all() and not out["mask"][:, 4:].any()
    assert np.isfinite(out["image"]).all()


def test_upsampling_mask_is_nearest():
    mask = np.array([[True, False], [False, False]])
    out = Resize(4)(make_sample(np.ones((2, 2)), mask=mask))
    expected = np.zeros((4, 4), dtype=bool)
    expected[:2, :2] = True
    np.testing.assert_array_equal(out["mask"], expected)


def test_linear_ramp_is_preserved_on_downsampling():
    ramp = np.tile(np.arange(32, dtype=np.float32), (32, 1))
    out = Resize(16)(make_sample(ramp))["image"][0]
    np.testing.assert_allclose(out[8, 2:14], np.arange(2, 14) * 2 + 0.5, atol=1e-4)


@pytest.mark.parametrize("size", [0, (4,), (4, -1), 2.5])
def test_bad_sizes(size):
    with pytest.raises(ConfigError, match="size"):
        Resize(size)
