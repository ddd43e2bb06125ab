import numpy as np
import pytest
from pyFAI.integrator.azimuthal import AzimuthalIntegrator

from scivit.errors import ConfigError, ReadError
from scivit.transforms import Geometry, as_geometry, make_sample, resolve_center


def integrator(center, pixel=1e-4, distance=0.25, wavelength=1.1e-10):
    x, y = center
    return AzimuthalIntegrator(
        dist=distance,
        poni1=(y + 0.5) * pixel,
        poni2=(x + 0.5) * pixel,
        pixel1=pixel,
        pixel2=pixel,
        wavelength=wavelength,
    )


def test_from_poni_reads_pyfai_geometry(tmp_path):
    path = tmp_path / "det.poni"
    integrator((20.25, 11.5)).save(str(path))
    geometry = Geometry.from_poni(path)
    assert geometry.beam_center == pytest.approx((20.25, 11.5))
    assert geometry.pixel_size == pytest.approx(1e-4)
    assert geometry.distance == pytest.approx(0.25)
    assert geometry.wavelength == pytest.approx(1.1e-10)


@pytest.mark.parametrize("center", [(20.25, 11.5), (-6.0, 40.7), (70.0, -3.2)])
def test_q_map_matches_pyfai(center):
    geometry = Geometry(center, 1e-4, 0.25, 1.1e-10)
    expected = integrator(center).qArray((32, 48))
    np.testing.assert_allclose(geometry.q_map((32, 48)), expected, rtol=1e-5, atol=1e-6)


def test_radius_map_is_cached_and_read_only():
    geometry = Geometry((3.0, 4.0))
    radius = geometry.radius_px((8, 8))
    assert radius[0, 0] == pytest.approx(5.0)
    assert geometry.radius_px((8, 8)) is radius
    assert not radius.flags.writeable


def test_bad_geometry_values():
    with pytest.raises(ConfigError, match="pixel_size"):
        Geometry((1.0, 1.0), pixel_size=-1.0)
    with pytest.raises(ConfigError, match="beam_center"):
        Geometry((1.0, float("nan")))
    with pytest.raises(ConfigError, match="wavelength"):
        Geometry((1.0, 1.0), 1e-4, 0.2).q_map((4, 4))
    with pytest.raises(ConfigError, match="beam_center is not set"):
        Geometry().radius_px((4, 4))


def test_missing_and_broken_poni(tmp_path):
    with pytest.raises(ReadError, match="missing.poni"):
        Geometry.from_poni(tmp_path / "missing.poni")
    broken = tmp_path / "broken.poni"
    broken.write_text("Distance: nonsense\n")
    with pytest.raises(ReadError, match="broken.poni"):
        Geometry.from_poni(broken)


def test_as_geometry_from_mapping_and_unknown_key():
    assert as_geometry({"beam_center": [1, 2]}).beam_center == (1.0, 2.0)
    with pytest.raises(ConfigError, match="did you mean 'pixel_size'"):
        as_geometry({"pixel_sise": 1e-4})


def test_resolve_center_order_and_error():
    sample = make_sample(np.zeros((4, 4)), beam_center=(1, 2))
    assert resolve_center(Geometry((3.0, 3.0)), sample, "t") == (3.0, 3.0)
    assert resolve_center(None, sample, "t") == (1.0, 2.0)
    with pytest.raises(ConfigError, match="never assumed"):
        resolve_center(Geometry(), make_sample(np.zeros((4, 4))), "t")
