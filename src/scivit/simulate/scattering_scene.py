"""Random SAXS/WAXS scenes: instrument, sample and the frames recorded from one sample.

A scene is what stays fixed while 1-4 frames of one sample are recorded: the instrument
(detector family, crop and binning, distance, wavelength, tilt, beam stop, background) and the
sample (a class such as nanoparticles, superlattice, block copolymer, powder or amorphous
material, made of components from `scattering_terms.COMPONENTS`). Frames of a scene differ in
exposure and detector position. Every quantity is drawn from a continuous range (sizes,
spacings, intensities, orientations, centres) so no single number separates the tags, and
component positions are drawn relative to the q range the detector covers, so features fall on,
near or off the detector as they do at a beamline. Scenes are plain JSON-able dicts so that
their parameters can be stored next to each frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyFAI.geometry import Geometry

from scivit.simulate.detector import LAYOUTS, pyfai_geometry
from scivit.simulate.scattering_physics import (
    calibrant_ring_positions,
    calibrant_ring_span,
    dnn_for_first_peak,
)

SAXS_CLASSES = {
    "nanoparticles": 0.26,
    "superlattice": 0.34,
    "block_copolymer": 0.14,
    "polymer": 0.1,
    "calibrant": 0.08,
    "blank": 0.1,
}
WAXS_CLASSES = {
    "powder": 0.3,
    "amorphous": 0.26,
    "semicrystalline": 0.16,
    "superlattice": 0.14,
    "nanoparticles": 0.08,
    "blank": 0.08,
}
BEAMSTOPS = {"circular": 0.44, "linear": 0.31, "wedge": 0.25}
LAYOUT_PRIORS = {"pilatus": 0.5, "eiger": 0.25, "ccd": 0.25}
DIFFUSE_MODELS = ("guinier_porod", "polymer_excl_volume", "sphere", "core_shell_sphere")


def log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A draw uniform in log between `low` and `high`."""
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _choice(rng: np.random.Generator, priors: dict[str, float]) -> str:
    names = list(priors)
    weights = np.array([priors[name] for name in names])
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def sample_scene(rng: np.random.Generator, size: int) -> dict[str, Any]:
    """Draw one scene (instrument + sample) for frames of `size` x `size` pixels."""
    mode = "saxs" if rng.random() < 0.6 else "waxs"
    instrument = _instrument(rng, size, mode)
    q_low, q_high = scene_q_range(instrument, size)
    sample_class = _choice(rng, SAXS_CLASSES if mode == "saxs" else WAXS_CLASSES)
    components = SAMPLE_CLASSES[sample_class](rng, q_low, q_high)
    components.extend(_extras(rng, mode, q_low, q_high, sample_class))
    return {
        "mode": mode,
        "sample_class": sample_class,
        "instrument": instrument,
        "q_range": [q_low, q_high],
        "components": components,
        "brightness": log_uniform(rng, 0.3, 600.0),
    }


def _instrument(rng: np.random.Generator, size: int, mode: str) -> dict[str, Any]:
    layout_name = _choice(rng, LAYOUT_PRIORS)
    layout = LAYOUTS[layout_name]
    crop = float(rng.uniform(0.45, 1.0))
    distance = log_uniform(rng, 1200.0, 8000.0) if mode == "saxs" else log_uniform(rng, 90.0, 400.0)
    return {
        "layout": layout_name,
        "crop": crop,
        "crop_offset": [float(rng.random()), float(rng.random())],
        "pixel_m": layout.pixel_m * crop * min(layout.shape) / size,
        "distance_mm": distance,
        "wavelength_nm": float(rng.uniform(0.07, 0.16)),
        "tilt_deg": float(rng.uniform(0.0, 2.5)),
        "tilt_plane_deg": float(rng.uniform(0.0, 360.0)),
        "polarization": float(rng.uniform(0.9, 0.99)),
        "beam_off": bool(rng.random() < 0.15),
        "center": _beam_center(rng, size),
        "beamstop": _beamstop(rng, size),
        "background": _background(rng),
        "defects": {
            "dead": float(rng.uniform(0.0, 4e-4)),
            "hot": float(rng.uniform(0.0, 1.5e-4)),
            "seed": int(rng.integers(2**31)),
        },
    }


def _beam_center(rng: np.random.Generator, size: int) -> list[float]:
    spread = 0.35 if rng.random() < 0.6 else 0.45
    return [float(size * (0.5 + rng.uniform(-spread, spread))) for _ in range(2)]


