"""Fixtures of the tuning tests: a tiny simulated scattering set and recipes that search it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scivit.recipe import Recipe, load_recipe
from scivit.simulate.scattering import simulate_scattering

SPACE = {
    "train.lr": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
    "data.batch_size": {"type": "int", "low": 8, "high": 16, "step": 8},
    "model.backbone": {"type": "categorical", "choices": ["test_resnet", "test_efficientnet"]},
}


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 simulated 32-px scattering frames (TIFF) and their manifest."""
    root = tmp_path_factory.mktemp("tune-data")
    return simulate_scattering(root, 40, seed=0, size=32, fmt="tiff", progress=False)


@pytest.fixture
def write_recipe(tmp_path: Path, tiny_manifest: Path) -> Callable[..., Recipe]:
    """Factory: a YAML recipe file on `scatter-resnet34` with a `tune` section, loaded.

    One epoch of at most two batches of a tiny timm test network on 32-px frames; `tune`
    entries override the default search (SPACE, random sampler, no pruning).
    """

    def make(name: str = "tiny", **tune: object) -> Recipe:
        body = {
            "base": "scatter-resnet34",
            "name": name,
            "data": {
                "manifest": str(tiny_manifest),
                "image_size": 32,
                "batch_size": 8,
                "num_workers": 0,
                "cache_dir": str(tiny_manifest.parent / "cache"),
            },
            "model": {"backbone": "test_resnet"},
            "train": {
                "max_epochs": 1,
                "limit_train_batches": 2,
                "progress_bar": False,
                "out_dir": str(tmp_path / "runs"),
            },
            "tune": {
                "space": SPACE,
                "sampler": {"name": "random", "seed": 0},
                "pruner": "none",
                **tune,
            },
        }
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(body, sort_keys=False))
        return load_recipe(path)

    return make
