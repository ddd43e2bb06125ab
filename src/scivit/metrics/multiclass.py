"""Multi-class (one label per image) metrics with torchmetrics.

Per-class ROC AUC is one-vs-rest; a class absent from the targets (or the only class present)
has AUC None and is left out of `roc_auc_macro`. `roc_auc_micro` pools all one-vs-rest
decisions. Rows of the confusion matrix are true classes, columns predicted classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
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
        `roc_auc` {name: AUC or None}, `roc_auc_macro`, `roc_auc_micro` and
        `confusion_matrix` (list of lists).
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
    }