def off_image_center(rng: np.random.Generator, size: int) -> list[float]:
    """A beam centre outside the frame by 3-60% of its size, on a random side."""
    along = float(rng.uniform(-0.1, 1.1) * size)
    beyond = float(rng.uniform(0.03, 0.6) * size)
    side = int(rng.integers(4))
    across = -beyond if side < 2 else size - 1 + beyond
    return [across, along] if side % 2 == 0 else [along, across]


def _beamstop(rng: np.random.Generator, size: int) -> dict[str, Any]:
    kind = _choice(rng, BEAMSTOPS)
    scale = size / 128.0
    return {
        "kind": kind,
        "dx": float(rng.normal(0.0, 0.6 * scale)),
        "dy": float(rng.normal(0.0, 0.6 * scale)),
        "angle": float(rng.uniform(-np.pi, np.pi)),
        "radius": float(rng.uniform(3.0, 9.0) * scale),
        "arm_width": float(rng.uniform(1.2, 2.8) * scale),
        "width": float(rng.uniform(4.0, 11.0) * scale),
        "overshoot": float(rng.uniform(2.0, 8.0) * scale),
        "half_angle": float(rng.uniform(0.04, 0.2)),
        "softness": float(rng.uniform(0.4, 1.0) * scale),
        "leakage": log_uniform(rng, 2e-4, 1e-2),
        "direct_beam": log_uniform(rng, 10.0, 3e3) if rng.random() < 0.3 else 0.0,
    }


def _background(rng: np.random.Generator) -> dict[str, float]:
    high = rng.random() < 0.25
    return {
        "flat": log_uniform(rng, 0.3, 4.0) if high else log_uniform(rng, 0.002, 0.15),
        "air": log_uniform(rng, 0.05, 3.0),
        "air_exponent": float(rng.uniform(1.0, 2.5)),
        "parasitic": log_uniform(rng, 1.0, 300.0),
        "parasitic_width": float(rng.uniform(0.5, 1.5)),
        "streak": log_uniform(rng, 0.05, 2.0) if rng.random() < 0.3 else 0.0,
        "streak_angle": float(rng.choice([0.0, np.pi / 2]) + rng.normal(0.0, 0.02)),
    }


def instrument_geometry(
    instrument: dict[str, Any], size: int, center: tuple[float, float]
) -> Geometry:
    """pyFAI geometry of `instrument` for a frame with the beam at `center` (x, y)."""
    return pyfai_geometry(
        size=size,
        pixel_m=instrument["pixel_m"],
        distance_mm=instrument["distance_mm"],
        wavelength_nm=instrument["wavelength_nm"],
        center=center,
        tilt_deg=instrument["tilt_deg"],
        tilt_plane_deg=instrument["tilt_plane_deg"],
    )


def scene_q_range(instrument: dict[str, Any], size: int) -> tuple[float, float]:
    """q range (nm^-1) seen around the stop at the scene's base beam centre (1-99 percentile)."""
    center = off_image_center(np.random.default_rng(0), size) if instrument["beam_off"] else None
    geometry = instrument_geometry(instrument, size, tuple(center or instrument["center"]))
    q = geometry.center_array((size, size), unit="q_nm^-1")
    low, high = np.percentile(q, [1.0, 99.0])
    radius = instrument["beamstop"]["radius"] + 3.0
    low = max(float(low), float(np.percentile(q, 100.0 * np.pi * radius**2 / size**2)))
    return low, float(high)


def frame_setups(
    rng: np.random.Generator, scene: dict[str, Any], size: int, count: int
) -> list[dict[str, Any]]:
    """Exposure and beam centre of each of the `count` frames recorded from `scene`."""
    instrument = scene["instrument"]
    setups = []
    for _ in range(count):
        if instrument["beam_off"]:
            center = off_image_center(rng, size)
        else:
            jitter = rng.normal(0.0, 0.04 * size, size=2) if setups else np.zeros(2)
            center = list(np.clip(np.array(instrument["center"]) + jitter, 2.0, size - 3.0))
        setups.append(
            {
                "exposure": scene["brightness"] * log_uniform(rng, 0.3, 3.0),
                "center": [float(value) for value in center],
            }
        )
    return setups


