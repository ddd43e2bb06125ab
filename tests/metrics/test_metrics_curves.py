"""Curve points against scikit-learn."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from scivit.metrics import pr_curves, roc_curves


def _data():
    rng = np.random.default_rng(5)
    targets = (rng.random((40, 3)) < [0.5, 0.3, 0.0]).astype(int)
    probs = np.round(np.clip(0.4 * targets + 0.6 * rng.random((40, 3)), 0, 1), 2)
    return probs, targets


def test_pr_curves_match_sklearn():
    probs, targets = _data()
    curves = pr_curves(probs, targets, ["a", "b", "c"])
    assert set(curves) == {"a", "b"}
    for k, name in enumerate(["a", "b"]):
        precision, recall, _ = precision_recall_curve(targets[:, k], probs[:, k])
        np.testing.assert_allclose(curves[name][0], precision, rtol=1e-6)
        np.testing.assert_allclose(curves[name][1], recall, rtol=1e-6)


def test_roc_curves_match_sklearn():
    probs, targets = _data()
    curves = roc_curves(probs, targets, ["a", "b", "c"])
    assert set(curves) == {"a", "b"}
    for k, name in enumerate(["a", "b"]):
        fpr, tpr, _ = roc_curve(targets[:, k], probs[:, k], drop_intermediate=False)
        np.testing.assert_allclose(curves[name][0], fpr, rtol=1e-6)
        np.testing.assert_allclose(curves[name][1], tpr, rtol=1e-6)


def test_class_indices_are_one_vs_rest():
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    curves = roc_curves(probs, np.array([0, 1, 0]))
    fpr, tpr, _ = roc_curve([0, 1, 0], probs[:, 1], drop_intermediate=False)
    np.testing.assert_allclose(curves["1"][0], fpr)
    np.testing.assert_allclose(curves["1"][1], tpr)
