"""Multi-class (one label per image) metrics with torchmetrics.

Per-class ROC AUC and average precision are one-vs-rest; a class absent from the targets (or,
for AUC, the only class present) has None there and is left out of `roc_auc_macro`.
`roc_auc_micro` pools all one-vs-rest decisions. Per-class precision, recall and F1 are of the
arg-max decision (0 where undefined). Rows of the confusion matrix are true classes, columns
predicted classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torchmetrics.functional.classification as tmc

from scivit.metrics._inputs import class_targets, has_both_classes, names_for, score_matrix, tensor


def multiclass_metrics(
    probs: np.ndarray, targets: np.ndarray, label_names: Sequence[str] | None = None
) -> dict[str, Any]:
    """Metrics of multi-class predictions.

    Args:
        probs: class probabilities or scores (N, C); the prediction is the arg-max.
        targets: class indices (N,).
        label_names: C class names (default "0", "1", ...).

    Returns:
        `accuracy`, `f1_macro` (over classes present in targets or predictions),
        `roc_auc` {name: AUC or None}, `roc_auc_macro`, `roc_auc_micro`,
        `confusion_matrix` (list of lists) and `per_label`: {name: {precision, recall, f1,
        average_precision, roc_auc, support}}.
    """
    probs = score_matrix(probs)
    num_classes = probs.shape[1]
    targets = class_targets(targets, probs.shape[0], num_classes)
    names = names_for(label_names, num_classes)
    scores, target = tensor(probs), tensor(targets)
    one_hot = np.eye(num_classes, dtype=np.int64)[targets]
    per_class = {
        name: float(tmc.binary_auroc(scores[:, c], tensor(one_hot[:, c])))
        if has_both_classes(one_hot[:, c])
        else None
        for c, name in enumerate(names)
    }
    defined = [value for value in per_class.values() if value is not None]
    micro = tmc.binary_auroc(scores.ravel(), tensor(one_hot.ravel()))
    return {
        "accuracy": float(tmc.multiclass_accuracy(scores, target, num_classes, average="micro")),
        "f1_macro": float(tmc.multiclass_f1_score(scores, target, num_classes, average="macro")),
        "roc_auc": per_class,
        "roc_auc_macro": float(np.mean(defined)) if defined else None,
        "roc_auc_micro": float(micro) if has_both_classes(one_hot.ravel()) else None,
        "confusion_matrix": tmc.multiclass_confusion_matrix(scores, target, num_classes).tolist(),
        "per_label": _per_label(scores, target, one_hot, names, per_class),
    }


def _per_label(
    scores: torch.Tensor,
    target: torch.Tensor,
    one_hot: np.ndarray,
    names: list[str],
    roc_auc: dict[str, float | None],
) -> dict[str, dict[str, Any]]:
    """Precision, recall and F1 of the arg-max decision, one-vs-rest average precision and
    ROC AUC, and support, per class."""
    num_classes = len(names)
    decisions = {
        key: fn(scores, target, num_classes, average="none", zero_division=0)
        for key, fn in (
            ("precision", tmc.multiclass_precision),
            ("recall", tmc.multiclass_recall),
            ("f1", tmc.multiclass_f1_score),
        )
    }
    return {
        name: {
            **{key: float(values[c]) for key, values in decisions.items()},
            "average_precision": float(
                tmc.binary_average_precision(scores[:, c], tensor(one_hot[:, c]))
            )
            if one_hot[:, c].any()
            else None,
            "roc_auc": roc_auc[name],
            "support": int(one_hot[:, c].sum()),
        }
        for c, name in enumerate(names)
    }
