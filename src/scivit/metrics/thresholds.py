"""Per-label decision thresholds tuned on validation predictions to maximise F1."""

from __future__ import annotations

import numpy as np

from scivit.errors import DataError
from scivit.metrics._inputs import binary_targets, probability_matrix

DEFAULT_GRID = np.round(np.linspace(0.01, 0.99, 99), 2)
NEUTRAL = 0.5


def tune_thresholds(
    probs: np.ndarray, targets: np.ndarray, grid: np.ndarray | None = None
) -> np.ndarray:
    """For each label, the grid threshold whose predictions `probs >= t` maximise F1.

    Ties go to the threshold nearest 0.5; a label without positives gets 0.5.

    Args:
        probs: validation probabilities (N, K).
        targets: 0/1 validation targets (N, K).
        grid: candidate thresholds in [0, 1] (default 0.01, 0.02, ..., 0.99).

    Returns:
        Thresholds (K,).
    """
    probs = probability_matrix(probs)
    targets = binary_targets(targets, probs.shape).astype(bool)
    grid = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64).ravel()
    if grid.size == 0 or not np.isfinite(grid).all() or grid.min() < 0 or grid.max() > 1:
        raise DataError("the threshold grid must be a non-empty list of values in [0, 1]")
    f1 = np.stack([_f1_at(probs, targets, threshold) for threshold in grid])
    best = f1 >= f1.max(axis=0, keepdims=True) - 1e-12
    distance = np.where(best, np.abs(grid - NEUTRAL)[:, None], np.inf)
    chosen = grid[np.argmin(distance, axis=0)]
    return np.where(targets.any(axis=0), chosen, NEUTRAL)


def _f1_at(probs: np.ndarray, targets: np.ndarray, threshold: float) -> np.ndarray:
    """F1 of every label (K,) at one threshold; 0 where it is 0/0."""
    predicted = probs >= threshold
    true_pos = (predicted & targets).sum(axis=0)
    denominator = predicted.sum(axis=0) + targets.sum(axis=0)
    return np.divide(
        2.0 * true_pos, denominator, out=np.zeros(probs.shape[1]), where=denominator > 0
    )
