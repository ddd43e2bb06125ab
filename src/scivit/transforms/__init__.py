"""Physics-aware preprocessing and augmentation for detector images.

Transforms are callables on sample dicts (see `scivit.transforms.sample`), registered by name
in `TRANSFORMS` so recipes can list them: ``build_transforms([{"name": "log"}, ...])``.
"""

from scivit.transforms.augment import (
    RandAzimuthShift,
    RandFlip,
    RandIntensityScale,
    RandPoisson,
    RandRotate,
)
from scivit.transforms.base import Compose, RandomTransform, Transform
from scivit.transforms.beamstop import MaskBeamstop
from scivit.transforms.build import TRANSFORMS, build_transform, build_transforms
from scivit.transforms.crop import RandResizedCrop
from scivit.transforms.dead_pixels import FixDeadPixels
from scivit.transforms.geometry import Geometry, as_geometry, resolve_center
from scivit.transforms.intensity import ClipPercentile, LogIntensity, Standardize
from scivit.transforms.photometric import RandGamma, RandGaussianBlur, Unlog
from scivit.transforms.polar import PolarRemap
from scivit.transforms.radial import (
    RadialBins,
    RadialChannels,
    RadialNormalize,
    RadialProfile,
    RadiusChannel,
    radial_bins,
    radial_profile,
)
from scivit.transforms.resize import Resize
from scivit.transforms.sample import Sample, check_sample, make_sample
from scivit.transforms.tensor import ToTensor

for _name, _transform in {
    "fix_dead_pixels": FixDeadPixels,
    "mask_beamstop": MaskBeamstop,
    "log": LogIntensity,
    "clip_percentile": ClipPercentile,
    "radial_normalize": RadialNormalize,
    "radial_channels": RadialChannels,
    "radius_channel": RadiusChannel,
    "polar": PolarRemap,
    "standardize": Standardize,
    "resize": Resize,
    "to_tensor": ToTensor,
    "rand_flip": RandFlip,
    "rand_rotate": RandRotate,
    "rand_azimuth_shift": RandAzimuthShift,
    "rand_intensity_scale": RandIntensityScale,
    "rand_poisson": RandPoisson,
    "rand_resized_crop": RandResizedCrop,
    "rand_gamma": RandGamma,
    "rand_blur": RandGaussianBlur,
    "unlog": Unlog,
}.items():
    TRANSFORMS.add(_name, _transform)

__all__ = [
    "TRANSFORMS",
    "ClipPercentile",
    "Compose",
    "FixDeadPixels",
    "Geometry",
    "LogIntensity",
    "MaskBeamstop",
    "PolarRemap",
    "RandAzimuthShift",
    "RadialBins",
    "RadialChannels",
    "RadialNormalize",
    "RadialProfile",
    "RadiusChannel",
    "RandFlip",
    "RandGamma",
    "RandGaussianBlur",
    "RandIntensityScale",
    "RandPoisson",
    "RandResizedCrop",
    "RandRotate",
    "RandomTransform",
    "Resize",
    "Sample",
    "Standardize",
    "ToTensor",
    "Transform",
    "Unlog",
    "as_geometry",
    "build_transform",
    "build_transforms",
    "check_sample",
    "make_sample",
    "radial_bins",
    "radial_profile",
    "resolve_center",
]
