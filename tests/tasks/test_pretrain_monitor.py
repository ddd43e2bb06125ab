"""Monitoring features with labels: weighted cosine k-NN and the linear probe against
scikit-learn, the metrics they become, and when the callback logs them."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from scivit.tasks.ssl_monitor import (
    FeatureMonitor,
    MonitorConfig,
    headline_metrics,
    knn_scores,
    probe_scores,
)


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


def test_knn_unanimous_float32_votes_stay_probabilities():
    rng = np.random.default_rng(4)
    train_x = rng.normal(size=(64, 192)).astype(np.float32)
    query_x = rng.normal(size=(300, 192)).astype(np.float32)
    scores = knn_scores(train_x, np.ones((64, 3)), query_x, k=20, temperature=0.07)
    assert scores.max() <= 1.0
    np.testing.assert_allclose(scores, 1.0)
    metrics = headline_metrics(scores, np.ones((300, 3)), "multilabel", ["a", "b", "c"])
    assert metrics["f1_macro"] == pytest.approx(1.0)


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


class FeatureMethod(nn.Module):
    """A method whose features are its input frames flattened."""

    def features(self, images):
        return images.flatten(1)


class LoggingModule(SimpleNamespace):
    def log(self, key, value, on_epoch):
        self.logged[key] = value


def test_monitor_scores_the_starting_weights_once_then_every_n_epochs():
    x, y, _ = clusters(n_per=12, dims=4, classes=2, seed=3)
    frames = torch.tensor(x, dtype=torch.float32).reshape(-1, 1, 2, 2)
    targets = torch.tensor(y, dtype=torch.float32)
    train, held_out = (
        DataLoader(TensorDataset(frames[part], targets[part]), batch_size=5)
        for part in (slice(0, None, 2), slice(1, None, 2))
    )
    cfg = MonitorConfig(manifest="unused.csv", labels=["a", "b"], k=3, every_n_epochs=2)
    monitor = FeatureMonitor(cfg, train, held_out)
    module = LoggingModule(method=FeatureMethod(), device=torch.device("cpu"), logged={})

    monitor.on_train_start(SimpleNamespace(current_epoch=0), module)
    expected = headline_metrics(
        knn_scores(x[::2], y[::2], x[1::2], 3, cfg.temperature), y[1::2], "multilabel", cfg.labels
    )
    assert {k: v for k, v in module.logged.items() if "knn" in k} == {
        f"monitor/start_knn_{key}": value for key, value in expected.items()
    }
    assert module.logged["monitor/start_probe_f1_macro"] == pytest.approx(1.0)

    module.logged.clear()
    monitor.on_train_start(SimpleNamespace(current_epoch=3), module)
    monitor.on_train_epoch_end(SimpleNamespace(current_epoch=0), module)
    assert module.logged == {}
    monitor.on_train_epoch_end(SimpleNamespace(current_epoch=1), module)
    assert module.logged["monitor/knn_f1_macro"] == pytest.approx(expected["f1_macro"])
