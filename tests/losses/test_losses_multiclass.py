"""Cross-entropy against its equation, with index and one-hot targets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scivit.errors import ConfigError
from scivit.losses import LOSSES, build_loss

LOGITS = np.array([[2.0, -1.0, 0.5], [-3.0, 0.2, 4.0], [0.0, -0.5, -2.5], [1.0, 1.0, 1.0]])
CLASSES = np.array([0, 2, 1, 1])


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _ce(targets: torch.Tensor, **options) -> float:
    return float(build_loss("ce", **options)(torch.tensor(LOGITS), targets))


def test_registry_holds_every_family():
    assert {"bce", "focal", "asl", "ce"} <= set(LOSSES.names())


def test_cross_entropy_equation():
    log_p = _log_softmax(LOGITS)
    expected = -log_p[np.arange(4), CLASSES].mean()
    assert _ce(torch.tensor(CLASSES)) == pytest.approx(expected, rel=1e-10)


def test_one_hot_targets_equal_indices():
    one_hot = torch.nn.functional.one_hot(torch.tensor(CLASSES), 3)
    for smoothing in (0.0, 0.1):
        assert _ce(one_hot, label_smoothing=smoothing) == pytest.approx(
            _ce(torch.tensor(CLASSES), label_smoothing=smoothing), rel=1e-10
        )


def test_label_smoothing_equation():
    eps, log_p = 0.2, _log_softmax(LOGITS)
    per_sample = (1 - eps) * -log_p[np.arange(4), CLASSES] + eps * -log_p.mean(axis=1)
    assert _ce(torch.tensor(CLASSES), label_smoothing=eps) == pytest.approx(
        per_sample.mean(), rel=1e-10
    )


def test_class_weights_equation():
    weights, log_p = np.array([1.0, 2.0, 0.5]), _log_softmax(LOGITS)
    w = weights[CLASSES]
    expected = (w * -log_p[np.arange(4), CLASSES]).sum() / w.sum()
    assert _ce(torch.tensor(CLASSES), weight=weights.tolist()) == pytest.approx(expected, rel=1e-10)


def test_bad_inputs():
    with pytest.raises(ConfigError, match="'weight' has 2 values but the model has 3 outputs"):
        _ce(torch.tensor(CLASSES), weight=[1.0, 2.0])
    with pytest.raises(ConfigError, match="loss option 'label_smoothing' must be in"):
        build_loss("ce", label_smoothing=1.0)
    with pytest.raises(ValueError, match="class indices"):
        _ce(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="class indices"):
        _ce(torch.tensor([0.0, 1.0, 1.0, 2.0]))
