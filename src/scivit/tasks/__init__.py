"""Lightning modules, one per kind of learning."""

from scivit.tasks.classify import ClassifyTask, TrainConfig

__all__ = ["ClassifyTask", "TrainConfig"]
