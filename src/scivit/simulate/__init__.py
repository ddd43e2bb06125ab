"""Simulators that write labelled detector frames and a manifest, found by name.

`SIMULATORS` maps a name to a function `(out_dir, n, seed=..., ...) -> manifest path`; the
files it writes enter scivit through `scivit.io` like any beamline dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scivit.registry import Registry
from scivit.simulate.lensing import LENSING_CLASSES, simulate_lensing
from scivit.simulate.scattering import simulate_scattering
from scivit.simulate.scattering_labels import SCATTERING_TAGS

SIMULATORS: Registry[Callable[..., Path]] = Registry("simulator")
SIMULATORS.add("scattering", simulate_scattering)
SIMULATORS.add("lensing", simulate_lensing)

__all__ = [
    "LENSING_CLASSES",
    "SCATTERING_TAGS",
    "SIMULATORS",
    "simulate_lensing",
    "simulate_scattering",
]