def texture_spec(rng: np.random.Generator, oriented_probability: float) -> dict[str, Any] | None:
    """An oriented texture with probability `oriented_probability`, else isotropic (None)."""
    if rng.random() >= oriented_probability:
        return None
    return {
        "kind": "oriented",
        "chi0": float(rng.uniform(-np.pi, np.pi)),
        "anisotropy": float(rng.uniform(0.3, 0.97)),
        "power": float(rng.uniform(1.0, 6.0)),
    }


def diffuse_low_q_spec(rng: np.random.Generator, q_low: float, q_high: float) -> dict[str, Any]:
    """A form factor or polymer curve with its Guinier knee near the low-q edge."""
    model = str(rng.choice(DIFFUSE_MODELS))
    knee = log_uniform(rng, 0.3 * q_low, 3.0 * q_low)
    size_angstrom = 10.0 / knee
    params: dict[str, float] = {
        "guinier_porod": {
            "rg": size_angstrom,
            "s": float(rng.uniform(0.0, 1.5)),
            "porod_exp": float(rng.uniform(2.5, 4.0)),
        },
        "polymer_excl_volume": {"rg": size_angstrom, "porod_exp": float(rng.uniform(1.7, 3.0))},
        "sphere": {
            "radius": 1.5 * size_angstrom,
            "radius_pd": float(rng.uniform(0.08, 0.3)),
            "radius_pd_n": 9,
        },
        "core_shell_sphere": {
            "radius": 1.2 * size_angstrom,
            "thickness": 0.4 * size_angstrom,
            "radius_pd": float(rng.uniform(0.08, 0.3)),
            "radius_pd_n": 9,
        },
    }[model]
    return {
        "kind": "diffuse_low_q",
        "model": model,
        "params": params,
        "q_ref": q_low,
        "amplitude": log_uniform(rng, 2.0, 200.0),
        "texture": texture_spec(rng, 0.2),
    }


def lattice_spec(rng: np.random.Generator, q_low: float, q_high: float) -> dict[str, Any]:
    """A bcc or fcc paracrystal whose first reflection is drawn across the detector range."""
    q1 = log_uniform(rng, 0.8 * q_low, 0.6 * q_high)
    return {
        "kind": "lattice",
        "lattice": "bcc" if rng.random() < 0.5 else "fcc",
        "dnn_nm": dnn_for_first_peak(q1),
        "d_factor": float(rng.uniform(0.02, 0.08)),
        "amplitude": log_uniform(rng, 3.0, 150.0),
        "texture": texture_spec(rng, 0.25),
    }


def lamellar_spec(
    rng: np.random.Generator, q_low: float, q_high: float, oriented: float
) -> dict[str, Any]:
    """A lamellar stack whose first order is drawn across the detector range."""
    q1 = log_uniform(rng, 0.8 * q_low, 0.5 * q_high)
    return {
        "kind": "lamellar",
        "d_nm": 2.0 * np.pi / q1,
        "thickness_fraction": float(rng.uniform(0.2, 0.6)),
        "layers": int(rng.integers(4, 40)),
        "sigma_fraction": float(rng.uniform(0.02, 0.15)),
        "amplitude": log_uniform(rng, 1.0, 60.0),
        "texture": texture_spec(rng, oriented),
    }


def structure_factor_spec(rng: np.random.Generator, q_low: float, q_high: float) -> dict[str, Any]:
    """Hard-sphere liquid whose correlation peak lies across the detector range."""
    q_peak = log_uniform(rng, 1.2 * q_low, 0.7 * q_high)
    radius = 10.0 * 3.5 / q_peak
    return {
        "kind": "structure_factor",
        "params": {
            "radius": radius,
            "radius_effective": radius * float(rng.uniform(1.0, 1.2)),
            "volfraction": float(rng.uniform(0.15, 0.45)),
            "radius_pd": float(rng.uniform(0.03, 0.15)),
            "radius_pd_n": 9,
        },
        "q_ref": q_low,
        "amplitude": log_uniform(rng, 2.0, 100.0),
    }


def broad_peak_spec(
    rng: np.random.Generator, kind: str, q_low: float, q_high: float
) -> dict[str, Any]:
    """An amorphous halo inside the range, or diffuse high-q rising towards the edge."""
    if kind == "halo":
        q, width, amplitude = (
            log_uniform(rng, 2.0 * q_low, 0.8 * q_high),
            rng.uniform(0.12, 0.35),
            log_uniform(rng, 1.0, 20.0),
        )
    else:
        q, width, amplitude = (
            q_high * rng.uniform(1.1, 2.0),
            rng.uniform(0.4, 0.9),
            log_uniform(rng, 0.3, 8.0),
        )
    spec = {"kind": kind, "q": float(q), "relative_width": float(width), "amplitude": amplitude}
    if kind == "halo":
        spec["texture"] = texture_spec(rng, 0.15)
    return spec


