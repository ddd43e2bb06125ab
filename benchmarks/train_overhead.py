"""Training throughput through scivit vs a bare PyTorch loop on the same timm model and batches.

Both sides train the same architecture (fresh weights, same seed) with AdamW and the same loss
on identical in-memory batches, so the ratio isolates what scivit's task, Lightning trainer,
logging and scheduling add. The first `--warmup` steps of each are not timed. Step times on
a shared CPU drift by 10-15 % from minute to minute, so the two loops alternate for
`--rounds` rounds and the medians are compared.
Target: scivit >= 0.95x the bare loop (overhead <= 5%).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from scivit.models.classifier import ModelConfig, build_classifier
from scivit.recipe import Recipe
from scivit.tasks.classify import ClassifyTask, TrainConfig
from scivit.tasks.hardware import resolve_precision
from scivit.train import build_trainer


class StepClock(L.Callback):
    """Records the time of every training batch start and of the end of training."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.end = 0.0

    def on_train_batch_start(self, *args: object) -> None:
        self.starts.append(time.perf_counter())

    def on_train_end(self, *args: object) -> None:
        self.end = time.perf_counter()


def make_batches(count: int, batch: int, size: int, labels: int) -> TensorDataset:
    generator = torch.Generator().manual_seed(0)
    images = torch.randn(count * batch, 1, size, size, generator=generator)
    targets = (torch.rand(count * batch, labels, generator=generator) > 0.7).float()
    return TensorDataset(images, targets)


def bare_loop(
    config: ModelConfig, data: TensorDataset, batch: int, labels: int, warmup: int
) -> float:
    """Images per second of a plain forward/backward/step loop."""
    torch.manual_seed(0)
    model = build_classifier(config, labels).train()
    # fused: the AdamW kernel scivit itself uses for these parameters (scivit.tasks.optimizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, fused=True)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    loader = DataLoader(data, batch_size=batch, shuffle=False)
    start, seen = 0.0, 0
    for step, (images, targets) in enumerate(loader):
        if step == warmup:
            start, seen = time.perf_counter(), 0
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(images), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        seen += len(images)
    return seen / (time.perf_counter() - start)


def scivit_loop(
    config: ModelConfig,
    data: TensorDataset,
    batch: int,
    labels: int,
    warmup: int,
    precision: str = "32-true",
) -> float:
    """Images per second of the same training through scivit's task and trainer."""
    torch.manual_seed(0)
    names = [f"label{i}" for i in range(labels)]
    model = build_classifier(config, labels)
    with tempfile.TemporaryDirectory() as tmp:
        train_cfg = TrainConfig(
            max_epochs=1,
            lr=1e-3,
            loss="bce",
            out_dir=tmp,
            run_name="bench",
            limit_val_batches=0,
            early_stopping_patience=None,
            progress_bar=False,
            warmup_epochs=0.1,
            precision=precision,
        )
        recipe = Recipe(
            data={"manifest": "unused.csv", "labels": names}, model=config, train=train_cfg
        )
        task = ClassifyTask(model, names, "multilabel", train_cfg)
        trainer = build_trainer(recipe, Path(tmp) / "bench", "multilabel")
        clock = StepClock()
        trainer.callbacks.append(clock)
        trainer.fit(task, train_dataloaders=DataLoader(data, batch_size=batch, shuffle=False))
    timed = len(clock.starts) - warmup
    return timed * batch / (clock.end - clock.starts[warmup])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="resnet34")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--labels", type=int, default=17)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved bare/scivit pairs")
    args = parser.parse_args()
    config = ModelConfig(backbone=args.backbone)
    data = make_batches(args.steps, args.batch_size, args.size, args.labels)
    bare, ours = [], []
    for _ in range(args.rounds):
        bare.append(bare_loop(config, data, args.batch_size, args.labels, args.warmup))
        ours.append(scivit_loop(config, data, args.batch_size, args.labels, args.warmup))
    auto = scivit_loop(config, data, args.batch_size, args.labels, args.warmup, "auto")
    baseline, scivit = statistics.median(bare), statistics.median(ours)
    print(
        f"{args.backbone} @ {args.size}px, batch {args.batch_size}, "
        f"{torch.get_num_threads()} threads, device cpu, {args.rounds} interleaved rounds"
    )
    print(f"bare PyTorch loop: {baseline:.1f} img/s (median; runs: {_runs(bare)})")
    print(f"scivit trainer:    {scivit:.1f} img/s (median, fp32 too; runs: {_runs(ours)})")
    rounds = ", ".join(f"{o / b:.3f}" for o, b in zip(ours, bare, strict=True))
    print(f"ratio scivit/bare: {scivit / baseline:.3f} (target >= 0.95; per round: {rounds})")
    print(
        f"scivit with precision=auto ({resolve_precision('auto')}): {auto:.1f} img/s, "
        f"{auto / baseline:.2f}x the fp32 bare loop"
    )


def _runs(values: list[float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


if __name__ == "__main__":
    main()
