"""adamw: the fused kernel where the parameters allow it, with the same updates as the default."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scivit.tasks.optimizer import adamw, can_fuse


def _trained(fused_allowed: bool) -> tuple[torch.optim.AdamW, list[torch.Tensor]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    groups = [
        {"params": [model[0].weight, model[2].weight], "weight_decay": 0.05},
        {"params": [model[0].bias, model[2].bias], "weight_decay": 0.0, "lr": 5e-3},
    ]
    if fused_allowed:
        optimizer = adamw(groups, lr=1e-2, weight_decay=0.05, betas=(0.9, 0.95))
    else:
        optimizer = torch.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95), weight_decay=0.05)
    inputs = torch.randn(5, 2, 8, 8)
    for _ in range(4):
        model(inputs).square().mean().backward()
        optimizer.step()
        optimizer.zero_grad()
    return optimizer, [parameter.detach().clone() for parameter in model.parameters()]


def test_fused_on_cpu_with_the_default_updates():
    fused, fused_weights = _trained(fused_allowed=True)
    plain, plain_weights = _trained(fused_allowed=False)
    assert fused.defaults["fused"] is True and not plain.defaults.get("fused")
    assert fused.param_groups[1]["lr"] == 5e-3 and fused.param_groups[0]["betas"] == (0.9, 0.95)
    for mine, reference in zip(fused_weights, plain_weights, strict=True):
        torch.testing.assert_close(mine, reference, rtol=1e-5, atol=1e-6)


class _Sharded(nn.Parameter):
    """Stands for a parameter subclass such as FSDP's flat parameter."""


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ([nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(3, dtype=torch.bfloat16))], True),
        ([nn.Parameter(torch.ones(2, device="meta"))], False),
        ([_Sharded(torch.ones(2))], False),
        ([nn.Parameter(torch.ones(2, dtype=torch.int64), requires_grad=False)], False),
        ([], False),
    ],
)
def test_can_fuse_only_plain_floating_tensors_on_one_supported_device(parameters, expected):
    assert can_fuse(parameters) is expected
