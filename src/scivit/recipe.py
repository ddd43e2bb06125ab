"""Recipes: the typed, complete description of a run (data, model, training), read from YAML.

A recipe is found by name in the packaged `recipes/` folder or read from a path. A recipe may
name a `base` recipe whose values it overrides (`scivit.config.merge`). Command-line overrides
use dotted keys (`train.max_epochs=3`). Unknown keys are errors that suggest the closest valid
key. The optional `tune` section declares a hyper-parameter search (`scivit.tuning`); training
ignores it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from scivit.config import StrictModel, apply_overrides, merge, read_yaml, validate
from scivit.data.datamodule import DataConfig
from scivit.errors import ConfigError, unknown_name_message
from scivit.models.classifier import ModelConfig
from scivit.tasks.classify import TrainConfig
from scivit.tuning.space import TuneConfig


class Recipe(StrictModel):
    """Everything a training run needs; saved, fully resolved, beside every checkpoint."""

    name: str = "custom"
    description: str = ""
    data: DataConfig
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    tune: TuneConfig | None = None

    @model_validator(mode="after")
    def _channels_agree(self) -> Recipe:
        if self.model.in_chans != self.data.in_chans:
            raise ValueError(
                f"model.in_chans ({self.model.in_chans}) must equal data.in_chans "
                f"({self.data.in_chans}), the channels the preprocessing gives"
            )
        return self


def recipes_dir() -> Path:
    """The folder of recipes shipped with the package."""
    return Path(str(resources.files("scivit") / "recipes"))


def list_recipes() -> list[str]:
    """Names of the packaged recipes."""
    return sorted(path.stem for path in recipes_dir().glob("*.yaml"))


def resolve_recipe_path(name_or_path: str | Path) -> Path:
    """A path to an existing YAML file, or the packaged recipe of that name."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: recipe file not found")
        return path
    packaged = recipes_dir() / f"{name_or_path}.yaml"
    if not packaged.is_file():
        raise ConfigError(unknown_name_message("recipe", str(name_or_path), list_recipes()))
    return packaged


def read_recipe_data(name_or_path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The recipe's raw mapping with its `base` chain merged in (base first)."""
    path = resolve_recipe_path(name_or_path).resolve()
    if path in _seen:
        raise ConfigError(f"{path}: recipe 'base' chain loops back to itself")
    data = read_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    base_path = path.parent / f"{base}.yaml" if not str(base).endswith((".yaml", ".yml")) else base
    source = base_path if Path(base_path).is_file() else base
    return merge(read_recipe_data(source, (*_seen, path)), data)


RECIPE_KINDS = {"method": "pretrain", "stages": "run"}


def recipe_kind(data: dict[str, Any]) -> str:
    """The command that runs a recipe mapping: "train", "pretrain" (has `method`) or "run"
    (a pipeline: has `stages`)."""
    return next((kind for key, kind in RECIPE_KINDS.items() if key in data), "train")


def load_recipe(name_or_path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Read, merge, override and validate a training recipe."""
    data = read_recipe_data(name_or_path)
    kind = recipe_kind(data)
    if kind != "train":
        raise ConfigError(
            f"{name_or_path}: is a {kind} recipe, not a training recipe; run it with "
            f"`scivit {kind} {name_or_path}`"
        )
    data = apply_overrides(data, overrides or [])
    recipe = validate(Recipe, data, str(name_or_path))
    return recipe


def recipe_from_dict(data: dict[str, Any], source: str = "checkpoint") -> Recipe:
    """Rebuild a recipe saved as a mapping (in a checkpoint or a run folder)."""
    return validate(Recipe, data, source)
