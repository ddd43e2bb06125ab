"""Render a lens scene through an instrument with lenstronomy's `SimAPI`, noise included.

The noiseless image (counts per second, sky subtracted) is ray-traced and convolved with the
instrument's PSF; the source magnitude becomes an amplitude through the instrument's zero point
(or, for an instrument with `peak_snr`, the amplitude is scaled so that the brightest pixel s
satisfies s / sqrt(b^2 + s / t) = peak_snr, for background standard deviation b and exposure
t). The observed image adds lenstronomy's noise: Gaussian background noise of standard
deviation b (sky and read noise) and shot noise of variance s / t per pixel (lenstronomy's
Gaussian approximation of Poisson noise), unless noise is turned off: then the observed image
is the noiseless one, as in the published DeepLense Model II set, whose simulator computed the
noise but never added it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from lenstronomy.SimulationAPI.sim_api import SimAPI

from scivit.simulate.lensing_instruments import Instrument
from scivit.simulate.lensing_scene import lens_models

NUMERICS = {"supersampling_factor": 1}


@dataclass(frozen=True)
class Rendered:
    """An observed frame, its noiseless model and the noise level of the set-up."""

    image: np.ndarray
    model: np.ndarray
    background_sigma: float
    exposure_time: float


def peak_signal(snr: float, background_sigma: float, exposure_time: float) -> float:
    """Pixel signal s (counts/s) whose signal-to-noise s / sqrt(b^2 + s / t) equals `snr`."""
    k = snr**2 / exposure_time
    return (k + math.sqrt(k**2 + 4.0 * snr**2 * background_sigma**2)) / 2.0


def render(
    scene: dict[str, Any], instrument: Instrument, noise_seed: int, noise: bool = True
) -> Rendered:
    """Observe `scene` with `instrument`; `noise_seed` seeds lenstronomy's noise draw, and
    `noise=False` leaves the noise out (the image is the noiseless model)."""
    names, kwargs_lens = lens_models(scene)
    sim = SimAPI(
        instrument.num_pix,
        dict(instrument.band),
        {"lens_model_list": names, "source_light_model_list": ["SERSIC_ELLIPSE"]},
    )
    source = [{**scene["source"], "magnitude": instrument.source_magnitude}]
    _, kwargs_source, _ = sim.magnitude2amplitude(None, source)
    model = sim.image_model_class(NUMERICS).image(kwargs_lens, kwargs_source)
    if instrument.peak_snr is not None:
        target = peak_signal(instrument.peak_snr, sim.background_noise, sim.exposure_time)
        model = model * (target / model.max())
    image = model
    if noise:
        image = model + sim.noise_for_model(
            model, background_noise=True, poisson_noise=True, seed=noise_seed
        )
    return Rendered(
        image=image.astype(np.float32),
        model=model,
        background_sigma=float(sim.background_noise),
        exposure_time=float(sim.exposure_time),
    )
