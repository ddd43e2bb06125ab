"""`tune` end to end on 40 simulated 32-px frames: trials train, the best trial becomes a
recipe, a study resumes, studies on one storage stay apart, failures and pruning are recorded,
and a trial whose worker died is re-run in its own folder."""

from __future__ import annotations

import csv
import time

import optuna
import pytest
import yaml

from scivit.errors import ConfigError
from scivit.recipe import load_recipe
from scivit.tuning.search import tune
from scivit.tuning.storage import open_storage, open_study, storage_url


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def logged_values(run_dir, metric="val/mAP"):
    """Every value of `metric` in the run's Lightning CSV logs."""
    values = []
    for path in sorted(run_dir.glob("logs/version_*/metrics.csv")):
        values += [float(row[metric]) for row in read_rows(path) if row.get(metric)]
    return values


def test_trials_train_and_the_best_becomes_a_recipe_and_the_study_resumes(write_recipe, tmp_path):
    recipe = write_recipe()
    out = tmp_path / "tune"
    result = tune(recipe, n_trials=2, out_dir=out)
    rows = read_rows(out / "trials.csv")
    assert [row["number"] for row in rows] == ["0", "1"]
    assert {row["state"] for row in rows} == {"COMPLETE"}
    assert list(rows[0])[:6] == [
        "number",
        "state",
        "value",
        "train.lr",
        "data.batch_size",
        "model.backbone",
    ]
    for row in rows:
        run = out / f"trial-{row['number']}"
        trained = yaml.safe_load((run / "config.yaml").read_text())
        assert trained["train"]["lr"] == pytest.approx(float(row["train.lr"]))
        assert trained["model"]["backbone"] == row["model.backbone"]
        assert trained["tune"] is None
        assert float(row["value"]) == pytest.approx(max(logged_values(run)))
        assert 1e-4 <= float(row["train.lr"]) <= 1e-2
    best_row = max(rows, key=lambda row: float(row["value"]))
    assert result.best_trial == int(best_row["number"])
    assert result.best_value == pytest.approx(float(best_row["value"]))

    best = load_recipe(result.best_recipe)
    assert best.tune is None
    assert best.train.lr == pytest.approx(float(best_row["train.lr"]))
    assert best.data.batch_size == int(best_row["data.batch_size"])
    assert best.model.backbone == best_row["model.backbone"]
    assert best.train.run_name == f"{result.study_name}-best"
    assert best.train.out_dir == recipe.train.out_dir
    assert best.data.manifest == recipe.data.manifest

    resumed = tune(recipe, n_trials=1, out_dir=out)
    assert resumed.study_name == result.study_name
    assert resumed.states == {"COMPLETE": 3}
    assert [row["number"] for row in read_rows(out / "trials.csv")] == ["0", "1", "2"]
    assert (out / "trial-2" / "checkpoints" / "best.ckpt").is_file()

    other = tune(
        recipe,
        n_trials=1,
        out_dir=tmp_path / "other",
        storage=storage_url(None, out),
        study_name="other",
    )
    assert other.states == {"COMPLETE": 1}
    assert len(read_rows(tmp_path / "other" / "trials.csv")) == 1
    assert (
        len(optuna.load_study(study_name=result.study_name, storage=storage_url(None, out)).trials)
        == 3
    )
    with pytest.raises(ConfigError, match=f"holds the trials of study '{result.study_name}'"):
        tune(recipe, n_trials=1, out_dir=out, study_name="other")


def test_failed_trials_are_recorded_with_the_reason_and_the_search_goes_on(write_recipe, tmp_path):
    space = {"train.loss": {"type": "categorical", "choices": ["no_such_loss"]}}
    out = tmp_path / "tune"
    with pytest.raises(ConfigError, match="no trial has completed.*first failure: .*no_such_loss"):
        tune(write_recipe(space=space), n_trials=2, out_dir=out)
    rows = read_rows(out / "trials.csv")
    assert [row["state"] for row in rows] == ["FAIL", "FAIL"]
    assert all("ConfigError" in row["reason"] and "no_such_loss" in row["reason"] for row in rows)
    assert not (out / "best-recipe.yaml").exists()


def test_a_rejected_space_fails_before_any_training(write_recipe, tmp_path):
    space = {"data.batch_size": {"type": "int", "low": 0, "high": 8}}
    with pytest.raises(ConfigError, match="data.batch_size"):
        tune(write_recipe(space=space), n_trials=1, out_dir=tmp_path / "tune")
    assert not (tmp_path / "tune").exists()


def test_the_pruner_stops_a_trial_inside_training(write_recipe, tmp_path):
    recipe = write_recipe(pruner={"name": "threshold", "lower": 1.01})
    out = tmp_path / "tune"
    with pytest.raises(ConfigError, match="'PRUNED': 1"):
        tune(recipe, n_trials=1, out_dir=out)
    (row,) = read_rows(out / "trials.csv")
    assert row["state"] == "PRUNED"
    study = optuna.load_study(study_name=None, storage=storage_url(None, out))
    assert study.trials[0].intermediate_values == {0: pytest.approx(float(row["value"]))}
    assert float(row["value"]) == pytest.approx(logged_values(out / "trial-0")[0])
    assert not (out / "trial-0" / "val_metrics.json").exists()


@pytest.mark.filterwarnings("ignore:The reported value is ignored because this `step=0`")
def test_a_trial_whose_worker_died_is_rerun_in_its_own_folder(write_recipe, tmp_path):
    recipe = write_recipe(heartbeat_s=1)
    out = tmp_path / "tune"
    out.mkdir()
    storage = open_storage(storage_url(None, out), heartbeat_s=1)
    study = open_study(recipe.tune, "val/mAP", storage, "s")
    with pytest.warns(UserWarning, match="Heartbeat"):
        lost = study.ask()
    lost.report(0.99, step=0)
    storage.record_heartbeat(lost._trial_id)
    time.sleep(3.5)
    result = tune(recipe, n_trials=1, out_dir=out, study_name="s")
    assert result.states == {"FAIL": 1, "COMPLETE": 1}
    assert (out / "trial-0" / "config.yaml").is_file()
    assert not (out / "trial-1").exists()
    rerun = optuna.load_study(study_name="s", storage=storage_url(None, out)).trials[1]
    assert rerun.intermediate_values[0] == pytest.approx(0.99)
    assert result.best_value == pytest.approx(max([0.99, *logged_values(out / "trial-0")]))
