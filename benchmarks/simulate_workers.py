"""Scattering simulator throughput with the workers' OpenMP threads passive vs the default.

Simulates the same frames twice into temporary folders with `--workers` processes: once as
`scivit simulate` does it (workers started with `OMP_WAIT_POLICY=passive`), once with the
workers left to the OpenMP default (idle threads spin before they sleep), and prints frames/s
of each and their ratio (passive / default; above 1 the passive policy is faster).
The two runs write identical frames: the policy changes speed, never results.
Run: `python benchmarks/simulate_workers.py [--n 1024 --size 128 --workers 2]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from unittest.mock import patch

import h5py
import numpy as np

from scivit.simulate import parallel, simulate_scattering


def frames_per_second(folder: Path, n: int, size: int, workers: int) -> float:
    """Frames/s of one `simulate_scattering` run into `folder`, process start-up included."""
    start = time.perf_counter()
    simulate_scattering(
        folder, n, seed=0, workers=workers, size=size, frames_per_shard=128, progress=False
    )
    return n / (time.perf_counter() - start)


def first_shard(folder: Path) -> np.ndarray:
    """The frames of the first shard `folder` holds."""
    with h5py.File(folder / "shard_00000.h5", "r") as handle:
        return handle["entry/data/data"][...]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        passive_dir, default_dir = Path(scratch, "passive"), Path(scratch, "default")
        passive = frames_per_second(passive_dir, args.n, args.size, args.workers)
        with patch.dict(parallel.WORKER_ENVIRONMENT, clear=True):
            default = frames_per_second(default_dir, args.n, args.size, args.workers)
        same = np.array_equal(first_shard(passive_dir), first_shard(default_dir))
    print(f"frames: {args.n} at {args.size} px, {args.workers} workers")
    print(f"passive OpenMP waits (scivit): {passive:7.1f} frames/s")
    print(f"OpenMP default waits:          {default:7.1f} frames/s")
    print(f"ratio passive/default: {passive / default:.2f}; identical frames: {same}")


if __name__ == "__main__":
    main()
