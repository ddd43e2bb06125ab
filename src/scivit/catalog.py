"""What `scivit list` can show: each entry lists the names of one kind of component."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable

from scivit.registry import Registry

CATALOG: Registry[Callable[[str | None], list[str]]] = Registry("listing")


def _filtered(names: list[str], pattern: str | None) -> list[str]:
    return sorted(fnmatch.filter(names, pattern) if pattern else names)


@CATALOG.register("backbones")
def list_backbones(pattern: str | None) -> list[str]:
    """scivit's own backbones and every timm architecture."""
    import timm

    from scivit.models.backbones import BACKBONES

    return _filtered(BACKBONES.names() + timm.list_models(), pattern)


@CATALOG.register("pretrained")
def list_pretrained(pattern: str | None) -> list[str]:
    """timm models with published pretrained weights (downloaded when online)."""
    import timm

    return _filtered(timm.list_models(pretrained=True), pattern)


@CATALOG.register("recipes")
def list_recipe_names(pattern: str | None) -> list[str]:
    """Recipes shipped with scivit."""
    from scivit.recipe import list_recipes

    return _filtered(list_recipes(), pattern)


@CATALOG.register("simulators")
def list_simulators(pattern: str | None) -> list[str]:
    """Synthetic data generators."""
    from scivit.simulate import SIMULATORS

    return _filtered(SIMULATORS.names(), pattern)


@CATALOG.register("transforms")
def list_transforms(pattern: str | None) -> list[str]:
    """Preprocessing and augmentation steps usable in recipes."""
    from scivit.transforms import TRANSFORMS

    return _filtered(TRANSFORMS.names(), pattern)


@CATALOG.register("losses")
def list_losses(pattern: str | None) -> list[str]:
    """Training losses."""
    from scivit.losses import LOSSES

    return _filtered(LOSSES.names(), pattern)


@CATALOG.register("heads")
def list_heads(pattern: str | None) -> list[str]:
    """Classifier heads."""
    from scivit.models.heads import HEADS

    return _filtered(HEADS.names(), pattern)
