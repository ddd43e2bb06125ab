import numpy as np
import pytest
from pyFAI.integrator.azimuthal import AzimuthalIntegrator

from scivit.errors import ConfigError
from scivit.transforms import (
    Geometry,
    LogIntensity,
    RadialChannels,
    RadialNormalize,
    RadiusChannel,
    Standardize,
    make_sample,
    radial_bins,
    radial_profile,
)

PIXEL, DISTANCE, WAVELENGTH = 1e-4, 0.3, 1.2e-10
CENTERS = [(13.37, 30.21), (-7.3, 20.6), (70.2, 51.9)]


def pyfai_profile(image, mask, center, bins, radial_range, unit):
    x, y = center
    integrator = AzimuthalIntegrator(
        dist=DISTANCE,
        poni1=(y + 0.5) * PIXEL,
        poni2=(x + 0.5) * PIXEL,
        pixel1=PIXEL,
        pixel2=PIXEL,
        wavelength=WAVELENGTH,
    )
    return integrator.integrate1d(
        image,
        bins,
        radial_range=radial_range,
        mask=mask,
        unit=unit,
        method=("no", "histogram", "cython"),
        correctSolidAngle=False,
        polarization_factor=None,
    )


@pytest.fixture
def frame():
    rng = np.random.default_rng(1)
    image = (rng.random((48, 64)) * 100).astype(np.float32)
    return image, rng.random((48, 64)) < 0.1


@pytest.mark.parametrize("center", CENTERS)
@pytest.mark.parametrize("unit", ["px", "q"])
def test_profile_matches_pyfai(frame, center, unit):
    image, mask = frame
    geometry = Geometry(center, PIXEL, DISTANCE, WAVELENGTH)
    position = geometry.radius_px(image.shape) if unit == "px" else geometry.q_map(image.shape)
    radial_range = (0.0, float(position.max()) * 1.01)
    ours = radial_profile(image, geometry, bins=40, radial_range=radial_range, mask=mask, unit=unit)
    scale = PIXEL * 1e3 if unit == "px" else 1.0
    pyfai_range = (radial_range[0] * scale, radial_range[1] * scale)
    pyfai_unit = "r_mm" if unit == "px" else "q_nm^-1"
    reference = pyfai_profile(image, mask, center, 40, pyfai_range, pyfai_unit)
    np.testing.assert_allclose(ours.radius * scale, reference.radial, rtol=1e-5)
    np.testing.assert_array_equal(ours.count, reference.count)
    np.testing.assert_allclose(ours.intensity, reference.intensity, rtol=1e-5)


def test_profile_of_hand_made_image():
    image = np.array([[1, 2, 1], [2, 9, 2], [1, 2, 1]], dtype=np.float32)
    profile = radial_profile(image, Geometry((1.0, 1.0)), bins=3, radial_range=(0.0, 1.5))
    np.testing.assert_allclose(profile.intensity, [9.0, 0.0, 1.5])
    np.testing.assert_array_equal(profile.count, [1, 0, 8])


def test_binning_is_cached():
    first = radial_bins((16, 16), Geometry((3.5, 2.0)), 10)
    assert radial_bins((16, 16), Geometry((3.5, 2.0)), 10) is first
    assert first.bins == 10


def test_profile_bad_arguments():
    image = np.ones((8, 8), dtype=np.float32)
    geometry = Geometry((4.0, 4.0))
    with pytest.raises(ConfigError, match="unit"):
        radial_profile(image, geometry, unit="deg")
    with pytest.raises(ConfigError, match="bins"):
        radial_profile(image, geometry, bins=0)
    with pytest.raises(ConfigError, match="radial_range"):
        radial_profile(image, geometry, radial_range=(3.0, 1.0))
    with pytest.raises(ConfigError, match="mask shape"):
        radial_profile(image, geometry, mask=np.zeros((4, 4), dtype=bool))


def isotropic(center, shape=(40, 56)):
    radius = Geometry(center).radius_px(shape)
    return (1000.0 / (1.0 + radius**2 / 50.0)).astype(np.float32)


def test_radial_normalize_flattens_isotropic_pattern():
    image = isotropic((20.4, -5.5))
    out = RadialNormalize()(make_sample(image, beam_center=(20.4, -5.5)))["image"]
    deviation = np.abs(out - 1.0)
    assert deviation.max() < 0.06
    assert np.percentile(deviation, 95) < 0.01


def test_radial_normalize_subtract_on_log_image():
    image = np.log(isotropic((30.0, 12.0)))
    out = RadialNormalize(mode="subtract")(make_sample(image, beam_center=(30.0, 12.0)))
    np.testing.assert_allclose(out["image"], 0.0, atol=0.05)


def test_radial_normalize_makes_a_peak_stand_out():
    image = isotropic((20.0, 20.0))
    image[5, 30] *= 3
    out = RadialNormalize()(make_sample(image, beam_center=(20.0, 20.0)))["image"][0]
    assert np.unravel_index(np.argmax(out), out.shape) == (5, 30)
    assert out[5, 30] > 2.5


