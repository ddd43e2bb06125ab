"""Is data loading ever the bottleneck? Loading images/s vs training images/s, same batch size.

Writes a small NeXus dataset (Poisson counts with rings around an off-centre beam, a dead-pixel
sentinel, several shards) to a temporary folder, then measures:

- loading: images/s through `FrameDataModule.train_dataloader()` with the default X-ray
  preprocessing and augmentation: epoch 1 fills the frame cache, epoch 2 reads from it;
- training: images/s of a timm resnet34 train step (forward, BCE loss, backward, AdamW) at
  the same image size and batch size, on the CPU.

It prints both and their ratio (loading / training); above 1 the model, not the data, sets
the pace. Run: `python benchmarks/data_loading.py [--n 384 --size 128 --workers 2]`.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import timm
import torch

from scivit.data import DataConfig, FrameDataModule

LABELS = ("ring", "halo", "diffuse")
FRAMES_PER_SHARD = 64


def write_dataset(folder: Path, n: int, frame_size: int, seed: int = 0) -> Path:
    """NeXus shards of (frames, frame_size, frame_size) int32 counts plus `manifest.csv`."""
    rng = np.random.default_rng(seed)
    centre = (0.45 * frame_size, 0.55 * frame_size)
    yy, xx = np.mgrid[:frame_size, :frame_size]
    radius = np.hypot(xx - centre[0], yy - centre[1])
    flags = rng.random((n, len(LABELS))) < (0.5, 0.35, 0.25)
    rows = []
    for shard, start in enumerate(range(0, n, FRAMES_PER_SHARD)):
        block = flags[start : start + FRAMES_PER_SHARD]
        rates = [_rate(radius, frame_size, ring, halo, diffuse) for ring, halo, diffuse in block]
        counts = rng.poisson(np.stack(rates)).astype(np.int32)
        counts[:, frame_size // 3, frame_size // 5] = -1
        name = f"shard{shard:03d}.nxs"
        _write_nexus(folder / name, counts)
        for frame, labels in enumerate(block):
            rows.append(
                {
                    "path": name,
                    "frame": frame,
                    "labels": ";".join(n for n, on in zip(LABELS, labels, strict=True) if on),
                    "group": f"sample{(start + frame) // 4}",
                    "beam_center_x": centre[0],
                    "beam_center_y": centre[1],
                }
            )
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def _rate(radius: np.ndarray, size: int, ring: bool, halo: bool, diffuse: bool) -> np.ndarray:
    rate = 2.0 + 200.0 * np.exp(-radius / (0.05 * size))
    rate = rate + ring * 80.0 * np.exp(-((radius - 0.25 * size) ** 2) / (0.0004 * size**2))
    rate = rate + halo * 30.0 * np.exp(-((radius - 0.35 * size) ** 2) / (0.004 * size**2))
    return rate + diffuse * 50.0 * np.exp(-radius / (0.15 * size))


def _write_nexus(path: Path, counts: np.ndarray) -> None:
    with h5py.File(path, "w") as handle:
        handle.attrs["default"] = "entry"
        entry = handle.create_group("entry")
        entry.attrs.update({"NX_class": "NXentry", "default": "data"})
        data = entry.create_group("data")
        data.attrs.update({"NX_class": "NXdata", "signal": "data"})
        data.create_dataset("data", data=counts, chunks=(1, *counts.shape[1:]))


def loading_rate(loader) -> float:
    """Images per second over one pass of `loader`."""
    start, seen = time.perf_counter(), 0
    for images, _ in loader:
        seen += images.shape[0]
    return seen / (time.perf_counter() - start)


def training_rate(images: torch.Tensor, targets: torch.Tensor, steps: int) -> float:
    """Images per second of resnet34 train steps on one batch (after one warm-up step)."""
    model = timm.create_model(
        "resnet34", pretrained=False, in_chans=images.shape[1], num_classes=targets.shape[1]
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    for step in range(steps + 1):
        if step == 1:
            start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(images), targets).backward()
        optimizer.step()
    return steps * images.shape[0] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=384, help="frames in the dataset")
    parser.add_argument("--size", type=int, default=128, help="model input size (pixels)")
    parser.add_argument("--frame-size", type=int, default=256, help="detector frame size")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="scivit-bench-") as folder:
        manifest = write_dataset(Path(folder), args.n, args.frame_size)
        cfg = DataConfig(
            manifest=str(manifest),
            labels=list(LABELS),
            image_size=args.size,
            batch_size=args.batch_size,
            num_workers=args.workers,
            cache_dir=str(Path(folder) / "cache"),
        )
        module = FrameDataModule(cfg)
        module.setup("fit")
        loader = module.train_dataloader()
        first = loading_rate(loader)
        second = loading_rate(loader)
        images, targets = next(iter(loader))
        del loader
        training = training_rate(images, targets, args.steps)
    print(
        f"frames: {args.n} of {args.frame_size}px -> {args.size}px, batch {args.batch_size}, "
        f"{args.workers} workers, {torch.get_num_threads()} torch threads"
    )
    print(f"loading, epoch 1 (fills cache): {first:8.1f} images/s")
    print(f"loading, epoch 2 (cached):      {second:8.1f} images/s")
    print(f"training resnet34 (CPU):        {training:8.1f} images/s")
    print(
        f"ratio loading/training: epoch 1 {first / training:.2f}x, epoch 2 {second / training:.2f}x"
    )


if __name__ == "__main__":
    main()
