"""Batched inference of a classifier over a DataLoader, with a progress bar."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from scivit.tasks.classify import outputs_to_probs


@torch.inference_mode()
def predict_probs(
    model: nn.Module, batches: Iterable, task: str, progress: bool = True, desc: str = "predict"
) -> np.ndarray:
    """Probabilities (N, K) for every image in `batches` ((images, ...) tuples or tensors)."""
    model.eval()
    device = next(model.parameters()).device
    outputs: list[torch.Tensor] = []
    for batch in tqdm(batches, desc=desc, disable=not progress, leave=False):
        images = batch[0] if isinstance(batch, list | tuple) else batch
        logits = model(images.to(device))
        outputs.append(outputs_to_probs(logits.float(), task).cpu())  # type: ignore[arg-type]
    if not outputs:
        return np.zeros((0, 0), dtype=np.float32)
    return torch.cat(outputs).numpy()
