"""The architecture zoo: scivit's own backbones, registered in `scivit.models.BACKBONES`.

Importing this package registers the strong-lensing members (`lens_*`, see
`scivit.models.zoo.lensing`; `LENSING_BACKBONES` lists their names) and `radial_hybrid`, an
image backbone beside a branch reading the scattering profile on a log-radius axis.
"""

from scivit.models.zoo import radial_hybrid  # noqa: F401  (registers the backbone)
from scivit.models.zoo.lensing import LENSING_BACKBONES

__all__ = ["LENSING_BACKBONES"]
