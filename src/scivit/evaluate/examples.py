"""Choosing and rendering the example frames shown in the evaluation report."""

from __future__ import annotations

import numpy as np

from scivit.data.manifest import Manifest
from scivit.errors import ReadError
from scivit.evaluate.plots import frame_png
from scivit.evaluate.report import Example
from scivit.io import read_image


def pick_examples(
    manifest: Manifest,
    rows: np.ndarray,
    targets: np.ndarray,
    predicted: np.ndarray,
    label_names: list[str],
    count: int = 12,
    seed: int = 0,
) -> list[Example]:
    """Up to `count` frames, half fully correct and half with mistakes when both exist."""
    wrong = np.flatnonzero(np.any((targets > 0.5) != (predicted > 0.5), axis=1))
    right = np.setdiff1d(np.arange(len(rows)), wrong)
    rng = np.random.default_rng(seed)
    take_wrong = min(len(wrong), count // 2)
    chosen = np.concatenate(
        [
            rng.permutation(wrong)[:take_wrong],
            rng.permutation(right)[: count - take_wrong],
        ]
    ).astype(int)
    examples = []
    for position in chosen:
        row = rows[position]
        try:
            frame = read_image(manifest.paths[row], frame=manifest.frames[row])
        except ReadError:
            continue
        suffix = "" if manifest.frames[row] is None else f"[{manifest.frames[row]}]"
        examples.append(
            Example(
                title=f"{manifest.paths[row].name}{suffix}",
                png=frame_png(frame.data, frame.mask),
                truth=[n for n, t in zip(label_names, targets[position], strict=True) if t > 0.5],
                predicted=[
                    n for n, p in zip(label_names, predicted[position], strict=True) if p > 0.5
                ],
            )
        )
    return examples
