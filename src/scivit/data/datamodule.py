"""The `data` section of a recipe and the Lightning data module built from it.

`FrameDataModule.setup()` loads the manifest, splits it, and builds two pipelines: the
deterministic preprocessing (the recipe's `preprocess` list, then a resize to `image_size`),
cached on disk when `cache` is on, and the training augmentation (`augment`) that runs on every
draw. Validation, test and prediction see the preprocessing only. Every pipeline ends with
`to_tensor`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from lightning.pytorch.accelerators import CUDAAccelerator
from pydantic import Field, field_validator
from torch.utils.data import DataLoader, get_worker_info

from scivit.config import StrictModel
from scivit.data.cache import FrameCache
from scivit.data.dataset import FrameDataset, read_sample
from scivit.data.manifest import Manifest, load_manifest
from scivit.data.splits import split_indices
from scivit.errors import ConfigError, DataError
from scivit.transforms import Compose, build_transforms

DEFAULT_PREPROCESS = ("fix_dead_pixels", "mask_beamstop", "log", "standardize")
DEFAULT_AUGMENT = ("rand_flip", "rand_rotate")


class SplitConfig(StrictModel):
    """How rows are divided into train, val and test (an explicit `split` column wins)."""

    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0

    @field_validator("fractions")
    @classmethod
    def _shares(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(value) <= 0 or not np.isclose(sum(value), 1.0):
            raise ValueError("must be three positive numbers summing to 1")
        return value


class DataConfig(StrictModel):
    """The `data` section of a recipe."""

    manifest: str
    labels: list[str] = Field(min_length=1)
    task: Literal["multilabel", "multiclass"] = "multilabel"
    image_size: int = Field(128, ge=16)
    in_chans: int = Field(1, ge=1)
    preprocess: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"name": name} for name in DEFAULT_PREPROCESS]
    )
    augment: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"name": name} for name in DEFAULT_AUGMENT]
    )
    split: SplitConfig = Field(default_factory=SplitConfig)
    batch_size: int = Field(32, ge=1)
    num_workers: int = Field(2, ge=0)
    cache: bool = True
    cache_dir: str | None = None

    @field_validator("labels")
    @classmethod
    def _unique_labels(cls, value: list[str]) -> list[str]:
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"label '{repeated[0]}' is listed more than once")
        return value

    @field_validator("preprocess", "augment")
    @classmethod
    def _named_steps(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for position, step in enumerate(value):
            if not isinstance(step.get("name"), str):
                raise ValueError(f"step {position} needs a 'name' naming a transform")
        return value


def preprocess_spec(cfg: DataConfig) -> list[dict[str, Any]]:
    """The deterministic preprocessing steps: the recipe's list, then the resize."""
    return [*cfg.preprocess, {"name": "resize", "size": cfg.image_size}]


