import numpy as np
import pytest

from scivit.errors import ConfigError
from scivit.transforms import Geometry, MaskBeamstop, make_sample


def pattern(center, shape=(64, 64), seed=0):
    radius = Geometry(center).radius_px(shape)
    mean = 2000.0 / (1.0 + (radius / 10.0) ** 2) + 20.0
    return np.random.default_rng(seed).poisson(mean).astype(np.float32), radius


def test_circular_stop_found():
    image, radius = pattern((30.3, 25.6))
    stop = radius < 6
    image[stop] = 0.0
    mask = MaskBeamstop()(make_sample(image, beam_center=(30.3, 25.6)))["mask"]
    assert mask[stop].all()
    assert mask.sum() <= (radius < 6 + 3.5).sum()


def test_linear_stop_from_edge_to_centre_found():
    image, radius = pattern((30.0, 40.0))
    stop = radius < 5
    stop[38:43, 30:] = True
    image[stop] = 0.0
    mask = MaskBeamstop(dilate=0)(make_sample(image, beam_center=(30.0, 40.0)))["mask"]
    assert mask[stop].all()
    assert mask[:20].sum() == 0


def test_detector_gaps_user_mask_and_sample_mask_are_merged():
    image, radius = pattern((20.0, 20.0))
    image[:, 50] = 0.0
    user = np.zeros(image.shape, dtype=bool)
    user[60, 60] = True
    own = np.zeros(image.shape, dtype=bool)
    own[2, 3] = True
    sample = make_sample(image, mask=own, beam_center=(20.0, 20.0))
    mask = MaskBeamstop(mask=user)(sample)["mask"]
    assert mask[:, 50].all() and mask[60, 60] and mask[2, 3]
    assert mask.sum() == 64 + 2
    assert sample["mask"].sum() == 1


def test_beam_centre_off_image():
    image, radius = pattern((-4.0, 30.0))
    stop = radius < 8
    image[stop] = 0.0
    mask = MaskBeamstop()(make_sample(image, beam_center=(-4.0, 30.0)))["mask"]
    assert mask[stop].all()
    far, _ = pattern((200.0, 300.0))
    assert MaskBeamstop()(make_sample(far, beam_center=(200.0, 300.0)))["mask"].sum() == 0


def test_constant_image_masks_nothing_and_geometry_wins():
    sample = make_sample(np.full((16, 16), 3.0), beam_center=(1.0, 1.0))
    assert MaskBeamstop()(sample)["mask"].sum() == 0
    image, radius = pattern((40.0, 40.0))
    image[radius < 5] = 0.0
    mask = MaskBeamstop(geometry={"beam_center": (40.0, 40.0)})(make_sample(image))["mask"]
    assert mask[radius < 5].all()


def test_errors():
    with pytest.raises(ConfigError, match="never assumed"):
        MaskBeamstop()(make_sample(np.ones((8, 8))))
    with pytest.raises(ConfigError, match="threshold"):
        MaskBeamstop(threshold=1.5)
    with pytest.raises(ConfigError, match="mask shape"):
        MaskBeamstop(mask=np.zeros((4, 4)), auto=False)(make_sample(np.ones((8, 8))))
    assert MaskBeamstop(auto=False)(make_sample(np.ones((8, 8))))["mask"] is None
