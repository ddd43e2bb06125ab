"""Does self-supervised pretraining help when few frames are labelled? And what does scivit's
pretraining task cost over a bare PyTorch DINO step?

1. Few labels. `simulate_scattering` writes `--frames` labelled SAXS/WAXS frames. They are split
   group-wise and stratified (`split_indices`, 80/10/10) into a training pool, a validation and
   a test split; a second stratified split keeps `--label-fraction` of the pool as the labelled
   training frames. Each method of `--methods` (registered in `PRETRAIN_METHODS`, recipe
   `scatter-<method>-pretrain`) pretrains the backbone on every frame of the pool, labels unused.
   The same backbone is then fine-tuned on the labelled frames from the pretrained weights and
   from random initialisation with the same recipes and budget, as a linear probe
   (`scatter-dinov2-probe`) and with LoRA (`scatter-dinov2-lora`), and evaluated on the test
   split (`evaluate`: macro-F1 at the thresholds tuned on validation, and mAP). Pretraining
   also scores its frozen features before the first step and after the last epoch (the
   recipe's `monitor`: weighted k-NN and a logistic-regression probe fitted on the labelled
   frames and scored on val + test), a measure of the gain free of fine-tuning noise.
2. Overhead. Images/s of DINO training through `PretrainTask` and scivit's Trainer vs a bare
   PyTorch DINO loop on the same model, views and batches (`ssl_dino_step.py`).

It prints a table (start x probe/LoRA macro-F1 and mAP, gain vs random initialisation) and
the overhead ratio, and writes everything to `<out>/ssl_pretraining.json`. The defaults (3,000
frames, a ViT-Tiny with 8-px patches on 64-px frames, 10 pretraining epochs) take about 40
minutes on a 2-core CPU, most of it DINO; on a GPU raise `--frames`, `--epochs` and `--size`.
Run: `python benchmarks/ssl_pretraining.py [--methods dino,mae --frames 3000 --epochs 10
--size 64 --out DIR]`.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from ssl_dino_step import measure_overhead, print_overhead

from scivit.data.manifest import load_manifest
from scivit.data.splits import split_indices
from scivit.evaluate.run import evaluate
from scivit.fileio import atomic_open, write_json
from scivit.pretrain import PretrainRecipe, load_pretrain_recipe, pretrain
from scivit.recipe import load_recipe
from scivit.simulate import SCATTERING_TAGS, simulate_scattering
from scivit.tasks.pretrain import PRETRAIN_METHODS
from scivit.tasks.ssl_monitor import EPOCH_PREFIX, START_PREFIX, MonitorConfig
from scivit.train import train

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
ADAPTATIONS = {"probe": "scatter-dinov2-probe", "lora": "scatter-dinov2-lora"}
FINETUNE_PREPROCESS = ("fix_dead_pixels", "mask_beamstop", "log", "standardize")
RANDOM_INIT = "random init"
HEADLINE = ("f1_macro", "mAP")
FEATURE_SCORES = ("knn_f1_macro", "knn_mAP", "probe_f1_macro", "probe_mAP")
EXPECTED_WARNINGS = (r"Standardize: channel \d+ is constant",)  # small random crops of a mask


@dataclass(frozen=True)
class Frames:
    """The benchmark's data: manifests and how many frames each role holds."""

    labelled: Path
    unlabelled: Path
    counts: dict[str, int]


