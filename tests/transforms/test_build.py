import numpy as np
import pytest
import torch

from scivit.errors import ConfigError
from scivit.transforms import (
    TRANSFORMS,
    Compose,
    LogIntensity,
    Resize,
    ToTensor,
    build_transforms,
    make_sample,
)

EXPECTED = {
    "fix_dead_pixels",
    "mask_beamstop",
    "log",
    "clip_percentile",
    "radial_normalize",
    "radial_channels",
    "radius_channel",
    "polar",
    "standardize",
    "resize",
    "to_tensor",
    "rand_flip",
    "rand_rotate",
    "rand_azimuth_shift",
    "rand_intensity_scale",
    "rand_resized_crop",
    "rand_gamma",
    "rand_blur",
    "unlog",
    "rand_poisson",
}


def test_every_transform_registered():
    assert set(TRANSFORMS.names()) == EXPECTED


def test_build_from_specs():
    pipeline = build_transforms([{"name": "log"}, {"name": "resize", "size": 8}])
    assert isinstance(pipeline, Compose)
    assert isinstance(pipeline[0], LogIntensity) and isinstance(pipeline[1], Resize)
    assert pipeline(make_sample(np.ones((16, 16))))["image"].shape == (1, 8, 8)


RESHAPING = {"resize", "polar", "radial_channels", "radius_channel", "rand_resized_crop"}


@pytest.mark.parametrize("name", sorted(EXPECTED - RESHAPING))
def test_every_transform_runs_without_nan(name):
    rng = np.random.default_rng(0)
    image = rng.poisson(30, (2, 32, 32)).astype(np.float32)
    mask = np.zeros((32, 32), dtype=bool)
    mask[:3, :3] = True
    sample = make_sample(image, mask=mask, beam_center=(12.5, 40.0))
    out = build_transforms([{"name": name}])(sample)
    assert np.isfinite(np.asarray(out["image"])).all()
    assert out["image"].shape == (2, 32, 32)
    np.testing.assert_array_equal(sample["image"], image)


def test_unknown_name_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'rand_rotate'"):
        build_transforms([{"name": "rand_rotat"}])


def test_bad_keyword_and_missing_option():
    with pytest.raises(
        ConfigError, match="transform 'resize': unknown option 'sise'; did you mean 'size'"
    ):
        build_transforms([{"name": "resize", "sise": 4}])
    with pytest.raises(ConfigError, match="missing option 'size'"):
        build_transforms([{"name": "resize"}])
    with pytest.raises(ConfigError, match="needs a 'name'"):
        build_transforms([{"size": 4}])
    with pytest.raises(ConfigError, match="list"):
        build_transforms({"name": "log"})


def test_geometry_from_recipe_mapping():
    pipeline = build_transforms([{"name": "radial_normalize", "geometry": {"beam_center": [4, 4]}}])
    assert pipeline(make_sample(np.ones((8, 8))))["image"].shape == (1, 8, 8)


def test_to_tensor_zeroes_masked_pixels():
    mask = np.zeros((4, 4), dtype=bool)
    mask[1, 2] = True
    sample = make_sample(np.full((4, 4), 3.0), mask=mask)
    out = ToTensor()(sample)
    assert out["image"].dtype == torch.float32 and out["image"].shape == (1, 4, 4)
    assert out["image"][0, 1, 2] == 0 and out["image"].sum() == 45
    assert sample["image"][0, 1, 2] == 3.0
    with pytest.raises(ConfigError, match="float32 numpy array"):
        ToTensor()(out)
