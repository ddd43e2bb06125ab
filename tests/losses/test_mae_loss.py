"""MAE reconstruction loss against the paper's equations and the authors' implementation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scivit.losses.mae import MAELoss, patch_mean_std

EPS = 1e-6
RNG = np.random.default_rng(0)
PRED = RNG.normal(size=(2, 4, 6))
TARGET = RNG.normal(loc=2.0, scale=3.0, size=(2, 4, 6))
MASK = np.array([[1, 0, 1, 1], [0, 1, 0, 1]], dtype=np.float64)


def _loss(pred=PRED, target=TARGET, mask=MASK, invalid=None, **options) -> torch.Tensor:
    invalid = None if invalid is None else torch.tensor(invalid)
    return MAELoss(**options)(torch.tensor(pred), torch.tensor(target), torch.tensor(mask), invalid)


def _hand_loss(pred, target, mask, valid, norm_pix_loss=True) -> float:
    """Average over masked patches with a valid pixel of the per-patch MSE over valid pixels."""
    errors = []
    for b, k in zip(*np.nonzero(mask), strict=True):
        keep = valid[b, k]
        if not keep.any():
            continue
        x, y = target[b, k, keep], pred[b, k, keep]
        if norm_pix_loss:
            var = x.var(ddof=1) if x.size > 1 else 0.0
            x = (x - x.mean()) / np.sqrt(var + EPS)
        errors.append(np.mean((y - x) ** 2))
    return float(np.mean(errors)) if errors else 0.0


def _reference(pred, target, mask) -> float:
    """The authors' `forward_loss` (facebookresearch/mae, models_mae.py) with norm_pix_loss."""
    target = torch.tensor(target)
    mean = target.mean(dim=-1, keepdim=True)
    var = target.var(dim=-1, keepdim=True)
    target = (target - mean) / (var + 1.0e-6) ** 0.5
    loss = ((torch.tensor(pred) - target) ** 2).mean(dim=-1)
    return float((loss * torch.tensor(mask)).sum() / torch.tensor(mask).sum())


def test_loss_equals_hand_computation_and_reference():
    valid = np.ones_like(TARGET, dtype=bool)
    expected = _hand_loss(PRED, TARGET, MASK, valid)
    assert float(_loss()) == pytest.approx(expected, rel=1e-10)
    assert float(_loss()) == pytest.approx(_reference(PRED, TARGET, MASK), rel=1e-10)


def test_loss_without_normalisation_is_masked_mse():
    per_patch = ((PRED - TARGET) ** 2).mean(axis=-1)
    expected = (per_patch * MASK).sum() / MASK.sum()
    assert float(_loss(norm_pix_loss=False)) == pytest.approx(expected, rel=1e-10)


def test_visible_patches_do_not_change_the_loss():
    visible = MASK == 0
    pred, target = PRED.copy(), TARGET.copy()
    pred[visible] += 5.0
    target[visible] = RNG.normal(size=target[visible].shape) * 10
    assert float(_loss(pred, target)) == pytest.approx(float(_loss()), rel=1e-12)
    pred_t = torch.tensor(PRED, requires_grad=True)
    MAELoss()(pred_t, torch.tensor(TARGET), torch.tensor(MASK)).backward()
    assert torch.all(pred_t.grad[torch.tensor(visible)] == 0)
    assert torch.all(pred_t.grad[torch.tensor(~visible)] != 0)


def test_invalid_pixels_are_excluded():
    invalid = np.zeros_like(TARGET, dtype=bool)
    invalid[0, 0, :2] = True
    invalid[1, 3, 5] = True
    expected = _hand_loss(PRED, TARGET, MASK, ~invalid)
    assert float(_loss(invalid=invalid)) == pytest.approx(expected, rel=1e-10)
    target, pred = TARGET.copy(), PRED.copy()
    target[invalid], pred[invalid] = np.nan, 1e6
    assert float(_loss(pred, target, invalid=invalid)) == pytest.approx(expected, rel=1e-10)
    pred_t = torch.tensor(pred, requires_grad=True)
    MAELoss()(pred_t, torch.tensor(target), torch.tensor(MASK), torch.tensor(invalid)).backward()
    assert torch.isfinite(pred_t.grad).all()
    assert torch.all(pred_t.grad[torch.tensor(invalid)] == 0)
    assert float(_loss(invalid=invalid)) != pytest.approx(float(_loss()), rel=1e-3)


def test_entirely_invalid_patch_contributes_nothing():
    invalid = np.zeros_like(TARGET, dtype=bool)
    invalid[0, 2] = True
    target = TARGET.copy()
    target[0, 2] = np.nan
    without = MASK.copy()
    without[0, 2] = 0
    loss = _loss(target=target, invalid=invalid)
    assert torch.isfinite(loss)
    assert float(loss) == pytest.approx(float(_loss(mask=without)), rel=1e-10)


def test_only_invalid_masked_patches_give_zero_without_nan():
    invalid = np.broadcast_to((MASK == 1)[..., None], TARGET.shape).copy()
    pred = torch.tensor(PRED, requires_grad=True)
    loss = MAELoss()(pred, torch.tensor(TARGET), torch.tensor(MASK), torch.tensor(invalid))
    loss.backward()
    assert loss.item() == 0.0
    assert torch.all(pred.grad == 0)


def test_constant_patch_has_zero_target_and_no_nan():
    target = TARGET.copy()
    target[0, 0] = 7.5
    loss = _loss(target=target)
    assert torch.isfinite(loss)
    expected = _hand_loss(PRED, target, MASK, np.ones_like(target, dtype=bool))
    assert float(loss) == pytest.approx(expected, rel=1e-10)
    mean, std = patch_mean_std(torch.tensor(target))
    assert float(mean[0, 0, 0]) == pytest.approx(7.5)
    assert float(std[0, 0, 0]) == pytest.approx(np.sqrt(EPS))


def test_patch_statistics_over_valid_pixels():
    invalid = np.zeros_like(TARGET, dtype=bool)
    invalid[1, 1, 3:] = True
    mean, std = patch_mean_std(torch.tensor(TARGET), torch.tensor(invalid), eps=EPS)
    kept = TARGET[1, 1, :3]
    assert float(mean[1, 1, 0]) == pytest.approx(kept.mean(), rel=1e-12)
    assert float(std[1, 1, 0]) == pytest.approx(np.sqrt(kept.var(ddof=1) + EPS), rel=1e-12)
    assert float(std[0, 3, 0]) == pytest.approx(np.sqrt(TARGET[0, 3].var(ddof=1) + EPS))


def test_shape_errors():
    with pytest.raises(ValueError, match="same shape"):
        MAELoss()(torch.zeros(2, 4, 6), torch.zeros(2, 4, 5), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"mask must be \(B, L\)"):
        MAELoss()(torch.zeros(2, 4, 6), torch.zeros(2, 4, 6), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="invalid-pixel mask"):
        MAELoss()(torch.zeros(2, 4, 6), torch.zeros(2, 4, 6), torch.zeros(2, 4), torch.zeros(2, 4))
