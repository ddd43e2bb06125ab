"""Choosing numeric precision for the machine a run lands on."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import torch

from scivit.errors import ConfigError

PRECISIONS = ("auto", "32", "32-true", "16-mixed", "bf16-mixed", "bf16-true", "64")


@cache
def cpu_has_bf16_matrix_units() -> bool:
    """True on CPUs with AMX-BF16 tiles, where bf16 autocast roughly doubles training speed.

    CPUs with only AVX512-BF16 convert but gain little, so they keep 32-bit by default.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags


def resolve_precision(precision: str, accelerator: str = "auto") -> str:
    """ "auto" -> bf16 mixed precision on GPUs that support it and on CPUs with AMX-BF16,
    16-bit mixed on other GPUs, else 32-bit; explicit values pass through."""
    if precision not in PRECISIONS:
        raise ConfigError(f"train.precision '{precision}' is not one of {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
    if on_gpu:
        return "bf16-mixed" if torch.cuda.is_bf16_supported() else "16-mixed"
    return "bf16-mixed" if cpu_has_bf16_matrix_units() else "32-true"
