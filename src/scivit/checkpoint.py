"""Reading and writing scivit checkpoints safely (`weights_only=True`, atomic replace).

A scivit checkpoint is a Lightning checkpoint with one extra entry, `CHECKPOINT_KEY`, holding
the resolved recipe, label names, task kind, tuned thresholds and provenance — all that is
needed to rebuild the model without the original recipe file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from scivit.errors import ModelError
from scivit.fileio import atomic_open

CHECKPOINT_KEY = "scivit"


def load_checkpoint_dict(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint file with `weights_only=True`; a clear error if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: checkpoint not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or foreign files
        raise ModelError(f"{path}: not a readable checkpoint ({type(err).__name__})") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise ModelError(f"{path}: not a scivit checkpoint (no 'state_dict')")
    return state


def save_checkpoint_dict(state: dict[str, Any], path: str | Path) -> None:
    """Write a checkpoint mapping atomically."""
    with atomic_open(path, "wb") as handle:
        torch.save(state, handle)
