"""What a search leaves on disk: `trials.csv` and the best trial as a recipe.

`trials.csv` has one row per trial of the study (every worker's): number, state, value, one
column per searched key, duration and, for a failed trial, the reason. `best-recipe.yaml` is
the complete recipe of the best completed trial, without the `tune` section, that
`scivit train best-recipe.yaml` trains again. Both are written atomically.
"""

from __future__ import annotations

import csv
from pathlib import Path

import optuna

from scivit.fileio import atomic_open, write_yaml
from scivit.recipe import Recipe
from scivit.tuning.overrides import placed, recipe_mapping, with_params

FAIL_REASON = "fail_reason"


def write_trials_csv(trials: list[optuna.trial.FrozenTrial], path: Path) -> None:
    """One row per trial, in trial order."""
    keys = list(dict.fromkeys(key for trial in trials for key in trial.params))
    with atomic_open(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "state", "value", *keys, "duration_s", "reason"])
        for trial in sorted(trials, key=lambda t: t.number):
            duration = trial.duration.total_seconds() if trial.duration else None
            writer.writerow(
                [
                    trial.number,
                    trial.state.name,
                    _cell(trial.value),
                    *(_cell(trial.params.get(key)) for key in keys),
                    _cell(duration),
                    trial.user_attrs.get(FAIL_REASON, ""),
                ]
            )


def best_recipe(recipe: Recipe, trial: optuna.trial.FrozenTrial, study_name: str) -> Recipe:
    """`recipe` with the trial's parameters, run name `<study>-best`, description noting it."""
    best = with_params(recipe, trial.params, f"best trial {trial.number}")
    note = f"Best of study '{study_name}': trial {trial.number}, value {trial.value:.6g}."
    description = " ".join(filter(None, [best.description.strip(), note]))
    best = best.model_copy(update={"description": description})
    return placed(best, Path(recipe.train.out_dir), f"{study_name}-best")


def write_recipe(recipe: Recipe, path: Path) -> None:
    """Write `recipe` as YAML that `scivit train` reads back."""
    write_yaml(path, recipe_mapping(recipe))


def _cell(value: object) -> object:
    return "" if value is None else value
