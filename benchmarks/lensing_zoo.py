"""Train every lensing zoo member under one budget and write `docs/results/lensing.md`.

One simulated DeepLense data set (Model II by default: Euclid VIS, 64 px; three balanced classes:
no substructure, CDM subhalos, axion vortex) is split once by seed; every architecture trains on it
from random initialisation with the same recipe (`lensing-base`: standardized counts, mirror images
about the lens axis, AdamW, warm-up + cosine, cross-entropy), the same epochs, batch size and
learning rate, then is evaluated on the same test split. The table reports test accuracy (of single
images, and of logits averaged over each image's four mirror images, or its eight symmetries with
`--views d4`), per-class and macro one-vs-rest ROC AUC, parameters, and training and inference
images/s measured on identical in-memory batches in this process, on the device and in the
precision training used. Numbers in the docs come only from this script; `--per-class` and
`--epochs` set the scale (small on a CPU, the published 30,000 per class on a GPU); `--noiseless`
simulates the images without noise, as the published Model II set was made.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from scivit.evaluate.numerics import TrainedNumerics
from scivit.evaluate.run import evaluate
from scivit.fileio import atomic_open
from scivit.models import BACKBONES
from scivit.models.classifier import build_classifier
from scivit.recipe import Recipe, load_recipe
from scivit.simulate import simulate_lensing
from scivit.train import train

SEED_TABLE = {"I": 91.5, "II": 99.4, "III": 99.5}
VIEW_COLUMNS = {"hv": "4 mirrors", "d4": "8 symmetries"}
VIEW_NOTES = {
    "hv": "'4 mirrors' averages each model's logits over an image and its three mirror images "
    "about the lens axes (`scivit evaluate --test-time-flips hv`), at four times the inference "
    "cost.",
    "d4": "'8 symmetries' averages each model's logits over an image's four mirror images and "
    "their rotations by 90 degrees (`scivit evaluate --test-time-flips d4`), at eight times "
    "the inference cost.",
}
CLASSES = ("no_substructure", "cdm", "axion")


@dataclass(frozen=True)
class Row:
    """One architecture's results."""

    name: str
    accuracy: float
    accuracy_mirrors: float
    auc: dict[str, float | None]
    auc_macro: float | None
    params_m: float
    train_ips: float
    infer_ips: float
    minutes: float
    n_test: int
    val_accuracy: tuple[float, ...] = ()


def zoo_members(selection: str | None) -> list[str]:
    """The registered `lens_*` backbones, or the comma-separated `selection`."""
    members = [name for name in BACKBONES.names() if name.startswith("lens_")]
    if not selection:
        return members
    chosen = [name.strip() for name in selection.split(",") if name.strip()]
    for name in chosen:
        BACKBONES.get(name)
    return chosen


def model_overrides(options: Sequence[str]) -> list[str]:
    """Recipe overrides `model.options.KEY=VALUE` for `--model-option KEY=VALUE` arguments."""
    return [f"model.options.{option}" for option in options]


def member_label(name: str, options: Sequence[str]) -> str:
    """The member's name in the table, with its model options: `lens_resnet18 stem_stride=2`."""
    return " ".join([name, *options])


def throughput(recipe: Recipe, steps: int = 6) -> tuple[float, float]:
    """Training and inference images/s of a fresh classifier built from `recipe`, on random
    in-memory batches, on the device training uses (a GPU when there is one) and with its
    precision and memory layout."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    size, batch = recipe.data.image_size, recipe.data.batch_size
    classifier = build_classifier(recipe.model, len(CLASSES)).to(device)
    model = TrainedNumerics(classifier, recipe.train.precision, recipe.train.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    images = torch.randn(batch, recipe.model.in_chans, size, size, device=device)
    targets = torch.randint(0, len(CLASSES), (batch,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(images), targets).backward()
        optimizer.step()

    train_ips = _images_per_second(step, batch, steps, device)
    model.eval()
    with torch.inference_mode():
        infer_ips = _images_per_second(lambda: model(images), batch, steps, device)
    return train_ips, infer_ips


def validation_curve(run_dir: Path, metric: str = "val/accuracy") -> tuple[float, ...]:
    """`metric` after each epoch from a run's CSV logs (a resumed run logs each attempt into its
    own `version_N` folder; a later attempt's value for an epoch replaces an earlier one)."""
    logs = sorted(
        (run_dir / "logs").glob("version_*/metrics.csv"),
        key=lambda path: int(path.parent.name.removeprefix("version_")),
    )
    by_epoch: dict[int, float] = {}
    for log in logs:
        with log.open(newline="") as handle:
            for record in csv.DictReader(handle):
                if record.get(metric):
                    by_epoch[int(record["epoch"])] = float(record[metric])
    return tuple(by_epoch[epoch] for epoch in sorted(by_epoch))