def powder_spec(rng: np.random.Generator, q_low: float, q_high: float) -> dict[str, Any]:
    """Rings of a pyFAI calibrant that has rings on the detector, isotropic, textured or spotty."""
    from pyFAI.calibrant import names

    candidates = [name for name in sorted(names()) if _rings_on_detector(name, q_low, q_high)]
    name = str(rng.choice(candidates or sorted(names())))
    ring_count = len(calibrant_ring_positions(name))
    heights = (log_uniform(rng, 0.5, 30.0) * np.exp(rng.normal(0.0, 0.7, ring_count))).tolist()
    spec: dict[str, Any] = {
        "kind": "powder",
        "calibrant": name,
        "heights": heights,
        "relative_width": log_uniform(rng, 0.001, 0.01),
    }
    style = rng.random()
    if style < 0.25:
        spec["ring_textures"] = [_spotty(rng) for _ in range(ring_count)]
    elif style < 0.5:
        spec["texture"] = texture_spec(rng, 1.0)
    return spec


def _rings_on_detector(name: str, q_low: float, q_high: float) -> bool:
    lowest, highest = calibrant_ring_span(name)
    return lowest < q_high and highest > q_low


def _spotty(rng: np.random.Generator) -> dict[str, Any]:
    count = int(rng.integers(3, 40))
    spots = [
        [
            float(rng.uniform(-np.pi, np.pi)),
            float(rng.uniform(0.008, 0.03)),
            float(rng.lognormal(0.0, 0.6)),
        ]
        for _ in range(count)
    ]
    return {"kind": "spotty", "spots": spots}


def _nanoparticles(rng, q_low, q_high):
    if rng.random() < 0.7:
        return [structure_factor_spec(rng, q_low, q_high)]
    return [diffuse_low_q_spec(rng, q_low, q_high)]


def _superlattice(rng, q_low, q_high):
    parts = [lattice_spec(rng, q_low, q_high)]
    if rng.random() < 0.5:
        parts.append(diffuse_low_q_spec(rng, q_low, q_high))
    return parts


def _block_copolymer(rng, q_low, q_high):
    parts = [lamellar_spec(rng, q_low, q_high, oriented=0.5)]
    if rng.random() < 0.6:
        parts.append(diffuse_low_q_spec(rng, q_low, q_high))
    return parts


def _polymer(rng, q_low, q_high):
    parts = [diffuse_low_q_spec(rng, q_low, q_high)]
    if rng.random() < 0.3:
        parts.append(lamellar_spec(rng, q_low, q_high, oriented=0.3))
    return parts


def _powder(rng, q_low, q_high):
    return [powder_spec(rng, q_low, q_high)]


def _amorphous(rng, q_low, q_high):
    parts = [broad_peak_spec(rng, "halo", q_low, q_high)]
    if rng.random() < 0.3:
        parts.append(broad_peak_spec(rng, "diffuse_high_q", q_low, q_high))
    return parts


def _semicrystalline(rng, q_low, q_high):
    return [broad_peak_spec(rng, "halo", q_low, q_high), powder_spec(rng, q_low, q_high)]


def _blank(rng, q_low, q_high):
    return []


SAMPLE_CLASSES = {
    "nanoparticles": _nanoparticles,
    "superlattice": _superlattice,
    "block_copolymer": _block_copolymer,
    "polymer": _polymer,
    "calibrant": _powder,
    "powder": _powder,
    "amorphous": _amorphous,
    "semicrystalline": _semicrystalline,
    "blank": _blank,
}


def _extras(rng, mode, q_low, q_high, sample_class):
    extras = []
    if rng.random() < (0.3 if mode == "waxs" else 0.12):
        extras.append(broad_peak_spec(rng, "diffuse_high_q", q_low, q_high))
    if sample_class != "blank" and rng.random() < 0.15:
        extras.append(diffuse_low_q_spec(rng, q_low, q_high))
    if mode == "saxs" and rng.random() < 0.15:
        extras.append(broad_peak_spec(rng, "halo", q_low, q_high))
    return extras
