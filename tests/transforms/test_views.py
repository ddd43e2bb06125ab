"""Views for self-supervised pretraining: the random crop turned about the beam centre and
mirrored (`crop`), gamma, blur, unlog (`photometric`), and the multi-crop built from
`ViewOptions`, optionally with the masks of its views (`views`)."""

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from scivit.errors import ConfigError
from scivit.transforms import (
    TRANSFORMS,
    LogIntensity,
    RandGamma,
    RandGaussianBlur,
    RandResizedCrop,
    ToTensor,
    Unlog,
    make_sample,
)
from scivit.transforms.augment import rotate_sample
from scivit.transforms.views import ViewOptions, build_multicrop, log_offset, view_mask


def noise_sample(size=40, center=(12.0, 25.0), mask=None, seed=0):
    image = np.random.default_rng(seed).random((size, size)).astype(np.float32)
    return make_sample(image, mask=mask, beam_center=center)


def band_mask(size=48):
    mask = np.zeros((size, size), dtype=bool)
    mask[20:28, :] = True
    mask[:, 5:9] = True
    return mask


def test_full_box_without_rotation_is_the_identity():
    sample = noise_sample()
    out = RandResizedCrop(40, scale=(1, 1), ratio=(1, 1))(sample)
    np.testing.assert_allclose(out["image"], sample["image"], atol=1e-5)
    assert out["mask"] is None
    assert out["beam_center"] == pytest.approx((12.0, 25.0))


def test_rotation_matches_rotate_sample_about_the_beam_centre():
    sample = noise_sample()
    crop = RandResizedCrop(40, scale=(1, 1), ratio=(1, 1), degrees=90, seed=5)
    angle = np.random.default_rng(5).uniform(-90, 90)
    out = crop(sample)
    reference = rotate_sample(sample, angle, (12.0, 25.0))
    both_valid = ~out["mask"] & ~reference["mask"]
    assert both_valid.mean() > 0.5
    np.testing.assert_allclose(
        out["image"][0][both_valid], reference["image"][0][both_valid], atol=1e-4
    )
    assert out["beam_center"] == pytest.approx((12.0, 25.0))
    assert out["mask"][0, 39] and out["mask"][39, 39]


def test_flips_give_the_four_mirror_images_and_move_the_beam_centre():
    sample = noise_sample(center=(3.0, 10.0))
    image = sample["image"][0]
    mirrors = {
        (False, False): (image, (3.0, 10.0)),
        (True, False): (image[:, ::-1], (36.0, 10.0)),
        (False, True): (image[::-1], (3.0, 29.0)),
        (True, True): (image[::-1, ::-1], (36.0, 29.0)),
    }
    seen = set()
    for seed in range(16):
        out = RandResizedCrop(40, scale=(1, 1), ratio=(1, 1), flip=True, seed=seed)(sample)
        for kind, (expected, center) in mirrors.items():
            if np.allclose(out["image"][0], expected, atol=1e-5):
                assert out["beam_center"] == pytest.approx(center)
                seen.add(kind)
    assert seen == set(mirrors)


def test_crop_moves_the_beam_centre_with_the_box():
    rows, cols = np.mgrid[:48, :48].astype(np.float32)
    ramp = make_sample(3.0 * rows + 0.5 * cols, beam_center=(30.5, 17.25))
    for seed in range(5):
        out = RandResizedCrop(16, scale=(0.1, 0.5), seed=seed)(ramp)
        x, y = out["beam_center"]
        # bilinear resampling of a linear ramp is exact: the crop is a ramp too, and its
        # value extrapolated to the crop's beam centre is the frame's at its beam centre
        view = out["image"][0].astype(np.float64)
        per_row, per_col = view[1, 0] - view[0, 0], view[0, 1] - view[0, 0]
        np.testing.assert_allclose(
            view, view[0, 0] + per_row * rows[:16, :16] + per_col * cols[:16, :16], atol=1e-3
        )
        assert view[0, 0] + per_row * y + per_col * x == pytest.approx(
            3.0 * 17.25 + 0.5 * 30.5, abs=1e-3
        )


def test_mask_follows_the_crop_and_mirrors():
    mask = band_mask()
    image = np.random.default_rng(1).random((48, 48)).astype(np.float32)
    masked = make_sample(image, mask=mask, beam_center=(24, 24))
    as_image = make_sample(mask.astype(np.float32), beam_center=(24, 24))
    for seed in range(6):
        options = {"size": 24, "scale": (0.2, 1.0), "flip": True, "seed": seed}
        out = RandResizedCrop(**options)(masked)
        twin = RandResizedCrop(**options)(as_image)
        assert out["mask"] is not None
        np.testing.assert_array_equal(out["mask"], twin["image"][0] > 0.5)


