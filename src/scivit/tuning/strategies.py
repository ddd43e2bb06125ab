"""Samplers and pruners found by name, built from `tune.sampler` and `tune.pruner`.

Pruners: `asha` is Asynchronous Successive Halving (Li et al., "A System for Massively
Parallel Hyperparameter Tuning", MLSys 2020; Optuna's `SuccessiveHalvingPruner`), `hyperband`
runs several ASHA brackets (Li et al., JMLR 2018), `median` stops a trial below the median of
earlier ones at the same epoch, `threshold` stops one outside fixed bounds (a diverging run),
`none` never prunes. A pruner's resource is the validation epoch.

Samplers: `tpe` (Bergstra et al., NeurIPS 2011; Optuna's default, with the constant liar that
keeps parallel workers from proposing the same point), `random`, `qmc` (quasi-random Sobol).
With several workers, leave `seed` unset or give each worker its own
(`tune.sampler.seed=$SLURM_ARRAY_TASK_ID`): equal seeds make every worker propose the same
trials.
"""

from __future__ import annotations

from typing import Any

import optuna

from scivit.errors import ConfigError
from scivit.registry import Registry
from scivit.tuning.space import NamedOptions

SAMPLERS: Registry[type[optuna.samplers.BaseSampler]] = Registry("sampler")
SAMPLERS.add("tpe", optuna.samplers.TPESampler)
SAMPLERS.add("random", optuna.samplers.RandomSampler)
SAMPLERS.add("qmc", optuna.samplers.QMCSampler)

PRUNERS: Registry[type[optuna.pruners.BasePruner]] = Registry("pruner")
PRUNERS.add("asha", optuna.pruners.SuccessiveHalvingPruner)
PRUNERS.add("hyperband", optuna.pruners.HyperbandPruner)
PRUNERS.add("median", optuna.pruners.MedianPruner)
PRUNERS.add("threshold", optuna.pruners.ThresholdPruner)
PRUNERS.add("none", optuna.pruners.NopPruner)


def build_sampler(cfg: NamedOptions) -> optuna.samplers.BaseSampler:
    """The sampler named in `tune.sampler`, with its options."""
    return _build(SAMPLERS, cfg, "tune.sampler")


def build_pruner(cfg: NamedOptions) -> optuna.pruners.BasePruner:
    """The pruner named in `tune.pruner`, with its options."""
    return _build(PRUNERS, cfg, "tune.pruner")


def _build(registry: Registry[Any], cfg: NamedOptions, key: str) -> Any:
    try:
        return registry.build(cfg.name, **cfg.options)
    except ConfigError as err:
        raise ConfigError(f"{key}: {err}") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{key}: {cfg.name} rejects its options: {err}") from None
