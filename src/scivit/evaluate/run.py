"""`evaluate(checkpoint, split)`: metrics, tables, figures, predictions and a report for a split.

Writes into the output folder: `metrics.json` (all numbers), `per_label.csv`,
`predictions.csv` (truth, tags and probabilities per frame), PR curves and confusion figures
(PNG), and a self-contained `report.html` with example frames and their tags.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import DataLoader

from scivit.data.datamodule import eval_transform, split_manifest
from scivit.data.dataset import FrameDataset
from scivit.data.manifest import Manifest, load_manifest
from scivit.errors import ConfigError
from scivit.evaluate.examples import pick_examples
from scivit.evaluate.inference import predict_probs
from scivit.evaluate.loader import TrainedModel, load_trained
from scivit.evaluate.plots import (
    plot_confusion_matrix,
    plot_label_confusions,
    plot_pr_curves,
    plot_roc_curves,
)
from scivit.evaluate.report import write_report
from scivit.fileio import atomic_open, write_json
from scivit.metrics.curves import pr_curves, roc_curves
from scivit.models.flips import TestTimeFlips
from scivit.tasks.classify import summary_metrics

SPLITS = ("train", "val", "test", "all")
HEADLINE_KEYS = (
    "hamming_accuracy",
    "subset_accuracy",
    "f1_micro",
    "f1_macro",
    "f1_weighted",
    "mAP",
    "roc_auc_macro",
    "accuracy",
    "roc_auc_micro",
)


@dataclass(frozen=True)
class EvaluationResult:
    """The output folder and the metrics written there."""

    out_dir: Path
    metrics: dict[str, Any]
    report: Path


def select_rows(
    trained: TrainedModel, split: str, manifest_path: str | None
) -> tuple[Manifest, np.ndarray]:
    """The manifest to evaluate and the row indices of `split` (the training split by seed)."""
    if split not in SPLITS:
        raise ConfigError(f"unknown split '{split}'; choose one of {', '.join(SPLITS)}")
    data = trained.recipe.data
    manifest = load_manifest(manifest_path or data.manifest, trained.label_names, data.task)
    if split == "all" or manifest_path is not None:
        return manifest, np.arange(len(manifest))
    return manifest, split_manifest(manifest, data.split)[split]


def evaluate(
    checkpoint: str | Path,
    split: str = "test",
    out_dir: str | Path | None = None,
    manifest: str | None = None,
    batch_size: int = 64,
    num_workers: int | None = None,
    progress: bool = True,
    test_time_flips: TestTimeFlips | None = None,
) -> EvaluationResult:
    """Evaluate a trained model on a split of its manifest (or on another manifest); frames are
    read and preprocessed in `num_workers` loader processes (default: the recipe's). Logits are
    averaged over `test_time_flips` ("none", "h", "hv" or "d4"; default: the recipe's)."""
    trained = load_trained(checkpoint)
    if test_time_flips is not None:
        trained = trained.with_test_time_flips(test_time_flips)
    rows_manifest, rows = select_rows(trained, split, manifest)
    target_dir = Path(out_dir) if out_dir else trained.checkpoint.parent.parent / f"eval-{split}"
    dataset = FrameDataset(rows_manifest, rows, eval_transform(trained.recipe.data))
    workers = trained.recipe.data.num_workers if num_workers is None else num_workers
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers)
    probs = predict_probs(
        trained.predictor, loader, trained.task, progress, desc=f"evaluate {split}"
    )
    targets = rows_manifest.targets[rows]
    metrics = summary_metrics(
        probs,
        targets,
        trained.task,
        trained.label_names,  # type: ignore[arg-type]
        trained.thresholds,
    )
    metrics["n_frames"] = int(len(rows))
    metrics["split"] = split
    metrics["test_time_flips"] = trained.recipe.model.test_time_flips
    write_json(target_dir / "metrics.json", metrics)
    predicted = _decisions(trained, probs)
    _write_predictions(
        target_dir / "predictions.csv", trained, rows_manifest, rows, targets, probs, predicted
    )
    per_label_header, per_label_rows = _per_label_table(trained, metrics)
    _write_csv(target_dir / "per_label.csv", per_label_header, per_label_rows)
    figures = _figures(target_dir, trained, probs, targets, predicted, metrics)
    examples = pick_examples(rows_manifest, rows, targets, predicted, trained.label_names)
    report = write_report(
        target_dir / "report.html",
        f"scivit evaluation — {trained.recipe.name} ({split})",
        _summary(trained, split, len(rows)),
        {key: metrics[key] for key in HEADLINE_KEYS if key in metrics},
        per_label_header,
        per_label_rows,
        figures,
        examples,
    )
    return EvaluationResult(out_dir=target_dir, metrics=metrics, report=report)


def _decisions(trained: TrainedModel, probs: np.ndarray) -> np.ndarray:
    if trained.task == "multilabel":
        return (probs >= trained.thresholds[None, :]).astype(np.float32)
    return np.eye(len(trained.label_names), dtype=np.float32)[probs.argmax(axis=1)]


def _summary(trained: TrainedModel, split: str, count: int) -> dict[str, Any]:
    provenance = trained.info.get("provenance", {})
    return {
        "checkpoint": str(trained.checkpoint),
        "recipe": trained.recipe.name,
        "backbone": trained.recipe.model.backbone,
        "adaptation": trained.recipe.model.adapt.mode,
        "test-time flips": trained.recipe.model.test_time_flips,
        "split": split,
        "frames": count,
        "task": trained.task,
        "git revision": provenance.get("git_revision"),
        "data sha256": (provenance.get("data_sha256") or "")[:16],
    }


def _per_label_table(
    trained: TrainedModel, metrics: dict[str, Any]
) -> tuple[list[str], list[list]]:
    """One row per label, with its decision threshold for multi-label tasks (a multi-class
    prediction is the arg-max, without a threshold)."""
    per_label = metrics.get("per_label", {})
    keys = ["support", "precision", "recall", "f1", "average_precision", "roc_auc"]
    rows = [
        [name, *(per_label.get(name, {}).get(key) for key in keys)] for name in trained.label_names
    ]
    if trained.task != "multilabel":
        return ["label", *keys], rows
    thresholds = [float(threshold) for threshold in trained.thresholds]
    return ["label", *keys, "threshold"], [
        [*row, threshold] for row, threshold in zip(rows, thresholds, strict=True)
    ]


def _figures(
    out: Path,
    trained: TrainedModel,
    probs: np.ndarray,
    targets: np.ndarray,
    predicted: np.ndarray,
    metrics: dict[str, Any],
) -> list[Path]:
    names = trained.label_names
    per_label = metrics.get("per_label", {})
    if trained.task == "multilabel":
        ap = {name: per_label.get(name, {}).get("average_precision") for name in names}
        return [
            plot_pr_curves(pr_curves(probs, targets, names), ap, out / "pr_curves.png"),
            plot_label_confusions(predicted, targets, names, out / "label_confusions.png"),
        ]
    auc = {name: per_label.get(name, {}).get("roc_auc") for name in names}
    return [
        plot_roc_curves(roc_curves(probs, targets, names), auc, out / "roc_curves.png"),
        plot_confusion_matrix(
            np.asarray(metrics["confusion_matrix"]), names, out / "confusion_matrix.png"
        ),
    ]


def _write_predictions(
    path: Path,
    trained: TrainedModel,
    manifest: Manifest,
    rows: np.ndarray,
    targets: np.ndarray,
    probs: np.ndarray,
    predicted: np.ndarray,
) -> None:
    names = trained.label_names
    header = ["path", "frame", "true", "predicted", *(f"p_{n}" for n in names)]
    table = []
    for position, row in enumerate(rows):
        frame = manifest.frames[row]
        table.append(
            [
                str(manifest.paths[row]),
                "" if frame is None else frame,
                ";".join(n for n, t in zip(names, targets[position], strict=True) if t > 0.5),
                ";".join(n for n, p in zip(names, predicted[position], strict=True) if p > 0.5),
                *(f"{p:.5f}" for p in probs[position]),
            ]
        )
    _write_csv(path, header, table)


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with atomic_open(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
