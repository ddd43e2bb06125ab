"""The architecture zoo: scivit's own backbones, registered in `scivit.models.BACKBONES`.

Importing this package registers the strong-lensing members (`lens_*`, see
`scivit.models.zoo.lensing`); `LENSING_BACKBONES` lists their names.
"""

from scivit.models.zoo.lensing import LENSING_BACKBONES

__all__ = ["LENSING_BACKBONES"]
