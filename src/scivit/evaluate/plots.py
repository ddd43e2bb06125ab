"""Evaluation figures as PNG files: PR and ROC curves, per-label and multi-class confusion."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from scivit.fileio import atomic_open  # noqa: E402

Curve = tuple[np.ndarray, np.ndarray]


def _grid(count: int, size: float = 2.6) -> tuple[plt.Figure, np.ndarray]:
    cols = min(6, max(1, count))
    rows = math.ceil(count / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(size * cols, size * rows), squeeze=False, layout="constrained"
    )
    for axis in axes.flat[count:]:
        axis.axis("off")
    return fig, axes


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Save and close `fig` atomically as PNG."""
    with atomic_open(path, "wb") as handle:
        fig.savefig(handle, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def plot_pr_curves(
    curves: Mapping[str, Curve], scores: Mapping[str, float | None], path: str | Path
) -> Path:
    """One precision-recall panel per label, titled with its average precision."""
    fig, axes = _grid(len(curves))
    for axis, (name, (precision, recall)) in zip(axes.flat, curves.items(), strict=False):
        axis.plot(recall, precision, lw=1.5)
        score = scores.get(name)
        axis.set_title(
            f"{name}\nAP={score:.2f}" if score is not None else f"{name}\nAP=n/a", fontsize=8
        )
        axis.set_xlim(0, 1)
        axis.set_ylim(0, 1.02)
        axis.tick_params(labelsize=6)
    fig.supxlabel("recall")
    fig.supylabel("precision")
    return save_figure(fig, path)


def plot_roc_curves(
    curves: Mapping[str, Curve], scores: Mapping[str, float | None], path: str | Path
) -> Path:
    """All one-vs-rest ROC curves on one axis, each labelled with its AUC."""
    fig, axis = plt.subplots(figsize=(5, 5))
    for name, (fpr, tpr) in curves.items():
        score = scores.get(name)
        label = f"{name} (AUC={score:.3f})" if score is not None else name
        axis.plot(fpr, tpr, lw=1.3, label=label)
    axis.plot([0, 1], [0, 1], "k--", lw=0.8)
    axis.set_xlabel("false positive rate")
    axis.set_ylabel("true positive rate")
    axis.legend(fontsize=7)
    return save_figure(fig, path)


def plot_label_confusions(
    predicted: np.ndarray, targets: np.ndarray, names: list[str], path: str | Path
) -> Path:
    """One 2x2 confusion matrix (true x predicted) per label of a multi-label task."""
    fig, axes = _grid(len(names), size=2.0)
    for index, (axis, name) in enumerate(zip(axes.flat, names, strict=False)):
        truth, guess = targets[:, index] > 0.5, predicted[:, index] > 0.5
        matrix = np.array(
            [
                [np.sum(~truth & ~guess), np.sum(~truth & guess)],
                [np.sum(truth & ~guess), np.sum(truth & guess)],
            ]
        )
        _draw_matrix(axis, matrix, ["no", "yes"])
        axis.set_title(name, fontsize=8)
    return save_figure(fig, path)


def plot_confusion_matrix(matrix: np.ndarray, names: list[str], path: str | Path) -> Path:
    """The confusion matrix of a multi-class task (rows: truth, columns: prediction)."""
    fig, axis = plt.subplots(figsize=(1.2 * len(names) + 2, 1.2 * len(names) + 1.5))
    _draw_matrix(axis, np.asarray(matrix), names)
    axis.set_xlabel("predicted")
    axis.set_ylabel("true")
    return save_figure(fig, path)


def _draw_matrix(axis: plt.Axes, matrix: np.ndarray, ticks: list[str]) -> None:
    axis.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        colour = "white" if value > matrix.max() / 2 else "black"
        axis.text(col, row, str(int(value)), ha="center", va="center", fontsize=7, color=colour)
    axis.set_xticks(range(len(ticks)), ticks, fontsize=6)
    axis.set_yticks(range(len(ticks)), ticks, fontsize=6)


def frame_png(image: np.ndarray, mask: np.ndarray | None = None, size: float = 2.4) -> bytes:
    """A log-scaled rendering of a detector frame as PNG bytes (masked pixels grey)."""
    import io

    data = np.log1p(np.clip(np.nan_to_num(image.astype(np.float64)), 0, None))
    shown = np.ma.masked_array(data, mask=mask) if mask is not None else data
    cmap = matplotlib.colormaps["inferno"].with_extremes(bad="0.5")
    fig, axis = plt.subplots(figsize=(size, size))
    axis.imshow(shown, cmap=cmap, interpolation="nearest")
    axis.axis("off")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=72, bbox_inches="tight", pad_inches=0)
    plt.close(fig)
    return buffer.getvalue()