def test_radial_normalize_masked_and_empty_bins_give_no_nan():
    image = isotropic((10.0, 10.0))
    mask = np.zeros(image.shape, dtype=bool)
    mask[:, 20:30] = True
    sample = make_sample(image, mask=mask, beam_center=(10.0, 10.0))
    out = RadialNormalize(bins=200)(sample)["image"]
    assert np.isfinite(out).all()
    assert (out[0][mask] == 1.0).all()
    everything = make_sample(image, mask=np.ones(image.shape, bool), beam_center=(1.0, 1.0))
    np.testing.assert_array_equal(RadialNormalize()(everything)["image"], 1.0)


def test_radial_normalize_zero_ring_and_options():
    sample = make_sample(np.zeros((8, 8)), beam_center=(3.0, 3.0))
    np.testing.assert_array_equal(RadialNormalize()(sample)["image"], 1.0)
    with pytest.raises(ConfigError, match="mode"):
        RadialNormalize(mode="ratio")
    with pytest.raises(ConfigError, match="beam centre"):
        RadialNormalize()(make_sample(np.zeros((8, 8))))


def test_changing_masks_on_the_same_binning():
    rng = np.random.default_rng(3)
    image = rng.random((16, 16)).astype(np.float32)
    geometry = Geometry((5.2, 7.9))
    masks = [rng.random((16, 16)) < 0.3 for _ in range(2)]
    for mask in [masks[0], masks[1], masks[0], None, masks[1]]:
        profile = radial_profile(image, geometry, bins=6, radial_range=(0.0, 14.0), mask=mask)
        radius = geometry.radius_px((16, 16))
        keep = np.ones((16, 16), bool) if mask is None else ~mask
        index = np.minimum((radius / 14.0 * 6).astype(int), 5)
        for b in range(6):
            selected = image[(index == b) & keep & (radius <= 14.0)]
            expected = selected.mean() if selected.size else 0.0
            assert profile.intensity[b] == pytest.approx(expected, rel=1e-6)


def ring_counts(center, shape=(64, 72), radius=20.0, level=3.0, seed=0):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    r = np.hypot(xx - center[0], yy - center[1])
    truth = level * (1.0 + 2.0 * np.exp(-((r - radius) ** 2) / 8.0))
    counts = np.random.default_rng(seed).poisson(truth).astype(np.float32)
    return truth.astype(np.float32), counts


def test_radial_mean_channel_recovers_a_ring_lost_in_counting_noise():
    center = (30.0, 34.0)
    truth, counts = ring_counts(center)
    out = RadialChannels()(make_sample(counts, beam_center=center))
    frame, mean, residual = out["image"]
    np.testing.assert_array_equal(frame, counts)
    np.testing.assert_allclose(frame, mean + residual, atol=1e-5)
    pixel_error = np.abs(counts - truth).mean()
    mean_error = np.abs(mean - truth).mean()
    assert mean_error < 0.25 * pixel_error


def test_residual_keeps_an_arc_and_drops_masked_pixels():
    center = (30.0, 34.0)
    truth, _ = ring_counts(center)
    yy, xx = np.mgrid[:64, :72]
    arc = (np.abs(np.hypot(xx - 30.0, yy - 34.0) - 12.0) < 1.5) & (xx > 30.0)
    mask = np.zeros(truth.shape, bool)
    mask[:4] = True
    image = truth + 5.0 * arc
    out = RadialChannels(keep_image=False)(make_sample(image, mask=mask, beam_center=center))
    mean, residual = out["image"]
    assert np.all(residual[mask] == 0.0)
    assert residual[arc].mean() > 2.0 and abs(residual[~arc & ~mask].mean()) < 0.3


def test_level_channel_keeps_the_exposure_that_per_frame_standardize_removes():
    center = (30.0, 34.0)
    frames = [ring_counts(center, level=level)[1] for level in (1.0, 100.0)]
    chain = [RadialChannels(level=True), Standardize(channels=[0, 1, 2])]
    outs = []
    for counts in frames:
        sample = LogIntensity()(make_sample(counts, beam_center=center))
        for step in chain:
            sample = step(sample)
        outs.append(sample["image"])
    weak, strong = outs
    assert weak.shape == (4, 64, 72)
    assert abs(weak[1].std() - strong[1].std()) < 0.2
    assert strong[3].mean() - weak[3].mean() > np.log(100.0) - 1.0


def test_radial_channels_need_one_channel():
    with pytest.raises(ConfigError, match="one-channel"):
        RadialChannels()(make_sample(np.ones((2, 8, 8), np.float32), beam_center=(4.0, 4.0)))


def test_radius_channel_reads_ring_ratios_as_differences():
    sample = make_sample(np.ones((2, 40, 50), np.float32), beam_center=(10.0, 12.0))
    out = RadiusChannel()(sample)
    assert out["image"].shape == (3, 40, 50)
    np.testing.assert_array_equal(out["image"][:2], sample["image"])
    plane = out["image"][2]
    scale = np.log(np.hypot(40, 50))
    assert plane[12, 10] == 0.0
    assert (plane[12, 30] - plane[12, 20]) * scale == pytest.approx(np.log(2.0), rel=1e-5)
    linear = RadiusChannel(log=False, r_scale=20.0)(sample)["image"][2]
    assert linear[12, 30] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="r_scale"):
        RadiusChannel(r_scale=0.5)
