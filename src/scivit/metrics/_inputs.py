"""Validation of metric inputs: score arrays, 0/1 target arrays and label names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from scivit.errors import DataError


def score_matrix(probs: np.ndarray) -> np.ndarray:
    """Finite float scores (N, K) with N >= 1."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise DataError(f"scores must be a non-empty (N, K) array, got shape {probs.shape}")
    if not np.isfinite(probs).all():
        raise DataError("scores hold NaN or infinite values")
    return probs


def probability_matrix(probs: np.ndarray) -> np.ndarray:
    """Probabilities (N, K) in [0, 1]."""
    probs = score_matrix(probs)
    if probs.min() < 0 or probs.max() > 1:
        raise DataError(f"probabilities must lie in [0, 1], got [{probs.min()}, {probs.max()}]")
    return probs


def binary_targets(targets: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """0/1 targets with the scores' shape, as integers."""
    targets = np.asarray(targets)
    if targets.shape != shape:
        raise DataError(f"targets have shape {targets.shape}, scores have {shape}")
    if not np.isin(targets, (0, 1)).all():
        raise DataError("multi-label targets must be 0 or 1")
    return targets.astype(np.int64)


def class_targets(targets: np.ndarray, num_samples: int, num_classes: int) -> np.ndarray:
    """Class indices (N,) in [0, num_classes)."""
    targets = np.asarray(targets)
    if targets.shape != (num_samples,):
        raise DataError(f"class targets must have shape ({num_samples},), got {targets.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise DataError(f"class targets must be integers, got {targets.dtype}")
    if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
        raise DataError(
            f"class targets must lie in [0, {num_classes - 1}], "
            f"got [{targets.min()}, {targets.max()}]"
        )
    return targets.astype(np.int64)


def names_for(label_names: Sequence[str] | None, count: int) -> list[str]:
    """The given names (one per column) or "0", "1", ... when none are given."""
    if label_names is None:
        return [str(index) for index in range(count)]
    names = list(label_names)
    if len(names) != count:
        raise DataError(f"{len(names)} label names given for {count} columns of scores")
    if len(set(names)) != len(names):
        raise DataError("label names must be unique")
    return names


def tensor(array: np.ndarray) -> torch.Tensor:
    """A torch view of a numpy array (float64 kept for exact comparisons)."""
    return torch.from_numpy(np.ascontiguousarray(array))


def has_both_classes(column: np.ndarray) -> bool:
    """True when a 0/1 column holds at least one positive and one negative."""
    return 0 < int(column.sum()) < column.size
