"""Models: timm backbones (local or hub weights), heads, adapters and optimizer groups."""

from scivit.models.adapters import (
    apply_adaptation,
    default_target_modules,
    merge_adapters,
    trainable_fraction,
)
from scivit.models.backbones import BACKBONES, create_backbone
from scivit.models.classifier import (
    AdaptConfig,
    Classifier,
    HeadConfig,
    ModelConfig,
    build_classifier,
)
from scivit.models.heads import HEADS, build_head
from scivit.models.optim import param_groups
from scivit.models.weights import load_weights
from scivit.models.zoo import LENSING_BACKBONES

__all__ = [
    "BACKBONES",
    "HEADS",
    "LENSING_BACKBONES",
    "AdaptConfig",
    "Classifier",
    "HeadConfig",
    "ModelConfig",
    "apply_adaptation",
    "build_classifier",
    "build_head",
    "create_backbone",
    "default_target_modules",
    "load_weights",
    "merge_adapters",
    "param_groups",
    "trainable_fraction",
]
