"""The imaging set-ups of the three DeepLense data sets, found by model letter.

Each is a frame size plus the keyword arguments of lenstronomy's `SingleBand` (pixel scale,
Gaussian PSF FWHM, exposure, sky brightness, zero point, read noise), so lenstronomy's
`SimAPI` turns the source magnitude into counts and draws the background and shot noise:

- "I": 150 x 150 pixels of 0.05 arcsec, PSF FWHM 0.087 arcsec; the source is scaled so that
  the brightest pixel of the noiseless image is 25 noise standard deviations above zero. The
  camera (1000 s, sky 22 mag/arcsec^2, zero point 25, read noise 4 e-) only sets how the noise
  splits between background and shot noise.
- "II": 64 x 64 pixels with Euclid VIS (lenstronomy's `ObservationConfig.Euclid`, 6 years).
- "III": 64 x 64 pixels with HST WFC3 F160W (lenstronomy's `ObservationConfig.HST`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lenstronomy.SimulationAPI.ObservationConfig.Euclid import Euclid
from lenstronomy.SimulationAPI.ObservationConfig.HST import HST

from scivit.errors import ConfigError
from scivit.registry import Registry


@dataclass(frozen=True, eq=False)
class Instrument:
    """An imaging set-up.

    Args:
        description: what it models, for messages and file metadata.
        num_pix: frame side in pixels.
        band: keyword arguments of lenstronomy's `SingleBand`.
        source_magnitude: apparent magnitude of the unlensed source.
        peak_snr: when set, the source brightness is instead scaled so that the brightest pixel
            of the noiseless image is `peak_snr` noise standard deviations above zero.
    """

    description: str
    num_pix: int
    band: dict[str, Any] = field(repr=False)
    source_magnitude: float = 20.0
    peak_snr: float | None = None

    @property
    def pixel_scale(self) -> float:
        """Pixel side in arcsec."""
        return float(self.band["pixel_scale"])

    @property
    def psf_fwhm(self) -> float:
        """FWHM of the Gaussian PSF in arcsec."""
        return float(self.band["seeing"])

    @property
    def center(self) -> float:
        """Pixel coordinate of the lens axis, the image centre (x = y)."""
        return (self.num_pix - 1) / 2.0


INSTRUMENTS: Registry[Instrument] = Registry("lensing model")
INSTRUMENTS.add(
    "I",
    Instrument(
        "Model I: 0.05 arcsec pixels, Gaussian PSF of 0.087 arcsec, peak SNR 25",
        150,
        {
            "pixel_scale": 0.05,
            "seeing": 0.087,
            "psf_type": "GAUSSIAN",
            "exposure_time": 1000.0,
            "num_exposures": 1,
            "sky_brightness": 22.0,
            "magnitude_zero_point": 25.0,
            "read_noise": 4.0,
            "ccd_gain": 1.0,
        },
        peak_snr=25.0,
    ),
)
INSTRUMENTS.add(
    "II",
    Instrument(
        "Model II: Euclid VIS",
        64,
        Euclid(band="VIS", psf_type="GAUSSIAN", coadd_years=6).kwargs_single_band(),
    ),
)
INSTRUMENTS.add(
    "III",
    Instrument(
        "Model III: HST WFC3 F160W",
        64,
        HST(band="WFC3_F160W", psf_type="GAUSSIAN").kwargs_single_band(),
    ),
)


def get_instrument(model: str) -> Instrument:
    """The set-up of DeepLense model `model` ("I", "II" or "III")."""
    if model not in INSTRUMENTS:
        raise ConfigError(
            f"simulate lensing: unknown model '{model}'; valid: {', '.join(INSTRUMENTS.names())}"
        )
    return INSTRUMENTS.get(model)
