"""DINO loss against the paper's equations on hand-made tensors: cross-entropy between the
centred, sharpened teacher softmax and the student log-softmax over pairs of different views,
the centre's moving average, and the teacher-temperature warm-up."""

import numpy as np
import pytest
import torch

from scivit.errors import ConfigError
from scivit.losses.dino import DINOLoss, teacher_temperature

TEACHER = np.array(
    [
        [[1.0, 0.0, -1.0, 0.5], [0.2, 0.3, 0.1, -0.4]],
        [[0.0, 2.0, 0.5, -1.0], [1.5, -0.5, 0.0, 0.3]],
    ]
)
STUDENT = np.array(
    [
        [[0.3, -0.2, 0.8, 0.0], [1.0, 1.0, -1.0, 0.0]],
        [[-0.5, 0.4, 0.1, 0.9], [0.0, -0.3, 0.6, 0.2]],
        [[0.7, 0.1, -0.6, 0.2], [-1.2, 0.5, 0.3, 0.8]],
        [[0.0, 0.0, 1.0, -1.0], [0.4, 0.4, 0.4, -0.2]],
    ]
)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def paper_loss(teacher, student, center, tau_t, tau_s):
    """Eq. 3: sum over teacher views v and student views w != v, mean over pairs and batch."""
    total, pairs = 0.0, 0
    for v, t in enumerate(teacher):
        p_t = softmax((t - center) / tau_t)
        for w, s in enumerate(student):
            if v == w:
                continue
            log_p_s = np.log(softmax(s / tau_s))
            total += float(-(p_t * log_p_s).sum(axis=-1).mean())
            pairs += 1
    return total / pairs


def as_views(array):
    return [torch.tensor(view, dtype=torch.float32) for view in array]


def test_loss_is_the_papers_cross_entropy_over_different_views():
    loss = DINOLoss(out_dim=4, student_temp=0.1, teacher_temp=0.04, center_momentum=0.9)
    value = loss(as_views(TEACHER), as_views(STUDENT), epoch=0.0)
    expected = paper_loss(TEACHER, STUDENT, np.zeros(4), 0.04, 0.1)
    assert float(value) == pytest.approx(expected, rel=1e-5)


def test_centre_is_a_moving_average_of_teacher_outputs_and_used_next():
    loss = DINOLoss(out_dim=4, student_temp=0.2, teacher_temp=0.05, center_momentum=0.8)
    loss(as_views(TEACHER), as_views(STUDENT), epoch=0.0)
    centre = 0.2 * TEACHER.reshape(-1, 4).mean(axis=0)
    np.testing.assert_allclose(loss.center.numpy(), centre, rtol=1e-6)
    second = loss(as_views(TEACHER), as_views(STUDENT), epoch=0.0)
    assert float(second) == pytest.approx(paper_loss(TEACHER, STUDENT, centre, 0.05, 0.2), rel=1e-5)
    np.testing.assert_allclose(
        loss.center.numpy(), 0.8 * centre + 0.2 * TEACHER.reshape(-1, 4).mean(axis=0), rtol=1e-6
    )


def paper_kl(teacher, student, center, tau_t, tau_s):
    """Mean KL(P_t || P_s) over the same pairs as the loss."""
    total, pairs = 0.0, 0
    for v, t in enumerate(teacher):
        p_t = softmax((t - center) / tau_t)
        for w, s in enumerate(student):
            if v != w:
                p_s = softmax(s / tau_s)
                total += float((p_t * (np.log(p_t) - np.log(p_s))).sum(axis=-1).mean())
                pairs += 1
    return total / pairs


def test_teacher_entropy_and_the_kl_it_leaves_match_their_definitions():
    loss = DINOLoss(out_dim=4, student_temp=0.1, teacher_temp=0.5, center_momentum=0.9)
    entropy = float(loss.teacher_entropy(as_views(TEACHER), epoch=0.0))
    p_t = softmax(TEACHER / 0.5)
    assert entropy == pytest.approx(float(-(p_t * np.log(p_t)).sum(-1).mean()), rel=1e-5)
    kl = float(loss(as_views(TEACHER), as_views(STUDENT), epoch=0.0)) - entropy
    assert kl == pytest.approx(paper_kl(TEACHER, STUDENT, np.zeros(4), 0.5, 0.1), rel=1e-4)


def test_uniform_teacher_has_the_largest_entropy():
    loss = DINOLoss(out_dim=4, teacher_temp=0.04)
    collapsed = [torch.full((3, 4), 0.7), torch.full((3, 4), 0.7)]
    assert float(loss.teacher_entropy(collapsed, epoch=0.0)) == pytest.approx(np.log(4), rel=1e-6)


def test_teacher_temperature_warms_up_linearly():
    assert teacher_temperature(0.0, 0.04, 0.07, 10.0) == pytest.approx(0.04)
    assert teacher_temperature(2.5, 0.04, 0.07, 10.0) == pytest.approx(0.0475)
    assert teacher_temperature(10.0, 0.04, 0.07, 10.0) == pytest.approx(0.07)
    assert teacher_temperature(30.0, 0.04, 0.07, 10.0) == pytest.approx(0.07)
    assert teacher_temperature(0.0, 0.04, 0.07, 0.0) == pytest.approx(0.07)


def test_loss_uses_the_warmed_up_temperature():
    loss = DINOLoss(
        out_dim=4, teacher_temp=0.07, warmup_teacher_temp=0.04, warmup_teacher_temp_epochs=4
    )
    value = loss(as_views(TEACHER), as_views(STUDENT), epoch=2.0)
    assert loss.temperature(2.0) == pytest.approx(0.055)
    assert float(value) == pytest.approx(paper_loss(TEACHER, STUDENT, np.zeros(4), 0.055, 0.1))


def test_gradients_reach_the_student_only():
    teacher = [t.requires_grad_() for t in as_views(TEACHER)]
    student = [s.requires_grad_() for s in as_views(STUDENT)]
    DINOLoss(out_dim=4)(teacher, student, epoch=0.0).backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in student)
    assert all(t.grad is None or float(t.grad.abs().sum()) == 0.0 for t in teacher)


def test_bad_options_and_too_few_views():
    with pytest.raises(ConfigError, match="center_momentum"):
        DINOLoss(out_dim=4, center_momentum=1.5)
    with pytest.raises(ConfigError, match="teacher_temp"):
        DINOLoss(out_dim=4, teacher_temp=0.0)
    with pytest.raises(ValueError, match="at least two views"):
        DINOLoss(out_dim=4)(as_views(TEACHER[:1]), as_views(STUDENT[:1]), epoch=0.0)
