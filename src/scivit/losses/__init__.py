"""Losses by family, found by name in `LOSSES` and built with `build_loss(name, **scalars)`."""

from scivit.losses.factory import LOSSES, build_loss
from scivit.losses.multiclass import CrossEntropyLoss
from scivit.losses.multilabel import AsymmetricLoss, BCELoss, FocalLoss

__all__ = ["LOSSES", "AsymmetricLoss", "BCELoss", "CrossEntropyLoss", "FocalLoss", "build_loss"]
