"""Metrics for multi-label and multi-class predictions, tuned thresholds and curves."""

from scivit.metrics.curves import pr_curves, roc_curves
from scivit.metrics.multiclass import multiclass_metrics
from scivit.metrics.multilabel import multilabel_metrics
from scivit.metrics.thresholds import tune_thresholds

__all__ = ["multiclass_metrics", "multilabel_metrics", "pr_curves", "roc_curves", "tune_thresholds"]
