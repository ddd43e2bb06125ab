"""Tags of a simulated scattering frame, decided from its generation parameters.

The 17 tags are those of the X-ray scattering dataset of Wang, Yager et al. (WACV 2017). No tag
looks at the noisy image: each follows from the scene and from the *expected* counts of the
frame (exposure x curve x texture x solid angle x polarization x beam-stop transmission), so a
feature is tagged only where it rises above the noise and the background at the drawn exposure
and falls on working pixels of the detector.

A peak is *visible* when at least `max(6, size / 10)` working pixels (not in a module gap, beam
stop transmission above 1/2) inside its band |q - q_peak| <= half width show an expected excess
E over the expected rest R of the frame with E >= 4 sqrt(R + 1), E >= 0.15 R and E >= 2
counts. A diffuse term is *visible* when, on the low-q (or high-q) half of the working pixels,
at least 5% of them get expected counts C from it with C >= 3 sqrt(R + 1), C >= 0.5 R and
C >= 2 counts.

| tag | rule |
|---|---|
| BCC | a bcc paracrystal with at least 2 visible reflections |
| Beam Off Image | beam centre outside the frame |
| Circular Beamstop | a disc stop whose disc (not its arm) covers >= max(8, 0.2% of) pixels |
| Diffuse high-q | a visible diffuse high-q term (broad scattering rising to the outer q) |
| Diffuse low-q | a visible diffuse low-q term (form factor, polymer, particle liquid) |
| FCC | an fcc paracrystal with at least 2 visible reflections |
| Halo | a visible amorphous halo (broad peak, relative width 12-35%) |
| High background | mean background >= 8 counts/pixel and >= 0.3 x mean sample counts |
| Higher orders | a lattice or lamellar stack with at least 2 visible orders |
| Linear beamstop | a rod stop covering >= max(8, 0.2% of) pixels |
| Many rings | at least 5 visible sharp rings (powder, lattice, lamellar) |
| Polycrystalline | at least 1 visible powder ring of a pyFAI calibrant |
| Ring | at least 1 visible sharp ring (powder, lattice, lamellar) |
| Strong scattering | mean expected sample counts per working pixel >= 150 |
| Structure factor | a visible structure-factor peak P(q) (S(q) - 1) of a particle liquid |
| Weak scattering | mean expected sample counts per working pixel < 1.5 |
| Wedge beamstop | a wedge stop covering >= max(8, 0.2% of) pixels |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scivit.simulate.scattering_terms import Peak, Term

SCATTERING_TAGS = (
    "BCC",
    "Beam Off Image",
    "Circular Beamstop",
    "Diffuse high-q",
    "Diffuse low-q",
    "FCC",
    "Halo",
    "High background",
    "Higher orders",
    "Linear beamstop",
    "Many rings",
    "Polycrystalline",
    "Ring",
    "Strong scattering",
    "Structure factor",
    "Weak scattering",
    "Wedge beamstop",
)
BEAMSTOP_TAGS = {
    "circular": "Circular Beamstop",
    "linear": "Linear beamstop",
    "wedge": "Wedge beamstop",
}
RING_ORIGINS = ("powder", "bcc", "fcc", "lamellar")
MANY_RINGS = 5
WEAK_COUNTS = 1.5
STRONG_COUNTS = 150.0
HIGH_BACKGROUND_COUNTS = 8.0
HIGH_BACKGROUND_RATIO = 0.3


@dataclass(frozen=True)
class Expected:
    """Expected counts of a frame and the maps needed to judge each term.

    Args:
        q, chi: pixel maps (nm^-1, rad).
        scale: exposure x solid angle x polarization x transmission per pixel.
        total: expected counts of everything (sample, background, direct beam).
        sample: expected sample counts.
        background: expected background counts.
        valid: working pixels (no gap, stop transmission above 1/2).
    """

    q: np.ndarray
    chi: np.ndarray
    scale: np.ndarray
    total: np.ndarray
    sample: np.ndarray
    background: np.ndarray
    valid: np.ndarray


def peak_visible(peak: Peak, term: Term, grid: np.ndarray, expected: Expected) -> bool:
    """Whether `peak` of `term` stands out of the expected rest of the frame."""
    band = expected.valid & (np.abs(expected.q - peak.q) <= peak.half_width)
    if not band.any():
        return False
    excess = np.interp(expected.q[band], grid, peak.excess) * expected.scale[band]
    excess = excess * term.texture(expected.chi[band])
    rest = np.clip(expected.total[band] - excess, 0.0, None)
    significant = (excess >= 4.0 * np.sqrt(rest + 1.0)) & (excess >= 0.15 * rest) & (excess >= 2.0)
    return int(significant.sum()) >= max(6, expected.q.shape[0] // 10)


def diffuse_visible(term: Term, grid: np.ndarray, expected: Expected) -> bool:
    """Whether a diffuse term dominates its half (low or high q) of the working pixels."""
    q_valid = expected.q[expected.valid]
    if q_valid.size == 0:
        return False
    median = float(np.median(q_valid))
    half = expected.valid & (
        (expected.q <= median) if term.diffuse == "low_q" else (expected.q >= median)
    )
    counts = np.interp(expected.q[half], grid, term.curve) * expected.scale[half]
    counts = counts * term.texture(expected.chi[half])
    rest = np.clip(expected.total[half] - counts, 0.0, None)
    significant = (counts >= 3.0 * np.sqrt(rest + 1.0)) & (counts >= 0.5 * rest) & (counts >= 2.0)
    return bool(significant.sum() >= 0.05 * max(int(half.sum()), 1))


def _peak_tags(terms: list[Term], grid: np.ndarray, expected: Expected) -> set[str]:
    tags: set[str] = set()
    rings = 0
    for term in terms:
        visible = [peak for peak in term.peaks if peak_visible(peak, term, grid, expected)]
        origins = {peak.origin for peak in visible}
        rings += sum(peak.origin in RING_ORIGINS for peak in visible)
        if "powder" in origins:
            tags.add("Polycrystalline")
        if "halo" in origins:
            tags.add("Halo")
        if "structure_factor" in origins:
            tags.add("Structure factor")
        periodic = [peak for peak in visible if peak.origin in ("bcc", "fcc", "lamellar")]
        if len(periodic) >= 2:
            tags.add("Higher orders")
            if periodic[0].origin in ("bcc", "fcc"):
                tags.add(periodic[0].origin.upper())
    if rings >= 1:
        tags.add("Ring")
    if rings >= MANY_RINGS:
        tags.add("Many rings")
    return tags


def _diffuse_tags(terms: list[Term], grid: np.ndarray, expected: Expected) -> set[str]:
    names = {"low_q": "Diffuse low-q", "high_q": "Diffuse high-q"}
    return {
        names[term.diffuse]
        for term in terms
        if term.diffuse is not None and diffuse_visible(term, grid, expected)
    }


def _level_tags(expected: Expected) -> set[str]:
    tags: set[str] = set()
    if not expected.valid.any():
        return {"Weak scattering"}
    sample = float(expected.sample[expected.valid].mean())
    background = float(expected.background[expected.valid].mean())
    if sample < WEAK_COUNTS:
        tags.add("Weak scattering")
    if sample >= STRONG_COUNTS:
        tags.add("Strong scattering")
    if background >= HIGH_BACKGROUND_COUNTS and background >= HIGH_BACKGROUND_RATIO * sample:
        tags.add("High background")
    return tags


def _instrument_tags(
    beamstop_kind: str, body: np.ndarray, center: tuple[float, float], size: int
) -> set[str]:
    tags: set[str] = set()
    if not all(-0.5 <= value <= size - 0.5 for value in center):
        tags.add("Beam Off Image")
    if int((body < 0.0).sum()) >= max(8, int(0.002 * size * size)):
        tags.add(BEAMSTOP_TAGS[beamstop_kind])
    return tags


def frame_tags(
    terms: list[Term],
    grid: np.ndarray,
    expected: Expected,
    beamstop_kind: str,
    beamstop_body: np.ndarray,
    center: tuple[float, float],
) -> list[str]:
    """The tags of one frame, in `SCATTERING_TAGS` order."""
    size = expected.q.shape[0]
    tags = _peak_tags(terms, grid, expected) | _diffuse_tags(terms, grid, expected)
    tags |= _level_tags(expected) | _instrument_tags(beamstop_kind, beamstop_body, center, size)
    return [tag for tag in SCATTERING_TAGS if tag in tags]
