"""DINO training throughput through scivit vs a bare PyTorch DINO step, same model and views.

Both sides build the same DINO method (`PRETRAIN_METHODS["dino"]`, same seed, so identical
student, teacher and heads) and train it on identical in-memory batches of multi-crop views,
drawn once from the recipe's unlabelled data through `UnlabelledDataModule`. scivit trains it
with `PretrainTask` in the Trainer that `scivit.pretrain.build_trainer` builds (callbacks,
loggers, learning-rate schedule, gradient clipping); the bare loop runs teacher and student
forwards, the DINO loss, backward, gradient clipping, an AdamW step and the EMA update by hand.
The first `warmup` steps of each side and the end-of-epoch checkpoint are not timed; the bare
loop runs before and after scivit and its mean is the baseline. Target: ratio >= 0.95.

`benchmarks/ssl_pretraining.py` runs it on its own DINO pretraining recipe and frames.
"""

from __future__ import annotations

import tempfile
import time
from itertools import islice
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightly.utils.scheduler import cosine_schedule
from torch.utils.data import DataLoader, Dataset

from scivit.data.unlabelled import UnlabelledDataModule
from scivit.pretrain import PretrainRecipe, build_trainer
from scivit.tasks.pretrain import PRETRAIN_METHODS, PretrainTask

Views = list[torch.Tensor]


class StepClock(L.Callback):
    """Records when every training batch starts and ends."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []

    def on_train_batch_start(self, *args: object) -> None:
        self.starts.append(time.perf_counter())

    def on_train_batch_end(self, *args: object) -> None:
        self.ends.append(time.perf_counter())


class StoredBatches(Dataset):
    """Ready-made batches (each a list of view batches), served one per item."""

    def __init__(self, batches: list[Views]) -> None:
        self.batches = batches

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> Views:
        return self.batches[index]


def draw_batches(recipe: PretrainRecipe, steps: int) -> list[Views]:
    """`steps` batches of the recipe's views, drawn once through scivit's data module."""
    spec = PRETRAIN_METHODS.get(recipe.method.name)
    views = spec.views(recipe.method, recipe.data.preprocess)
    data = recipe.data.model_copy(update={"num_workers": 0})
    loader = UnlabelledDataModule(data, views).train_dataloader()
    batches: list[Views] = []
    while len(batches) < steps:
        batches.extend(islice(loader, steps - len(batches)))
    return batches


def build_method(recipe: PretrainRecipe) -> torch.nn.Module:
    """The recipe's DINO method with fixed-seed weights."""
    torch.manual_seed(recipe.train.seed)
    spec = PRETRAIN_METHODS.get(recipe.method.name)
    views = spec.views(recipe.method, recipe.data.preprocess)
    return spec.build(recipe.method, recipe.model, views.input_size)


def bare_loop(recipe: PretrainRecipe, batches: list[Views], warmup: int) -> float:
    """Images per second of a hand-written DINO step on the recipe's method."""
    method = build_method(recipe).train()
    network, options, cfg = method.network, recipe.method, recipe.train
    params = [p for p in method.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = len(batches)
    start, seen = 0.0, 0
    for step, views in enumerate(batches):
        if step == warmup:
            start, seen = time.perf_counter(), 0
        teacher_out = network.teacher_outputs(views[:2])
        student_out = network.student_outputs(views)
        loss = method.loss(teacher_out, student_out, step / total)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        optimizer.step()
        network.update_teacher(cosine_schedule(step, total, options.momentum, 1.0))
        seen += len(views[0])
    return seen / (time.perf_counter() - start)


def scivit_loop(recipe: PretrainRecipe, batches: list[Views], warmup: int) -> float:
    """Images per second of the same training through `PretrainTask` and scivit's Trainer."""
    task = PretrainTask(build_method(recipe), recipe.train)
    clock = StepClock()
    with tempfile.TemporaryDirectory() as tmp:
        trainer = build_trainer(recipe, Path(tmp), [clock])
        loader = DataLoader(StoredBatches(batches), batch_size=None, shuffle=False)
        trainer.fit(task, train_dataloaders=loader)
    timed = len(clock.ends) - warmup
    return timed * len(batches[0][0]) / (clock.ends[-1] - clock.starts[warmup])


def timing_recipe(recipe: PretrainRecipe) -> PretrainRecipe:
    """`recipe` as one fp32 epoch on the CPU, no periodic checkpoints, no progress bar."""
    train = recipe.train.model_copy(
        update={
            "max_epochs": 1,
            "precision": "32-true",
            "accelerator": "cpu",
            "devices": 1,
            "checkpoint_every_n_epochs": None,
            "progress_bar": False,
        }
    )
    return recipe.model_copy(update={"train": train})


def measure_overhead(recipe: PretrainRecipe, steps: int, warmup: int) -> dict[str, Any]:
    """Images/s of the bare DINO loop (mean of a run before and after) and of scivit."""
    recipe = timing_recipe(recipe)
    batches = draw_batches(recipe, steps)
    bare = bare_loop(recipe, batches, warmup)
    ours = scivit_loop(recipe, batches, warmup)
    bare_again = bare_loop(recipe, batches, warmup)
    baseline = (bare + bare_again) / 2
    return {
        "backbone": recipe.model.backbone,
        "batch_size": len(batches[0][0]),
        "views": [list(view.shape[-2:]) for view in batches[0]],
        "steps": steps,
        "warmup": warmup,
        "threads": torch.get_num_threads(),
        "bare_img_s": baseline,
        "bare_runs_img_s": [bare, bare_again],
        "scivit_img_s": ours,
        "ratio": ours / baseline,
    }


def print_overhead(result: dict[str, Any]) -> None:
    """The overhead measurement as a few lines of text."""
    bare, again = result["bare_runs_img_s"]
    print(
        f"DINO step, {result['backbone']}, batch {result['batch_size']}, "
        f"{len(result['views'])} views, {result['threads']} threads, cpu fp32"
    )
    baseline = result["bare_img_s"]
    print(f"bare PyTorch DINO loop: {baseline:.1f} img/s (runs: {bare:.1f}, {again:.1f})")
    print(f"scivit PretrainTask:    {result['scivit_img_s']:.1f} img/s")
    print(f"ratio scivit/bare:      {result['ratio']:.3f} (target >= 0.95)")
