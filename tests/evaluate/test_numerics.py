"""Inference computes in the training run's precision and memory layout."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scivit.evaluate import numerics
from scivit.evaluate.numerics import autocast_dtype, inference_model
from scivit.tasks.classify import TrainConfig


@pytest.mark.parametrize(
    ("precision", "device", "expected"),
    [
        ("32-true", "cpu", None),
        ("64", "cpu", None),
        ("bf16-mixed", "cpu", torch.bfloat16),
        ("bf16-true", "cuda", torch.bfloat16),
        ("16-mixed", "cuda", torch.float16),
        ("16-mixed", "cpu", None),
    ],
)
def test_autocast_dtype_follows_the_training_precision(precision, device, expected):
    assert autocast_dtype(precision, device) is expected


@pytest.mark.parametrize(("amx", "expected"), [(True, torch.bfloat16), (False, None)])
def test_auto_precision_on_a_cpu_depends_on_its_matrix_units(monkeypatch, amx, expected):
    monkeypatch.setattr(numerics, "resolve_precision", _resolve_with(amx))
    assert autocast_dtype("auto", "cpu") is expected


def _resolve_with(amx: bool):
    from scivit.tasks import hardware

    def resolve(precision: str, accelerator: str = "auto") -> str:
        if precision == "auto" and accelerator == "cpu":
            return "bf16-mixed" if amx else "32-true"
        return hardware.resolve_precision(precision, accelerator)

    return resolve


class Recorder(nn.Module):
    """A 1x1 convolution that records the autocast state and layout of what it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 1)
        self.seen: list[tuple[bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layout = x.is_contiguous(memory_format=torch.channels_last)
        self.seen.append((torch.is_autocast_enabled("cpu"), layout))
        return self.conv(x).mean(dim=(2, 3))


@pytest.mark.parametrize(
    ("precision", "channels_last", "dtype"),
    [("bf16-mixed", True, torch.bfloat16), ("32-true", False, torch.float32)],
)
def test_inference_model_runs_each_view_as_training_did(precision, channels_last, dtype):
    torch.manual_seed(0)
    model = Recorder()
    train = TrainConfig(precision=precision, channels_last=channels_last)
    predictor = inference_model(model, "h", train)
    images = torch.randn(4, 3, 8, 8)
    with torch.inference_mode():
        logits = predictor(images)
    assert model.seen == [(dtype is torch.bfloat16, channels_last)] * 2
    assert model.conv.weight.is_contiguous(
        memory_format=torch.channels_last if channels_last else torch.contiguous_format
    )
    assert logits.dtype == torch.float32
    with torch.inference_mode(), torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        views = [model.conv(images).mean(dim=(2, 3)), model.conv(images.flip(-1)).mean(dim=(2, 3))]
    expected = (views[0].float() + views[1].float()) / 2
    torch.testing.assert_close(logits, expected, rtol=0, atol=1e-6)
