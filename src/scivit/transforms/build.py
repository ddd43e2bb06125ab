"""The `TRANSFORMS` registry and `build_transforms`, which turns recipe specs into a `Compose`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scivit.errors import ConfigError
from scivit.registry import Registry
from scivit.transforms.base import Compose
from scivit.transforms.sample import Sample

TRANSFORMS: Registry[Callable[..., Callable[[Sample], Sample]]] = Registry("transform")


def build_transforms(specs: Sequence[Mapping[str, Any]]) -> Compose:
    """A `Compose` from specs like ``[{"name": "log"}, {"name": "resize", "size": 64}]``."""
    if isinstance(specs, (str, Mapping)) or not isinstance(specs, Sequence):
        raise ConfigError(
            f"transforms: expected a list of {{name: ...}} entries, got {type(specs).__name__}"
        )
    return Compose([build_transform(spec, position) for position, spec in enumerate(specs)])


def build_transform(spec: Mapping[str, Any], position: int = 0) -> Callable[[Sample], Sample]:
    """One transform from ``{"name": registered_name, **options}``."""
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise ConfigError(f"transforms[{position}]: each entry needs a 'name', got {spec!r}")
    options = {key: value for key, value in spec.items() if key != "name"}
    return TRANSFORMS.build(spec["name"], **options)
