"""`tune(recipe, n_trials, out_dir, ...)`: the library function behind `scivit tune`.

Each trial draws the recipe's `tune.space`, trains the resulting recipe with
`scivit.train.train` into `<out>/trial-<n>` (a re-run of a trial whose worker died resumes in
the original trial's folder from its `last.ckpt`), reports the tuned metric after every
validation epoch so the pruner can stop it early, and returns the metric's best epoch. A trial
whose recipe cannot run (any `ScivitError`) is recorded as failed with the reason and the
search goes on. After every trial `trials.csv` and `best-recipe.yaml` are rewritten from the
whole study, so any worker's folder shows the state of the search.

Many workers (e.g. a SLURM array) run `tune` with the same recipe, `storage` URL and `out_dir`
(on a shared file system); each adds `n_trials` trials to the one shared study. A trial's value
is the best epoch of the metric as logged during training (per-label thresholds are tuned only
after training, so a multi-label F1 here is the one at 0.5, as the pruner saw it).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RetryHeartbeatStaleTrialCallback
from optuna.trial import TrialState

from scivit.errors import ConfigError, ScivitError
from scivit.recipe import Recipe
from scivit.train import train
from scivit.tuning.callbacks import MetricHistory, trial_callbacks
from scivit.tuning.overrides import check_space, placed, tune_config, with_params
from scivit.tuning.report import FAIL_REASON, best_recipe, write_recipe, write_trials_csv
from scivit.tuning.space import TuneConfig
from scivit.tuning.storage import (
    claim_out_dir,
    default_study_name,
    open_storage,
    open_study,
    storage_url,
)

BEST_RECIPE = "best-recipe.yaml"
TRIALS_CSV = "trials.csv"


@dataclass(frozen=True)
class TuneResult:
    """The study's best trial so far (over every worker) and where the outputs are."""

    study_name: str
    best_trial: int
    best_value: float
    best_params: dict[str, Any]
    best_recipe: Path
    trials_csv: Path
    states: dict[str, int]


def tune(
    recipe: Recipe,
    n_trials: int,
    out_dir: Path,
    storage: str | None = None,
    study_name: str | None = None,
    timeout: float | None = None,
) -> TuneResult:
    """Run `n_trials` trials of the recipe's `tune` search, adding them to the shared study.

    Args:
        recipe: a recipe with a `tune` section.
        n_trials: trials this call runs (other workers add their own).
        out_dir: folder of the trial runs, `trials.csv` and `best-recipe.yaml`.
        storage: database URL of the study (default: sqlite file `out_dir/study.db`).
        study_name: default: the recipe's name plus a digest of the search.
        timeout: seconds after which no new trial starts (a running one finishes).
    """
    cfg = tune_config(recipe)
    if n_trials < 1:
        raise ConfigError(f"n_trials must be at least 1 (got {n_trials})")
    check_space(recipe)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metric = cfg.metric or recipe.train.monitor_metric(recipe.data.task)
    name = study_name or default_study_name(recipe)
    study = open_study(
        cfg, metric, open_storage(storage_url(storage, out_dir), cfg.heartbeat_s), name
    )
    claim_out_dir(out_dir, name)

    def objective(trial: optuna.Trial) -> float:
        return run_trial(trial, recipe, cfg, metric, out_dir)

    def write_outputs(study: optuna.Study, _: optuna.trial.FrozenTrial) -> None:
        write_study_outputs(study, recipe, out_dir)

    study.optimize(
        objective,
        n_trials=n_trials,
        timeout=timeout,
        catch=(ScivitError,),
        callbacks=[write_outputs],
        gc_after_trial=True,
    )
    return study_result(study, out_dir)


def run_trial(
    trial: optuna.Trial, recipe: Recipe, cfg: TuneConfig, metric: str, out_dir: Path
) -> float:
    """Train one trial's recipe and return its best value of `metric`."""
    params = cfg.suggest(trial)
    frozen = frozen_trial(trial)
    try:
        trial_recipe = placed(
            with_params(recipe, params, f"trial {trial.number}"), out_dir, run_folder(frozen)
        )
        history, pruning = trial_callbacks(trial, metric, frozen.intermediate_values)
        train(trial_recipe, callbacks=[history, pruning])
        return best_value(history, cfg.direction)
    except ScivitError as err:
        trial.set_user_attr(FAIL_REASON, f"{type(err).__name__}: {err}")
        raise


def frozen_trial(trial: optuna.Trial) -> optuna.trial.FrozenTrial:
    """The stored record of the running `trial` (with what a re-run inherited)."""
    running = trial.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return next(t for t in running if t.number == trial.number)


def run_folder(trial: optuna.trial.FrozenTrial) -> str:
    """`trial-<n>`, n being the original trial's number when this trial re-runs a stale one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        original = RetryHeartbeatStaleTrialCallback.retried_trial_number(trial)
    return f"trial-{trial.number if original is None else original}"


def best_value(history: MetricHistory, direction: str) -> float:
    """The best finite value the run logged, or a ConfigError saying why there is none."""
    if not history.values:
        logged = ", ".join(name for name in history.logged if name.startswith("val/"))
        raise ConfigError(
            f"tune.metric '{history.monitor}' was never logged on validation; "
            f"logged: {logged or 'nothing'}"
        )
    finite = [value for value in history.values if math.isfinite(value)]
    if not finite:
        raise ConfigError(f"'{history.monitor}' was never finite: the run diverged")
    return max(finite) if direction == "maximize" else min(finite)


def write_study_outputs(study: optuna.Study, recipe: Recipe, out_dir: Path) -> None:
    """Rewrite `trials.csv` and, once a trial has completed, `best-recipe.yaml`."""
    trials = study.get_trials(deepcopy=False)
    write_trials_csv(trials, out_dir / TRIALS_CSV)
    if any(trial.state == TrialState.COMPLETE for trial in trials):
        write_recipe(best_recipe(recipe, study.best_trial, study.study_name), out_dir / BEST_RECIPE)


def study_result(study: optuna.Study, out_dir: Path) -> TuneResult:
    """The result over the whole study; a ConfigError when no trial has completed."""
    trials = study.get_trials(deepcopy=False)
    states = dict(Counter(trial.state.name for trial in trials))
    complete = [trial for trial in trials if trial.state == TrialState.COMPLETE]
    if not complete:
        reasons = [t.user_attrs[FAIL_REASON] for t in trials if FAIL_REASON in t.user_attrs]
        first = f"; first failure: {reasons[0]}" if reasons else ""
        raise ConfigError(
            f"study '{study.study_name}': no trial has completed ({states}); "
            f"see {out_dir / TRIALS_CSV}{first}"
        )
    best = study.best_trial
    return TuneResult(
        study_name=study.study_name,
        best_trial=best.number,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_recipe=out_dir / BEST_RECIPE,
        trials_csv=out_dir / TRIALS_CSV,
        states=states,
    )
