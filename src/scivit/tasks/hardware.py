"""Choosing numeric precision for the machine a run lands on."""

from __future__ import annotations

import torch

from scivit.errors import ConfigError

PRECISIONS = ("auto", "32", "32-true", "16-mixed", "bf16-mixed", "bf16-true", "64")


def resolve_precision(precision: str, accelerator: str = "auto") -> str:
    """ "auto" -> bf16 mixed precision on GPUs that support it, else 32-bit; others pass through."""
    if precision not in PRECISIONS:
        raise ConfigError(f"train.precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if on_gpu and torch.cuda.is_bf16_supported():
        return "bf16-mixed"
    return "16-mixed" if on_gpu else "32-true"
