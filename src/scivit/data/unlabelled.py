"""Unlabelled frames for self-supervised pretraining: the `data` section, the frame index and
the data module.

A source is one of
- a manifest CSV (`.csv`): its `path`, `frame`, `group` and beam-centre columns; label columns
  are not read (`load_manifest` with no label names; the simulator writes such manifests with
  `unlabelled=True`);
- a folder, searched recursively for every format `scivit.io` reads;
- a list file (`.txt`, `.lst`, `.list`): one image path a line, relative to the list's folder;
  blank lines and lines starting with `#` are skipped;
- one image file, e.g. an HDF5/NeXus or TIFF stack.
Every frame of every multi-frame file is used. `index_frames` turns the source into a
label-free `Manifest` (no label, zero target columns), so the readers, the deterministic
preprocessing (`preprocess`, then a resize to `image_size`) and the on-disk `FrameCache` of
classification serve it unchanged.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from pydantic import Field, field_validator
from torch.utils.data import DataLoader, Dataset

from scivit.config import StrictModel
from scivit.data.cache import FrameCache
from scivit.data.datamodule import default_cache_dir, seed_worker
from scivit.data.dataset import Sample, describe_row, read_sample
from scivit.data.manifest import Manifest, load_manifest
from scivit.errors import ConfigError, DataError, ReadError
from scivit.io import count_frames, is_supported
from scivit.transforms import Compose, Geometry, build_transforms

LIST_SUFFIXES = (".txt", ".lst", ".list")
DEFAULT_PREPROCESS = ("fix_dead_pixels", "mask_beamstop", "log")

Center = tuple[float, float]


class UnlabelledConfig(StrictModel):
    """The `data` section of a pretraining recipe.

    `beam_center` (x, y in pixels of the files) or `poni` (a pyFAI PONI file) gives the beam
    centre of frames whose source does not (folders, lists, stacks, manifests without the
    columns).
    """

    source: str
    beam_center: tuple[float, float] | None = None
    poni: str | None = None
    image_size: int = Field(256, ge=16)
    in_chans: int = Field(1, ge=1)
    preprocess: list[dict[str, Any]] = Field(
        default_factory=lambda: [{"name": name} for name in DEFAULT_PREPROCESS]
    )
    batch_size: int = Field(64, ge=1)
    num_workers: int = Field(4, ge=0)
    cache: bool = True
    cache_dir: str | None = None

    @field_validator("preprocess")
    @classmethod
    def _named_steps(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for position, step in enumerate(value):
            if not isinstance(step.get("name"), str):
                raise ValueError(f"step {position} needs a 'name' naming a transform")
        return value

    def preprocess_spec(self) -> list[dict[str, Any]]:
        """The deterministic steps: `preprocess`, then the resize to `image_size`."""
        return [*self.preprocess, {"name": "resize", "size": self.image_size}]

    def default_center(self) -> Center | None:
        """The beam centre given in the section (`beam_center`, else the PONI file's)."""
        if self.beam_center is not None and self.poni is not None:
            raise ConfigError("data: give beam_center or poni, not both")
        if self.poni is not None:
            return Geometry.from_poni(self.poni).beam_center
        return self.beam_center


def index_frames(source: str | Path, beam_center: Center | None = None) -> Manifest:
    """A label-free manifest of every frame of `source` (see the module docstring).

    Args:
        source: manifest CSV, folder, list file or image file.
        beam_center: (x, y) for frames whose source gives none.

    Raises:
        DataError: the source is missing, empty or holds no readable frame.
    """
    path = Path(source).expanduser().resolve()
    if path.is_dir():
        manifest = _from_files(_folder_files(path), path, "recursively for image files")
    elif not path.is_file():
        raise DataError(f"{path}: data source not found (give a manifest, folder, list or file)")
    elif path.suffix.lower() == ".csv":
        manifest = load_manifest(path, [])
    elif path.suffix.lower() in LIST_SUFFIXES:
        manifest = _from_files(_listed_files(path), path, "the files it lists")
    elif is_supported(path):
        manifest = _from_files([path], path, "its frames")
    else:
        raise DataError(
            f"{path}: not a data source (a .csv manifest, a folder, a list file "
            f"({', '.join(LIST_SUFFIXES)}) or an image file scivit reads)"
        )
    return _with_default_center(manifest, beam_center)


def _folder_files(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not path.name.startswith(".") and is_supported(path)
    )


def _listed_files(path: Path) -> list[Path]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot read the file list ({err})") from None
    files = []
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        file = Path(text).expanduser()
        file = file if file.is_absolute() else (path.parent / file).resolve()
        if not file.is_file():
            raise DataError(f"{path}: line {number}: file not found: {file}")
        files.append(file)
    return files


def _from_files(files: Sequence[Path], source: Path, searched: str) -> Manifest:
    """Every frame of `files`; unreadable files are skipped with a warning naming them."""
    paths: list[Path] = []
    frames: list[int | None] = []
    failures: list[str] = []
    for file in files:
        try:
            count = count_frames(file)
        except ReadError as err:
            failures.append(str(err))
            continue
        paths += [file] * count
        frames += [None] if count == 1 else list(range(count))
    if not paths:
        found = f"found {len(files)} candidate file(s)" + (
            f", none readable (first: {failures[0]})" if failures else ""
        )
        raise DataError(f"{source}: no readable frames; searched {searched}, {found}")
    if failures:
        warnings.warn(
            f"{source}: skipped {len(failures)} unreadable file(s); first: {failures[0]}",
            UserWarning,
            stacklevel=3,
        )
    listing = "".join(f"{path}\t{frame}\n" for path, frame in zip(paths, frames, strict=True))
    groups = [str(path) for path in paths]
    digest = hashlib.sha256(listing.encode()).hexdigest()
    return _manifest(paths, frames, groups, [None] * len(paths), source, digest)


def _manifest(
    paths: list[Path],
    frames: list[int | None],
    groups: list[str],
    centers: list[Center | None],
    source: Path,
    sha256: str,
) -> Manifest:
    return Manifest(
        paths=paths,
        frames=frames,
        groups=groups,
        targets=np.zeros((len(paths), 0), dtype=np.float32),
        beam_centers=centers,
        label_names=[],
        splits=[None] * len(paths),
        source=source,
        sha256=sha256,
    )


def _with_default_center(manifest: Manifest, center: Center | None) -> Manifest:
    if center is None:
        return manifest
    centers = [given if given is not None else center for given in manifest.beam_centers]
    return replace(manifest, beam_centers=centers)


class UnlabelledDataset(Dataset):
    """Every row of a label-free manifest as the list of its random views.

    Args:
        manifest: the frame index.
        transform: sample -> list of view tensors (e.g. `MultiCropViews`).
        preprocess: the deterministic pipeline (used when there is no cache).
        cache: optional `FrameCache` of the preprocessing.
    """

    def __init__(
        self,
        manifest: Manifest,
        transform: Callable[[Sample], list[torch.Tensor]],
        preprocess: Compose,
        cache: FrameCache | None = None,
    ) -> None:
        self.manifest = manifest
        self.transform = transform
        self.preprocess = preprocess
        self.cache = cache

    def __len__(self) -> int:
        return len(self.manifest)

    def __getitem__(self, row: int) -> list[torch.Tensor]:
        if self.cache is not None:
            return self.transform(self.cache.sample(row))
        return self.transform(self.preprocess(read_sample(self.manifest, row)))


class UnlabelledDataModule(L.LightningDataModule):
    """The training loader of unlabelled frames: batches are lists of view batches.

    Args:
        cfg: the `data` section.
        views: sample -> list of view tensors; reseeded per worker when it has
            `set_random_state`; its `needs_beam_center` asks every frame to have a beam centre.
    """

    def __init__(self, cfg: UnlabelledConfig, views: Callable[[Sample], list[torch.Tensor]]):
        super().__init__()
        self.cfg = cfg
        self.views = views
        self._dataset: UnlabelledDataset | None = None

    @property
    def manifest(self) -> Manifest:
        self.setup()
        return self._dataset.manifest  # type: ignore[union-attr]

    def setup(self, stage: str | None = None) -> None:
        if self._dataset is not None:
            return
        cfg = self.cfg
        manifest = index_frames(cfg.source, cfg.default_center())
        if getattr(self.views, "needs_beam_center", False):
            require_beam_centers(manifest)
        if len(manifest) < cfg.batch_size:
            raise DataError(
                f"{manifest.source}: {len(manifest)} frames are fewer than one batch "
                f"(data.batch_size={cfg.batch_size}); lower data.batch_size"
            )
        spec = cfg.preprocess_spec()
        preprocess = build_transforms(spec)
        cache = open_cache(cfg, manifest, preprocess) if cfg.cache else None
        first = cache.sample(0) if cache is not None else preprocess(read_sample(manifest, 0))
        channels = np.asarray(first["image"]).shape[0]
        if channels != cfg.in_chans:
            raise ConfigError(
                f"data.in_chans is {cfg.in_chans} but the preprocessing of {manifest.source} "
                f"gives {channels}-channel images"
            )
        reseed = getattr(self.views, "set_random_state", None)
        if reseed is not None:
            reseed(torch.initial_seed())
        self._dataset = UnlabelledDataset(manifest, self.views, preprocess, cache)

    def train_dataloader(self) -> DataLoader:
        self.setup()
        workers = self.cfg.num_workers
        return DataLoader(
            self._dataset,
            batch_size=self.cfg.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=workers > 0,
            worker_init_fn=seed_worker if workers > 0 else None,
        )


def open_cache(cfg: UnlabelledConfig, manifest: Manifest, preprocess: Compose) -> FrameCache:
    """The frame cache of `manifest` under the section's preprocessing."""
    root = Path(cfg.cache_dir) if cfg.cache_dir else default_cache_dir()
    return FrameCache.open(root, manifest, preprocess, cfg.preprocess_spec(), cfg.image_size)


def require_beam_centers(manifest: Manifest) -> None:
    """A ConfigError naming the first frame without a beam centre, if any."""
    missing = [row for row, center in enumerate(manifest.beam_centers) if center is None]
    if missing:
        raise ConfigError(
            f"{describe_row(manifest, missing[0])}: no beam centre ({len(missing)} of "
            f"{len(manifest)} frames); the views rotate about it: set data.beam_center or "
            "data.poni, or method.views.rotate_degrees=0"
        )