def _images_per_second(
    run: Callable[[], object], batch: int, steps: int, device: torch.device
) -> float:
    run()
    _synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        run()
    _synchronize(device)
    return steps * batch / (time.perf_counter() - start)


def _synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that timings cover it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_member(name: str, manifest: Path, work: Path, args: argparse.Namespace) -> Row:
    """Train and evaluate one architecture under the shared budget."""
    label = member_label(name, args.model_option)
    overrides = [
        f"data.manifest={manifest}",
        f"data.image_size={args.image_size}",
        f"data.batch_size={args.batch_size}",
        f"data.num_workers={args.num_workers}",
        f"data.cache_dir={work / 'cache'}",
        f"model.backbone={name}",
        f"model.img_size={args.image_size}",
        f"train.max_epochs={args.epochs}",
        f"train.lr={args.lr}",
        "train.early_stopping_patience=null",
        f"train.out_dir={work / 'runs'}",
        f"train.run_name={label.replace(' ', '-').replace('=', '-')}",
        "train.progress_bar=false",
        *model_overrides(args.model_option),
        *args.override,
    ]
    if args.ema_decay is not None:
        overrides.append(f"train.ema_decay={args.ema_decay}")
    recipe = load_recipe("lensing-base", overrides)
    result = train(recipe)
    metrics = evaluate(
        result.best_checkpoint, split="test", progress=False, test_time_flips="none"
    ).metrics
    mirrors = evaluate(
        result.best_checkpoint,
        split="test",
        out_dir=result.run_dir / "eval-test-mirrors",
        progress=False,
        test_time_flips=args.views,
    ).metrics
    model = build_classifier(recipe.model, len(CLASSES))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    train_ips, infer_ips = throughput(recipe)
    return Row(
        name=label,
        accuracy=100 * metrics["accuracy"],
        accuracy_mirrors=100 * mirrors["accuracy"],
        auc=dict(metrics["roc_auc"]),
        auc_macro=metrics["roc_auc_macro"],
        params_m=params,
        train_ips=train_ips,
        infer_ips=infer_ips,
        minutes=result.train_seconds / 60,
        n_test=metrics["n_frames"],
        val_accuracy=validation_curve(result.run_dir),
    )


def markdown(rows: list[Row], args: argparse.Namespace, pending: Sequence[str] = ()) -> str:
    """The results page; `pending` members are listed as not yet trained."""
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        "# Strong-lensing substructure classification: the architecture zoo",
        "",
        f"Written by `benchmarks/lensing_zoo.py` ({' '.join(sys.argv[1:]) or 'defaults'}).",
        f"Simulated DeepLense Model {args.model}{_noise_note(args.noiseless)}: "
        f"{args.per_class} images per class "
        f"({args.image_size} px), split 80/10/10 by seed ({rows[0].n_test} test images); "
        f"every model trained from random initialisation for {args.epochs} epochs, "
        f"batch {args.batch_size}, lr {args.lr}{_ema_note(args.ema_decay)}"
        f"{_batch_norm_note(args.override)}, on {device} "
        f"with {_threads(torch.get_num_threads())}.",
        f"The published benchmark reached {SEED_TABLE[args.model]}% on Model {args.model} "
        "with 30,000 images per class; compare only at matching scale.",
        "",
        f"Accuracy and AUCs are for single images; {VIEW_NOTES[args.views]}",
        "",
        f"| model | accuracy % | {VIEW_COLUMNS[args.views]} % | AUC no_sub | AUC cdm | AUC axion "
        "| AUC macro | params (M) | train img/s | infer img/s | train min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=lambda r: -r.accuracy):
        aucs = " | ".join(_auc(row.auc.get(name)) for name in CLASSES)
        lines.append(
            f"| {row.name} | {row.accuracy:.1f} | {row.accuracy_mirrors:.1f} | {aucs} | "
            f"{_auc(row.auc_macro)} | "
            f"{row.params_m:.2f} | {row.train_ips:.0f} | {row.infer_ips:.0f} | {row.minutes:.1f} |"
        )
    lines += _validation_lines(rows)
    if pending:
        lines += [
            "",
            f"Not yet trained: {', '.join(pending)} (re-running with the same `--work` resumes).",
        ]
    return "\n".join(lines) + "\n"


