"""The study every worker shares: where it is stored, what it is called, that it is the same one.

By default the study lives in `<out>/study.db` (sqlite), fine for one machine. For many
workers on a cluster (SLURM array jobs, ...) pass a database URL such as
`postgresql://user@host/db`; it goes to Optuna's `RDBStorage`. Studies are opened with
`load_if_exists`, so workers and restarted runs add trials to one study. Its default name is
the recipe's name plus a digest of everything that changes results, so an edited space or
recipe starts a new study instead of mixing with the old one. The output folder records its
study, so two studies never train into the same `trial-<n>` folders.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import optuna
from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from sqlalchemy.exc import SQLAlchemyError

from scivit.errors import ConfigError
from scivit.fileio import write_json
from scivit.recipe import Recipe
from scivit.tuning.space import TuneConfig
from scivit.tuning.strategies import build_pruner, build_sampler

MAX_RETRIES = 3
STUDY_FILE = "study.json"
# Keys that say where and how fast a run goes, not what it computes: workers may differ in
# them and still share a study.
PLACEMENT_KEYS = (
    "train.out_dir",
    "train.run_name",
    "train.progress_bar",
    "data.num_workers",
    "data.cache_dir",
    "tune.sampler",
    "tune.heartbeat_s",
)


def default_study_name(recipe: Recipe) -> str:
    """`<recipe name>-<8 hex digits>`, the same for any worker running the same search."""
    data = recipe.model_dump(mode="json")
    for key in PLACEMENT_KEYS:
        section, field = key.split(".")
        (data.get(section) or {}).pop(field, None)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return f"{recipe.name}-{digest[:8]}"


def storage_url(storage: str | None, out_dir: Path) -> str:
    """The database URL: `storage` itself, or an sqlite file in `out_dir`."""
    if storage is None:
        return f"sqlite:///{(out_dir / 'study.db').resolve()}"
    if "://" not in storage:
        raise ConfigError(
            f"storage '{storage}' is not a database URL; use sqlite:///path/study.db or "
            "postgresql://user@host/database"
        )
    return storage


def open_storage(url: str, heartbeat_s: int | None) -> RDBStorage:
    """Optuna's RDBStorage at `url`; with a heartbeat, stale trials are failed and re-run.

    Optuna marks the heartbeat options experimental; their warnings are silenced here.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, **_heartbeat_options(heartbeat_s))
    except (SQLAlchemyError, ImportError, ValueError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ConfigError(f"storage '{_hide_password(url)}': cannot open ({reason})") from None


def _heartbeat_options(heartbeat_s: int | None) -> dict[str, Any]:
    if heartbeat_s is None:
        return {}
    return {
        "heartbeat_interval": heartbeat_s,
        "grace_period": 2 * heartbeat_s,
        "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(
            MAX_RETRIES, inherit_intermediate_values=True
        ),
    }


def open_study(cfg: TuneConfig, metric: str, storage: RDBStorage, study_name: str) -> optuna.Study:
    """Create the study, or join it when it exists; its metric and direction must match."""
    study = optuna.create_study(
        storage=storage,
        study_name=study_name,
        direction=cfg.direction,
        sampler=build_sampler(cfg.sampler),
        pruner=build_pruner(cfg.pruner),
        load_if_exists=True,
    )
    stored_metric = study.user_attrs.get("metric")
    if stored_metric is None:
        study.set_user_attr("metric", metric)
    elif stored_metric != metric:
        raise ConfigError(
            f"study '{study_name}' optimises '{stored_metric}', not '{metric}'; "
            "set tune.metric to match or choose another study name"
        )
    stored_direction = study.direction.name.lower()
    if stored_direction != cfg.direction:
        raise ConfigError(
            f"study '{study_name}' is to {stored_direction} its metric; "
            f"set tune.direction={stored_direction} or choose another study name"
        )
    return study


def claim_out_dir(out_dir: Path, study_name: str) -> None:
    """Mark `out_dir` as the folder of `study_name`; refuse a folder another study uses."""
    marker = out_dir / STUDY_FILE
    if marker.is_file():
        owner = json.loads(marker.read_text()).get("study_name")
        if owner != study_name:
            raise ConfigError(
                f"{out_dir}: holds the trials of study '{owner}'; use another output folder, "
                f"or study_name='{owner}' to add trials to it"
            )
        return
    write_json(marker, {"study_name": study_name})


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':')[0]}:***@{host}"
