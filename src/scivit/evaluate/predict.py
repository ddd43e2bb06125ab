"""`predict(checkpoint, inputs, out_csv)`: tag files, folders and NeXus stacks into a CSV.

Inputs are expanded to (file, frame) items: a folder contributes every readable file under it,
a multi-frame file every frame. Each item goes through the recipe's deterministic
preprocessing and the model; the CSV gets the tags (probability >= the label's tuned threshold)
and every probability. With `on_error="skip"` unreadable items are reported and the rest are
written; with "fail" the first bad item stops the run. Configuration problems (such as a
missing beam centre) always stop the run. The CSV is written atomically.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from scivit.data.datamodule import eval_transform
from scivit.data.dataset import frame_to_sample
from scivit.errors import OnError, ReadError
from scivit.evaluate.loader import TrainedModel, load_trained
from scivit.fileio import atomic_open
from scivit.io import count_frames, is_supported, read_image
from scivit.tasks.classify import outputs_to_probs


@dataclass
class PredictSummary:
    """How many items were tagged, where the CSV is, and which items failed and why."""

    out_csv: Path
    written: int
    failures: list[tuple[str, str]] = field(default_factory=list)


def expand_inputs(
    inputs: Sequence[str | Path], dataset: str | None, on_error: OnError
) -> Iterator[tuple[Path, int | None] | tuple[Path, ReadError]]:
    """Yield (file, frame) for every frame of every input; failures as (file, error)."""
    for entry in map(Path, inputs):
        if entry.is_dir():
            files = sorted(p for p in entry.rglob("*") if p.is_file() and is_supported(p))
        else:
            files = [entry]
        for path in files:
            try:
                frames = count_frames(path, dataset=dataset)
            except ReadError as err:
                if on_error == "fail":
                    raise
                yield path, err
                continue
            for frame in range(frames) if frames > 1 else [None]:
                yield path, frame


class _Batcher:
    """Collects preprocessed frames and runs the model once a batch is full."""

    def __init__(self, trained: TrainedModel, batch_size: int) -> None:
        self.trained = trained
        self.batch_size = batch_size
        self.images: list[torch.Tensor] = []
        self.keys: list[tuple[Path, int | None]] = []

    def add(self, key: tuple[Path, int | None], image: torch.Tensor) -> list[tuple]:
        self.keys.append(key)
        self.images.append(image)
        return self.flush() if len(self.images) >= self.batch_size else []

    @torch.inference_mode()
    def flush(self) -> list[tuple]:
        if not self.images:
            return []
        logits = self.trained.predictor(torch.stack(self.images))
        probs = outputs_to_probs(logits.float(), self.trained.task).numpy()  # type: ignore[arg-type]
        rows = list(zip(self.keys, probs, strict=True))
        self.images, self.keys = [], []
        return rows


def _row(trained: TrainedModel, key: tuple[Path, int | None], probs: np.ndarray) -> list[str]:
    if trained.task == "multilabel":
        tags = [
            n
            for n, p, t in zip(trained.label_names, probs, trained.thresholds, strict=True)
            if p >= t
        ]
    else:
        tags = [trained.label_names[int(np.argmax(probs))]]
    path, frame = key
    return [
        str(path),
        "" if frame is None else str(frame),
        ";".join(tags),
        *(f"{p:.5f}" for p in probs),
    ]


def predict(
    checkpoint: str | Path,
    inputs: Sequence[str | Path],
    out_csv: str | Path,
    on_error: OnError = "skip",
    dataset: str | None = None,
    beam_center: tuple[float, float] | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> PredictSummary:
    """Tag every frame of `inputs` with the model in `checkpoint`; see the module docstring."""
    trained = load_trained(checkpoint)
    transform = eval_transform(trained.recipe.data)
    batcher = _Batcher(trained, batch_size)
    summary = PredictSummary(out_csv=Path(out_csv), written=0)
    header = ["path", "frame", "tags", *(f"p_{name}" for name in trained.label_names)]
    with atomic_open(out_csv, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        items = expand_inputs(inputs, dataset, on_error)
        for path, item in tqdm(items, desc="predict", disable=not progress, unit="frame"):
            if isinstance(item, ReadError):
                summary.failures.append((str(path), str(item)))
                continue
            try:
                frame = read_image(path, frame=item, dataset=dataset)
                image = transform(frame_to_sample(frame, beam_center))["image"]
            except ReadError as err:
                if on_error == "fail":
                    raise
                summary.failures.append(
                    (f"{path}" + (f"[{item}]" if item is not None else ""), str(err))
                )
                continue
            rows = batcher.add((path, item), image)
            writer.writerows(_row(trained, key, probs) for key, probs in rows)
            summary.written += len(rows)
        rows = batcher.flush()
        writer.writerows(_row(trained, key, probs) for key, probs in rows)
        summary.written += len(rows)
    return summary
