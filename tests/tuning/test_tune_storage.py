"""The shared study: its default name, its storage, and guards against mixing studies."""

from __future__ import annotations

import optuna
import pytest

from scivit.errors import ConfigError
from scivit.tuning.storage import (
    claim_out_dir,
    default_study_name,
    open_storage,
    open_study,
    storage_url,
)


def test_default_study_name_follows_the_search_not_the_worker(write_recipe, tmp_path):
    recipe = write_recipe()
    name = default_study_name(recipe)
    assert name.startswith("tiny-") and len(name) == len("tiny-") + 8
    elsewhere = recipe.model_copy(
        update={
            "train": recipe.train.model_copy(update={"out_dir": str(tmp_path / "x")}),
            "data": recipe.data.model_copy(update={"num_workers": 7}),
        }
    )
    assert default_study_name(elsewhere) == name
    assert default_study_name(write_recipe(sampler={"name": "random", "seed": 5})) == name
    assert default_study_name(write_recipe(direction="minimize")) != name
    narrower = {"train.lr": {"type": "float", "low": 1.0e-3, "high": 1.0e-2}}
    assert default_study_name(write_recipe(space=narrower)) != name


def test_storage_url_defaults_to_sqlite_in_the_output_folder(tmp_path):
    assert storage_url(None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'study.db'}"
    assert storage_url("postgresql://u@host/db", tmp_path) == "postgresql://u@host/db"
    with pytest.raises(ConfigError, match="'study.db' is not a database URL"):
        storage_url("study.db", tmp_path)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchdb://host/x", "storage 'nosuchdb://host/x': cannot open"),
        ("postgresql://user:secret@localhost:1/db", "'postgresql://user:\\*\\*\\*@localhost"),
        ("sqlite:////no/such/folder/study.db", "unable to open database file"),
    ],
)
def test_unusable_storage_is_one_line_without_the_password(url, message):
    with pytest.raises(ConfigError, match=message) as info:
        open_storage(url, heartbeat_s=None)
    assert "secret" not in str(info.value)


def test_studies_on_one_storage_stay_apart_and_reopen(write_recipe, tmp_path):
    cfg = write_recipe().tune
    url = storage_url(None, tmp_path)
    first = open_study(cfg, "val/f1_macro", open_storage(url, 60), "first")
    second = open_study(cfg, "val/f1_macro", open_storage(url, 60), "second")
    first.add_trial(optuna.create_trial(value=0.5))
    first.add_trial(optuna.create_trial(value=0.7))
    second.add_trial(optuna.create_trial(value=0.1))
    again = open_study(cfg, "val/f1_macro", open_storage(url, 60), "first")
    assert [t.value for t in again.trials] == [0.5, 0.7]
    assert [t.value for t in second.trials] == [0.1]
    assert sorted(optuna.get_all_study_names(url)) == ["first", "second"]
    assert again.user_attrs["metric"] == "val/f1_macro"


def test_reopening_with_another_metric_or_direction_is_refused(write_recipe, tmp_path):
    url = storage_url(None, tmp_path)
    open_study(write_recipe().tune, "val/f1_macro", open_storage(url, None), "s")
    with pytest.raises(ConfigError, match="optimises 'val/f1_macro', not 'val/mAP'"):
        open_study(write_recipe().tune, "val/mAP", open_storage(url, None), "s")
    minimize = write_recipe(direction="minimize").tune
    with pytest.raises(ConfigError, match="set tune.direction=maximize"):
        open_study(minimize, "val/f1_macro", open_storage(url, None), "s")


def test_an_output_folder_belongs_to_one_study(tmp_path):
    claim_out_dir(tmp_path, "a")
    claim_out_dir(tmp_path, "a")
    with pytest.raises(ConfigError, match="holds the trials of study 'a'.*study_name='a'"):
        claim_out_dir(tmp_path, "b")
