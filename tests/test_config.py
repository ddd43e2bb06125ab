"""Typed configuration: YAML, dotted overrides, unknown keys with suggestions."""

import pytest
from pydantic import Field

from scivit.config import StrictModel, apply_overrides, load_config, merge, parse_override
from scivit.errors import ConfigError


class Inner(StrictModel):
    max_epochs: int = Field(3, ge=1)
    lr: float = 0.1


class Outer(StrictModel):
    name: str = "x"
    train: Inner = Field(default_factory=Inner)


def test_override_values_are_parsed_as_yaml():
    assert parse_override("train.lr=1e-3") == (["train", "lr"], 1e-3)
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override("a=") == (["a"], None)
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_override("no-equals-sign")


def test_apply_overrides_creates_sections_without_touching_input():
    data = {"train": {"lr": 0.1}}
    result = apply_overrides(data, ["train.max_epochs=5", "model.backbone=resnet18"])
    assert result == {"train": {"lr": 0.1, "max_epochs": 5}, "model": {"backbone": "resnet18"}}
    assert data == {"train": {"lr": 0.1}}


def test_merge_is_deep():
    assert merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}


def test_merge_replaces_a_mapping_of_another_kind():
    base = {"head": {"name": "mlp", "hidden": [256]}, "lr": {"type": "int", "low": 1, "high": 4}}
    update = {"head": {"name": "linear"}, "lr": {"type": "categorical", "choices": [1, 2]}}
    assert merge(base, update) == update
    same_kind = merge(base, {"head": {"name": "mlp", "dropout": 0.1}, "lr": {"high": 8}})
    assert same_kind["head"] == {"name": "mlp", "hidden": [256], "dropout": 0.1}
    assert same_kind["lr"] == {"type": "int", "low": 1, "high": 8}
    assert merge({"name": "base", "x": 1}, {"name": "derived"}) == {"name": "derived", "x": 1}


def test_load_config_from_yaml(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: demo\ntrain:\n  max_epochs: 7\n")
    config = load_config(Outer, path, ["train.lr=0.5"])
    assert config.name == "demo" and config.train.max_epochs == 7 and config.train.lr == 0.5


def test_unknown_nested_key_names_closest(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("train:\n  max_epoch: 7\n")
    with pytest.raises(
        ConfigError,
        match=r"unknown key 'train.max_epoch'; did you mean "
        r"'train.max_epochs'\?",
    ):
        load_config(Outer, path)


def test_invalid_value_names_key():
    with pytest.raises(ConfigError, match="invalid value for 'train.max_epochs'"):
        load_config(Outer, None, ["train.max_epochs=0"])


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "must be a mapping"),
        ("a: [", "not valid YAML"),
    ],
)
def test_bad_yaml_files(tmp_path, text, message):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(Outer, path)


def test_missing_file():
    with pytest.raises(ConfigError, match="recipe file not found"):
        load_config(Outer, "/nonexistent/recipe.yaml")
