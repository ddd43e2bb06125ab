import numpy as np
import pytest
from scipy import ndimage

from scivit.errors import ConfigError, ScivitError
from scivit.transforms import FixDeadPixels, make_sample
from scivit.transforms.median import median3x3


def counts(shape=(32, 32), level=400.0, seed=0):
    return np.random.default_rng(seed).poisson(level, shape).astype(np.float32)


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (33, 40)])
def test_median3x3_equals_scipy(shape):
    image = np.random.default_rng(2).integers(0, 4, shape).astype(np.float32)
    np.testing.assert_array_equal(median3x3(image), ndimage.median_filter(image, 3, mode="nearest"))


def test_hot_and_dead_pixels_filled_from_neighbour_median():
    image = counts()
    image[10, 12] = 1e6
    image[20, 5] = 0.0
    out = FixDeadPixels()(make_sample(image))["image"][0]
    for row, col in [(10, 12), (20, 5)]:
        neighbours = np.delete(image[row - 1 : row + 2, col - 1 : col + 2].ravel(), 4)
        assert out[row, col] == np.median(neighbours)
    changed = np.argwhere(out != image)
    assert {tuple(p) for p in changed} == {(10, 12), (20, 5)}


def test_given_mask_is_repaired_and_input_untouched():
    image = counts()
    image[3, 3] = 50.0
    bad = np.zeros(image.shape, dtype=bool)
    bad[3, 3] = True
    sample = make_sample(image)
    out = FixDeadPixels(mask=bad, detect_outliers=False)(sample)
    expected = np.median(np.delete(image[2:5, 2:5].ravel(), 4))
    assert out["image"][0, 3, 3] == expected
    assert sample["image"][0, 3, 3] == 50.0
    assert out["mask"] is None


def test_sample_mask_pixels_are_not_neighbours_and_isolated_bad_pixels_get_masked():
    image = counts()
    mask = np.zeros(image.shape, dtype=bool)
    mask[0:3, 0:3] = True
    mask[1, 1] = False
    bad = np.zeros(image.shape, dtype=bool)
    bad[1, 1] = True
    out = FixDeadPixels(mask=bad, detect_outliers=False)(make_sample(image, mask=mask))
    assert out["mask"][1, 1]
    assert out["image"][0, 1, 1] == 0.0


def test_gaps_and_beamstop_rims_are_left_alone():
    image = counts()
    image[:, 16] = 0.0
    image[5:12, 5:12] = 0.0
    out = FixDeadPixels()(make_sample(image))["image"][0]
    np.testing.assert_array_equal(out, image)


def test_flat_and_constant_images_are_unchanged():
    for image in (np.zeros((16, 16), np.float32), np.full((16, 16), 7.0, np.float32)):
        out = FixDeadPixels()(make_sample(image))["image"][0]
        np.testing.assert_array_equal(out, image)


def test_bad_options_and_mask_shape():
    with pytest.raises(ConfigError, match="threshold"):
        FixDeadPixels(threshold=0)
    with pytest.raises(ConfigError, match="2-D"):
        FixDeadPixels(mask=np.zeros(4, dtype=bool))
    with pytest.raises(ConfigError, match="mask shape"):
        FixDeadPixels(mask=np.zeros((8, 8), dtype=bool))(make_sample(counts()))


def test_mask_from_file(tmp_path):
    image = counts()
    image[7, 9] = 3.0
    bad = np.zeros(image.shape, dtype=np.uint8)
    bad[7, 9] = 1
    path = tmp_path / "bad_pixels.npy"
    np.save(path, bad)
    out = FixDeadPixels(mask=str(path), detect_outliers=False)(make_sample(image))["image"][0]
    assert out[7, 9] == np.median(np.delete(image[6:9, 8:11].ravel(), 4))
    with pytest.raises(ScivitError, match="missing.npy"):
        FixDeadPixels(mask=tmp_path / "missing.npy")
