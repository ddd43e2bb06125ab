"""Radial (azimuthal) profiles about the beam centre, and `RadialNormalize`.

The profile is the mean intensity of the unmasked pixels in each radial bin, in pixels or in
q (nm^-1). It matches pyFAI's ``AzimuthalIntegrator.integrate1d`` without pixel splitting
(``method=("no", "histogram", "cython")``, no solid-angle or polarization correction) for the
same bin edges and mask. Bin indices are computed once per (shape, centre, bins, range, unit)
and cached, because a detector's geometry is shared by every frame; each profile is then two
`numpy.bincount` calls.
"""

from __future__ import annotations

import dataclasses
import math
from functools import lru_cache
from typing import Literal

import numpy as np

from scivit.errors import ConfigError
from scivit.transforms.base import Transform
from scivit.transforms.geometry import Geometry, as_geometry, resolve_center
from scivit.transforms.sample import Sample, check_sample, updated

Unit = Literal["px", "q"]
UNITS = ("px", "q")


@dataclasses.dataclass(frozen=True)
class RadialBins:
    """Cached binning of a detector: the bin of each pixel and the interpolation weights.

    Attributes:
        index: (H*W,) bin of each pixel; pixels outside the range get ``bins`` (dropped).
        edges: (bins + 1,) bin edges in the profile's unit.
        counts: (bins,) number of pixels per bin when nothing is masked.
        nodes: bins that hold pixels; a profile is interpolated back onto pixels between them.
        node_position: mean position of the pixels of each node bin, where its mean applies.
        lower: (H*W,) node below each pixel's position.
        weight: (H*W,) float32 weight of the node above, ``lower + 1``.
    """

    index: np.ndarray
    edges: np.ndarray
    counts: np.ndarray
    nodes: np.ndarray
    node_position: np.ndarray
    lower: np.ndarray
    weight: np.ndarray

    @property
    def bins(self) -> int:
        """Number of bins."""
        return len(self.edges) - 1

    @property
    def centers(self) -> np.ndarray:
        """Bin centres in the profile's unit."""
        return (self.edges[1:] + self.edges[:-1]) / 2


@dataclasses.dataclass(frozen=True)
class RadialProfile:
    """A radial profile: bin centres, mean intensity (0 in empty bins) and pixel counts."""

    radius: np.ndarray
    intensity: np.ndarray
    count: np.ndarray


def radial_bins(
    shape: tuple[int, int],
    geometry: Geometry,
    bins: int | None = None,
    radial_range: tuple[float, float] | None = None,
    unit: Unit = "px",
) -> RadialBins:
    """Bin index map for `geometry` on an image of `shape` (cached).

    Args:
        shape: image (H, W).
        geometry: needs a beam centre; unit "q" also needs pixel size, distance, wavelength.
        bins: number of bins; default one per pixel of radius across the range.
        radial_range: (low, high) in `unit`; default the range covered by the image.
        unit: "px" for radius in pixels, "q" for q in nm^-1.
    """
    if unit not in UNITS:
        raise ConfigError(f"radial profile: unit must be one of {UNITS}, got '{unit}'")
    if bins is not None and (not isinstance(bins, int) or bins < 1):
        raise ConfigError(f"radial profile: bins must be a positive integer, got {bins!r}")
    if radial_range is not None:
        low, high = (float(v) for v in radial_range)
        if not low < high:
            raise ConfigError(
                f"radial profile: radial_range must be (low, high), low < high; got {radial_range}"
            )
        radial_range = (low, high)
    key_geometry = geometry if unit == "q" else Geometry(beam_center=geometry.beam_center)
    return _cached_bins(tuple(shape), key_geometry, bins, radial_range, unit)


@lru_cache(maxsize=8)
def _cached_bins(
    shape: tuple[int, int],
    geometry: Geometry,
    bins: int | None,
    radial_range: tuple[float, float] | None,
    unit: Unit,
) -> RadialBins:
    position = (geometry.q_map(shape) if unit == "q" else geometry.radius_px(shape)).ravel()
    radius = geometry.radius_px(shape).ravel()
    low, high = radial_range or (float(position.min()), float(position.max()))
    if bins is None:
        lo_px, hi_px = _pixel_span(radius, position, low, high)
        bins = max(1, math.ceil(hi_px - lo_px))
    if high <= low:  # every pixel at one position (a single pixel): one bin of unit width
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    index = np.searchsorted(edges, position, side="right") - 1
    index[position == high] = bins - 1
    index[(position < low) | (position > high)] = bins
    counts = np.bincount(index, minlength=bins + 1)[:bins]
    nodes = np.flatnonzero(counts)
    sums = np.bincount(index, weights=position, minlength=bins + 1)[nodes]
    node_position = sums / counts[nodes] if nodes.size else np.zeros(1)
    lower, weight = _interpolation_weights(position, node_position)
    arrays = (index, edges, counts, nodes, node_position, lower, weight)
    for array in arrays:
        array.setflags(write=False)
    return RadialBins(*arrays)


