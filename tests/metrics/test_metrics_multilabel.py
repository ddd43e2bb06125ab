"""Multi-label metrics against scikit-learn, including labels without positives."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    hamming_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)

from scivit.errors import DataError
from scivit.metrics import multilabel_metrics

NAMES = ["ring", "halo", "diffuse", "bcc"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    targets = (rng.random((60, 4)) < [0.5, 0.3, 0.2, 0.0]).astype(int)
    probs = np.clip(0.45 * targets + 0.55 * rng.random((60, 4)), 0, 1)
    return probs, targets


def approx(value):
    return pytest.approx(value, rel=1e-6, abs=1e-7)


@pytest.mark.parametrize("thresholds", [0.5, np.array([0.4, 0.55, 0.3, 0.7])])
def test_every_number_matches_sklearn(data, thresholds):
    probs, targets = data
    result = multilabel_metrics(probs, targets, thresholds, NAMES)
    preds = (probs >= np.broadcast_to(thresholds, (4,))).astype(int)
    assert result["hamming_accuracy"] == approx(1 - hamming_loss(targets, preds))
    assert result["subset_accuracy"] == approx(accuracy_score(targets, preds))
    for average in ("micro", "macro", "weighted"):
        expected = f1_score(targets, preds, average=average, zero_division=0)
        assert result[f"f1_{average}"] == approx(expected)
    defined = [0, 1, 2]
    aps = [average_precision_score(targets[:, k], probs[:, k]) for k in defined]
    aucs = [roc_auc_score(targets[:, k], probs[:, k]) for k in defined]
    assert result["mAP"] == approx(np.mean(aps))
    assert result["roc_auc_macro"] == approx(np.mean(aucs))
    precision = precision_score(targets, preds, average=None, zero_division=0)
    recall = recall_score(targets, preds, average=None, zero_division=0)
    f1 = f1_score(targets, preds, average=None, zero_division=0)
    for k, name in enumerate(NAMES):
        label = result["per_label"][name]
        assert label["precision"] == approx(precision[k])
        assert label["recall"] == approx(recall[k])
        assert label["f1"] == approx(f1[k])
        assert label["support"] == targets[:, k].sum()
        if k in defined:
            assert label["average_precision"] == approx(aps[k])
            assert label["roc_auc"] == approx(aucs[k])


def test_label_without_positives_has_no_ranking_metrics(data):
    probs, targets = data
    label = multilabel_metrics(probs, targets, 0.5, NAMES)["per_label"]["bcc"]
    assert label["average_precision"] is None and label["roc_auc"] is None
    assert label["support"] == 0


def test_label_with_only_positives_has_ap_but_no_auc():
    probs = np.array([[0.9, 0.2], [0.6, 0.8], [0.3, 0.1]])
    targets = np.array([[1, 0], [1, 1], [1, 0]])
    result = multilabel_metrics(probs, targets)
    assert result["per_label"]["0"]["average_precision"] == approx(1.0)
    assert result["per_label"]["0"]["roc_auc"] is None
    assert result["roc_auc_macro"] == approx(1.0)


def test_no_label_with_positives():
    result = multilabel_metrics(np.full((3, 2), 0.2), np.zeros((3, 2), dtype=int))
    assert result["mAP"] is None and result["roc_auc_macro"] is None
    assert result["hamming_accuracy"] == 1.0


@pytest.mark.parametrize(
    ("probs", "targets", "kwargs", "match"),
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), {}, "targets have shape"),
        (np.zeros((3, 2)), np.full((3, 2), 2), {}, "must be 0 or 1"),
        (np.full((3, 2), 1.5), np.zeros((3, 2)), {}, r"must lie in \[0, 1\]"),
        (np.full((3, 2), np.nan), np.zeros((3, 2)), {}, "NaN"),
        (np.zeros(3), np.zeros(3), {}, r"\(N, K\)"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {"thresholds": [0.5] * 3}, "3 thresholds given for 2"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {"thresholds": 1.2}, "thresholds must lie"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {"label_names": ["a"]}, "1 label names given for 2"),
        (np.zeros((3, 2)), np.zeros((3, 2)), {"label_names": ["a", "a"]}, "must be unique"),
    ],
)
def test_bad_inputs(probs, targets, kwargs, match):
    with pytest.raises(DataError, match=match):
        multilabel_metrics(probs, targets, **kwargs)