def test_masked_pixels_never_leak_and_are_zero_after_to_tensor():
    mask = band_mask()
    image = np.ones((48, 48), dtype=np.float32)
    image[mask] = 1e6
    sample = make_sample(image, mask=mask, beam_center=(24, 24))
    for seed in range(4):
        out = RandResizedCrop(24, scale=(0.3, 1.0), degrees=180, flip=True, seed=seed)(sample)
        np.testing.assert_allclose(out["image"][0][~out["mask"]], 1.0, rtol=1e-5)
        tensor = ToTensor()(out)["image"]
        assert torch.all(tensor[0][torch.from_numpy(out["mask"])] == 0)


def test_crop_larger_than_the_image_names_both_sizes():
    with pytest.raises(ConfigError, match=r"40x40 image; the largest allowed crop is 40"):
        RandResizedCrop(48)(noise_sample())


def test_rotation_without_beam_centre_is_an_error():
    sample = make_sample(np.ones((16, 16), dtype=np.float32))
    with pytest.raises(ConfigError, match="no beam centre"):
        RandResizedCrop(8, degrees=30)(sample)


def test_gamma_follows_the_curve_on_the_valid_range():
    image = np.array([[-1.0, 0.0, 1.0, 3.0]], dtype=np.float32)
    mask = np.array([[False, False, False, True]])
    out = RandGamma(low=2.0, high=2.0)(make_sample(image, mask=mask))
    expected = -1.0 + 2.0 * ((image[0, :3] + 1.0) / 2.0) ** 2
    np.testing.assert_allclose(out["image"][0, 0, :3], expected, rtol=1e-6)
    assert out["image"].min() == pytest.approx(-1.0) and out["image"][0, 0, 2] == 1.0


def test_blur_equals_scipy_without_mask_and_ignores_masked_pixels():
    sample = noise_sample(size=24)
    blur = RandGaussianBlur(low=1.5, high=1.5)
    np.testing.assert_allclose(
        blur(sample)["image"][0], ndimage.gaussian_filter(sample["image"][0], 1.5), atol=1e-5
    )
    mask = np.zeros((24, 24), dtype=bool)
    mask[10:14, 10:14] = True
    flat = np.ones((24, 24), dtype=np.float32)
    flat[mask] = 1e6
    out = RandGaussianBlur(low=2.0, high=2.0)(make_sample(flat, mask=mask))
    np.testing.assert_allclose(out["image"][0][~mask], 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out["mask"], mask)


def test_unlog_inverts_log():
    counts = np.array([[0.0, 3.0, 250.0, 9.5e5]], dtype=np.float32)
    sample = make_sample(counts)
    back = Unlog(offset=2.0)(LogIntensity(offset=2.0)(sample))
    np.testing.assert_allclose(back["image"], sample["image"], rtol=1e-5, atol=1e-4)


def test_view_transforms_are_registered():
    expected = {
        "rand_resized_crop": RandResizedCrop,
        "rand_gamma": RandGamma,
        "rand_blur": RandGaussianBlur,
        "unlog": Unlog,
    }
    for name, transform in expected.items():
        assert TRANSFORMS.get(name) is transform
    assert RandResizedCrop.__module__ == "scivit.transforms.crop"
    assert {RandGamma.__module__, Unlog.__module__} == {"scivit.transforms.photometric"}