def _interpolation_weights(
    position: np.ndarray, nodes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lower node and weight of the upper node for linear interpolation (constant outside)."""
    if nodes.size < 2:
        return np.zeros(position.size, dtype=np.intp), np.zeros(position.size, dtype=np.float32)
    lower = np.clip(np.searchsorted(nodes, position, side="right") - 1, 0, nodes.size - 2)
    weight = (position - nodes[lower]) / (nodes[lower + 1] - nodes[lower])
    return lower, np.clip(weight, 0.0, 1.0).astype(np.float32)


def _pixel_span(
    radius: np.ndarray, position: np.ndarray, low: float, high: float
) -> tuple[float, float]:
    inside = (position >= low) & (position <= high)
    if not inside.any():
        return 0.0, 1.0
    return float(radius[inside].min()), float(radius[inside].max())


def radial_profile(
    image: np.ndarray,
    geometry: Geometry,
    *,
    bins: int | None = None,
    radial_range: tuple[float, float] | None = None,
    mask: np.ndarray | None = None,
    unit: Unit = "px",
) -> RadialProfile:
    """Mean of the unmasked pixels of a 2-D `image` in each radial bin about the beam centre.

    Args:
        image: (H, W) array.
        geometry: beam centre (and, for unit "q", pixel size, distance, wavelength).
        bins, radial_range, unit: see `radial_bins`.
        mask: bool (H, W), True = pixel ignored.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise ConfigError(f"radial profile: image must be 2-D (H, W), got shape {image.shape}")
    if mask is not None and mask.shape != image.shape:
        raise ConfigError(
            f"radial profile: mask shape {mask.shape} does not match image {image.shape}"
        )
    binning = radial_bins(image.shape, geometry, bins, radial_range, unit)
    intensity, count = _binned_mean(image, mask, binning)
    return RadialProfile(radius=binning.centers, intensity=intensity, count=count)


def _binned_mean(
    image: np.ndarray, mask: np.ndarray | None, binning: RadialBins
) -> tuple[np.ndarray, np.ndarray]:
    index, count = _masked_index(binning, mask)
    total = np.bincount(index, weights=image.ravel(), minlength=binning.bins + 1)[:-1]
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return mean, count


_LAST_MASKED: dict[int, tuple[RadialBins, np.ndarray, np.ndarray, np.ndarray]] = {}


def _masked_index(binning: RadialBins, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Bin index with masked pixels dropped, and the pixel count per bin.

    Detector masks rarely change from frame to frame, so the last result for each binning is
    kept and reused while the mask is equal.
    """
    if mask is None:
        return binning.index, binning.counts
    last = _LAST_MASKED.get(id(binning))
    if last is not None and last[0] is binning and np.array_equal(last[1], mask):
        return last[2], last[3]
    index = np.where(mask.ravel(), binning.bins, binning.index)
    count = np.bincount(index, minlength=binning.bins + 1)[:-1]
    _LAST_MASKED.clear()
    _LAST_MASKED[id(binning)] = (binning, mask.copy(), index, count)
    return index, count


def profile_at_pixels(
    intensity: np.ndarray, count: np.ndarray, binning: RadialBins
) -> np.ndarray | None:
    """Interpolate a profile back onto every pixel (flat float32); empty bins are bridged.

    Returns None when every bin is empty.
    """
    filled = count[binning.nodes] > 0
    if not filled.any():
        return None
    position = binning.node_position
    values = intensity[binning.nodes]
    profile = np.interp(position, position[filled], values[filled]).astype(np.float32)
    padded = np.append(profile, profile[-1])
    low = padded[binning.lower]
    return low + (padded[binning.lower + 1] - low) * binning.weight


class RadialNormalize(Transform):
    """Remove the isotropic fall-off: divide (or subtract) each pixel's radial mean.

    With ``mode="divide"`` (counts) a pixel becomes its ratio to the mean of its ring; with
    ``mode="subtract"`` (after `LogIntensity`) it becomes its difference from that mean. Rings
    and halos then read as ~1 (or ~0) and anisotropy and peaks stand out. Masked pixels, and
    pixels whose ring mean is not positive in divide mode, get the neutral value (1 or 0).

    Args:
        mode: "divide" or "subtract".
        bins: number of radial bins (default: one per pixel of radius).
        geometry: Geometry, mapping of its fields, or PONI path; otherwise the sample's beam
            centre is used.
    """

    def __init__(
        self,
        mode: Literal["divide", "subtract"] = "divide",
        bins: int | None = None,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        if mode not in ("divide", "subtract"):
            raise ConfigError(f"{self.name}: mode must be 'divide' or 'subtract', got '{mode}'")
        self.mode = mode
        self.bins = bins
        self.geometry = as_geometry(geometry)

    def __call__(self, sample: Sample) -> Sample:
        shape = check_sample(sample, self.name)
        center = resolve_center(self.geometry, sample, self.name)
        binning = radial_bins(shape, Geometry(beam_center=center), self.bins)
        mask = sample.get("mask")
        image = np.stack([self._normalize(channel, mask, binning) for channel in sample["image"]])
        return updated(sample, image=image)

    def _normalize(
        self, channel: np.ndarray, mask: np.ndarray | None, binning: RadialBins
    ) -> np.ndarray:
        neutral = np.float32(1.0 if self.mode == "divide" else 0.0)
        reference = profile_at_pixels(*_binned_mean(channel, mask, binning), binning)
        if reference is None:
            return np.full(channel.shape, neutral, dtype=np.float32)
        flat = channel.ravel()
        if self.mode == "subtract":
            result = flat - reference
        else:
            result = np.full_like(flat, neutral)
            np.divide(flat, reference, out=result, where=reference > 0)
        if mask is not None:
            result[mask.ravel()] = neutral
        return result.reshape(channel.shape)


class RadialChannels(Transform):
    """Split a one-channel frame into what is isotropic about the beam and what is not.

    Output channels: the frame itself, its radial mean painted back onto every pixel, and the
    residual (frame minus radial mean; 0 on masked pixels). The radial mean averages the ~2 pi r
    pixels of each ring, so weak rings, structure-factor bumps and halo shoulders that are lost
    in a single pixel's counting noise show as a clean profile at every position a convolution
    looks; the residual keeps what a ring average erases: arcs, texture, spots, beam-stop
    shadows. Use it after `LogIntensity` (the mean is then a geometric mean of counts).

    With `level`, the radial mean is appended once more as a last channel, meant to keep its
    absolute value (give it a fixed `Standardize` map, and the other channels a per-frame one):
    a per-frame standardisation makes a frame of 1 count per pixel look like one of 1,000, and
    tags such as weak or strong scattering and high background are about exactly that level.

    Args:
        bins: number of radial bins (default: one per pixel of radius).
        keep_image: keep the frame as the first channel (else only mean and residual).
        level: append the radial mean again as a last channel (see above).
        geometry: Geometry, mapping of its fields, or PONI path; otherwise the sample's beam
            centre is used.
    """

    def __init__(
        self,
        bins: int | None = None,
        keep_image: bool = True,
        level: bool = False,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        self.bins = bins
        self.keep_image = bool(keep_image)
        self.level = bool(level)
        self.geometry = as_geometry(geometry)

    def __call__(self, sample: Sample) -> Sample:
        shape = check_sample(sample, self.name)
        if sample["image"].shape[0] != 1:
            raise ConfigError(
                f"{self.name}: needs a one-channel frame, got {sample['image'].shape[0]} channels"
            )
        center = resolve_center(self.geometry, sample, self.name)
        binning = radial_bins(shape, Geometry(beam_center=center), self.bins)
        frame = sample["image"][0]
        mask = sample.get("mask")
        reference = profile_at_pixels(*_binned_mean(frame, mask, binning), binning)
        mean = np.zeros(shape, np.float32) if reference is None else reference.reshape(shape)
        residual = (frame - mean).astype(np.float32)
        if mask is not None:
            residual[mask] = 0.0
        planes = [frame, mean, residual] if self.keep_image else [mean, residual]
        if self.level:
            planes.append(mean)
        return updated(sample, image=np.stack(planes).astype(np.float32, copy=False))


class RadiusChannel(Transform):
    """Append each pixel's distance from the beam centre as one more channel.

    A convolution sees a small window and cannot tell where in the frame it is; with the radius
    beside the intensities (a CoordConv-style input), a ring's absolute position (low-q versus
    high-q scattering) and the ratio of two rings' radii (the signature of a lattice) become
    readable. The value is ``ln(max(r, 1)) / ln(r_scale)`` with `r_scale` the frame's diagonal
    by default, so it runs from 0 at the beam to about 1 at the far corner for any beam centre;
    on a log scale, equal radius ratios are equal differences. Put it after `Standardize`.

    Args:
        log: logarithmic (default) or linear ``r / r_scale`` radius.
        r_scale: radius (pixels) that maps to 1; default the frame's diagonal.
        geometry: Geometry, mapping of its fields, or PONI path; otherwise the sample's beam
            centre is used.
    """

    def __init__(
        self,
        log: bool = True,
        r_scale: float | None = None,
        geometry: Geometry | dict | str | None = None,
    ) -> None:
        if r_scale is not None and not r_scale > 1:
            raise ConfigError(f"{self.name}: r_scale must exceed 1 pixel, got {r_scale}")
        self.log = bool(log)
        self.r_scale = r_scale
        self.geometry = as_geometry(geometry)

    def __call__(self, sample: Sample) -> Sample:
        height, width = check_sample(sample, self.name)
        x0, y0 = resolve_center(self.geometry, sample, self.name)
        rows, cols = np.mgrid[:height, :width].astype(np.float32)
        radius = np.hypot(cols - np.float32(x0), rows - np.float32(y0))
        scale = self.r_scale or math.hypot(height, width)
        plane = np.log(np.maximum(radius, 1.0)) / math.log(scale) if self.log else radius / scale
        image = np.concatenate([sample["image"], plane[None].astype(np.float32)])
        return updated(sample, image=image)
