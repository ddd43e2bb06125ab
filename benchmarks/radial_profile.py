"""Radial profile speed: scivit's cached-bincount profile against pyFAI's `integrate1d`.

Both integrate the same masked 1024x1024 frame with an off-centre beam into the same bins
(no pixel splitting, no solid-angle or polarization correction). pyFAI's integrator is built
once and warmed up, as a user processing a scan would. Prints the largest relative difference
between the two profiles, the few pixels pyFAI's float32 positions put across a bin edge, and
the speed ratio (scivit frames per second / pyFAI frames per second).

    python benchmarks/radial_profile.py --size 1024 --repeats 20
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from pyFAI.integrator.azimuthal import AzimuthalIntegrator

from scivit.transforms import Geometry, RadialProfile, radial_profile

PIXEL = 75e-6
DISTANCE = 2.0
WAVELENGTH = 1.0e-10


def make_frame(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """A Poisson SAXS-like frame with a beam stop, a detector gap and dead pixels."""
    rng = np.random.default_rng(seed)
    center = (0.37 * size + 0.3, 0.58 * size + 0.7)
    radius = Geometry(center).radius_px((size, size))
    image = rng.poisson(5e4 / (1 + (radius / 25) ** 2) + 30).astype(np.float32)
    mask = radius < 0.02 * size
    mask[:, size // 2 : size // 2 + 8] = True
    mask |= rng.random((size, size)) < 0.001
    return image, mask, center


def best_time(function: Callable[[], object], repeats: int) -> float:
    """Median seconds per call after one warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def run_pyfai(
    integrator: AzimuthalIntegrator, image: np.ndarray, mask: np.ndarray, bins: int, high: float
):
    """pyFAI's profile over (0, high) pixels, expressed in its r_mm unit."""
    return integrator.integrate1d(
        image,
        bins,
        radial_range=(0.0, high * PIXEL * 1e3),
        mask=mask,
        unit="r_mm",
        method=("no", "histogram", "cython"),
        correctSolidAngle=False,
        polarization_factor=None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024, help="frame side in pixels")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per method")
    parser.add_argument("--bins", type=int, default=500, help="radial bins")
    args = parser.parse_args()

    image, mask, center = make_frame(args.size)
    geometry = Geometry(center, PIXEL, DISTANCE, WAVELENGTH)
    high = float(geometry.radius_px(image.shape).max()) * 1.001
    integrator = AzimuthalIntegrator(
        dist=DISTANCE,
        poni1=(center[1] + 0.5) * PIXEL,
        poni2=(center[0] + 0.5) * PIXEL,
        pixel1=PIXEL,
        pixel2=PIXEL,
        wavelength=WAVELENGTH,
    )
    radial_range = (0.0, high)
    ours = radial_profile(image, geometry, bins=args.bins, radial_range=radial_range, mask=mask)
    theirs = run_pyfai(integrator, image, mask, args.bins, high)
    ours_time = best_time(
        lambda: radial_profile(
            image, geometry, bins=args.bins, radial_range=radial_range, mask=mask
        ),
        args.repeats,
    )
    pyfai_time = best_time(
        lambda: run_pyfai(integrator, image, mask, args.bins, high), args.repeats
    )
    report(args, mask, ours_time, pyfai_time, compare(ours, theirs))


def compare(ours: RadialProfile, theirs) -> tuple[float, int]:
    """Largest relative difference of the profiles, and the number of pixels binned apart.

    pyFAI bins float32 positions, so a pixel lying within float32 rounding of a bin edge can
    fall on the other side of it; those few pixels explain any difference and are counted.
    """
    same = theirs.count > 0
    relative = np.abs(ours.intensity[same] - theirs.intensity[same]) / np.abs(
        theirs.intensity[same]
    )
    moved = int(np.abs(ours.count - theirs.count).sum() // 2)
    return float(relative.max()), moved


def report(
    args: argparse.Namespace,
    mask: np.ndarray,
    ours_time: float,
    pyfai_time: float,
    agreement: tuple[float, int],
) -> None:
    """Print the timings, the agreement and one summary line."""
    difference, moved = agreement
    pixels = args.size * args.size
    ratio = pyfai_time / ours_time
    print(f"frame {args.size}x{args.size}, {args.bins} bins, {int(mask.sum())} masked pixels")
    print(f"scivit radial_profile: {ours_time * 1e3:8.2f} ms/frame ({1 / ours_time:7.1f} frames/s)")
    print(
        f"pyFAI integrate1d    : {pyfai_time * 1e3:8.2f} ms/frame ({1 / pyfai_time:7.1f} frames/s)"
    )
    print(f"max relative difference of the profiles: {difference:.2e}")
    print(
        f"pixels on the other side of a bin edge (pyFAI's float32 positions): {moved} of {pixels}"
    )
    same = difference < 1e-3 and moved <= 1e-4 * pixels
    verdict = "same profile" if same else "PROFILES DIFFER"
    print(f"SUMMARY: scivit/pyFAI speed ratio {ratio:.2f}x, {verdict}")


if __name__ == "__main__":
    main()
