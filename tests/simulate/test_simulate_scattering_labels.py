"""Visibility rules of the scattering tags on hand-built expected-count maps."""

from __future__ import annotations

import numpy as np
import pytest

from scivit.simulate.scattering_labels import (
    ARC_FRACTION,
    BROAD_CONTRAST,
    DIFFUSE_FRACTION,
    PEAK_SIGNIFICANCE,
    SHARP_CONTRAST,
    Expected,
    arc_pixels,
    distinct_rings,
    frame_tags,
    peak_visible,
    resolved,
    significance,
    smooth_dominates,
    term_counts,
)
from scivit.simulate.scattering_physics import dnn_for_first_peak
from scivit.simulate.scattering_terms import Peak, Term, Texture, apparent_width, build_terms

SIZE = 64
Q_STEP = 0.01
GRID = np.linspace(0.0, 1.0, 2001)
ISOTROPIC = Texture()


def _maps(rest: float) -> dict[str, np.ndarray]:
    """q = Q_STEP x radius from the frame centre, flat rest counts, every pixel working."""
    rows, cols = np.mgrid[0:SIZE, 0:SIZE].astype(float)
    dx, dy = cols - 31.5, rows - 31.5
    return {
        "q": Q_STEP * np.hypot(dx, dy),
        "chi": np.arctan2(dy, dx),
        "rest": np.full((SIZE, SIZE), rest),
    }


def _expected(
    maps: dict[str, np.ndarray], sample: np.ndarray, rising: np.ndarray | None = None
) -> Expected:
    """Flat rest counts plus `sample`, plus a background `rising` towards the beam if given."""
    rising = np.zeros((SIZE, SIZE)) if rising is None else rising
    return Expected(
        q=maps["q"],
        chi=maps["chi"],
        scale=np.ones((SIZE, SIZE)),
        total=maps["rest"] + rising + sample,
        sample=sample,
        background=maps["rest"] + rising,
        smooth_background=rising,
        valid=np.ones((SIZE, SIZE), bool),
    )


def _ring(q: float, height: float, origin: str = "powder", order: int = 1, width: float = 0.02):
    """A ring of `height` counts per pixel over the band |q - q_peak| <= 0.01 (one pixel)."""
    excess = np.where(np.abs(GRID - q) <= 0.0125, height, 0.0)
    return Peak(origin, q, 0.01, width, excess, order=order)


def _ring_counts(maps, peaks, texture=ISOTROPIC):
    """Expected counts of `peaks` on the frame, as `peak_visible` reads them."""
    counts = np.zeros((SIZE, SIZE))
    for peak in peaks:
        band = np.abs(maps["q"] - peak.q) <= peak.half_width
        counts[band] += np.interp(maps["q"][band], GRID, peak.excess) * texture(maps["chi"][band])
    return counts


def _height_for(z: float, pixels: int, rest: float) -> float:
    """Per-pixel excess h with n h / sqrt(n (rest + h)) = z (root of n h^2 - z^2 h - z^2 rest)."""
    return (z**2 + np.sqrt(z**4 + 4.0 * pixels * z**2 * rest)) / (2.0 * pixels)


@pytest.mark.parametrize(("factor", "visible"), [(0.98, False), (1.02, True)])
def test_ring_is_visible_from_its_integrated_significance(factor, visible):
    maps = _maps(rest=1.0)
    band = np.abs(maps["q"] - 0.1) <= 0.01
    target = factor * PEAK_SIGNIFICANCE
    peak = _ring(0.1, _height_for(target, int(band.sum()), 1.0))
    term = Term(peak.excess, Texture(), (peak,))
    expected = _expected(maps, _ring_counts(maps, [peak]))
    excess, rest = expected.sample[band], maps["rest"][band]
    assert significance(excess.sum(), rest.sum()) == pytest.approx(target)
    assert arc_pixels(excess, rest, maps["chi"][band], SHARP_CONTRAST) == band.sum()
    assert peak_visible(peak, term, GRID, expected) is visible