def log_counts_sample(seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.poisson(50, (48, 48)).astype(np.float32)
    return LogIntensity()(make_sample(counts, mask=band_mask(), beam_center=(24.0, 24.0)))


def small_options(**changes):
    return ViewOptions(global_size=32, local_size=16, n_local=3, **changes)


def test_multicrop_gives_global_then_local_views_each_a_fresh_draw():
    views = build_multicrop(small_options(), [{"name": "log"}])
    out = views.set_random_state(0)(log_counts_sample())
    assert [tuple(v.shape) for v in out] == [(1, 32, 32)] * 2 + [(1, 16, 16)] * 3
    assert all(v.dtype == torch.float32 for v in out)
    assert not torch.equal(out[0], out[1])
    assert not torch.equal(out[2], out[3])


def test_multicrop_is_reproduced_by_a_seed():
    views = build_multicrop(small_options(), [{"name": "log"}])
    sample = log_counts_sample()
    first = views.set_random_state(7)(sample)
    again = views.set_random_state(7)(sample)
    other = views.set_random_state(8)(sample)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_multicrop_resamples_counts_between_unlog_and_log():
    views = build_multicrop(small_options(), [{"name": "mask_beamstop"}, {"name": "log"}])
    names = [type(t).__name__ for t in views.global_views[0]]
    assert names[:5] == [
        "RandResizedCrop",
        "Unlog",
        "RandIntensityScale",
        "RandPoisson",
        "LogIntensity",
    ]
    assert names[-1] == "ToTensor" and "Standardize" in names
    counts_views = build_multicrop(small_options(), [{"name": "fix_dead_pixels"}])
    names = [type(t).__name__ for t in counts_views.global_views[0]]
    assert "Unlog" not in names and "RandPoisson" in names


def test_multicrop_views_are_standardised_with_masked_pixels_zero():
    views = build_multicrop(small_options(gamma=None, blur_sigma=None), [{"name": "log"}])
    sample = log_counts_sample()
    views.set_random_state(3)
    pipeline = views.global_views[0]
    for _ in range(3):
        before = sample
        for transform in list(pipeline)[:-1]:
            before = transform(before)
        valid = ~before["mask"]
        image = ToTensor()(before)["image"][0]
        assert torch.all(image[torch.from_numpy(before["mask"])] == 0)
        assert float(image[torch.from_numpy(valid)].mean()) == pytest.approx(0.0, abs=1e-4)
        assert float(image[torch.from_numpy(valid)].std(unbiased=False)) == pytest.approx(
            1.0, abs=1e-3
        )


def test_multicrop_masks_follow_their_views_and_leave_the_views_unchanged():
    options = small_options(gamma=None, blur_sigma=None)
    masked = build_multicrop(options, [{"name": "log"}], with_masks=True)
    plain = build_multicrop(options, [{"name": "log"}])
    sample = log_counts_sample()
    out = masked.set_random_state(4)(sample)
    assert len(out) == 10
    unmasked = plain.set_random_state(4)(sample)
    assert all(torch.equal(a, b) for a, b in zip(out[:5], unmasked, strict=True))
    masked.set_random_state(4)
    expected = [pipeline(sample) for pipeline in masked.global_views]
    expected += [masked.local_view(sample) for _ in range(3)]
    for image, mask, view in zip(out[:5], out[5:], expected, strict=True):
        assert mask.dtype == torch.bool and mask.shape == image.shape[-2:]
        np.testing.assert_array_equal(mask.numpy(), view["mask"])
        assert torch.all(image[0][mask] == 0)
    assert any(mask.any() for mask in out[5:])


def test_view_without_a_mask_has_an_all_valid_mask():
    view = ToTensor()(make_sample(np.ones((6, 5), dtype=np.float32)))
    mask = view_mask(view)
    assert mask.dtype == torch.bool and tuple(mask.shape) == (6, 5) and not mask.any()


def test_plain_view_is_deterministic_at_the_global_size():
    views = build_multicrop(small_options(), [{"name": "log"}])
    sample = log_counts_sample()
    first, second = views.plain(sample)["image"], views.plain(sample)["image"]
    assert tuple(first.shape) == (1, 32, 32) and torch.equal(first, second)
    assert views.input_size == 32 and views.needs_beam_center


def test_counts_lost_by_preprocessing_is_a_config_error():
    with pytest.raises(ConfigError, match="'standardize' loses the counts"):
        log_offset([{"name": "log"}, {"name": "standardize"}])
    with pytest.raises(ConfigError, match="'log' loses the counts"):
        log_offset([{"name": "log"}, {"name": "fix_dead_pixels"}])
    assert log_offset([{"name": "fix_dead_pixels"}, {"name": "log", "offset": 2.5}]) == 2.5
    assert log_offset([{"name": "fix_dead_pixels"}]) is None
    no_counts = small_options(intensity_scale=None, poisson_exposure=None)
    build_multicrop(no_counts, [{"name": "log"}, {"name": "standardize"}])


def test_probabilities_and_sizes_are_validated():
    with pytest.raises(ValueError):
        ViewOptions(blur_prob=(1.0, 0.1, 1.5))
    assert small_options().largest_size() == 32
    assert ViewOptions(global_size=32, local_size=64, n_local=0).largest_size() == 32
    assert math.isclose(ViewOptions().ratio[1], 4 / 3)
