"""Tags of a simulated scattering frame, decided from its generation parameters.

The 17 tags are those of the X-ray scattering dataset of Wang, Yager et al. (WACV 2017), whose
frames were tagged by people looking at them on a log scale. No tag looks at the noisy image:
each follows from the scene and from the *expected* counts of the frame (exposure x curve x
texture x solid angle x polarization x beam-stop transmission), and a feature is tagged only
where a person looking at the frame would see it at the drawn exposure, on working pixels of
the detector (not in a module gap, beam-stop transmission above 1/2).

A peak is *visible* when its band |q - q_peak| <= half width shows it both as a whole and over a
substantial arc. As a whole: the azimuthally integrated excess E over the expected rest R of
the frame is significant, Z = sum E / sqrt(sum (R + E)) >= 5 (the Rose criterion for seeing an
object in noise). Over an arc: the band, sorted by azimuth, is cut into sectors of equal pixel
count (8 pixels or more, at most 36 sectors); a sector shows the peak when its excess rises
above the noise (Z >= 1 over the sector) and stands out on a log scale: sum E >= 0.5 sum R (a
step of ln 1.5 in log counts) for a sharp ring, sum E >= 0.15 sum R for a broad peak (halo,
structure factor), which the eye averages over a wide band; the sectors that show it hold at
least 20% of the band and at least max(8, size / 8) pixels. Two visible peaks are *resolved*
when their separation is at least the mean of their widths (FWHM, never under two pixels); a
run of unresolved neighbours is one ring. The diffuse tags name what is seen, not where it
comes from: *diffuse low-q* is smooth scattering rising towards the beam — the sample's diffuse
low-q terms together with air and parasitic scattering, slit streaks and the direct beam's
tail, which look alike on a frame — and *diffuse high-q* is broad scattering towards the outer
q — diffuse high-q terms and amorphous halos. Either is seen when its counts C dominate at
least 25% of the working pixels of its half of the frame (low q or high q, split at the median
q): C >= R (the rest of the frame) and C >= 2 counts there.

| tag | rule |
|---|---|
| BCC | a bcc paracrystal whose first two reflections are visible and resolved (ratio sqrt 2) |
| Beam Off Image | beam centre outside the frame |
| Circular Beamstop | a disc stop whose disc (not its arm) covers >= max(8, 0.2% of) pixels |
| Diffuse high-q | broad scattering towards the outer q (diffuse high-q terms, halos) is seen |
| Diffuse low-q | smooth scattering rising towards the beam (sample or background) is seen |
| FCC | an fcc paracrystal whose first two reflections are visible and resolved (sqrt 4/3) |
| Halo | a visible amorphous halo (broad peak, relative width 12-35%) |
| High background | mean background >= 8 counts/pixel and >= 0.3 x mean sample counts |
| Higher orders | a lattice or lamellar stack with at least 2 resolved visible orders |
| Linear beamstop | a rod stop covering >= max(8, 0.2% of) pixels |
| Many rings | at least 5 resolved visible sharp rings (powder, lattice, lamellar) |
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
PERIODIC_ORIGINS = ("bcc", "fcc", "lamellar")
MANY_RINGS = 5
WEAK_COUNTS = 1.5
STRONG_COUNTS = 150.0
HIGH_BACKGROUND_COUNTS = 8.0
HIGH_BACKGROUND_RATIO = 0.3
PEAK_SIGNIFICANCE = 5.0
SECTOR_SIGNIFICANCE = 1.0
SHARP_CONTRAST = 0.5
BROAD_CONTRAST = 0.15
BROAD_ORIGINS = ("halo", "structure_factor")
SECTOR_PIXELS = 8
MAX_SECTORS = 36
ARC_FRACTION = 0.2
DIFFUSE_FRACTION = 0.25
DIFFUSE_MIN_COUNTS = 2.0


@dataclass(frozen=True)
class Expected:
    """Expected counts of a frame and the maps needed to judge each term.

    Args:
        q, chi: pixel maps (nm^-1, rad).
        scale: exposure x solid angle x polarization x transmission per pixel.
        total: expected counts of everything (sample, background, direct beam).
        sample: expected sample counts.
        background: expected background counts.
        smooth_background: the part of `total` outside the sample that rises towards the beam
            (air and parasitic scattering, slit streaks, the direct beam's tail).
        valid: working pixels (no gap, stop transmission above 1/2).
    """

    q: np.ndarray
    chi: np.ndarray
    scale: np.ndarray
    total: np.ndarray
    sample: np.ndarray
    background: np.ndarray
    smooth_background: np.ndarray
    valid: np.ndarray


def significance(excess: float, rest: float) -> float:
    """Z = E / sqrt(R + E): how many Poisson sigmas `excess` counts stand above `rest` counts."""
    total = excess + rest
    return excess / np.sqrt(total) if total > 0.0 else 0.0


def arc_pixels(excess: np.ndarray, rest: np.ndarray, chi: np.ndarray, contrast: float) -> int:
    """Pixels of a band in the azimuthal sectors that show its excess on a log scale.

    The band is sorted by azimuth `chi` and cut into sectors of equal pixel count; a sector
    shows the excess when it rises above the noise and is at least `contrast` x the rest.
    """
    count = int(np.clip(chi.size // SECTOR_PIXELS, 1, MAX_SECTORS))
    shown = 0
    for sector in np.array_split(np.argsort(chi), count):
        sector_excess, sector_rest = float(excess[sector].sum()), float(rest[sector].sum())
        if (
            sector_excess >= contrast * sector_rest
            and significance(sector_excess, sector_rest) >= SECTOR_SIGNIFICANCE
        ):
            shown += sector.size
    return shown


def peak_visible(peak: Peak, term: Term, grid: np.ndarray, expected: Expected) -> bool:
    """Whether `peak` of `term` is seen in the frame: significant as a whole and over an arc."""
    band = expected.valid & (np.abs(expected.q - peak.q) <= peak.half_width)
    least = max(8, expected.q.shape[0] // 8)
    if int(band.sum()) < least:
        return False
    excess = np.interp(expected.q[band], grid, peak.excess) * expected.scale[band]
    excess = excess * term.texture(expected.chi[band])
    rest = np.clip(expected.total[band] - excess, 0.0, None)
    if significance(float(excess.sum()), float(rest.sum())) < PEAK_SIGNIFICANCE:
        return False
    contrast = BROAD_CONTRAST if peak.origin in BROAD_ORIGINS else SHARP_CONTRAST
    shown = arc_pixels(excess, rest, expected.chi[band], contrast)
    return shown >= ARC_FRACTION * excess.size and shown >= least


def resolved(first: Peak, second: Peak) -> bool:
    """Whether two peaks are separated by at least the mean of their widths (FWHM)."""
    return abs(second.q - first.q) >= 0.5 * (first.width + second.width)


def distinct_rings(peaks: list[Peak]) -> int:
    """Rings a person counts among `peaks`: a run of unresolved neighbours counts once."""
    ordered = sorted(peaks, key=lambda peak: peak.q)
    return int(bool(ordered)) + sum(
        resolved(low, high) for low, high in zip(ordered, ordered[1:], strict=False)
    )


def term_counts(term: Term, grid: np.ndarray, expected: Expected) -> np.ndarray:
    """Expected counts of one term on every pixel."""
    curve = np.interp(expected.q, grid, term.curve) * expected.scale
    return curve * term.texture(expected.chi)


def smooth_dominates(counts: np.ndarray, expected: Expected, low_q: bool) -> bool:
    """Whether `counts` dominate a substantial part of the low-q (or high-q) half of the frame."""
    q_valid = expected.q[expected.valid]
    if q_valid.size == 0:
        return False
    median = float(np.median(q_valid))
    half = expected.valid & ((expected.q <= median) if low_q else (expected.q >= median))
    seen, rest = counts[half], np.clip(expected.total[half] - counts[half], 0.0, None)
    dominant = (seen >= rest) & (seen >= DIFFUSE_MIN_COUNTS)
    return bool(dominant.sum() >= DIFFUSE_FRACTION * max(int(half.sum()), 1))


def _lattice_tag(visible: list[Peak]) -> str | None:
    """The lattice tag when its first two reflections are visible and resolved (ratio reads)."""
    first = [peak for peak in visible if peak.order == 1 and peak.origin in ("bcc", "fcc")]
    second = [peak for peak in visible if peak.order == 2]
    if first and second and resolved(first[0], second[0]):
        return first[0].origin.upper()
    return None


def _peak_tags(terms: list[Term], grid: np.ndarray, expected: Expected) -> set[str]:
    tags: set[str] = set()
    rings: list[Peak] = []
    for term in terms:
        visible = [peak for peak in term.peaks if peak_visible(peak, term, grid, expected)]
        origins = {peak.origin for peak in visible}
        rings.extend(peak for peak in visible if peak.origin in RING_ORIGINS)
        if "powder" in origins:
            tags.add("Polycrystalline")
        if "halo" in origins:
            tags.add("Halo")
        if "structure_factor" in origins:
            tags.add("Structure factor")
        if distinct_rings([peak for peak in visible if peak.origin in PERIODIC_ORIGINS]) >= 2:
            tags.add("Higher orders")
        lattice = _lattice_tag(visible)
        if lattice:
            tags.add(lattice)
    if rings:
        tags.add("Ring")
    if distinct_rings(rings) >= MANY_RINGS:
        tags.add("Many rings")
    return tags


def _is_halo(term: Term) -> bool:
    return any(peak.origin == "halo" for peak in term.peaks)


def _diffuse_tags(terms: list[Term], grid: np.ndarray, expected: Expected) -> set[str]:
    low = expected.smooth_background.astype(float)
    high = np.zeros_like(low)
    for term in terms:
        if term.diffuse == "low_q":
            low = low + term_counts(term, grid, expected)
        elif term.diffuse == "high_q" or _is_halo(term):
            high = high + term_counts(term, grid, expected)
    tags = {"Diffuse low-q"} if smooth_dominates(low, expected, low_q=True) else set()
    if smooth_dominates(high, expected, low_q=False):
        tags.add("Diffuse high-q")
    return tags


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