@pytest.mark.parametrize(
    ("origin", "contrast", "visible"),
    [
        ("powder", 0.9 * SHARP_CONTRAST, False),
        ("powder", 1.1 * SHARP_CONTRAST, True),
        ("structure_factor", 0.9 * BROAD_CONTRAST, False),
        ("structure_factor", 1.1 * BROAD_CONTRAST, True),
        ("halo", 1.1 * BROAD_CONTRAST, True),
    ],
)
def test_bright_peak_needs_log_scale_contrast(origin, contrast, visible):
    maps = _maps(rest=1e4)
    peak = _ring(0.2, contrast * 1e4, origin)
    term = Term(peak.excess, Texture(), (peak,))
    expected = _expected(maps, _ring_counts(maps, [peak]))
    band = np.abs(maps["q"] - 0.2) <= 0.01
    assert significance(expected.sample[band].sum(), 1e4 * band.sum()) > 50.0
    assert peak_visible(peak, term, GRID, expected) is visible


def _arc(span: float) -> Texture:
    """Grains packed along `span` radians of the ring (the 3% floor of the texture elsewhere)."""
    return Texture(kind="spotty", spots=tuple((chi, 0.03, 1.0) for chi in np.arange(0, span, 0.05)))


@pytest.mark.parametrize(("span", "visible"), [(0.5, False), (2.5, True)])
def test_ring_needs_a_substantial_arc_not_a_few_bright_pixels(span, visible):
    maps = _maps(rest=50.0)
    peak = _ring(0.2, 20.0)
    texture = _arc(span)
    term = Term(peak.excess, texture, (peak,))
    expected = _expected(maps, _ring_counts(maps, [peak], texture))
    band = np.abs(maps["q"] - 0.2) <= 0.01
    lit = expected.sample[band] >= 0.3 * 50.0
    assert bool(lit.mean() >= ARC_FRACTION) is visible
    assert significance(expected.sample[band].sum(), 50.0 * band.sum()) > 20.0
    assert peak_visible(peak, term, GRID, expected) is visible


def _lattice_frame(lattice: str, ratio: float, width: float) -> list[str]:
    maps = _maps(rest=1.0)
    q1 = 0.1
    peaks = (
        _ring(q1, 10.0, lattice, 1, width),
        _ring(q1 * ratio, 10.0, lattice, 2, width),
    )
    term = Term(peaks[0].excess + peaks[1].excess, Texture(), peaks)
    expected = _expected(maps, _ring_counts(maps, peaks))
    body = -np.ones((SIZE, SIZE))
    return frame_tags([term], GRID, expected, "circular", body, (31.5, 31.5))


def test_bcc_called_when_first_pair_is_resolved():
    separation = 0.1 * (np.sqrt(2.0) - 1.0)
    tags = _lattice_frame("bcc", np.sqrt(2.0), width=0.9 * separation)
    assert {"BCC", "Higher orders", "Ring"} <= set(tags) and "FCC" not in tags


def test_bcc_not_called_when_first_pair_is_not_resolved():
    separation = 0.1 * (np.sqrt(2.0) - 1.0)
    tags = _lattice_frame("bcc", np.sqrt(2.0), width=1.1 * separation)
    assert "Ring" in tags and "BCC" not in tags and "Higher orders" not in tags


def test_fcc_called_from_its_sqrt_4_3_pair():
    assert "FCC" in _lattice_frame("fcc", 2.0 / np.sqrt(3.0), width=0.012)
    assert "FCC" not in _lattice_frame("fcc", 2.0 / np.sqrt(3.0), width=0.02)


def test_resolved_and_distinct_rings():
    def peak(q: float, width: float) -> Peak:
        return Peak("powder", q, width, width, np.zeros(3))

    assert resolved(peak(1.0, 0.1), peak(1.1, 0.1))
    assert not resolved(peak(1.0, 0.1), peak(1.09, 0.1))
    rings = [peak(1.0, 0.1), peak(1.05, 0.1), peak(1.2, 0.1), peak(1.5, 0.1), peak(1.55, 0.02)]
    assert distinct_rings(rings) == 3
    assert distinct_rings([]) == 0


