"""The `tune:` section: parsing, validation against the recipe schema, and sampling."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from scivit.errors import ConfigError
from scivit.recipe import load_recipe
from scivit.tuning.overrides import check_space, tune_config, with_params
from scivit.tuning.space import CategoricalParam, FloatParam, IntParam


def test_recipe_tune_section_parses_every_kind(write_recipe):
    recipe = write_recipe(
        pruner={"name": "asha", "min_resource": 1, "reduction_factor": 3},
        metric="val/f1_macro",
        direction="maximize",
    )
    cfg = recipe.tune
    assert isinstance(cfg.space["train.lr"], FloatParam) and cfg.space["train.lr"].log
    assert isinstance(cfg.space["data.batch_size"], IntParam)
    assert cfg.space["data.batch_size"].step == 8
    assert isinstance(cfg.space["model.backbone"], CategoricalParam)
    assert cfg.pruner.name == "asha"
    assert cfg.pruner.options == {"min_resource": 1, "reduction_factor": 3}
    assert cfg.sampler.options == {"seed": 0}
    assert recipe.train.lr == 2.0e-3


def test_sampler_and_pruner_default_to_tpe_and_asha_and_take_bare_options():
    space = "tune.space={train.lr: {type: float, low: 1.0e-4, high: 1.0e-2}}"
    cfg = load_recipe("scatter-resnet34", [space, "tune.sampler.seed=3"]).tune
    assert (cfg.sampler.name, cfg.sampler.options) == ("tpe", {"seed": 3})
    assert (cfg.pruner.name, cfg.pruner.options) == ("asha", {})
    cfg = load_recipe("scatter-resnet34", [space, "tune.pruner=median"]).tune
    assert cfg.pruner.name == "median"


def test_a_recipe_without_tune_section_says_how_to_add_one():
    recipe = load_recipe("scatter-resnet34")
    assert recipe.tune is None
    with pytest.raises(ConfigError, match="no 'tune' section; add tune.space"):
        tune_config(recipe)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "flaot", "low": 1, "high": 2}, "Input tag 'flaot'"),
        ({"type": "float", "low": 3, "high": 2}, r"low \(3.0\) must not exceed high \(2.0\)"),
        ({"type": "int", "low": 64, "high": 16}, r"low \(64\) must not exceed high \(16\)"),
        ({"type": "float", "low": 0.0, "high": 1, "log": True}, "log scale needs low > 0"),
        ({"type": "float", "low": 0.1, "high": 1, "log": True, "step": 0.1}, "log or step"),
        ({"type": "int", "low": 1, "high": 64, "log": True, "step": 2}, "needs step 1"),
        ({"type": "int", "low": 16, "high": 60, "step": 16}, "multiple of step"),
        ({"type": "int", "low": 1.5, "high": 4}, "valid integer"),
        ({"type": "categorical", "choices": []}, "at least 1 item"),
        ({"type": "categorical", "choices": [[1, 2]]}, "tune.space.train.lr"),
    ],
)
def test_bad_parameter_specs_are_one_line_config_errors(spec, message):
    override = f"tune.space={{train.lr: {spec}}}".replace("'", "")
    with pytest.raises(ConfigError, match=message) as info:
        load_recipe("scatter-resnet34", [override])
    assert "tune.space.train.lr" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("train.lrr", "unknown key 'train.lrr'; did you mean 'train.lr'"),
        ("model.backbon", "did you mean 'model.backbone'"),
        ("model.head.dropuot", "did you mean 'model.head.dropout'"),
        ("tune.metric", "cannot search 'tune.metric'"),
        ("train.run_name", "cannot search 'train.run_name'"),
    ],
)
def test_unknown_or_reserved_space_keys_are_refused(write_recipe, key, message):
    recipe = write_recipe(space={key: {"type": "categorical", "choices": ["a"]}})
    with pytest.raises(ConfigError, match=message):
        check_space(recipe)


@pytest.mark.parametrize(
    ("key", "spec", "message"),
    [
        ("train.lr", {"type": "float", "low": 0.0, "high": 0.1}, r"\(value 0.0\).*greater than 0"),
        ("data.batch_size", {"type": "int", "low": 0, "high": 8, "step": 8}, "'data.batch_size'"),
        ("data.task", {"type": "categorical", "choices": ["multilabel", "multiclas"]}, "multiclas"),
        ("model.head.dropout", {"type": "float", "low": 0.5, "high": 1.0}, "less than 1"),
    ],
)
def test_values_the_schema_rejects_fail_before_training(write_recipe, key, spec, message):
    recipe = write_recipe(space={key: spec})
    with pytest.raises(ConfigError, match=message):
        check_space(recipe)


def test_the_default_space_passes_and_params_become_a_recipe(write_recipe):
    recipe = write_recipe()
    check_space(recipe)
    params = {"train.lr": 3.5e-4, "data.batch_size": 16, "model.backbone": "test_efficientnet"}
    trial_recipe = with_params(recipe, params)
    assert trial_recipe.train.lr == 3.5e-4
    assert trial_recipe.data.batch_size == 16
    assert trial_recipe.model.backbone == "test_efficientnet"
    assert trial_recipe.tune is None
    assert recipe.train.lr == 2.0e-3 and recipe.tune is not None


def test_sampling_respects_bounds_steps_and_log_scale(write_recipe):
    space = {
        "train.lr": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True},
        "model.head.dropout": {"type": "float", "low": 0.0, "high": 0.5},
        "data.batch_size": {"type": "int", "low": 16, "high": 64, "step": 16},
        "model.backbone": {"type": "categorical", "choices": ["resnet18", "resnet34"]},
    }
    cfg = write_recipe(space=space).tune
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    draws = []
    for _ in range(400):
        trial = study.ask()
        draws.append(cfg.suggest(trial))
        study.tell(trial, 0.0)
    lr = np.array([d["train.lr"] for d in draws])
    dropout = np.array([d["model.head.dropout"] for d in draws])
    assert lr.min() >= 1.0e-4 and lr.max() <= 1.0e-2
    # log-uniform: half the draws below the geometric mean 1e-3 (uniform would give 9 %)
    assert abs(np.mean(lr < 1.0e-3) - 0.5) < 0.08
    assert abs(np.mean(np.log10(lr)) - (-3.0)) < 0.1
    assert dropout.min() >= 0.0 and dropout.max() <= 0.5
    assert abs(dropout.mean() - 0.25) < 0.03
    assert {d["data.batch_size"] for d in draws} == {16, 32, 48, 64}
    assert {d["model.backbone"] for d in draws} == {"resnet18", "resnet34"}
    distributions = study.trials[0].distributions
    assert distributions["train.lr"] == FloatDistribution(1.0e-4, 1.0e-2, log=True)
    assert distributions["data.batch_size"] == IntDistribution(16, 64, step=16)
    assert distributions["model.backbone"] == CategoricalDistribution(["resnet18", "resnet34"])
    assert math.isclose(distributions["model.head.dropout"].high, 0.5)


def test_the_packaged_lensing_search_checks_against_its_recipe():
    recipe = load_recipe("lensing-tune")
    check_space(recipe)
    assert tune_config(recipe).metric == "val/accuracy"
    winner = with_params(recipe, {"train.lr": 5e-4, "model.backbone": "lens_swin"})
    assert winner.model.backbone == "lens_swin" and winner.tune is None