def _validation_lines(rows: Sequence[Row]) -> list[str]:
    """Validation accuracy after each epoch, per member: how steadily each one trained."""
    curves = [row for row in rows if row.val_accuracy]
    if not curves:
        return []
    lines = [
        "",
        "Validation accuracy after each epoch (the test columns use the weights of the epoch "
        "with the best validation macro F1):",
        "",
    ]
    for row in curves:
        lines.append(f"- {row.name}: {' '.join(f'{value:.2f}' for value in row.val_accuracy)}")
    return lines


def _threads(count: int) -> str:
    """'1 thread' or 'n threads'."""
    return f"{count} thread" if count == 1 else f"{count} threads"


def _noise_note(noiseless: bool) -> str:
    """How the images were observed, for the page's set-up line."""
    if not noiseless:
        return ""
    return (
        " without noise (as the published Model II set, whose simulator computed the noise "
        "but never added it)"
    )


def _ema_note(decay: float | None) -> str:
    """How the evaluated weights were obtained, for the page's set-up line."""
    return "" if decay is None else f", evaluated with a moving average of the weights ({decay})"


def _batch_norm_note(overrides: Sequence[str]) -> str:
    """How validation's batch-norm statistics were obtained, for the page's set-up line."""
    batches = load_recipe("lensing-base", list(overrides)).train.precise_bn_batches
    if batches is None:
        return ", batch-norm statistics as running averages"
    return f", batch-norm statistics recomputed over {batches} training batches for validation"


def _auc(value: float | None) -> str:
    """An AUC for the table; undefined (a class missing from the test split) shows as n/a."""
    return "n/a" if value is None else f"{value:.3f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="II", choices=sorted(SEED_TABLE))
    parser.add_argument("--per-class", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--image-size", type=int, default=None, help="default: the model's size")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument(
        "--ema-decay", type=float, help="train.ema_decay: evaluate a moving average of the weights"
    )
    parser.add_argument(
        "--noiseless", action="store_true", help="simulate without background and shot noise"
    )
    parser.add_argument(
        "--override",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a further recipe override for training, e.g. "
        "'data.augment=[{name: rand_flip, diagonal: true}]' (repeatable)",
    )
    parser.add_argument(
        "--views",
        choices=sorted(VIEW_COLUMNS),
        default="hv",
        help="test-time views averaged in the second accuracy column",
    )
    parser.add_argument("--members", help="comma-separated zoo members (default: all lens_*)")
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="model.options.KEY for every member, e.g. stem_stride=2 (repeatable)",
    )
    parser.add_argument("--workers", type=int, default=2, help="simulation processes")
    parser.add_argument("--num-workers", type=int, default=0, help="data loader workers")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=Path("docs/results/lensing.md"))
    args = parser.parse_args(argv)
    for flag, values in (("--model-option", args.model_option), ("--override", args.override)):
        for option in values:
            if "=" not in option:
                parser.error(f"{flag} takes KEY=VALUE, got {option!r}")
    if args.image_size is None:
        args.image_size = 150 if args.model == "I" else 64
    return args


def run(args: argparse.Namespace) -> list[Row]:
    """Simulate (once per work folder), train every member, write the results page."""
    members = zoo_members(args.members)
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        data = work / f"model-{args.model}-{args.per_class}{'-noiseless' * args.noiseless}"
        manifest = data / "manifest.csv"
        if not manifest.is_file():
            simulate_lensing(
                data,
                n=3 * args.per_class,
                seed=0,
                workers=args.workers,
                model=args.model,
                noise=not args.noiseless,
            )
        rows: list[Row] = []
        for index, name in enumerate(members):
            row = train_member(name, manifest, work, args)
            print(
                f"{row.name}: accuracy {row.accuracy:.1f}%, AUC macro {row.auc_macro:.3f}",
                flush=True,
            )
            rows.append(row)
            write_page(rows, members[index + 1 :], args)
    print(f"wrote {args.out}")
    return rows


def write_page(rows: list[Row], pending: list[str], args: argparse.Namespace) -> None:
    """The results page so far; an interrupted run shows what is still to come."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(args.out, "w") as handle:
        handle.write(markdown(rows, args, pending))


if __name__ == "__main__":
    run(parse_args())