def test_apparent_width_is_gaussian_fwhm_and_never_under_two_pixels():
    grid = np.linspace(0.0, 2.0, 20001)
    sigma = 0.05
    gaussian = np.exp(-0.5 * ((grid - 1.0) / sigma) ** 2)
    fwhm = 2.0 * np.sqrt(2.0 * np.log(2.0)) * sigma
    assert apparent_width(gaussian, grid, resolution=0.001) == pytest.approx(fwhm, rel=1e-3)
    assert apparent_width(gaussian, grid, resolution=0.1) == pytest.approx(0.2)
    assert apparent_width(np.zeros_like(grid), grid, resolution=0.01) == pytest.approx(0.02)


def _low_q_cut(maps: dict[str, np.ndarray], factor: float) -> float:
    """The q below which `factor` x DIFFUSE_FRACTION of the low-q half of the pixels lie."""
    low_half = np.sort(maps["q"].ravel())[: SIZE * SIZE // 2]
    return float(low_half[int(factor * DIFFUSE_FRACTION * low_half.size)])


@pytest.mark.parametrize(("factor", "visible"), [(0.8, False), (1.3, True)])
def test_diffuse_low_q_must_dominate_a_substantial_part_of_low_q(factor, visible):
    maps = _maps(rest=2.0)
    curve = np.where(_low_q_cut(maps, factor) > GRID, 3.0, 0.5)
    term = Term(curve, Texture(), diffuse="low_q")
    expected = _expected(maps, np.interp(maps["q"], GRID, curve))
    assert smooth_dominates(term_counts(term, GRID, expected), expected, low_q=True) is visible
    assert ("Diffuse low-q" in _tags(term, expected)) is visible


def _tags(term: Term, expected: Expected) -> list[str]:
    body = np.zeros((SIZE, SIZE))
    return frame_tags([term], GRID, expected, "circular", body, (31.5, 31.5))


def test_parasitic_scattering_alone_reads_as_diffuse_low_q():
    maps = _maps(rest=2.0)
    rising = np.where(maps["q"] < _low_q_cut(maps, 1.3), 5.0, 0.0)
    quiet = Term(np.zeros_like(GRID), Texture())
    assert "Diffuse low-q" in _tags(quiet, _expected(maps, np.zeros((SIZE, SIZE)), rising))
    assert "Diffuse low-q" not in _tags(quiet, _expected(maps, np.zeros((SIZE, SIZE))))


def test_a_halo_filling_the_outer_q_reads_as_diffuse_high_q():
    maps = _maps(rest=2.0)
    curve = np.where(float(np.median(maps["q"])) < GRID, 4.0, 0.0)
    halo = Term(curve, Texture(), (Peak("halo", 0.4, 0.1, 0.2, curve),))
    expected = _expected(maps, np.interp(maps["q"], GRID, curve))
    assert {"Diffuse high-q", "Diffuse low-q"} & set(_tags(halo, expected)) == {"Diffuse high-q"}


def test_fcc_first_pair_is_resolved_only_on_fine_enough_pixels():
    q1 = 0.5
    spec = {
        "kind": "lattice",
        "lattice": "fcc",
        "dnn_nm": dnn_for_first_peak(q1),
        "d_factor": 0.04,
        "amplitude": 10.0,
    }
    grid = np.linspace(0.01, 2.0, 4000)
    fine = build_terms([spec], grid, resolution=0.005)[0].peaks
    coarse = build_terms([spec], grid, resolution=0.05)[0].peaks
    assert fine[1].q / fine[0].q == pytest.approx(2.0 / np.sqrt(3.0))
    assert fine[0].width < fine[1].q - fine[0].q
    assert resolved(fine[0], fine[1])
    assert coarse[0].width == pytest.approx(0.1) and not resolved(coarse[0], coarse[1])
