"""Multi-label classification metrics (torchmetrics), per label and averaged.

Predictions are `probs >= threshold` with one threshold per label (or one for all). Ranking
metrics need both classes: a label without positives has `average_precision` None, and a label
without positives or without negatives has `roc_auc` None; such labels are left out of `mAP` and
`roc_auc_macro` (None when no label qualifies). Threshold metrics (precision, recall, F1) count
0/0 as 0, as scikit-learn does with `zero_division=0`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torchmetrics.functional.classification as tmc

from scivit.errors import DataError
from scivit.metrics._inputs import (
    binary_targets,
    has_both_classes,
    names_for,
    probability_matrix,
    tensor,
)


def multilabel_metrics(
    probs: np.ndarray,
    targets: np.ndarray,
    thresholds: np.ndarray | float = 0.5,
    label_names: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Metrics of multi-label predictions.

    Args:
        probs: probabilities (N, K).
        targets: 0/1 targets (N, K).
        thresholds: one threshold for all labels or one per label (K,).
        label_names: K names for `per_label` (default "0", "1", ...).

    Returns:
        `hamming_accuracy`, `subset_accuracy`, `f1_micro`, `f1_macro`, `f1_weighted`, `mAP`,
        `roc_auc_macro`, and `per_label`: {name: {precision, recall, f1, average_precision,
        roc_auc, support}}.
    """
    probs = probability_matrix(probs)
    targets = binary_targets(targets, probs.shape)
    num_labels = probs.shape[1]
    names = names_for(label_names, num_labels)
    preds = tensor((probs >= _thresholds(thresholds, num_labels)).astype(np.float64))
    target = tensor(targets)

    def score(fn: Any, **kwargs: Any) -> torch.Tensor:
        return fn(preds, target, num_labels=num_labels, threshold=0.5, **kwargs)

    average_precision = [
        _ranking(tmc.binary_average_precision, probs, targets, k, positives_only=True)
        for k in range(num_labels)
    ]
    roc_auc = [
        _ranking(tmc.binary_auroc, probs, targets, k, positives_only=False)
        for k in range(num_labels)
    ]
    precision = score(tmc.multilabel_precision, average="none", zero_division=0)
    recall = score(tmc.multilabel_recall, average="none", zero_division=0)
    f1 = score(tmc.multilabel_f1_score, average="none", zero_division=0)
    support = targets.sum(axis=0)
    per_label = {
        name: {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "average_precision": average_precision[k],
            "roc_auc": roc_auc[k],
            "support": int(support[k]),
        }
        for k, name in enumerate(names)
    }
    return {
        "hamming_accuracy": float(score(tmc.multilabel_accuracy, average="micro")),
        "subset_accuracy": float(score(tmc.multilabel_exact_match)),
        "f1_micro": float(score(tmc.multilabel_f1_score, average="micro", zero_division=0)),
        "f1_macro": float(score(tmc.multilabel_f1_score, average="macro", zero_division=0)),
        "f1_weighted": float(score(tmc.multilabel_f1_score, average="weighted", zero_division=0)),
        "mAP": _mean_defined(average_precision),
        "roc_auc_macro": _mean_defined(roc_auc),
        "per_label": per_label,
    }


def _thresholds(thresholds: np.ndarray | float, num_labels: int) -> np.ndarray:
    """Thresholds broadcast to (K,), each in [0, 1]."""
    values = np.asarray(thresholds, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(num_labels, float(values))
    if values.shape != (num_labels,):
        raise DataError(f"{values.size} thresholds given for {num_labels} labels")
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise DataError("thresholds must lie in [0, 1]")
    return values


def _ranking(
    fn: Any, probs: np.ndarray, targets: np.ndarray, k: int, positives_only: bool
) -> float | None:
    """A ranking metric of label k, or None when it is undefined for that label."""
    column = targets[:, k]
    defined = column.any() if positives_only else has_both_classes(column)
    if not defined:
        return None
    return float(fn(tensor(probs[:, k]), tensor(column)))


def _mean_defined(values: list[float | None]) -> float | None:
    defined = [value for value in values if value is not None]
    return float(np.mean(defined)) if defined else None
