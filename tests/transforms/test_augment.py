import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import (
    Compose,
    PolarRemap,
    RandAzimuthShift,
    RandFlip,
    RandIntensityScale,
    RandPoisson,
    RandRotate,
    make_sample,
)
from scivit.transforms.augment import rotate_sample


def ramp_sample(center=(5.0, 3.0), mask=None):
    image = np.arange(6 * 8, dtype=np.float32).reshape(6, 8)
    return make_sample(image, mask=mask, beam_center=center)


def test_flip_both_axes_moves_beam_centre():
    mask = np.zeros((6, 8), dtype=bool)
    mask[0, 0] = True
    sample = ramp_sample(mask=mask)
    out = RandFlip(prob=1.0)(sample)
    np.testing.assert_array_equal(out["image"][0], sample["image"][0, ::-1, ::-1])
    assert out["mask"][5, 7] and out["mask"].sum() == 1
    assert out["beam_center"] == (2.0, 2.0)
    assert out["image"][0][2, 2] == sample["image"][0][3, 5]


def test_flip_horizontal_only_and_never():
    sample = ramp_sample()
    out = RandFlip(vertical=False, prob=1.0)(sample)
    np.testing.assert_array_equal(out["image"][0], sample["image"][0, :, ::-1])
    assert out["beam_center"] == (2.0, 3.0)
    unchanged = RandFlip(prob=0.0)(sample)
    np.testing.assert_array_equal(unchanged["image"], sample["image"])


def test_diagonal_flip_swaps_rows_and_columns_with_the_centre():
    image = np.arange(25, dtype=np.float32).reshape(5, 5)
    mask = np.zeros((5, 5), dtype=bool)
    mask[1, 3] = True
    sample = make_sample(image, mask=mask, beam_center=(3.0, 1.0))
    out = RandFlip(horizontal=False, vertical=False, diagonal=True, prob=1.0)(sample)
    np.testing.assert_array_equal(out["image"][0], image.T)
    assert out["mask"][3, 1] and out["mask"].sum() == 1
    assert out["beam_center"] == (1.0, 3.0)
    centre = out["beam_center"]
    assert out["image"][0][int(centre[1]), int(centre[0])] == image[1, 3]


def test_diagonal_and_mirrors_give_all_eight_symmetries_of_the_square():
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    expected = {np.rot90(view, turns).tobytes() for view in (image, image.T) for turns in range(4)}
    flip = RandFlip(diagonal=True, seed=0)
    seen = [flip(make_sample(image))["image"][0].tobytes() for _ in range(400)]
    assert set(seen) == expected
    counts = np.array([seen.count(view) for view in expected])
    assert counts.min() > 30


def test_diagonal_flip_refuses_a_rectangular_image():
    with pytest.raises(ConfigError, match=r"diagonal mirroring needs a square image, got 6x8"):
        RandFlip(diagonal=True)(ramp_sample())


def test_rotation_keeps_off_centre_beam_pixel_fixed():
    rng = np.random.default_rng(0)
    image = rng.random((32, 40)).astype(np.float32)
    sample = make_sample(image, beam_center=(9.0, 20.0))
    out = RandRotate(degrees=180, seed=3)(sample)
    assert out["image"][0, 20, 9] == pytest.approx(image[20, 9], rel=1e-6)
    assert out["beam_center"] == (9.0, 20.0)
    assert out["mask"].any() and not out["mask"][20, 9]
    assert (out["image"][0][out["mask"]] == 0).all()


def test_rotation_by_90_degrees_counter_clockwise():
    image = np.zeros((21, 21), dtype=np.float32)
    image[12, 15] = 1.0
    sample = make_sample(image, beam_center=(11.0, 12.0))
    turned = rotate_sample(sample, 90.0, (11.0, 12.0))["image"][0]
    assert turned[8, 11] == pytest.approx(1.0)
    assert turned.sum() == pytest.approx(1.0)


def test_rotation_needs_centre_and_valid_degrees():
    with pytest.raises(ConfigError, match="never assumed"):
        RandRotate()(make_sample(np.ones((8, 8))))
    with pytest.raises(ConfigError, match="degrees"):
        RandRotate(degrees=400)
    with pytest.raises(ConfigError, match="prob"):
        RandFlip(prob=2.0)


def test_intensity_scale_within_bounds():
    transform = RandIntensityScale(low=0.5, high=2.0, seed=1)
    sample = make_sample(np.ones((4, 4)))
    factors = [transform(sample)["image"][0, 0, 0] for _ in range(50)]
    assert min(factors) >= 0.5 and max(factors) <= 2.0
    assert min(factors) < 0.8 and max(factors) > 1.3
    with pytest.raises(ConfigError, match="low"):
        RandIntensityScale(low=0.0)


def test_poisson_keeps_mean_and_adds_counting_noise():
    sample = make_sample(np.full((64, 64), 100.0))
    out = RandPoisson(low=0.25, high=0.25, seed=0)(sample)["image"]
    assert out.mean() == pytest.approx(100.0, rel=0.01)
    assert out.var() == pytest.approx(100.0 / 0.25, rel=0.1)
    negative = RandPoisson(seed=0)(make_sample(np.full((4, 4), -3.0)))["image"]
    np.testing.assert_array_equal(negative, 0.0)
    with pytest.raises(ConfigError, match="low"):
        RandPoisson(low=2.0, high=1.0)


def test_same_seed_same_output():
    def pipeline():
        return Compose(
            [
                RandFlip(),
                RandRotate(degrees=30),
                RandIntensityScale(),
                RandPoisson(),
            ]
        )

    rng = np.random.default_rng(5)
    sample = make_sample(rng.poisson(50, (24, 24)), beam_center=(10.0, 12.0))
    first, second = pipeline().set_random_state(42), pipeline().set_random_state(42)
    outputs = [(first(sample)["image"], second(sample)["image"]) for _ in range(3)]
    for a, b in outputs:
        np.testing.assert_array_equal(a, b)
    first.set_random_state(42)
    np.testing.assert_array_equal(first(sample)["image"], outputs[0][0])
    other = pipeline().set_random_state(43)(sample)["image"]
    assert not np.array_equal(other, outputs[0][0])
    single = RandIntensityScale().set_random_state(1)
    assert single(sample)["image"][0, 0, 0] == RandIntensityScale(seed=1)(sample)["image"][0, 0, 0]


def test_azimuth_shift_of_a_polar_frame_is_a_rotation_about_the_beam():
    yy, xx = np.mgrid[:33, :33].astype(np.float32)
    image = (1.0 + np.clip(xx - 16, 0, None) + 0.5 * np.clip(yy - 16, 0, None)).astype(np.float32)
    remap = PolarRemap(size=(12, 32), log_radius=False, r_max=14.0, supersample=2)
    polar = remap(make_sample(image, beam_center=(16.0, 16.0)))
    turned = remap(make_sample(np.rot90(image).copy(), beam_center=(16.0, 16.0)))
    errors = [
        np.abs(np.roll(polar["image"], s, axis=-1) - turned["image"]).mean() for s in range(32)
    ]
    assert int(np.argmin(errors)) == 24 and min(errors) < 1e-3 * np.abs(polar["image"]).mean()
    polar["mask"][3, 5] = True
    shifted = RandAzimuthShift(seed=3)(polar)
    shift = int(np.argmax(shifted["mask"][3]) - 5) % 32
    assert shift != 0
    assert np.array_equal(shifted["image"], np.roll(polar["image"], shift, axis=-1))
    assert np.allclose(shifted["image"].mean(axis=-1), polar["image"].mean(axis=-1))
