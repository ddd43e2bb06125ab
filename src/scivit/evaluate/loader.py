"""Rebuild a trained classifier from a scivit checkpoint (or a run folder) for inference."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from scivit.checkpoint import CHECKPOINT_KEY, load_checkpoint_dict
from scivit.errors import ConfigError, ModelError
from scivit.evaluate.numerics import inference_model
from scivit.models.classifier import build_classifier
from scivit.models.flips import FLIP_VIEWS, TestTimeFlips
from scivit.recipe import Recipe, recipe_from_dict

MODEL_PREFIX = "model."


@dataclass
class TrainedModel:
    """A classifier in eval mode with everything needed to use its outputs."""

    model: nn.Module
    recipe: Recipe
    label_names: list[str]
    thresholds: np.ndarray
    task: str
    checkpoint: Path
    info: dict[str, Any]

    @cached_property
    def predictor(self) -> nn.Module:
        """What inference calls: the model averaged over the recipe's test-time flips, in the
        training run's precision and memory layout (`scivit.evaluate.numerics`)."""
        return inference_model(self.model, self.recipe.model.test_time_flips, self.recipe.train)

    def with_test_time_flips(self, flips: TestTimeFlips) -> TrainedModel:
        """The same model predicting over other test-time `flips` than its recipe's; multi-label
        thresholds stay those tuned on the recipe's views."""
        if flips not in FLIP_VIEWS:
            raise ConfigError(
                f"unknown test-time flips '{flips}'; choose one of {', '.join(FLIP_VIEWS)}"
            )
        model_cfg = self.recipe.model.model_copy(update={"test_time_flips": flips})
        return replace(self, recipe=self.recipe.model_copy(update={"model": model_cfg}))


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, or the best (else last) checkpoint inside a run folder."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.ckpt", "last.ckpt"):
            candidate = path / "checkpoints" / name
            if candidate.is_file():
                return candidate
        raise ModelError(f"{path}: run folder holds no checkpoints/best.ckpt or last.ckpt")
    return path


def load_trained(path: str | Path) -> TrainedModel:
    """Load weights, recipe, labels and thresholds; the model comes back in eval mode on CPU."""
    checkpoint = resolve_checkpoint(path)
    state = load_checkpoint_dict(checkpoint)
    info = state.get(CHECKPOINT_KEY)
    if not isinstance(info, dict) or "recipe" not in info:
        raise ModelError(f"{checkpoint}: not a scivit checkpoint (no recipe inside)")
    recipe = recipe_from_dict(info["recipe"], str(checkpoint))
    label_names = list(info["label_names"])
    model_cfg = recipe.model.model_copy(update={"pretrained": None})
    model = build_classifier(model_cfg, len(label_names))
    weights = {
        key[len(MODEL_PREFIX) :]: value
        for key, value in state["state_dict"].items()
        if key.startswith(MODEL_PREFIX)
    }
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ModelError(
            f"{checkpoint}: weights do not fit the recipe's model "
            f"({len(missing)} missing, {len(unexpected)} unexpected keys)"
        )
    thresholds = np.asarray(info.get("thresholds", [0.5] * len(label_names)), dtype=np.float32)
    return TrainedModel(
        model=model.eval(),
        recipe=recipe,
        label_names=label_names,
        thresholds=thresholds,
        task=str(info.get("task", recipe.data.task)),
        checkpoint=checkpoint,
        info=info,
    )
