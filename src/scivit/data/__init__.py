"""Datasets: manifests (CSV index + labels), splits, the frame cache and the data module."""

from scivit.data.cache import FrameCache, cache_key
from scivit.data.datamodule import DataConfig, FrameDataModule, SplitConfig, default_cache_dir
from scivit.data.dataset import FrameDataset, read_sample
from scivit.data.manifest import Manifest, load_manifest
from scivit.data.splits import split_indices

__all__ = [
    "DataConfig",
    "FrameCache",
    "FrameDataModule",
    "FrameDataset",
    "Manifest",
    "SplitConfig",
    "cache_key",
    "default_cache_dir",
    "load_manifest",
    "read_sample",
    "split_indices",
]
