"""The loss registry: losses are found by name and built from scalar options only.

`build_loss("asl", gamma_neg=4.0)` looks the class up in `LOSSES` and checks every option
against its signature, so a misspelt recipe key is a one-line ConfigError. Options are numbers,
strings, booleans or lists of numbers, never a config object.
"""

from __future__ import annotations

from numbers import Real
from typing import Any

from torch import nn

from scivit.errors import ConfigError
from scivit.registry import Registry

LOSSES: Registry[type[nn.Module]] = Registry("loss")


def build_loss(name: str, **scalars: Any) -> nn.Module:
    """Build the loss called `name` with scalar options (per-class lists allowed)."""
    for key, value in scalars.items():
        if not _is_scalar_option(value):
            raise ConfigError(
                f"loss option '{key}' must be a number, string, boolean or list of numbers, "
                f"got {type(value).__name__}"
            )
    return LOSSES.build(name, **scalars)


def _is_scalar_option(value: Any) -> bool:
    if value is None or isinstance(value, Real | str | bool):
        return True
    return isinstance(value, list | tuple) and all(isinstance(item, Real) for item in value)
