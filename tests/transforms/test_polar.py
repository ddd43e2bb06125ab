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
