"""Distributed data parallel training with two CPU processes (gloo), through the command line:
Lightning relaunches the command for the second rank, as it does on a workstation."""

from __future__ import annotations

import json
import subprocess
import sys

import torch

from scivit.simulate import simulate_scattering


def test_ddp_on_two_cpu_processes_trains_and_tunes_on_the_whole_val_split(tmp_path):
    manifest = simulate_scattering(tmp_path / "data", n=48, seed=3, size=48, progress=False)
    overrides = [
        f"data.manifest={manifest}",
        "data.image_size=32",
        "data.batch_size=8",
        "data.num_workers=0",
        f"data.cache_dir={tmp_path / 'cache'}",
        "model.backbone=resnet18",
        "train.max_epochs=1",
        "train.accelerator=cpu",
        "train.devices=2",
        "train.strategy=ddp",
        "train.precision=32-true",
        f"train.out_dir={tmp_path / 'runs'}",
        "train.run_name=ddp",
        "train.progress_bar=false",
    ]
    command = [sys.executable, "-m", "scivit.cli", "train", "scatter-resnet34", *overrides]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-2000:]
    assert "MEMBER: 2/2" in output
    run = tmp_path / "runs" / "ddp"
    checkpoint = torch.load(run / "checkpoints" / "best.ckpt", weights_only=True)
    assert len(checkpoint["scivit"]["thresholds"]) == 17
    metrics = json.loads((run / "val_metrics.json").read_text())
    assert 0.0 <= metrics["f1_macro"] <= 1.0
