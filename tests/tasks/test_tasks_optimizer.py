"""adamw: the fused kernel where the run allows it, the default updates, clipping that works."""

from __future__ import annotations

from types import SimpleNamespace

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from scivit.tasks.optimizer import FusedClipping, adamw, can_fuse, trainer_allows_fusing


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


class _Regressor(FusedClipping, L.LightningModule):
    """A linear fit with `adamw`, recording the gradient norm each step leaves clipping with."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(6, 1)
        self.norms_after_clipping: list[float] = []

    def training_step(self, batch, batch_index):
        inputs, targets = batch
        return 1e3 * (self.layer(inputs).float() - targets).square().mean()

    def configure_gradient_clipping(
        self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None
    ):
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)
        grads = torch.cat([parameter.grad.flatten() for parameter in self.parameters()])
        self.norms_after_clipping.append(float(torch.linalg.vector_norm(grads)))

    def configure_optimizers(self):
        return adamw([{"params": list(self.parameters())}], 1e-2, 0.0, trainer=self.trainer)


@pytest.mark.parametrize("precision", ["bf16-mixed", "32-true"])
def test_fused_step_with_clipping_under_lightning(tmp_path, precision):
    """Lightning's mixed-precision plugin refuses to clip for a fused optimizer; ours clips."""
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(32, 6), torch.randn(32, 1) * 50)
    model = _Regressor()
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        max_steps=4,
        precision=precision,
        gradient_clip_val=0.5,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, DataLoader(data, batch_size=8))
    assert trainer.optimizers[0].defaults["fused"] is True
    assert len(model.norms_after_clipping) == 4
    assert max(model.norms_after_clipping) == pytest.approx(0.5, rel=1e-3)


def test_no_fusing_where_a_gradient_scaler_or_deepspeed_runs():
    scaled = SimpleNamespace(precision_plugin=SimpleNamespace(scaler=object()), strategy=None)
    plain = SimpleNamespace(precision_plugin=SimpleNamespace(), strategy=None)
    assert not trainer_allows_fusing(scaled)
    assert trainer_allows_fusing(plain)
    optimizer = adamw([{"params": [nn.Parameter(torch.ones(3))]}], 1e-3, 0.0, trainer=scaled)
    assert not optimizer.defaults["fused"]
