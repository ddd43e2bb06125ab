"""Fixtures of the data tests: a tiny scattering dataset written on the fly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tiny_data import LABELS, scattering_frames, write_csv, write_nexus


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """Factory: `make_dataset(n=40, size=32, shards=2, group_size=4, **columns)` -> manifest path.

    Frames live in `shards` NeXus files; the manifest has the simulator's columns (path, frame,
    labels, group, beam_center_x, beam_center_y); `extra` adds columns per row.
    """

    def make(
        n: int = 40,
        size: int = 32,
        shards: int = 2,
        group_size: int = 4,
        seed: int = 0,
        extra: Callable[[int], dict[str, object]] | None = None,
    ) -> Path:
        rng = np.random.default_rng(seed)
        flags = (rng.random((n, len(LABELS))) < [0.5, 0.35, 0.25]).astype(int)
        frames = scattering_frames(rng, flags, size)
        per_shard = -(-n // shards)
        rows = []
        for shard in range(shards):
            chunk = slice(shard * per_shard, min(n, (shard + 1) * per_shard))
            write_nexus(tmp_path / f"shard{shard}.nxs", frames[chunk])
            for offset, index in enumerate(range(n)[chunk]):
                rows.append(
                    {
                        "path": f"shard{shard}.nxs",
                        "frame": offset,
                        "labels": ";".join(
                            name for name, flag in zip(LABELS, flags[index], strict=True) if flag
                        ),
                        "group": f"sample{index // group_size}",
                        "beam_center_x": size / 2,
                        "beam_center_y": size / 2,
                        **(extra(index) if extra else {}),
                    }
                )
        return write_csv(tmp_path / "manifest.csv", rows)

    return make
