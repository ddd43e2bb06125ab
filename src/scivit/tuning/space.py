"""The `tune:` section of a recipe: what to search, what to optimise, how to sample and prune.

```yaml
tune:
  metric: val/f1_macro            # default: the train section's monitor metric
  direction: maximize
  pruner: {name: asha, min_resource: 1, reduction_factor: 3}
  sampler: {name: tpe, seed: 0}
  space:
    train.lr: {type: float, low: 1.0e-4, high: 3.0e-3, log: true}
    model.backbone: {type: categorical, choices: [resnet18, resnet34]}
    data.batch_size: {type: int, low: 16, high: 64, step: 16}
```

Space keys are dotted recipe keys; each entry is an Optuna distribution (float, int or
categorical) and knows how to ask a trial for its value. This module holds only the schema;
checking the keys against a recipe lives in `scivit.tuning.overrides`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from scivit.config import StrictModel

if TYPE_CHECKING:
    import optuna

Choice = str | int | float | bool | None


def _check_range(low: float, high: float, log: bool, step: float | None) -> None:
    if low > high:
        raise ValueError(f"low ({low}) must not exceed high ({high})")
    if log and low <= 0:
        raise ValueError(f"a log scale needs low > 0 (got {low})")
    if step is not None:
        steps = (high - low) / step
        if not math.isclose(steps, round(steps), abs_tol=1e-9):
            raise ValueError(f"high - low ({high - low}) must be a multiple of step ({step})")


class FloatParam(StrictModel):
    """A real number in [low, high], uniform or log-uniform, optionally on a grid of `step`."""

    type: Literal["float"]
    low: float
    high: float
    log: bool = False
    step: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _valid(self) -> FloatParam:
        if self.log and self.step is not None:
            raise ValueError("a float parameter takes either log or step, not both")
        _check_range(self.low, self.high, self.log, self.step)
        return self

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=self.log, step=self.step)

    def probes(self) -> list[Choice]:
        """Values that stand for the whole range when checking it against the recipe schema."""
        return [self.low, self.high]


class IntParam(StrictModel):
    """An integer in [low, high] on a grid of `step`, or log-uniform (step 1)."""

    type: Literal["int"]
    low: int
    high: int
    step: int = Field(1, ge=1)
    log: bool = False

    @model_validator(mode="after")
    def _valid(self) -> IntParam:
        if self.log and self.step != 1:
            raise ValueError("a log-scaled int parameter needs step 1")
        _check_range(self.low, self.high, self.log, self.step)
        return self

    def suggest(self, trial: optuna.Trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)

    def probes(self) -> list[Choice]:
        """Values that stand for the whole range when checking it against the recipe schema."""
        return [self.low, self.high]


class CategoricalParam(StrictModel):
    """One of a list of plain values (names, numbers, booleans)."""

    type: Literal["categorical"]
    choices: list[Choice] = Field(min_length=1)

    def suggest(self, trial: optuna.Trial, name: str) -> Choice:
        return trial.suggest_categorical(name, self.choices)

    def probes(self) -> list[Choice]:
        """Every choice, each checked against the recipe schema."""
        return list(self.choices)


ParamSpec = Annotated[FloatParam | IntParam | CategoricalParam, Field(discriminator="type")]


class NamedOptions(StrictModel):
    """A registered name plus its keyword options: `{name: asha, min_resource: 1}` or `asha`."""

    model_config = ConfigDict(extra="allow")

    name: str

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @property
    def options(self) -> dict[str, Any]:
        """The keyword options given beside the name."""
        return dict(self.model_extra or {})


class SamplerOptions(NamedOptions):
    """`tune.sampler`: TPE unless named (`tune.sampler.seed=3` alone keeps TPE)."""

    name: str = "tpe"


class PrunerOptions(NamedOptions):
    """`tune.pruner`: ASHA unless named."""

    name: str = "asha"


class TuneConfig(StrictModel):
    """`tune`: the search space and how the search runs.

    `metric` is a validation metric logged during training (default: `train.monitor`); a trial's
    value is its best epoch in `direction`. `heartbeat_s`: a running trial that has not
    reported for twice this long (its worker was killed or preempted) is marked failed and
    re-run, resuming from its last checkpoint; None turns this off.
    """

    metric: str | None = None
    direction: Literal["maximize", "minimize"] = "maximize"
    sampler: SamplerOptions = Field(default_factory=SamplerOptions)
    pruner: PrunerOptions = Field(default_factory=PrunerOptions)
    space: dict[str, ParamSpec] = Field(min_length=1)
    heartbeat_s: int | None = Field(60, ge=1)

    def suggest(self, trial: optuna.Trial) -> dict[str, Choice]:
        """Ask `trial` for one value of every parameter of the space."""
        return {key: spec.suggest(trial, key) for key, spec in self.space.items()}