def eval_transform(cfg: DataConfig) -> Compose:
    """The whole evaluation pipeline (preprocessing, `to_tensor`) for frames read from disk."""
    return build_transforms([*preprocess_spec(cfg), {"name": "to_tensor"}])


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/scivit/frames`, or `~/.cache/scivit/frames`."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "scivit" / "frames"


class FrameDataModule(L.LightningDataModule):
    """Train/val/test/predict loaders of a manifest, as described by a `DataConfig`.

    Prediction covers every manifest row, in file order.
    """

    def __init__(self, cfg: DataConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self._manifest: Manifest | None = None
        self._splits: dict[str, np.ndarray] = {}
        self._datasets: dict[str, FrameDataset] = {}

    @property
    def label_names(self) -> list[str]:
        return list(self.cfg.labels)

    @property
    def num_labels(self) -> int:
        return len(self.cfg.labels)

    @property
    def manifest(self) -> Manifest:
        self.setup()
        return self._manifest  # type: ignore[return-value]

    @property
    def split_indices(self) -> dict[str, np.ndarray]:
        self.setup()
        return dict(self._splits)

    def setup(self, stage: str | None = None) -> None:
        if self._manifest is not None:
            return
        manifest = load_manifest(self.cfg.manifest, self.cfg.labels, self.cfg.task)
        _warn_unused_labels(manifest)
        splits = split_manifest(manifest, self.cfg.split)
        train, plain, cache = self._pipelines(manifest)
        self._datasets = {
            "train": FrameDataset(manifest, splits["train"], train, cache),
            "val": FrameDataset(manifest, splits["val"], plain, cache),
            "test": FrameDataset(manifest, splits["test"], plain, cache),
            "predict": FrameDataset(manifest, np.arange(len(manifest)), plain, cache),
        }
        self._splits, self._manifest = splits, manifest

    def fill_cache(self, splits: Sequence[str], progress: bool = False) -> int:
        """Preprocess the uncached frames of `splits` into the cache up front, in
        `num_workers` processes; returns how many were computed (0 when the cache is off).

        Doing it before training rather than lazily in the first epoch's loader workers keeps
        the preprocessing from competing with the training step for the same cores.
        """
        self.setup()
        cache = self._datasets["train"].cache
        if cache is None:
            return 0
        rows = np.concatenate([self._splits[name] for name in splits])
        return cache.fill(self.cfg.num_workers, progress=progress, rows=rows)

    def _pipelines(self, manifest: Manifest) -> tuple[Compose, Compose, FrameCache | None]:
        """Training and evaluation transforms, and the cache of the preprocessing when on."""
        cfg = self.cfg
        spec = preprocess_spec(cfg)
        preprocess = build_transforms(spec)
        cache = None
        if cfg.cache:
            root = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
            cache = FrameCache.open(root, manifest, preprocess, spec, cfg.image_size)
            channels = cache.shape[0]
        else:
            channels = np.asarray(preprocess(read_sample(manifest, 0))["image"]).shape[0]
        if channels != cfg.in_chans:
            raise ConfigError(
                f"data.in_chans is {cfg.in_chans} but the preprocessing of "
                f"{manifest.source} gives {channels}-channel images"
            )
        head = [] if cache is not None else spec
        train = build_transforms([*head, *cfg.augment, {"name": "to_tensor"}])
        plain = build_transforms([*head, {"name": "to_tensor"}])
        return train.set_random_state(torch.initial_seed()), plain, cache

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict", shuffle=False)

    def _loader(self, name: str, shuffle: bool) -> DataLoader:
        self.setup()
        workers = self.cfg.num_workers
        return DataLoader(
            self._datasets[name],
            batch_size=self.cfg.batch_size,
            shuffle=shuffle,
            num_workers=workers,
            pin_memory=self._on_cuda(),
            persistent_workers=workers > 0,
            worker_init_fn=seed_worker if workers > 0 else None,
        )

    def _on_cuda(self) -> bool:
        if self.trainer is not None:
            return isinstance(self.trainer.accelerator, CUDAAccelerator)
        return torch.cuda.is_available()


def seed_worker(worker_id: int) -> None:
    """Give each DataLoader worker its own augmentation stream, derived from torch's seed.

    Without workers the training augmentation is seeded from `torch.initial_seed()` in
    `setup`, so `lightning.seed_everything` makes augmentation reproducible either way.
    """
    info = get_worker_info()
    reseed = getattr(info.dataset.transform, "set_random_state", None)
    if reseed is not None:
        reseed(info.seed % 2**32)


def split_manifest(manifest: Manifest, cfg: SplitConfig) -> dict[str, np.ndarray]:
    """Train/val/test row indices of `manifest` as `cfg` (and any `split` column) decides."""
    try:
        return split_indices(
            manifest.targets, manifest.groups, cfg.fractions, cfg.seed, manifest.splits
        )
    except DataError as err:
        raise DataError(f"{manifest.source}: {err}") from None


def _warn_unused_labels(manifest: Manifest) -> None:
    unused = [
        name
        for name, count in zip(manifest.label_names, manifest.targets.sum(axis=0), strict=True)
        if count == 0
    ]
    if unused:
        warnings.warn(
            f"{manifest.source}: no row has label(s) {', '.join(unused)}", UserWarning, stacklevel=3
        )
