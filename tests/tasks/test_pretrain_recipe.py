"""Pretraining recipes: the packaged one validates with typed DINO options; base chains,
overrides and the one-line errors for unknown keys, methods and misfit views."""

import pytest

from scivit.errors import ConfigError
from scivit.models.dino import DinoOptions
from scivit.pretrain import load_pretrain_recipe, pretrain_recipe_from_dict
from scivit.tasks.pretrain import PRETRAIN_METHODS, PretrainTrainConfig
from scivit.transforms.views import ViewOptions

MINIMAL = {"data": {"source": "frames/"}}


def test_packaged_recipe_is_a_dino_recipe():
    recipe = load_pretrain_recipe("scatter-dino-pretrain")
    assert isinstance(recipe.method, DinoOptions)
    assert isinstance(recipe.method.views, ViewOptions)
    assert recipe.model.backbone == "vit_small_patch14_dinov2"
    assert recipe.method.views.global_size == 224 and recipe.method.views.n_local == 8
    assert recipe.method.teacher_temp == 0.07 and recipe.train.checkpoint_every_n_epochs == 10
    assert recipe.method.views.local_size % 14 == 0 and recipe.model.img_size % 14 == 0


def test_dino_is_the_default_method_and_registered():
    recipe = pretrain_recipe_from_dict(MINIMAL)
    assert recipe.method.name == "dino" and recipe.method.momentum == 0.996
    assert "dino" in PRETRAIN_METHODS
    assert recipe.data.preprocess[-1] == {"name": "log"}


def test_base_chain_and_dotted_overrides(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("base: scatter-dino-pretrain\nname: mine\nmodel:\n  backbone: resnet18\n")
    recipe = load_pretrain_recipe(path, ["method.out_dim=4096", "method.views.n_local=2"])
    assert recipe.name == "mine" and recipe.model.backbone == "resnet18"
    assert recipe.method.out_dim == 4096 and recipe.method.views.n_local == 2
    assert recipe.method.hidden_dim == 2048


def test_unknown_method_key_suggests_the_closest():
    with pytest.raises(
        ConfigError, match=r"unknown key 'method.out_dimm'; did you mean 'method.out_dim'"
    ):
        load_pretrain_recipe("scatter-dino-pretrain", ["method.out_dimm=3"])
    with pytest.raises(ConfigError, match=r"did you mean 'method.views.n_local'"):
        load_pretrain_recipe("scatter-dino-pretrain", ["method.views.n_locals=3"])


def test_unknown_method_name_suggests_the_closest():
    with pytest.raises(
        ConfigError, match=r"method.name: unknown pretraining method 'dinoo'; did you mean 'dino'"
    ):
        pretrain_recipe_from_dict({**MINIMAL, "method": {"name": "dinoo"}})


def test_classification_settings_are_refused_in_train():
    with pytest.raises(ConfigError, match="'loss' is a classification setting"):
        pretrain_recipe_from_dict({**MINIMAL, "train": {"loss": "bce"}})
    with pytest.raises(ConfigError, match="'ema_decay' is a classification setting"):
        pretrain_recipe_from_dict({**MINIMAL, "train": {"ema_decay": 0.999}})
    with pytest.raises(ConfigError, match="'precise_bn_batches' is a classification setting"):
        pretrain_recipe_from_dict({**MINIMAL, "train": {"precise_bn_batches": 50}})
    dumped = PretrainTrainConfig().model_dump()
    assert not {"loss", "early_stopping_patience", "ema_decay", "precise_bn_batches"} & set(dumped)
    assert dumped["checkpoint_every_n_epochs"] == 10


def test_views_larger_than_the_frames_name_the_sizes():
    data = {"data": {"source": "x", "image_size": 64}, "method": {"views": {"global_size": 96}}}
    with pytest.raises(ConfigError, match=r"views of 96 px do not fit.*largest allowed view is 64"):
        pretrain_recipe_from_dict(data)


def test_saved_recipe_round_trips():
    recipe = load_pretrain_recipe("scatter-dino-pretrain", ["method.views.n_local=3"])
    again = pretrain_recipe_from_dict(recipe.model_dump(mode="json"), "config.yaml")
    assert again == recipe
