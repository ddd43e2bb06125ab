"""Simulated strong-lensing images of the DeepLense data sets: `simulate_lensing`.

Three balanced classes of galaxy-galaxy lenses, "no_substructure", "cdm" (point-mass subhalos)
and "axion" (a vortex), observed as DeepLense Model I, II or III (Alexander et al. 2020,
ApJ 893, 15; https://github.com/ML4SCI/DeepLense), ray-traced and observed with lenstronomy.
Frame i belongs to class i mod 3 and draws everything from `numpy.random.SeedSequence(seed,
spawn_key=(i,))`, so the data set is the same for any number of worker processes. Frames are
rendered shard by shard in freshly spawned processes; a frame that fails is reported on stderr
(count and first error) and the others are still written. Each shard is written atomically
(`scivit.simulate.lensing_shard`) and `manifest.csv` (path, frame, labels, group and the lens
axis as beam_center_x/y, so rotations about it are possible) is written last. With
`noise=False` the frames are the noiseless images of the same scenes (the same seed draws the
same lenses and sources with or without noise).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from scivit.errors import ConfigError
from scivit.simulate.lensing_instruments import get_instrument
from scivit.simulate.lensing_render import render
from scivit.simulate.lensing_scene import draw_scene
from scivit.simulate.lensing_shard import write_lensing_shard
from scivit.simulate.parallel import parallel_map
from scivit.simulate.writer import FrameRecord, manifest_row, write_manifest

LENSING_CLASSES = ("no_substructure", "cdm", "axion")
Result = tuple[list[dict[str, Any]], list[tuple[int, str]]]


@dataclass(frozen=True)
class LensingShard:
    """Frames [start, stop) of the data set, written to `shard_{index:05d}.h5` in `out_dir`."""

    index: int
    start: int
    stop: int
    seed: int
    model: str
    out_dir: str
    noise: bool = True


def frame_label(index: int) -> str:
    """Class of frame `index`: the classes take turns, so every class has n // 3 frames or one
    more."""
    return LENSING_CLASSES[index % len(LENSING_CLASSES)]


def render_lens_frame(seed: int, index: int, model: str, noise: bool = True) -> FrameRecord:
    """Draw and observe frame `index` of the data set `seed` with DeepLense model `model`,
    with background and shot noise unless `noise` is False."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    instrument = get_instrument(model)
    label = frame_label(index)
    scene = draw_scene(rng, label)
    noise_seed = int(rng.integers(0, 2**32 - 1))
    rendered = render(scene, instrument, noise_seed, noise)
    parameters = {
        "model": model,
        **scene,
        "noise": noise,
        "noise_seed": noise_seed,
        "background_sigma": rendered.background_sigma,
        "exposure_time": rendered.exposure_time,
    }
    return FrameRecord(
        index=index,
        group=f"lens_{index:07d}",
        counts=rendered.image,
        tags=[label],
        center=(instrument.center, instrument.center),
        parameters=parameters,
    )


def run_lensing_shard(task: LensingShard) -> Result:
    """Render and write one shard; returns its manifest rows and its failed frames."""
    records, failures = [], []
    for index in range(task.start, task.stop):
        try:
            records.append(render_lens_frame(task.seed, index, task.model, task.noise))
        except Exception as error:  # noqa: BLE001 - one bad frame must not stop the data set
            failures.append((index, f"{type(error).__name__}: {error}"))
    if not records:
        return [], failures
    name = f"shard_{task.index:05d}.h5"
    write_lensing_shard(Path(task.out_dir) / name, records, get_instrument(task.model))
    return [manifest_row(name, frame, record) for frame, record in enumerate(records)], failures


def _check(n: int, workers: int, frames_per_shard: int) -> None:
    if n <= 0:
        raise ConfigError(f"simulate lensing: n must be a positive number of frames, got {n}")
    if workers < 1:
        raise ConfigError(f"simulate lensing: workers must be at least 1, got {workers}")
    if frames_per_shard < 1:
        raise ConfigError(
            f"simulate lensing: frames_per_shard must be at least 1, got {frames_per_shard}"
        )


def simulate_lensing(
    out_dir: Path,
    n: int,
    seed: int = 0,
    workers: int = 1,
    model: str = "I",
    frames_per_shard: int = 256,
    progress: bool = True,
    noise: bool = True,
) -> Path:
    """Simulate `n` labelled lensing images into `out_dir`; returns the manifest path.

    Args:
        out_dir: folder for the HDF5 shards and `manifest.csv`; created if needed.
        n: number of frames, shared evenly by the three classes.
        seed: data-set seed; the same seed gives the same frames for any `workers`.
        workers: processes rendering shards in parallel (spawned: a script that calls this
            with workers > 1 must do so under `if __name__ == "__main__":`).
        model: DeepLense model "I" (150 px, Gaussian PSF, SNR 25), "II" (64 px, Euclid VIS)
            or "III" (64 px, HST WFC3 F160W).
        frames_per_shard: frames per HDF5 shard, and per parallel task.
        progress: show a tqdm progress bar.
        noise: add background and shot noise; False writes the noiseless images, to compare
            with results on the published Model II set (its simulator never added the noise).
    """
    _check(n, workers, frames_per_shard)
    get_instrument(model)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [
        LensingShard(
            index, start, min(start + frames_per_shard, n), seed, model, str(out_dir), noise
        )
        for index, start in enumerate(range(0, n, frames_per_shard))
    ]
    rows: list[dict[str, Any]] = []
    failures: list[tuple[int, str]] = []
    with tqdm(total=n, unit="frame", desc="simulate lensing", disable=not progress) as bar:
        for task, (shard_rows, shard_failures) in zip(
            tasks, parallel_map(run_lensing_shard, tasks, workers), strict=True
        ):
            rows.extend(shard_rows)
            failures.extend(shard_failures)
            bar.update(task.stop - task.start)
    if failures:
        first_index, first_error = failures[0]
        print(
            f"simulate lensing: {len(failures)} of {n} frames failed; "
            f"first: frame {first_index}: {first_error}",
            file=sys.stderr,
        )
    manifest = out_dir / "manifest.csv"
    write_manifest(manifest, rows, labelled=True)
    return manifest
