"""Detector geometry: where the direct beam hits, and how pixels map to radius and q.

Beam centres are in pixels with the array convention of `scivit.transforms.sample` (the centre
of pixel row ``i``, column ``j`` is at ``(x, y) = (j, i)``). pyFAI and Fit2D put pixel centres
at half-integers, so a PONI file's Fit2D centre is shifted by half a pixel on reading.

Scattering vector: ``q = 4 pi sin(theta) / lambda`` with ``2 theta = atan(r * pixel / distance)``
for a detector perpendicular to the beam, returned in nm^-1.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from scivit.errors import ConfigError, ReadError, closest
from scivit.transforms.sample import Sample, as_center

TILT_TOLERANCE_DEG = 0.1


@dataclasses.dataclass(frozen=True)
class Geometry:
    """Beam centre in pixels (x = column, y = row) plus optional metric geometry.

    Args:
        beam_center: (x, y) of the direct beam in pixels; may lie outside the image.
        pixel_size: pixel edge length in metres (square pixels).
        distance: sample-to-detector distance along the beam in metres.
        wavelength: X-ray wavelength in metres.
    """

    beam_center: tuple[float, float] | None = None
    pixel_size: float | None = None
    distance: float | None = None
    wavelength: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "beam_center", as_center(self.beam_center, "geometry"))
        for field in ("pixel_size", "distance", "wavelength"):
            value = getattr(self, field)
            if value is None:
                continue
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
                raise ConfigError(
                    f"geometry: {field} must be a positive number of metres, got {value!r}"
                )
            object.__setattr__(self, field, float(value))

    @classmethod
    def from_poni(cls, path: str | Path) -> Geometry:
        """Read a pyFAI PONI file; the beam centre comes from pyFAI's own Fit2D conversion."""
        import pyFAI

        path = Path(path)
        if not path.is_file():
            raise ReadError(f"{path}: PONI file not found")
        try:
            fit2d = pyFAI.load(str(path)).getFit2D()
        except Exception as err:
            raise ReadError(f"{path}: not a usable PONI file ({err})") from None
        if abs(fit2d.tilt) > TILT_TOLERANCE_DEG:
            warnings.warn(f"{path}: detector tilt {fit2d.tilt:.2f} deg is ignored", stacklevel=2)
        if not math.isclose(fit2d.pixelX, fit2d.pixelY, rel_tol=1e-6):
            raise ConfigError(
                f"{path}: non-square pixels ({fit2d.pixelX} x {fit2d.pixelY} um) are not supported"
            )
        return cls(
            beam_center=(fit2d.centerX - 0.5, fit2d.centerY - 0.5),
            pixel_size=fit2d.pixelX * 1e-6,
            distance=fit2d.directDist * 1e-3,
            wavelength=None if fit2d.wavelength is None else fit2d.wavelength * 1e-10,
        )

    def with_center(self, center: Sequence[float]) -> Geometry:
        """The same geometry with another beam centre."""
        return dataclasses.replace(self, beam_center=as_center(center, "geometry"))

    def radius_px(self, shape: tuple[int, int]) -> np.ndarray:
        """Distance of every pixel centre from the beam centre, in pixels (read-only, cached)."""
        return radius_map(tuple(shape), self._require_center())

    def q_map(self, shape: tuple[int, int]) -> np.ndarray:
        """Scattering vector magnitude of every pixel in nm^-1 (read-only, cached)."""
        missing = [f for f in ("pixel_size", "distance", "wavelength") if getattr(self, f) is None]
        if missing:
            raise ConfigError(f"geometry: q needs {', '.join(missing)}")
        return _q_map(
            tuple(shape), self._require_center(), self.pixel_size, self.distance, self.wavelength
        )

    def _require_center(self) -> tuple[float, float]:
        if self.beam_center is None:
            raise ConfigError("geometry: beam_center is not set")
        return self.beam_center


def as_geometry(value: Geometry | Mapping[str, Any] | str | Path | None) -> Geometry | None:
    """Accept a Geometry, a mapping of its fields (as in a recipe), or a PONI file path."""
    if value is None or isinstance(value, Geometry):
        return value
    if isinstance(value, (str, Path)):
        return Geometry.from_poni(value)
    if isinstance(value, Mapping):
        fields = [f.name for f in dataclasses.fields(Geometry)]
        for key in value:
            if key not in fields:
                guess = closest(str(key), fields)
                hint = f"; did you mean '{guess}'?" if guess else ""
                raise ConfigError(f"geometry: unknown key '{key}'{hint}")
        return Geometry(**value)
    raise ConfigError(f"geometry: expected a mapping or a PONI path, got {type(value).__name__}")


def resolve_center(geometry: Geometry | None, sample: Sample, name: str) -> tuple[float, float]:
    """The beam centre a transform must use: the geometry's, else the sample's, else an error."""
    if geometry is not None and geometry.beam_center is not None:
        return geometry.beam_center
    center = sample.get("beam_center")
    if center is None:
        raise ConfigError(
            f"{name}: no beam centre: give the manifest's beam_center_x/y columns, a file "
            "whose header records it (NeXus NXdetector, PILATUS CBF Beam_xy, EDF Center_1/2), "
            "`scivit predict --beam-center x,y` or the transform's geometry (the image centre "
            "is never assumed)"
        )
    return as_center(center, name)


@lru_cache(maxsize=32)
def radius_map(shape: tuple[int, int], center: tuple[float, float]) -> np.ndarray:
    """Cached (H, W) float64 distance of each pixel centre from `center` = (x, y)."""
    height, width = shape
    rows = np.arange(height, dtype=np.float64) - center[1]
    cols = np.arange(width, dtype=np.float64) - center[0]
    radius = np.hypot(rows[:, None], cols[None, :])
    radius.setflags(write=False)
    return radius


@lru_cache(maxsize=16)
def _q_map(
    shape: tuple[int, int],
    center: tuple[float, float],
    pixel_size: float,
    distance: float,
    wavelength: float,
) -> np.ndarray:
    two_theta = np.arctan(radius_map(shape, center) * pixel_size / distance)
    q = 4e-9 * np.pi * np.sin(two_theta / 2) / wavelength
    q.setflags(write=False)
    return q
