"""Per-label F1-optimal thresholds, checked by exhaustive search with scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from scivit.errors import DataError
from scivit.metrics import tune_thresholds
from scivit.metrics.thresholds import DEFAULT_GRID


def test_thresholds_maximise_f1_like_an_exhaustive_search():
    rng = np.random.default_rng(3)
    targets = (rng.random((80, 3)) < [0.5, 0.2, 0.1]).astype(int)
    probs = np.clip(0.3 * targets + 0.7 * rng.random((80, 3)), 0, 1)
    tuned = tune_thresholds(probs, targets)
    for k in range(3):
        scores = [f1_score(targets[:, k], probs[:, k] >= t, zero_division=0) for t in DEFAULT_GRID]
        best = max(scores)
        ties = [t for t, score in zip(DEFAULT_GRID, scores, strict=True) if score >= best - 1e-12]
        assert tuned[k] == min(ties, key=lambda t: abs(t - 0.5))
        assert f1_score(targets[:, k], probs[:, k] >= tuned[k]) == pytest.approx(best)


def test_ties_go_to_the_threshold_nearest_one_half():
    probs = np.array([[0.1], [0.9]])
    targets = np.array([[0], [1]])
    assert tune_thresholds(probs, targets, grid=[0.2, 0.45, 0.6, 0.8]) == pytest.approx([0.45])


def test_label_without_positives_gets_one_half():
    probs = np.array([[0.1, 0.3], [0.9, 0.7]])
    targets = np.array([[0, 0], [1, 0]])
    assert tune_thresholds(probs, targets)[1] == 0.5


def test_bad_grid():
    with pytest.raises(DataError, match="threshold grid"):
        tune_thresholds(np.zeros((2, 1)), np.zeros((2, 1)), grid=[1.5])
    with pytest.raises(DataError, match="threshold grid"):
        tune_thresholds(np.zeros((2, 1)), np.zeros((2, 1)), grid=[])
