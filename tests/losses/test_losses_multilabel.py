"""Multi-label losses against their equations on hand-made logits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scivit.errors import ConfigError
from scivit.losses import build_loss

LOGITS = np.array([[2.0, -1.0, 0.5], [-3.0, 0.2, 4.0], [0.0, -0.5, -2.5]])
TARGETS = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]])


def _loss(name: str, **options) -> float:
    loss = build_loss(name, **options)
    return float(loss(torch.tensor(LOGITS, dtype=torch.float64), torch.tensor(TARGETS)))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def test_bce_equation():
    p, y = _sigmoid(LOGITS), TARGETS
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert _loss("bce") == pytest.approx(expected, rel=1e-10)


def test_bce_positive_weights():
    weights = np.array([1.0, 3.0, 0.5])
    p, y = _sigmoid(LOGITS), TARGETS
    expected = -(weights * y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert _loss("bce", pos_weight=weights.tolist()) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(("gamma", "alpha"), [(2.0, 0.25), (0.0, 0.5), (1.5, -1)])
def test_focal_equation(gamma, alpha):
    p, y = _sigmoid(LOGITS), TARGETS
    p_t = np.where(y == 1, p, 1 - p)
    alpha_t = 1.0 if alpha == -1 else np.where(y == 1, alpha, 1 - alpha)
    expected = (-alpha_t * (1 - p_t) ** gamma * np.log(p_t)).mean()
    assert _loss("focal", gamma=gamma, alpha=alpha) == pytest.approx(expected, rel=1e-10)


def _asl_equation(gamma_neg: float, gamma_pos: float, clip: float) -> np.ndarray:
    """Ridnik et al. 2021, eqs. (2)-(6): L+ = (1-p)^g+ log p, L- = p_m^g- log(1-p_m)."""
    p, y = _sigmoid(LOGITS), TARGETS
    p_m = np.maximum(p - clip, 0.0)
    positive = (1 - p) ** gamma_pos * np.log(p)
    negative = p_m**gamma_neg * np.log(1 - p_m)
    return -(y * positive + (1 - y) * negative)


@pytest.mark.parametrize(("gamma_neg", "gamma_pos", "clip"), [(4.0, 0.0, 0.05), (2.0, 1.0, 0.2)])
def test_asl_equation(gamma_neg, gamma_pos, clip):
    elements = _asl_equation(gamma_neg, gamma_pos, clip)
    options = {"gamma_neg": gamma_neg, "gamma_pos": gamma_pos, "clip": clip}
    assert _loss("asl", **options) == pytest.approx(elements.mean(), rel=1e-6)
    assert _loss("asl", reduction="sum", **options) == pytest.approx(elements.sum(), rel=1e-6)
    assert _loss("asl", reduction="batchmean", **options) == pytest.approx(
        elements.sum() / len(LOGITS), rel=1e-6
    )


def test_asl_discards_easy_negatives_below_the_margin():
    loss = build_loss("asl", clip=0.2)
    easy = torch.tensor([[-3.0]])
    assert float(loss(easy, torch.zeros(1, 1))) == 0.0


def test_asl_without_focusing_or_clipping_is_bce():
    assert _loss("asl", gamma_neg=0.0, gamma_pos=0.0, clip=0.0) == pytest.approx(_loss("bce"))


def test_losses_have_gradients():
    logits = torch.tensor(LOGITS, requires_grad=True)
    for name in ("bce", "focal", "asl"):
        build_loss(name)(logits, torch.tensor(TARGETS)).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize(
    ("name", "options", "match"),
    [
        ("focal", {"gama": 2.0}, "loss 'focal': unknown option 'gama'; did you mean 'gamma'"),
        ("focal", {"alpha": 1.5}, "loss option 'alpha' must be in"),
        ("focal", {"gamma": -1.0}, "loss option 'gamma' must be in"),
        ("bce", {"pos_weight": [1.0, -2.0]}, "'pos_weight' must be a non-empty list of positive"),
        ("bce", {"pos_weight": {"a": 1}}, "loss option 'pos_weight' must be a number"),
        ("asl", {"reduction": "mean_of_all"}, "'reduction' must be one of mean, batchmean, sum"),
        ("asl", {"clip": 2.0}, "loss option 'clip' must be in"),
        ("bcee", {}, "unknown loss 'bcee'; did you mean 'bce'"),
    ],
)
def test_bad_options(name, options, match):
    with pytest.raises(ConfigError, match=match):
        build_loss(name, **options)


def test_pos_weight_must_match_the_labels():
    loss = build_loss("bce", pos_weight=[1.0, 2.0])
    with pytest.raises(ConfigError, match="'pos_weight' has 2 values but the model has 3 outputs"):
        loss(torch.tensor(LOGITS), torch.tensor(TARGETS))


def test_targets_must_match_the_logits():
    with pytest.raises(ValueError, match="targets of the same shape"):
        build_loss("asl")(torch.zeros(2, 3), torch.zeros(2, 4))
