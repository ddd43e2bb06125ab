"""Warm-up + cosine schedule against its closed form."""

import math

import pytest
import torch

from scivit.tasks.schedule import warmup_cosine, warmup_cosine_factor


def test_warmup_is_linear_then_cosine_reaches_floor():
    assert warmup_cosine_factor(0, 10, 110, 0.0) == pytest.approx(0.1)
    assert warmup_cosine_factor(9, 10, 110, 0.0) == pytest.approx(1.0)
    assert warmup_cosine_factor(10, 10, 110, 0.0) == pytest.approx(1.0)
    assert warmup_cosine_factor(60, 10, 110, 0.0) == pytest.approx(0.5)
    assert warmup_cosine_factor(110, 10, 110, 0.1) == pytest.approx(0.1)
    step = 35
    expected = 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - 10) / 100))
    assert warmup_cosine_factor(step, 10, 110, 0.05) == pytest.approx(expected)


def test_scheduler_scales_every_group():
    weight = torch.nn.Parameter(torch.zeros(1))
    other = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [weight], "lr": 1.0}, {"params": [other], "lr": 0.5}])
    scheduler = warmup_cosine(optimizer, warmup_steps=4, total_steps=20)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([0.25, 0.125])
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([1.0, 0.5])
