"""`TrainingClock`: the wall time a run has spent fitting, summed over every resumed attempt.

The elapsed seconds travel inside each checkpoint (a stateful Lightning callback), so a run
interrupted and resumed from `last.ckpt` still reports its whole training time, and a finished
run re-opened for evaluation reports the time it took rather than zero.
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L


class TrainingClock(L.Callback):
    """Accumulate the seconds between the start and end of each `fit`, across resumes."""

    def __init__(self) -> None:
        self.previous_seconds = 0.0
        self._started: float | None = None

    @property
    def seconds(self) -> float:
        """Training time so far: earlier attempts plus the one running now."""
        running = 0.0 if self._started is None else time.perf_counter() - self._started
        return self.previous_seconds + running

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._started = time.perf_counter()

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.previous_seconds = self.seconds
        self._started = None

    def state_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.previous_seconds = float(state_dict.get("seconds", 0.0))
