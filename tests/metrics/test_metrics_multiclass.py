"""Multi-class metrics against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from scivit.errors import DataError
from scivit.metrics import multiclass_metrics

NAMES = ["lens", "no_lens", "artifact"]


def approx(value):
    return pytest.approx(value, rel=1e-6, abs=1e-7)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    targets = rng.integers(0, 3, 50)
    logits = rng.normal(size=(50, 3)) + 1.5 * np.eye(3)[targets]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return probs, targets


def test_every_number_matches_sklearn(data):
    probs, targets = data
    result = multiclass_metrics(probs, targets, NAMES)
    preds = probs.argmax(axis=1)
    one_hot = label_binarize(targets, classes=[0, 1, 2])
    assert result["accuracy"] == approx(accuracy_score(targets, preds))
    assert result["f1_macro"] == approx(f1_score(targets, preds, average="macro"))
    assert result["roc_auc_macro"] == approx(roc_auc_score(targets, probs, multi_class="ovr"))
    assert result["roc_auc_micro"] == approx(roc_auc_score(one_hot, probs, average="micro"))
    for c, name in enumerate(NAMES):
        assert result["roc_auc"][name] == approx(roc_auc_score(one_hot[:, c], probs[:, c]))
    assert result["confusion_matrix"] == confusion_matrix(targets, preds).tolist()


def test_per_class_numbers_match_sklearn(data):
    probs, targets = data
    per_label = multiclass_metrics(probs, targets, NAMES)["per_label"]
    precision, recall, f1, support = precision_recall_fscore_support(
        targets, probs.argmax(axis=1), labels=[0, 1, 2], zero_division=0
    )
    assert list(per_label) == NAMES
    for c, name in enumerate(NAMES):
        row = per_label[name]
        assert row["precision"] == approx(precision[c])
        assert row["recall"] == approx(recall[c])
        assert row["f1"] == approx(f1[c])
        assert row["support"] == support[c]
        assert row["average_precision"] == approx(
            average_precision_score(targets == c, probs[:, c])
        )
        assert row["roc_auc"] == approx(roc_auc_score(targets == c, probs[:, c]))


def test_absent_class_has_no_auc():
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.5, 0.4]])
    targets = np.array([0, 1, 0, 1])
    result = multiclass_metrics(probs, targets)
    assert result["roc_auc"]["2"] is None
    expected = np.mean([roc_auc_score(targets == c, probs[:, c]) for c in (0, 1)])
    assert result["roc_auc_macro"] == approx(expected)
    assert result["f1_macro"] == approx(f1_score(targets, probs.argmax(axis=1), average="macro"))
    assert result["confusion_matrix"][2] == [0, 0, 0]
    absent = result["per_label"]["2"]
    assert absent["support"] == 0 and absent["average_precision"] is None
    assert (absent["precision"], absent["recall"], absent["f1"]) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("targets", "match"),
    [
        (np.array([0, 1, 3]), r"must lie in \[0, 2\]"),
        (np.array([0.0, 1.0, 2.0]), "must be integers"),
        (np.array([0, 1]), r"must have shape \(3,\)"),
    ],
)
def test_bad_targets(targets, match):
    with pytest.raises(DataError, match=match):
        multiclass_metrics(np.full((3, 3), 1 / 3), targets)