def labelled_subset(
    targets: np.ndarray, groups: Sequence[str], pool: np.ndarray, fraction: float, seed: int
) -> np.ndarray:
    """Rows of `pool` kept as labelled: a group-wise, label-stratified `fraction` of it."""
    rest = (1.0 - fraction) / 2
    chosen = split_indices(
        targets[pool], [groups[row] for row in pool], (fraction, rest, rest), seed
    )["train"]
    return pool[chosen]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write manifest rows (all with the same columns) as CSV, atomically."""
    with atomic_open(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def prepare_frames(args: argparse.Namespace) -> Frames:
    """Simulate the frames and write the fine-tuning and pretraining manifests."""
    out = Path(args.out)
    source = simulate_scattering(
        out / "frames", args.frames, args.seed, max(1, args.workers), args.size, progress=False
    )
    index = load_manifest(source, list(SCATTERING_TAGS), "multilabel")
    splits = split_indices(index.targets, index.groups, SPLIT_FRACTIONS, args.seed)
    pool = splits["train"]
    labelled = labelled_subset(index.targets, index.groups, pool, args.label_fraction, args.seed)
    with open(source, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["path"] = str(source.parent / row["path"])
    roles = [("train", labelled), ("val", splits["val"]), ("test", splits["test"])]
    finetune_rows = [{**rows[i], "split": role} for role, part in roles for i in part]
    pretrain_rows = [{k: v for k, v in rows[i].items() if k != "labels"} for i in pool]
    counts = {"pool": len(pool), **{role: len(part) for role, part in roles}}
    return Frames(
        labelled=write_rows(out / "labelled.csv", finetune_rows),
        unlabelled=write_rows(out / "unlabelled.csv", pretrain_rows),
        counts=counts,
    )


def patch_option(args: argparse.Namespace) -> list[str]:
    """The ViT patch size shared by pretraining and fine-tuning (none: the backbone's own).

    At 64 px a /16 ViT sees a grid of only 4x4 tokens; /8 gives 8x8."""
    return [f"model.options.patch_size={args.patch_size}"] if args.patch_size else []


def dino_settings(args: argparse.Namespace) -> list[str]:
    """A DINO head, views and teacher scaled to a short run on small frames from random weights.

    With the paper's head (no batch norm) and teacher temperature 0.04, a randomly initialised
    ViT-Tiny gives head outputs that differ between frames by ~0.05, too little to sharpen once
    the centre removes their mean: the teacher entropy climbs to 99.6 % of ln K within an epoch
    (uniform collapse) and pretraining teaches nothing. Batch norm in the head (as DINO's ResNet
    setting has) spreads the outputs over the batch and a sharper teacher (0.02) keeps the
    entropy well below ln K; the benchmark prints the entropy so a collapse is seen.
    """
    return [
        "method.out_dim=4096",
        "method.hidden_dim=512",
        "method.bottleneck_dim=128",
        "method.head_batch_norm=true",
        "method.teacher_temp=0.02",
        "method.warmup_teacher_temp_epochs=0",
        f"method.momentum={args.momentum}",
        f"method.views.global_size={args.size}",
        f"method.views.local_size={args.size // 2}",
        f"method.views.n_local={args.local_views}",
    ]


def mae_settings(args: argparse.Namespace) -> list[str]:
    """An MAE view of the whole frame size and a light decoder for a short run."""
    return [
        f"method.views.size={args.size}",
        "method.decoder_dim=128",
        "method.decoder_depth=2",
        "method.decoder_heads=4",
    ]


METHOD_SETTINGS: dict[str, Callable[[argparse.Namespace], list[str]]] = {
    "dino": dino_settings,
    "mae": mae_settings,
}


def pretrain_recipe(method: str, frames: Frames, args: argparse.Namespace) -> PretrainRecipe:
    """The packaged recipe of `method` on the pool's frames at the benchmark's sizes."""
    settings = METHOD_SETTINGS.get(method, lambda _: [])(args)
    extra = [item.split(":", 1)[1] for item in args.override if item.startswith(f"{method}:")]
    recipe = load_pretrain_recipe(
        f"scatter-{method}-pretrain",
        [
            f"data.source={frames.unlabelled}",
            f"data.image_size={args.size}",
            f"data.batch_size={args.batch_size}",
            f"data.num_workers={args.workers}",
            f"data.cache_dir={Path(args.out) / 'cache'}",
            f"model.backbone={args.backbone}",
            "model.pretrained=null",
            f"model.img_size={args.size}",
            *patch_option(args),
            f"train.max_epochs={args.epochs}",
            f"train.warmup_epochs={args.epochs / 10}",
            f"train.lr={args.pretrain_lr}",
            "train.checkpoint_every_n_epochs=null",
            "train.progress_bar=false",
            f"train.out_dir={Path(args.out) / 'pretrain'}",
            f"train.run_name={method}",
            *settings,
            *extra,
        ],
    )
    monitor = MonitorConfig(manifest=str(frames.labelled), labels=list(SCATTERING_TAGS))
    return recipe.model_copy(update={"monitor": monitor})


def finetune(
    adaptation: str, start: str | None, name: str, frames: Frames, args: argparse.Namespace
) -> dict[str, float]:
    """Fine-tune from `start` (a backbone file, or None for random weights); test metrics."""
    recipe = load_recipe(
        ADAPTATIONS[adaptation],
        [
            f"data.manifest={frames.labelled}",
            f"data.image_size={args.size}",
            "data.preprocess=[" + ", ".join(f"{{name: {n}}}" for n in FINETUNE_PREPROCESS) + "]",
            f"data.batch_size={args.batch_size}",
            f"data.num_workers={args.workers}",
            f"data.cache_dir={Path(args.out) / 'cache'}",
            f"model.backbone={args.backbone}",
            f"model.pretrained={start or 'null'}",
            f"model.img_size={args.size}",
            *patch_option(args),
            f"train.max_epochs={args.finetune_epochs}",
            "train.early_stopping_patience=null",
            "train.progress_bar=false",
            f"train.out_dir={Path(args.out) / 'finetune'}",
            f"train.run_name={name}-{adaptation}",
        ],
    )
    result = train(recipe)
    report = evaluate(result.best_checkpoint, "test", result.run_dir / "eval-test", progress=False)
    return {key: float(report.metrics[key]) for key in HEADLINE}


def compare(frames: Frames, args: argparse.Namespace) -> dict[str, Any]:
    """Pretrain every method, fine-tune from each start and from random weights."""
    starts: dict[str, str | None] = {RANDOM_INIT: None}
    pretraining: dict[str, Any] = {}
    for method in args.methods:
        began = time.perf_counter()
        result = pretrain(pretrain_recipe(method, frames, args))
        starts[method] = str(result.backbone)
        pretraining[method] = {
            "seconds": time.perf_counter() - began,
            "last_epoch": last_epoch_metrics(result.metrics),
            "features": feature_scores(result.run_dir),
        }
    scores = {
        name: {
            adaptation: finetune(adaptation, start, name.replace(" ", "-"), frames, args)
            for adaptation in ADAPTATIONS
        }
        for name, start in starts.items()
    }
    return {"pretraining": pretraining, "scores": scores, "gains": gains(scores)}


def last_epoch_metrics(metrics: dict[str, float]) -> dict[str, float]:
    """The epoch means of the last pretraining epoch (loss and collapse signals)."""
    return {
        key.removeprefix("train/").removesuffix("_epoch"): value
        for key, value in metrics.items()
        if key.endswith("_epoch")
    }


def feature_scores(run_dir: Path) -> dict[str, dict[str, float]]:
    """The monitor's k-NN and probe scores of the frozen features before pretraining ("start")
    and after its last epoch ("end"), read from every log of the run (it may have resumed)."""
    logs = sorted(
        (run_dir / "logs").glob("version_*/metrics.csv"),
        key=lambda path: int(path.parent.name.removeprefix("version_")),
    )
    rows: list[dict[str, str]] = []
    for log in logs:
        with open(log, newline="") as handle:
            rows += csv.DictReader(handle)
    start = [row for row in rows if row.get(START_PREFIX + FEATURE_SCORES[0])]
    end = [row for row in rows if row.get(EPOCH_PREFIX + FEATURE_SCORES[0])]
    return {
        "start": _scores(start[0], START_PREFIX) if start else {},
        "end": _scores(end[-1], EPOCH_PREFIX) if end else {},
    }


def _scores(row: dict[str, str], prefix: str) -> dict[str, float]:
    return {key: float(row[prefix + key]) for key in FEATURE_SCORES}


def gains(scores: dict[str, dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Each pretrained start's scores minus those from random initialisation."""
    base = scores[RANDOM_INIT]
    return {
        name: {
            adaptation: {key: value - base[adaptation][key] for key, value in metrics.items()}
            for adaptation, metrics in by_adaptation.items()
        }
        for name, by_adaptation in scores.items()
        if name != RANDOM_INIT
    }


def print_table(result: dict[str, Any], frames: Frames, args: argparse.Namespace) -> None:
    """Start x (probe F1, probe mAP, LoRA F1, LoRA mAP), with the gain vs random init."""
    counts = frames.counts
    print(
        f"{args.backbone} @ {args.size}px; pretraining: {counts['pool']} unlabelled frames x "
        f"{args.epochs} epochs; fine-tuning: {counts['train']} labelled frames "
        f"({args.label_fraction:.0%} of the pool) x {args.finetune_epochs} epochs, "
        f"val {counts['val']}, test {counts['test']} frames"
    )
    for method, summary in result["pretraining"].items():
        values = ", ".join(f"{k} {v:.4g}" for k, v in sorted(summary["last_epoch"].items()))
        print(f"{method} pretraining, last epoch: {values} ({summary['seconds']:.0f} s)")
        start, end = summary["features"]["start"], summary["features"]["end"]
        changes = ", ".join(
            f"{key} {start[key]:.3f} -> {end[key]:.3f} ({end[key] - start[key]:+.3f})"
            for key in FEATURE_SCORES
            if key in start and key in end
        )
        print(
            f"{method} frozen features, fitted on the {counts['train']} labelled frames and "
            f"scored on val + test, before -> after pretraining: {changes}"
        )
    columns = [(a, k) for a in ADAPTATIONS for k in HEADLINE]
    print(f"{'start':<12}" + "".join(f"{f'{a} {k}':>20}" for a, k in columns))
    for name, by_adaptation in result["scores"].items():
        gain = result["gains"].get(name)
        cells = []
        for adaptation, key in columns:
            value = by_adaptation[adaptation][key]
            delta = f" ({gain[adaptation][key]:+.3f})" if gain else ""
            cells.append(f"{value:.3f}{delta}")
        print(f"{name:<12}" + "".join(f"{cell:>20}" for cell in cells))


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole benchmark; returns (and writes to `<out>/ssl_pretraining.json`) its numbers."""
    if args.threads:
        torch.set_num_threads(args.threads)
    for pattern in EXPECTED_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    began = time.perf_counter()
    frames = prepare_frames(args)
    report: dict[str, Any] = {"settings": vars(args), "frames": frames.counts}
    report.update(compare(frames, args))
    print_table(report, frames, args)
    if args.overhead_steps:
        recipe = pretrain_recipe("dino", frames, args)
        report["overhead"] = measure_overhead(recipe, args.overhead_steps, args.overhead_warmup)
        print_overhead(report["overhead"])
    report["seconds"] = time.perf_counter() - began
    path = Path(args.out) / "ssl_pretraining.json"
    write_json(path, report)
    print(f"wrote {path} ({report['seconds']:.0f} s)")
    return report


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(PRETRAIN_METHODS.names()))
    parser.add_argument("--frames", type=int, default=3000, help="simulated frames in all")
    parser.add_argument("--label-fraction", type=float, default=0.1)
    parser.add_argument("--size", type=int, default=64, help="frame and view side in pixels")
    parser.add_argument("--backbone", default="vit_tiny_patch16_224")
    parser.add_argument("--patch-size", type=int, default=8, help="ViT patch; 0: the backbone's")
    parser.add_argument("--epochs", type=int, default=10, help="pretraining epochs")
    parser.add_argument("--pretrain-lr", type=float, default=5e-4)
    parser.add_argument("--momentum", type=float, default=0.98, help="DINO teacher EMA start")
    parser.add_argument("--local-views", type=int, default=2, help="DINO local views")
    parser.add_argument("--finetune-epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="simulation and data workers")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--overhead-steps", type=int, default=15, help="0: skip part 2")
    parser.add_argument("--overhead-warmup", type=int, default=3)
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        help="METHOD:key=value for a pretraining recipe, e.g. dino:method.out_dim=8192",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output folder (default: a new temp folder)")
    args = parser.parse_args(argv)
    args.methods = [name for name in args.methods.split(",") if name]
    for method in args.methods:
        PRETRAIN_METHODS.get(method)
    args.out = args.out or tempfile.mkdtemp(prefix="scivit-ssl-")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    return run(parse_args(argv))


if __name__ == "__main__":
    main()
