"""PolarRemap: rings become rows, lattice ratios fixed offsets, masks and off-image beams."""

import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import PolarRemap, make_sample


def ring_image(center, radius, shape=(64, 80)):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    r = np.hypot(xx - center[0], yy - center[1])
    return np.exp(-((r - radius) ** 2) / 2.0).astype(np.float32)


def test_ring_becomes_a_row_at_its_radius_linear():
    image = ring_image((30.0, 25.0), 12.0)
    out = PolarRemap(size=(90, 32), log_radius=False)(make_sample(image, beam_center=(30.0, 25.0)))
    profile = out["image"][0][:, ~out["mask"].all(axis=0)].mean(axis=1)
    r_max = np.hypot(80 - 1 - 30, 64 - 1 - 25)
    peak_radius = np.argmax(profile) * r_max / 89
    assert peak_radius == pytest.approx(12.0, abs=r_max / 89)
    assert out["beam_center"] is None and out["image"].shape == (1, 90, 32)


def test_log_radius_turns_ratios_into_fixed_offsets():
    remap = PolarRemap(size=(200, 16), log_radius=True, r_min=1.0)
    rows = []
    for radius in (6.0, 12.0):
        image = ring_image((40.0, 32.0), radius)
        out = remap(make_sample(image, beam_center=(40.0, 32.0)))
        rows.append(int(np.argmax(out["image"][0].mean(axis=1))))
    r_max = np.hypot(40, 32)
    step = np.log(r_max) / 199
    assert (rows[1] - rows[0]) * step == pytest.approx(np.log(2.0), abs=2 * step)


def test_off_image_beam_and_mask_are_masked_not_invented():
    image = np.ones((32, 32), np.float32)
    mask = np.zeros((32, 32), bool)
    mask[:, :4] = True
    out = PolarRemap(size=32)(make_sample(image, mask=mask, beam_center=(-10.0, 16.0)))
    assert out["mask"].any() and (~out["mask"]).any()
    assert np.all(out["image"][0][out["mask"]] == 0)
    assert np.allclose(out["image"][0][~out["mask"]], 1.0, atol=1e-5)


def test_needs_beam_centre_and_valid_size():
    with pytest.raises(ConfigError, match="no beam centre"):
        PolarRemap()(make_sample(np.ones((8, 8))))
    with pytest.raises(ConfigError, match="size"):
        PolarRemap(size=(1, 8))


def thin_ring(center, radius, shape=(96, 96), sigma=0.4):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    r = np.hypot(xx - center[0], yy - center[1])
    return np.exp(-((r - radius) ** 2) / (2 * sigma**2)).astype(np.float32)


def radial_mass(remap, radius):
    """Integral over radius of the azimuthal mean (the ring's cross-section, ~sigma sqrt(2 pi))."""
    center = (48.0, 48.0)
    out = remap(make_sample(thin_ring(center, radius), beam_center=center))
    profile = out["image"][0].mean(axis=1)
    edges = np.geomspace(remap.r_min, remap.r_max, remap.size[0]) * np.exp(
        np.log(remap.r_max / remap.r_min) / (remap.size[0] - 1) / 2
    )
    widths = edges - edges / np.exp(np.log(remap.r_max / remap.r_min) / (remap.size[0] - 1))
    return float((profile * widths).sum())


def test_cell_averaging_keeps_thin_rings_point_sampling_loses_them():
    radii = np.linspace(38.0, 44.0, 13)
    expected = 0.4 * np.sqrt(2 * np.pi)
    averaged = [
        radial_mass(PolarRemap((32, 64), r_min=1.0, r_max=60.0, supersample=8), r) for r in radii
    ]
    pointwise = [
        radial_mass(PolarRemap((32, 64), r_min=1.0, r_max=60.0, supersample=1), r) for r in radii
    ]
    assert np.allclose(averaged, expected, rtol=0.15)
    assert min(pointwise) < 0.3 * expected


def test_masked_pixels_stay_out_of_the_cell_mean():
    image = np.ones((40, 40), np.float32)
    mask = np.zeros((40, 40), bool)
    mask[::3, ::3] = True
    image[mask] = 1000.0
    out = PolarRemap(size=(16, 16), supersample=4)(
        make_sample(image, mask=mask, beam_center=(20.0, 20.0))
    )
    assert np.allclose(out["image"][0][~out["mask"]], 1.0, atol=1e-4)


def test_fixed_r_max_puts_one_radius_on_one_row_whatever_the_beam_centre():
    remap = PolarRemap(size=(64, 32), r_min=2.0, r_max=120.0)
    rows = []
    for center in ((48.0, 48.0), (20.0, 70.0)):
        out = remap(make_sample(thin_ring(center, 15.0, sigma=1.0), beam_center=center))
        rows.append(int(np.argmax(out["image"][0].mean(axis=1))))
    assert rows[0] == rows[1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"r_max": 0.5}, "r_max"),
        ({"supersample": 0}, "supersample"),
        ({"supersample": 1.5}, "supersample"),
    ],
)
def test_bad_radius_range_or_supersampling_is_refused(options, message):
    with pytest.raises(ConfigError, match=message):
        PolarRemap(**options)
