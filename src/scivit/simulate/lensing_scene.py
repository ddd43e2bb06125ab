"""One lens system as a plain JSON-able dict, and its lenstronomy model lists.

A scene holds the class label, the redshifts, the main lens (a singular isothermal ellipsoid
whose Einstein radius encloses `halo_mass`, plus external shear), the source (an elliptical
Sersic profile whose centre is drawn uniformly within +-`source_offset` arcsec of the lens
axis) and the point masses of the class's substructure (`scivit.simulate.lensing_substructure`).
Everything a frame's image depends on is in the scene, so it is stored with the frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scivit.simulate.lensing_physics import LensingPhysics, einstein_radius, lens_cosmo
from scivit.simulate.lensing_substructure import SUBSTRUCTURES


def draw_scene(
    rng: np.random.Generator, label: str, physics: LensingPhysics | None = None
) -> dict[str, Any]:
    """Draw a lens system of class `label` (a name in `SUBSTRUCTURES`)."""
    physics = physics or LensingPhysics()
    builder = SUBSTRUCTURES.get(label)
    cosmo = lens_cosmo(physics.z_lens, physics.z_source)
    theta_e = float(einstein_radius(physics.halo_mass, cosmo))
    source_x, source_y = rng.uniform(-physics.source_offset, physics.source_offset, size=2)
    return {
        "label": label,
        "z_lens": physics.z_lens,
        "z_source": physics.z_source,
        "main_lens": {
            "mass_msun": physics.halo_mass,
            "theta_E": theta_e,
            "e1": physics.halo_ellipticity[0],
            "e2": physics.halo_ellipticity[1],
            "center_x": 0.0,
            "center_y": 0.0,
        },
        "shear": {"gamma1": physics.shear[0], "gamma2": physics.shear[1]},
        "source": {
            "R_sersic": physics.source_radius,
            "n_sersic": physics.source_index,
            "e1": physics.source_ellipticity[0],
            "e2": physics.source_ellipticity[1],
            "center_x": float(source_x),
            "center_y": float(source_y),
        },
        "substructure": builder(rng, physics, cosmo, theta_e),
    }


def lens_models(scene: dict[str, Any]) -> tuple[list[str], list[dict[str, float]]]:
    """lenstronomy lens model names and keyword arguments of a scene."""
    main = {key: value for key, value in scene["main_lens"].items() if key != "mass_msun"}
    sub = scene["substructure"]
    points = [
        {"theta_E": theta_e, "center_x": x, "center_y": y}
        for theta_e, x, y in zip(sub["theta_E"], sub["x"], sub["y"], strict=True)
    ]
    names = ["SIE", "SHEAR", *(["POINT_MASS"] * len(points))]
    return names, [main, dict(scene["shear"]), *points]
