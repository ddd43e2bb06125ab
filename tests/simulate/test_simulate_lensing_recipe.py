"""The lensing recipes: they load, their default augmentation mirrors each image exactly about
the lens axis, an added rotation turns it about that axis, and a tiny simulated Model II set
trains end to end through `scivit.train.train`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scivit.data.datamodule import FrameDataModule
from scivit.recipe import list_recipes, load_recipe
from scivit.simulate import LENSING_CLASSES, simulate_lensing
from scivit.train import train


@pytest.fixture(scope="module")
def model_two(tmp_path_factory):
    out = tmp_path_factory.mktemp("lens_recipe")
    return simulate_lensing(out / "data", 60, seed=0, model="II", progress=False)


def _overrides(tmp_path, manifest):
    return [
        f"data.manifest={manifest}",
        "data.num_workers=0",
        "data.batch_size=8",
        f"data.cache_dir={tmp_path}/cache",
        f"train.out_dir={tmp_path}/runs",
        "train.run_name=lens",
        "train.progress_bar=false",
    ]


def test_recipes_load():
    assert {"lensing-base", "lensing-resnet18"} <= set(list_recipes())
    recipe = load_recipe("lensing-resnet18")
    assert recipe.data.task == "multiclass"
    assert recipe.data.labels == list(LENSING_CLASSES)
    assert recipe.data.image_size == 64
    assert [step["name"] for step in recipe.data.preprocess] == ["standardize"]
    assert [step["name"] for step in recipe.data.augment] == ["rand_flip"]
    assert recipe.train.loss_name("multiclass") == "ce"
    assert recipe.model.backbone == "resnet18"


def _radial_profile(image: torch.Tensor, centre: float = 31.5, bins: int = 14) -> np.ndarray:
    """Mean of a (1, 64, 64) image in rings of 2 px about `centre` (inside the inscribed disc)."""
    rows, cols = np.indices(image.shape[-2:])
    ring = (np.hypot(rows - centre, cols - centre) // 2).astype(int)
    values = image[0].numpy()
    return np.array([values[ring == index].mean() for index in range(bins)])


def _first_training_image(tmp_path, manifest, augment: str | None = None) -> FrameDataModule:
    """The training set, with `augment` instead of the recipe's augmentation when given."""
    replaced = [] if augment is None else [f"data.augment={augment}"]
    recipe = load_recipe("lensing-resnet18", [*_overrides(tmp_path, manifest), *replaced])
    datamodule = FrameDataModule(recipe.data)
    datamodule.setup("fit")
    return datamodule.train_dataloader().dataset


def test_default_augmentation_mirrors_exactly_about_the_lens_axis(tmp_path, model_two):
    plain = _first_training_image(tmp_path, model_two, "[]")[0][0]
    dataset = _first_training_image(tmp_path, model_two)
    mirrors = {
        "none": plain,
        "left-right": plain.flip(-1),
        "up-down": plain.flip(-2),
        "both": plain.flip(-1, -2),
    }
    seen = set()
    for _ in range(12):
        image = dataset[0][0]
        matches = [name for name, mirror in mirrors.items() if torch.equal(image, mirror)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) >= 3


def test_added_rotation_turns_about_the_lens_axis(tmp_path, model_two):
    plain = _first_training_image(tmp_path, model_two, "[]")[0][0]
    rotating = _first_training_image(tmp_path, model_two, "[{name: rand_rotate, degrees: 180}]")
    turned = [rotating[0][0] for _ in range(3)]
    assert plain.shape == (1, 64, 64)
    reference = _radial_profile(plain)
    assert reference.max() - reference.min() > 1.0
    for image in turned:
        assert not torch.allclose(image, plain, atol=0.1)
        np.testing.assert_allclose(_radial_profile(image), reference, atol=0.15)


def test_train_one_epoch_on_simulated_lenses(tmp_path, model_two):
    recipe = load_recipe(
        "lensing-resnet18",
        [
            *_overrides(tmp_path, model_two),
            "train.max_epochs=1",
            "train.limit_train_batches=3",
            "data.split.fractions=[0.6, 0.2, 0.2]",
        ],
    )
    result = train(recipe)
    assert result.run_dir == tmp_path / "runs" / "lens"
    assert result.best_checkpoint.is_file()
    assert (result.run_dir / "config.yaml").is_file()
    metrics = json.loads((result.run_dir / "val_metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert set(metrics["roc_auc"]) == set(LENSING_CLASSES)
    assert "roc_auc_macro" in metrics
    state = torch.load(result.best_checkpoint, weights_only=True)
    assert state["scivit"]["label_names"] == list(LENSING_CLASSES)
