"""`scivit run`: a chain of stages (pretrain -> train -> evaluate), each feeding the next.

A pipeline is a YAML recipe with a `stages` list. Each stage names what it does (`pretrain`,
`train`, `evaluate`), the recipe it runs and its dotted overrides. A value may refer to an
earlier stage's output as `${stage.output}`: `pretrain` stages give `run_dir`, `checkpoint` and
`backbone` (the exported backbone file); `train` stages give `run_dir` and `checkpoint`;
`evaluate` stages give `out_dir` and `report`. Overrides on the command line whose first key is
a stage name go to that stage (`pretrain.data.source=/beamtime/raw`).

Every stage resumes: pretraining and training continue from their run folder's `last.ckpt`, so
re-running a pipeline after a crash picks up where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from scivit.config import StrictModel, apply_overrides, validate
from scivit.errors import ConfigError, unknown_name_message
from scivit.registry import Registry

REFERENCE = re.compile(r"\$\{([^}]*)\}")
StageOutputs = dict[str, str]


class StageConfig(StrictModel):
    """One step of a pipeline."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    run: Literal["pretrain", "train", "evaluate"]
    recipe: str | None = None
    overrides: list[str] = Field(default_factory=list)
    checkpoint: str | None = None
    split: str = "test"
    out_dir: str | None = None


class Pipeline(StrictModel):
    """The `stages` of a pipeline recipe, run in order."""

    name: str = "pipeline"
    description: str = ""
    stages: list[StageConfig] = Field(min_length=1)

    @field_validator("stages")
    @classmethod
    def _well_formed(cls, stages: list[StageConfig]) -> list[StageConfig]:
        names = [stage.name for stage in stages]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"stage name '{repeated[0]}' is used more than once")
        for stage in stages:
            needs = "checkpoint" if stage.run == "evaluate" else "recipe"
            if getattr(stage, needs) is None:
                raise ValueError(f"stage '{stage.name}' ({stage.run}) needs '{needs}'")
        return stages


@dataclass(frozen=True)
class StageResult:
    """What one stage produced."""

    name: str
    run: str
    outputs: StageOutputs


def load_pipeline(name_or_path: str | Path, overrides: list[str] | None = None) -> Pipeline:
    """Read a pipeline recipe; `overrides` whose first key is a stage name go to that stage."""
    from scivit.recipe import read_recipe_data

    pipeline = validate(Pipeline, read_recipe_data(name_or_path), str(name_or_path))
    by_stage: dict[str, list[str]] = {stage.name: [] for stage in pipeline.stages}
    top_level: list[str] = []
    for text in overrides or []:
        head, _, rest = text.partition(".")
        if head in by_stage and rest:
            by_stage[head].append(rest)
        else:
            top_level.append(text)
    data = apply_overrides(pipeline.model_dump(), top_level)
    for stage in data["stages"]:
        stage["overrides"] = [*stage["overrides"], *by_stage[stage["name"]]]
    return validate(Pipeline, data, str(name_or_path))


def resolve_references(text: str, done: dict[str, StageOutputs], where: str) -> str:
    """Replace every `${stage.output}` in `text` with that earlier stage's output."""

    def substitute(match: re.Match[str]) -> str:
        stage, _, output = match.group(1).partition(".")
        if stage not in done:
            known = list(done) or ["(no earlier stage)"]
            raise ConfigError(f"{where}: {unknown_name_message('earlier stage', stage, known)}")
        if output not in done[stage]:
            message = unknown_name_message(f"output of stage '{stage}'", output, done[stage])
            raise ConfigError(f"{where}: {message}")
        return done[stage][output]

    return REFERENCE.sub(substitute, text)


STAGE_RUNNERS: Registry[Callable[[StageConfig, list[str], str | None], StageOutputs]] = Registry(
    "stage"
)


@STAGE_RUNNERS.register("pretrain")
def _pretrain(stage: StageConfig, overrides: list[str], checkpoint: str | None) -> StageOutputs:
    from scivit.pretrain import load_pretrain_recipe, pretrain

    result = pretrain(load_pretrain_recipe(stage.recipe, overrides))  # type: ignore[arg-type]
    return {
        "run_dir": str(result.run_dir),
        "checkpoint": str(result.checkpoint),
        "backbone": str(result.backbone),
    }


@STAGE_RUNNERS.register("train")
def _train(stage: StageConfig, overrides: list[str], checkpoint: str | None) -> StageOutputs:
    from scivit.recipe import load_recipe
    from scivit.train import train

    result = train(load_recipe(stage.recipe, overrides))  # type: ignore[arg-type]
    return {"run_dir": str(result.run_dir), "checkpoint": str(result.best_checkpoint)}


@STAGE_RUNNERS.register("evaluate")
def _evaluate(stage: StageConfig, overrides: list[str], checkpoint: str | None) -> StageOutputs:
    from scivit.evaluate.run import evaluate

    if overrides:
        raise ConfigError(f"stage '{stage.name}': evaluate stages take no recipe overrides")
    result = evaluate(checkpoint, split=stage.split, out_dir=stage.out_dir)  # type: ignore[arg-type]
    return {"out_dir": str(result.out_dir), "report": str(result.report)}


def run_pipeline(
    pipeline: Pipeline, on_stage: Callable[[StageResult], Any] | None = None
) -> list[StageResult]:
    """Run every stage in order; `on_stage` is called after each one finishes."""
    done: dict[str, StageOutputs] = {}
    results: list[StageResult] = []
    for stage in pipeline.stages:
        where = f"stage '{stage.name}'"
        overrides = [resolve_references(text, done, where) for text in stage.overrides]
        checkpoint = stage.checkpoint and resolve_references(stage.checkpoint, done, where)
        outputs = STAGE_RUNNERS.get(stage.run)(stage, overrides, checkpoint)
        done[stage.name] = outputs
        results.append(StageResult(stage.name, stage.run, outputs))
        if on_stage is not None:
            on_stage(results[-1])
    return results
