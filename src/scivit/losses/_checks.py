"""Checks shared by the loss families: option values and tensor shapes."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from scivit.errors import ConfigError


def per_class_tensor(name: str, values: Sequence[float] | None) -> torch.Tensor | None:
    """A float tensor of positive per-class values, or None."""
    if values is None:
        return None
    tensor = torch.as_tensor(list(values), dtype=torch.float32)
    if tensor.ndim != 1 or tensor.numel() == 0 or not bool((tensor > 0).all()):
        raise ConfigError(f"loss option '{name}' must be a non-empty list of positive numbers")
    return tensor


def check_per_class(name: str, values: torch.Tensor | None, num_classes: int) -> None:
    """Per-class values must match the number of model outputs."""
    if values is not None and values.numel() != num_classes:
        raise ConfigError(
            f"loss option '{name}' has {values.numel()} values but the model has "
            f"{num_classes} outputs"
        )


def check_range(name: str, value: float, low: float, high: float) -> None:
    """`low <= value <= high`, or a ConfigError naming the option."""
    if not low <= value <= high:
        raise ConfigError(f"loss option '{name}' must be in [{low}, {high}], got {value}")
