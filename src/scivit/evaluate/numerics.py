"""How inference computes: in the training run's precision and memory layout.

A model trained under bf16 autocast (the default on GPUs and on CPUs with AMX-BF16) was
validated, and had its checkpoint chosen, under the same autocast; threshold tuning,
`evaluate` and `predict` run it that way too, so their numbers agree with the validation
metrics and inference gets the speed-up too (1.2-1.7x measured on an AMX CPU, with macro-F1
within 0.0002 of float32). A recipe with `train.precision: 32-true` keeps float32 everywhere.
Channels-last convolution weights and inputs follow `train.channels_last` likewise.
"""

from __future__ import annotations

import torch
from torch import nn

from scivit.models.flips import TestTimeFlips, with_test_time_flips
from scivit.tasks.classify import TrainConfig, channels_last_batch, to_channels_last
from scivit.tasks.hardware import resolve_precision

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "16": torch.float16}


def autocast_dtype(precision: str, device_type: str) -> torch.dtype | None:
    """The autocast dtype inference uses for a recipe's `train.precision` on `device_type`;
    None for 32/64-bit. Float16 autocast is a GPU mode, so on a CPU it means float32."""
    accelerator = "cuda" if device_type == "cuda" else "cpu"
    resolved = resolve_precision(precision, accelerator)
    dtype = AUTOCAST_DTYPES.get(resolved.split("-")[0])
    if dtype is torch.float16 and device_type != "cuda":
        return None
    return dtype


class TrainedNumerics(nn.Module):
    """Runs `model` on inputs laid out and autocast as its training run computed; the outputs
    come back in float32, so averages over views are not rounded to the autocast dtype."""

    def __init__(self, model: nn.Module, precision: str, channels_last: bool) -> None:
        super().__init__()
        self.model = model
        self.precision = precision
        self.channels_last = channels_last
        if channels_last:
            to_channels_last(model)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            images = channels_last_batch(images)
        dtype = autocast_dtype(self.precision, images.device.type)
        if dtype is None:
            return self.model(images)
        with torch.autocast(images.device.type, dtype=dtype):
            return self.model(images).float()


def inference_model(model: nn.Module, flips: TestTimeFlips, train: TrainConfig) -> nn.Module:
    """What inference calls: `model` averaged over the test-time `flips`, computing in
    `train`'s precision and memory layout."""
    return with_test_time_flips(TrainedNumerics(model, train.precision, train.channels_last), flips)
