"""Recipes: every packaged recipe validates; base chains, overrides and unknown keys."""

import pytest

from scivit.errors import ConfigError
from scivit.pipeline import load_pipeline
from scivit.pretrain import load_pretrain_recipe
from scivit.recipe import list_recipes, load_recipe, read_recipe_data, recipe_kind
from scivit.simulate.scattering_labels import SCATTERING_TAGS

LOADERS = {"train": load_recipe, "pretrain": load_pretrain_recipe, "run": load_pipeline}


@pytest.mark.parametrize("name", list_recipes())
def test_packaged_recipes_validate(name):
    kind = recipe_kind(read_recipe_data(name))
    recipe = LOADERS[kind](name)
    assert recipe.name == name
    if kind == "train":
        assert recipe.data.labels


def test_scattering_recipes_carry_the_seventeen_tags():
    for name in ("scatter-resnet34", "scatter-dinov2-probe", "scatter-dinov2-lora", "scatter-demo"):
        assert tuple(load_recipe(name).data.labels) == SCATTERING_TAGS


def test_base_recipe_values_are_inherited_and_overridden():
    recipe = load_recipe("scatter-dinov2-lora", ["train.max_epochs=2"])
    assert recipe.model.adapt.mode == "lora"
    assert recipe.model.backbone == "vit_small_patch14_dinov2"
    assert recipe.data.task == "multilabel"
    assert recipe.train.max_epochs == 2


def test_recipe_file_with_base(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("base: scatter-resnet34\nname: mine\nmodel:\n  backbone: resnet18\n")
    recipe = load_recipe(path)
    assert recipe.name == "mine" and recipe.model.backbone == "resnet18"
    assert recipe.train.loss == "asl"


def test_a_derived_recipe_changes_the_kind_of_a_search_parameter(tmp_path):
    path = tmp_path / "tune-cnn.yaml"
    path.write_text(
        "base: lensing-tune\nname: tune-cnn\ntune:\n  space:\n"
        "    data.batch_size: {type: categorical, choices: [64]}\n"
        "  pruner: {name: median}\n"
    )
    tune = load_recipe(path).tune
    assert tune.space["data.batch_size"].choices == [64]
    assert tune.space["train.lr"].high == 2.0e-3
    assert tune.pruner.name == "median" and not tune.pruner.model_extra


def test_unknown_recipe_name_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'scatter-resnet34'"):
        load_recipe("scatter-resnet43")


def test_unknown_override_key_suggests_closest():
    with pytest.raises(
        ConfigError, match="unknown key 'train.max_epoch'; did you mean 'train.max_epochs'"
    ):
        load_recipe("scatter-resnet34", ["train.max_epoch=3"])


def test_base_loop_is_an_error(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b\n")
    (tmp_path / "b.yaml").write_text("base: a\n")
    with pytest.raises(ConfigError, match="loops back"):
        load_recipe(tmp_path / "a.yaml")


def test_model_and_data_channels_must_agree():
    with pytest.raises(ConfigError, match=r"^scatter-demo: model.in_chans \(1\) must equal data"):
        load_recipe("scatter-demo", ["model.in_chans=1"])
    recipe = load_recipe("scatter-demo", ["model.in_chans=1", "data.in_chans=1"])
    assert recipe.model.in_chans == recipe.data.in_chans == 1
