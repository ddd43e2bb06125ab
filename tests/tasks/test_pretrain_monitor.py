"""Monitoring features with labels: weighted cosine k-NN and the linear probe against
scikit-learn, and the metrics they become."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from scivit.tasks.ssl_monitor import headline_metrics, knn_scores, probe_scores


def clusters(n_per=20, dims=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dims)) * 3
    labels = np.repeat(np.arange(classes), n_per)
    features = centres[labels] + rng.normal(size=(len(labels), dims))
    return features, np.eye(classes)[labels], labels


def test_knn_equals_scikit_learn_with_exponential_cosine_weights():
    x, y, labels = clusters()
    train, query = slice(0, None, 2), slice(1, None, 2)
    temperature = 0.07
    scores = knn_scores(x[train], y[train], x[query], k=5, temperature=temperature)
    reference = KNeighborsClassifier(
        n_neighbors=5,
        metric="cosine",
        weights=lambda distance: np.exp((1.0 - distance) / temperature),
    ).fit(x[train], labels[train])
    np.testing.assert_allclose(scores, reference.predict_proba(x[query]), atol=1e-9)


def test_knn_multilabel_vote_shares_per_label():
    train_x = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    train_y = np.array([[1, 0], [1, 1], [0, 1]], dtype=float)
    scores = knn_scores(train_x, train_y, np.array([[1.0, 0.05]]), k=2, temperature=1.0)
    similarity = (
        train_x[:2] @ [1.0, 0.05] / (np.linalg.norm(train_x[:2], axis=1) * np.hypot(1, 0.05))
    )
    weight = np.exp(similarity)
    np.testing.assert_allclose(scores[0], [1.0, weight[1] / weight.sum()])


def test_probe_equals_scikit_learn_logistic_regression():
    x, y, labels = clusters(seed=1)
    train, query = slice(0, None, 2), slice(1, None, 2)
    scores = probe_scores(x[train], y[train], x[query], "multiclass")
    reference = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    reference.fit(x[train], labels[train])
    np.testing.assert_allclose(scores, reference.predict_proba(x[query]), atol=1e-9)
    assert (scores.argmax(axis=1) == labels[query]).mean() > 0.9


def test_probe_multilabel_handles_a_constant_label():
    x, y, _ = clusters(seed=2)
    targets = np.stack([y[:, 0], np.zeros(len(y)), y[:, 0] + y[:, 1]], axis=1)
    scores = probe_scores(x, targets, x, "multilabel")
    assert scores.shape == (len(x), 3)
    np.testing.assert_array_equal(scores[:, 1], 0.0)
    assert ((scores[:, 0] > 0.5) == (targets[:, 0] == 1)).mean() > 0.9


def test_headline_metrics_match_scikit_learn():
    scores = np.array([[0.9, 0.2], [0.4, 0.7], [0.6, 0.6], [0.1, 0.3]])
    targets = np.array([[1, 0], [0, 1], [1, 0], [0, 0]])
    metrics = headline_metrics(scores, targets, "multilabel", ["a", "b"])
    predicted = (scores >= 0.5).astype(int)
    assert metrics["f1_macro"] == pytest.approx(f1_score(targets, predicted, average="macro"))
    assert metrics["f1_micro"] == pytest.approx(f1_score(targets, predicted, average="micro"))
    assert set(metrics) == {"f1_macro", "f1_micro", "mAP", "hamming_accuracy"}
    multiclass = headline_metrics(scores, np.eye(2)[[0, 1, 1, 1]], "multiclass", ["a", "b"])
    assert multiclass["accuracy"] == pytest.approx(0.75)
