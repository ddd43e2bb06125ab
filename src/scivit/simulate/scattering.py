"""Labelled synthetic SAXS/WAXS datasets: `simulate_scattering` writes frames and a manifest.

Frames come in sample groups: 1-4 frames recorded from one scene (same sample and instrument,
different exposure and detector position), so a split that keeps groups together has no
leakage. Every random draw is seeded from `numpy.random.SeedSequence(seed)` by group and frame
index, so the dataset is identical whatever the number of worker processes. Work is split in
shards, one task per shard, in spawned worker processes (`scivit.simulate.parallel`); a frame
that fails is reported (count and first error on stderr) and the others are still written.
The manifest is written last.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from scivit.errors import ConfigError
from scivit.simulate.parallel import parallel_map
from scivit.simulate.scattering_render import render_frame
from scivit.simulate.scattering_scene import frame_setups, sample_scene
from scivit.simulate.writer import (
    FrameRecord,
    manifest_row,
    write_manifest,
    write_shard,
    write_tiff,
)

FORMATS = ("h5", "tiff")
MIN_SIZE = 32
MAX_GROUP = 4


@dataclass(frozen=True)
class ShardTask:
    """Frames [start, stop) of the dataset and how to write them."""

    index: int
    start: int
    stop: int
    groups: tuple[tuple[int, int, int], ...]
    seed: int
    size: int
    fmt: str
    out_dir: str
    labelled: bool


def plan_groups(n: int, seed: int) -> list[tuple[int, int, int]]:
    """(group, position in group, group size) of each of the `n` frames."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    plan: list[tuple[int, int, int]] = []
    group = 0
    while len(plan) < n:
        count = min(int(rng.integers(1, MAX_GROUP + 1)), n - len(plan))
        plan.extend((group, position, count) for position in range(count))
        group += 1
    return plan


@lru_cache(maxsize=8)
def group_scene(seed: int, group: int, count: int, size: int) -> tuple[dict, list[dict]]:
    """The scene of sample `group` and the setups of its `count` frames."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, group)))
    scene = sample_scene(rng, size)
    return scene, frame_setups(rng, scene, size, count)


def render_group_frame(
    seed: int, group: int, position: int, count: int, size: int, index: int
) -> FrameRecord:
    """Render frame `position` of sample `group` (of `count` frames); `index` seeds its noise."""
    scene, setups = group_scene(seed, group, count, size)
    setup = setups[position]
    noise_rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(2, index)))
    frame = render_frame(scene, setup, size, noise_rng)
    return FrameRecord(
        index=index,
        group=f"sample_{group:06d}",
        counts=frame.counts,
        tags=frame.tags,
        center=frame.center,
        parameters={**scene, "frame": setup},
    )


def run_shard(task: ShardTask) -> tuple[list[dict], list[tuple[int, str]]]:
    """Render and write one shard; returns its manifest rows and its failed frames."""
    records, failures = [], []
    for index, (group, position, count) in zip(
        range(task.start, task.stop), task.groups, strict=True
    ):
        try:
            records.append(render_group_frame(task.seed, group, position, count, task.size, index))
        except Exception as error:  # noqa: BLE001 - one bad frame must not stop the dataset
            failures.append((index, f"{type(error).__name__}: {error}"))
    out_dir = Path(task.out_dir)
    if task.fmt == "tiff":
        rows = []
        for record in records:
            name = f"frames/frame_{record.index:07d}.tif"
            write_tiff(out_dir / name, record)
            rows.append(manifest_row(name, 0, record))
        return rows, failures
    if not records:
        return [], failures
    name = f"shard_{task.index:05d}.h5"
    write_shard(out_dir / name, records, task.labelled)
    return [manifest_row(name, frame, record) for frame, record in enumerate(records)], failures


def _check(n: int, size: int, fmt: str, workers: int, frames_per_shard: int) -> None:
    if n <= 0:
        raise ConfigError(f"simulate: n must be a positive number of frames, got {n}")
    if size < MIN_SIZE:
        raise ConfigError(f"simulate: size must be at least {MIN_SIZE} pixels, got {size}")
    if fmt not in FORMATS:
        raise ConfigError(f"simulate: unknown fmt '{fmt}'; valid: {', '.join(FORMATS)}")
    if workers < 1:
        raise ConfigError(f"simulate: workers must be at least 1, got {workers}")
    if frames_per_shard < 1:
        raise ConfigError(f"simulate: frames_per_shard must be at least 1, got {frames_per_shard}")


def simulate_scattering(
    out_dir: Path,
    n: int,
    seed: int = 0,
    workers: int = 1,
    size: int = 256,
    fmt: Literal["h5", "tiff"] = "h5",
    frames_per_shard: int = 256,
    unlabelled: bool = False,
    progress: bool = True,
) -> Path:
    """Simulate `n` labelled SAXS/WAXS frames into `out_dir`; returns the manifest path.

    Args:
        out_dir: folder for shards (or `frames/*.tif`) and `manifest.csv`; created if needed.
        n: number of frames.
        seed: dataset seed; the same seed gives the same frames and tags for any `workers`.
        workers: processes rendering shards in parallel (spawned: a script that calls this
            with workers > 1 must do so under `if __name__ == "__main__":`).
        size: frame side in pixels (at least 32).
        fmt: "h5" (NeXus shards) or "tiff" (one file per frame).
        frames_per_shard: frames per HDF5 shard, and per parallel task.
        unlabelled: leave the tags out of the manifest and the files.
        progress: show a tqdm progress bar.
    """
    _check(n, size, fmt, workers, frames_per_shard)
    out_dir = Path(out_dir)
    (out_dir / "frames" if fmt == "tiff" else out_dir).mkdir(parents=True, exist_ok=True)
    plan = plan_groups(n, seed)
    tasks = [
        ShardTask(
            index,
            start,
            min(start + frames_per_shard, n),
            tuple(plan[start : start + frames_per_shard]),
            seed,
            size,
            fmt,
            str(out_dir),
            not unlabelled,
        )
        for index, start in enumerate(range(0, n, frames_per_shard))
    ]
    rows, failures = _run(tasks, workers, progress, n)
    if failures:
        first_index, first_error = failures[0]
        print(
            f"simulate: {len(failures)} of {n} frames failed; "
            f"first: frame {first_index}: {first_error}",
            file=sys.stderr,
        )
    manifest = out_dir / "manifest.csv"
    write_manifest(manifest, rows, labelled=not unlabelled)
    return manifest


def _run(
    tasks: list[ShardTask], workers: int, progress: bool, n: int
) -> tuple[list[dict], list[tuple[int, str]]]:
    rows: list[dict] = []
    failures: list[tuple[int, str]] = []
    with tqdm(total=n, unit="frame", desc="simulate", disable=not progress) as bar:
        results = parallel_map(run_shard, tasks, workers)
        for task, (shard_rows, shard_failures) in zip(tasks, results, strict=True):
            rows.extend(shard_rows)
            failures.extend(shard_failures)
            bar.update(task.stop - task.start)
    return rows, failures
