"""Samplers and pruners by name, and the callbacks that report a trial's metric and prune it,
driven by a stand-in trainer whose validation metric is forced."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

import optuna
import pytest
import torch

from scivit.errors import ConfigError
from scivit.tuning.callbacks import trial_callbacks
from scivit.tuning.space import NamedOptions
from scivit.tuning.strategies import PRUNERS, SAMPLERS, build_pruner, build_sampler

METRIC = "val/f1_macro"


def validation_end(callbacks, value: float, epoch: int, sanity: bool = False) -> None:
    """What Lightning does after a validation epoch that logged `METRIC = value`."""
    trainer = SimpleNamespace(
        sanity_checking=sanity, callback_metrics={METRIC: torch.tensor(value), "val/loss": 1.0}
    )
    module = SimpleNamespace(current_epoch=epoch)
    for callback in callbacks:
        callback.on_validation_end(trainer, module)


def run_trial(study: optuna.Study, values: list[float]) -> list[float]:
    """Report `values` epoch by epoch through the callbacks; the recorded history."""
    trial = study.ask()
    callbacks = trial_callbacks(trial, METRIC)
    try:
        for epoch, value in enumerate(values):
            validation_end(callbacks, value, epoch)
    except optuna.TrialPruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        raise
    study.tell(trial, max(values))
    return callbacks[0].values


def asha_study(finished: tuple[float, ...] = ()) -> optuna.Study:
    """A maximising study with ASHA after one trial per value in `finished`, reported at
    epochs 0, 1 and 2 as value - 0.1, value, value (ASHA may stop some of them: it keeps the
    top third at each rung)."""
    pruner = build_pruner(NamedOptions(name="asha", min_resource=1, reduction_factor=3))
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for top in finished:
        with contextlib.suppress(optuna.TrialPruned):
            run_trial(study, [top - 0.1, top, top])
    return study


def test_asha_prunes_a_trial_whose_reported_values_are_bad():
    study = asha_study((0.80, 0.85, 0.90, 0.70, 0.75))
    with pytest.raises(optuna.TrialPruned, match="epoch 1"):
        run_trial(study, [0.05, 0.06, 0.07])
    pruned = study.trials[-1]
    assert pruned.state == optuna.trial.TrialState.PRUNED
    assert pruned.intermediate_values == pytest.approx({0: 0.05, 1: 0.06})


def test_asha_keeps_a_trial_at_the_top_and_records_its_history():
    study = asha_study((0.80, 0.85, 0.90))
    history = run_trial(study, [0.9, 0.95, 0.97])
    assert history == pytest.approx([0.9, 0.95, 0.97])
    assert study.best_value == pytest.approx(0.97)


def test_sanity_check_epochs_are_not_reported():
    study = asha_study()
    trial = study.ask()
    callbacks = trial_callbacks(trial, METRIC)
    validation_end(callbacks, 0.0, 0, sanity=True)
    assert callbacks[0].values == []
    assert study.trials[0].intermediate_values == {}
    validation_end(callbacks, 0.4, 0)
    assert study.trials[0].intermediate_values == {0: pytest.approx(0.4)}
    assert callbacks[0].values == pytest.approx([0.4])


def test_median_pruner_options_reach_optuna():
    pruner = build_pruner(NamedOptions(name="median", n_startup_trials=1, n_warmup_steps=0))
    study = optuna.create_study(direction="maximize", pruner=pruner)
    run_trial(study, [0.8, 0.9])
    with pytest.raises(optuna.TrialPruned):
        run_trial(study, [0.1, 0.2])


def test_registries_build_the_named_optuna_classes():
    assert set(PRUNERS) == {"asha", "hyperband", "median", "threshold", "none"}
    assert set(SAMPLERS) == {"tpe", "random", "qmc"}
    hyperband = build_pruner(NamedOptions.model_validate({"name": "hyperband", "max_resource": 9}))
    assert isinstance(hyperband, optuna.pruners.HyperbandPruner)
    assert isinstance(build_pruner(NamedOptions.model_validate("none")), optuna.pruners.NopPruner)
    assert isinstance(
        build_pruner(NamedOptions(name="asha")), optuna.pruners.SuccessiveHalvingPruner
    )


def test_sampler_seed_makes_the_sequence_repeatable():
    def first_draws(seed: int) -> list[float]:
        study = optuna.create_study(sampler=build_sampler(NamedOptions(name="tpe", seed=seed)))
        return [study.ask().suggest_float("x", 0.0, 1.0) for _ in range(3)]

    assert first_draws(3) == first_draws(3)
    assert first_draws(3) != first_draws(4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "ahsa"}, "tune.pruner: unknown pruner 'ahsa'; did you mean 'asha'"),
        ({"name": "asha", "min_resourse": 1}, "did you mean 'min_resource'"),
        ({"name": "asha", "reduction_factor": 1}, "tune.pruner: asha rejects its options"),
    ],
)
def test_bad_pruner_settings_are_config_errors(options, message):
    with pytest.raises(ConfigError, match=message):
        build_pruner(NamedOptions.model_validate(options))


def test_bad_sampler_name_suggests_the_closest():
    with pytest.raises(ConfigError, match="tune.sampler: unknown sampler 'tpf'; did you mean"):
        build_sampler(NamedOptions(name="tpf"))
