"""From search-space values to complete recipes, checked by the Recipe schema.

A trial's parameters are dotted overrides applied with `scivit.config.apply_overrides` (the
mechanism behind `scivit train recipe key=value`), then validated as a whole `Recipe`: an
unknown key names the closest valid one, a value the schema rejects names the key. Before any
training, `check_space` puts every bound and every choice of the space through the same path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scivit.config import apply_overrides, validate
from scivit.errors import ConfigError
from scivit.recipe import Recipe
from scivit.tuning.space import Choice, TuneConfig

SEARCHABLE_SECTIONS = ("data", "model", "train")
PLACED_PER_TRIAL = ("train.out_dir", "train.run_name")


def tune_config(recipe: Recipe) -> TuneConfig:
    """The recipe's `tune` section, or a ConfigError saying how to add one."""
    if recipe.tune is None:
        raise ConfigError(
            f"recipe '{recipe.name}' has no 'tune' section; add tune.space "
            "(e.g. train.lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true})"
        )
    return recipe.tune


def with_params(recipe: Recipe, params: Mapping[str, Choice], source: str = "tune.space") -> Recipe:
    """`recipe` without its `tune` section and with every dotted `params` key set, validated."""
    data = recipe.model_dump(mode="json", exclude={"tune"})
    overrides = [f"{key}={json.dumps(value)}" for key, value in params.items()]
    return validate(Recipe, apply_overrides(data, overrides), source)


def placed(recipe: Recipe, out_dir: Path, run_name: str) -> Recipe:
    """A copy of `recipe` that trains into `out_dir/run_name`."""
    train = recipe.train.model_copy(update={"out_dir": str(out_dir), "run_name": run_name})
    return recipe.model_copy(update={"train": train})


def check_space(recipe: Recipe) -> None:
    """Raise a ConfigError for a space key or value the recipe schema would reject."""
    for key, spec in tune_config(recipe).space.items():
        _check_key(key)
        for value in spec.probes():
            with_params(recipe, {key: value}, f"tune.space.{key} (value {value!r})")


def _check_key(key: str) -> None:
    section = key.split(".")[0]
    if section not in SEARCHABLE_SECTIONS:
        raise ConfigError(
            f"tune.space: cannot search '{key}'; keys start with "
            + ", ".join(f"'{name}.'" for name in SEARCHABLE_SECTIONS)
        )
    if key in PLACED_PER_TRIAL:
        raise ConfigError(f"tune.space: cannot search '{key}'; each trial sets it to trial-<n>")


def recipe_mapping(recipe: Recipe) -> dict[str, Any]:
    """The recipe as the plain mapping `scivit train <file>` reads back."""
    return recipe.model_dump(mode="json", exclude={"tune"})
