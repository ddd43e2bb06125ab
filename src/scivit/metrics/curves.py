"""Per-label precision-recall and ROC curve points for plots (torchmetrics, exact thresholds).

Targets are 0/1 (N, K), or class indices (N,) for multi-class scores, which are compared one
class against the rest. Labels whose curve is undefined are left out: without positives for
precision-recall, without positives or negatives for ROC.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torchmetrics.functional.classification as tmc

from scivit.metrics._inputs import (
    binary_targets,
    class_targets,
    has_both_classes,
    names_for,
    score_matrix,
    tensor,
)

Curve = tuple[np.ndarray, np.ndarray]


def pr_curves(
    probs: np.ndarray, targets: np.ndarray, names: Sequence[str] | None = None
) -> dict[str, Curve]:
    """{name: (precision, recall)} for every label with positives."""
    probs, targets, names = _columns(probs, targets, names)
    curves = {}
    for k, name in enumerate(names):
        if targets[:, k].any():
            precision, recall, _ = tmc.binary_precision_recall_curve(
                tensor(probs[:, k]), tensor(targets[:, k])
            )
            curves[name] = (precision.numpy(), recall.numpy())
    return curves


def roc_curves(
    probs: np.ndarray, targets: np.ndarray, names: Sequence[str] | None = None
) -> dict[str, Curve]:
    """{name: (false positive rate, true positive rate)} for every label with both classes."""
    probs, targets, names = _columns(probs, targets, names)
    curves = {}
    for k, name in enumerate(names):
        if has_both_classes(targets[:, k]):
            fpr, tpr, _ = tmc.binary_roc(tensor(probs[:, k]), tensor(targets[:, k]))
            curves[name] = (fpr.numpy(), tpr.numpy())
    return curves


def _columns(
    probs: np.ndarray, targets: np.ndarray, names: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Scores (N, K), 0/1 targets (N, K) and K names."""
    probs = score_matrix(probs)
    targets = np.asarray(targets)
    if targets.ndim == 1:
        indices = class_targets(targets, probs.shape[0], probs.shape[1])
        targets = np.eye(probs.shape[1], dtype=np.int64)[indices]
    return probs, binary_targets(targets, probs.shape), names_for(names, probs.shape[1])
