"""DataConfig and FrameDataModule end to end on 40 tiny frames, cached and uncached."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny_data import LABELS

from scivit.config import validate
from scivit.data import DataConfig, FrameDataModule, SplitConfig, load_manifest
from scivit.errors import ConfigError, DataError


def _config(manifest, tmp_path, **changes) -> DataConfig:
    values = {
        "manifest": str(manifest),
        "labels": LABELS,
        "image_size": 16,
        "batch_size": 8,
        "num_workers": 0,
        "cache_dir": str(tmp_path / "cache"),
        **changes,
    }
    return validate(DataConfig, values, "recipe.yaml")


def _collect(loader) -> tuple[torch.Tensor, torch.Tensor]:
    images, targets = zip(*loader, strict=True)
    return torch.cat(images), torch.cat(targets)


def test_defaults():
    cfg = DataConfig(manifest="m.csv", labels=["a"])
    assert [step["name"] for step in cfg.preprocess] == [
        "fix_dead_pixels",
        "mask_beamstop",
        "log",
        "standardize",
    ]
    assert [step["name"] for step in cfg.augment] == ["rand_flip", "rand_rotate"]
    assert cfg.split == SplitConfig(fractions=(0.8, 0.1, 0.1), seed=0)
    assert (cfg.image_size, cfg.in_chans, cfg.batch_size, cfg.num_workers) == (128, 1, 32, 2)
    assert cfg.cache and cfg.cache_dir is None and cfg.task == "multilabel"


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("cache", [True, False])
def test_end_to_end(make_dataset, tmp_path, workers, cache):
    manifest = make_dataset(n=40, size=32, group_size=4)
    module = FrameDataModule(_config(manifest, tmp_path, num_workers=workers, cache=cache))
    module.setup("fit")
    assert module.label_names == LABELS and module.num_labels == 3
    splits = module.split_indices
    assert {name: len(rows) for name, rows in splits.items()} == {"train": 32, "val": 4, "test": 4}
    groups = np.array(module.manifest.groups)
    assert not set(groups[splits["train"]]) & set(groups[splits["val"]])
    assert not set(groups[splits["train"]]) & set(groups[splits["test"]])

    train = module.train_dataloader()
    assert train.persistent_workers is (workers > 0)
    assert train.pin_memory is False
    images, targets = _collect(train)
    assert images.shape == (32, 1, 16, 16) and images.dtype == torch.float32
    assert targets.shape == (32, 3) and targets.dtype == torch.float32
    assert torch.isfinite(images).all()
    assert sorted(targets.sum(0).tolist()) == sorted(
        module.manifest.targets[splits["train"]].sum(0).tolist()
    )

    val_images, val_targets = _collect(module.val_dataloader())
    np.testing.assert_array_equal(val_targets.numpy(), module.manifest.targets[splits["val"]])
    again, _ = _collect(module.val_dataloader())
    torch.testing.assert_close(val_images, again, rtol=0, atol=0)
    assert abs(float(val_images.mean())) < 0.5

    predicted, _ = _collect(module.predict_dataloader())
    assert predicted.shape == (40, 1, 16, 16)
    torch.testing.assert_close(predicted[splits["val"]], val_images, rtol=0, atol=0)
    assert len(_collect(module.test_dataloader())[0]) == 4
    cached = list((tmp_path / "cache").glob("*/images.f16"))
    assert len(cached) == (1 if cache else 0)


def test_cached_and_uncached_agree(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    cached = FrameDataModule(_config(manifest, tmp_path, cache=True))
    plain = FrameDataModule(_config(manifest, tmp_path, cache=False))
    a, _ = _collect(cached.val_dataloader())
    b, _ = _collect(plain.val_dataloader())
    torch.testing.assert_close(a, b, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("cache", [True, False])
def test_fill_cache_computes_the_chosen_splits_only(make_dataset, tmp_path, cache):
    manifest = make_dataset(n=40, size=32, group_size=4)
    module = FrameDataModule(_config(manifest, tmp_path, num_workers=2, cache=cache))
    module.setup("fit")
    torch.manual_seed(5)
    filled = module.fill_cache(("train", "val"))
    draw_after_fill = torch.rand(1)
    torch.manual_seed(5)
    assert torch.equal(torch.rand(1), draw_after_fill)
    if not cache:
        assert filled == 0
        return
    splits = module.split_indices
    wanted = np.union1d(splits["train"], splits["val"])
    stored = module.train_dataloader().dataset.cache
    assert filled == wanted.size - np.isin(0, wanted)
    np.testing.assert_array_equal(np.sort(stored.missing()), np.setdiff1d(splits["test"], [0]))
    assert module.fill_cache(("train", "val")) == 0


def test_augmentation_changes_train_epochs(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    module = FrameDataModule(_config(manifest, tmp_path, batch_size=40))
    module.setup()
    dataset = module.train_dataloader().dataset
    first = torch.stack([dataset[i][0] for i in range(8)])
    second = torch.stack([dataset[i][0] for i in range(8)])
    assert not torch.equal(first, second)


def test_explicit_split_column(make_dataset, tmp_path):
    names = ["train"] * 28 + ["val"] * 8 + ["test"] * 4
    manifest = make_dataset(n=40, size=32, extra=lambda i: {"split": names[i]})
    module = FrameDataModule(_config(manifest, tmp_path))
    splits = module.split_indices
    np.testing.assert_array_equal(splits["val"], np.arange(28, 36))
    np.testing.assert_array_equal(splits["test"], np.arange(36, 40))


def test_unknown_recipe_label(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    cfg = _config(manifest, tmp_path, labels=["ring", "hallo", "diffuse"])
    with pytest.raises(DataError, match="unknown label 'halo'"):
        FrameDataModule(cfg).setup()


def test_label_without_rows_warns(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    cfg = _config(manifest, tmp_path, labels=[*LABELS, "bcc"])
    with pytest.warns(UserWarning, match="no row has label"):
        FrameDataModule(cfg).setup()


def test_split_error_names_manifest(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32, group_size=20)
    with pytest.raises(DataError, match=r"manifest\.csv: split: set '(val|test)' would be empty"):
        FrameDataModule(_config(manifest, tmp_path)).setup()


def test_in_chans_must_match(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    with pytest.raises(ConfigError, match="in_chans is 3 but .* gives 1-channel images"):
        FrameDataModule(_config(manifest, tmp_path, in_chans=3)).setup()


def test_unknown_transform(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    cfg = _config(manifest, tmp_path, augment=[{"name": "rand_flop"}])
    with pytest.raises(ConfigError, match="did you mean 'rand_flip'"):
        FrameDataModule(cfg).setup()


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"image_size": 8}, "'image_size'"),
        ({"labels": []}, "'labels'"),
        ({"labels": ["a", "a"]}, "listed more than once"),
        ({"split": {"fractions": [0.5, 0.5, 0.0]}}, "'split.fractions'"),
        ({"split": {"seeed": 1}}, "did you mean 'split.seed'"),
        ({"batch_size": 0}, "'batch_size'"),
        ({"preprocess": [{"size": 3}]}, "needs a 'name'"),
        ({"cahce": False}, "did you mean 'cache'"),
    ],
)
def test_bad_config(tmp_path, changes, text):
    with pytest.raises(ConfigError, match=text) as info:
        _config(tmp_path / "m.csv", tmp_path, **changes)
    assert str(info.value).startswith("recipe.yaml: ")


def test_manifest_sha_is_exposed(make_dataset, tmp_path):
    manifest = make_dataset(n=40, size=32)
    module = FrameDataModule(_config(manifest, tmp_path))
    assert module.manifest.sha256 == load_manifest(manifest, LABELS).sha256
