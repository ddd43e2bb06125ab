"""Monitoring self-supervised pretraining with labels it never trains on.

At the end of every `every_n_epochs`-th epoch the method's features (the DINO teacher's) of a
small labelled manifest are scored two ways, fitting on its train split and scoring on the rest
(val and test):
- weighted k-NN on cosine similarity, as in DINO's evaluation (Wu et al., "Unsupervised
  Feature Learning via Non-Parametric Instance Discrimination", CVPR 2018): the k nearest
  training frames vote with weight exp(similarity / T); the vote shares are the scores;
- a linear probe: scikit-learn's `LogisticRegression` on standardised features (one per label
  for multi-label tasks; a label constant in the train split predicts that constant).
Scores become metrics through `scivit.metrics` and are logged as `monitor/knn_<metric>` and
`monitor/probe_<metric>`. A run that starts from epoch 0 is also scored before its first step,
as `monitor/start_knn_<metric>` and `monitor/start_probe_<metric>`: the baseline of the starting
weights (random or pretrained) that the gain of pretraining is read against.
"""

from __future__ import annotations

from typing import Any, Literal

import lightning as L
import numpy as np
import torch
from pydantic import Field, PositiveInt
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader

from scivit.config import StrictModel
from scivit.data.datamodule import SplitConfig, split_manifest
from scivit.data.dataset import FrameDataset
from scivit.data.manifest import load_manifest
from scivit.data.unlabelled import UnlabelledConfig, open_cache
from scivit.metrics.multiclass import multiclass_metrics
from scivit.metrics.multilabel import multilabel_metrics
from scivit.transforms import Compose, build_transforms

TaskKind = Literal["multilabel", "multiclass"]
EPOCH_PREFIX = "monitor/"
START_PREFIX = "monitor/start_"
HEADLINE = {
    "multilabel": ("f1_macro", "f1_micro", "mAP", "hamming_accuracy"),
    "multiclass": ("accuracy", "f1_macro"),
}


class MonitorConfig(StrictModel):
    """`monitor`: a labelled manifest whose train split fits the k-NN and the probe and whose
    val and test splits score them."""

    manifest: str
    labels: list[str] = Field(min_length=1)
    task: TaskKind = "multilabel"
    split: SplitConfig = Field(default_factory=SplitConfig)
    k: PositiveInt = 20
    temperature: float = Field(0.07, gt=0)
    probe: bool = True
    every_n_epochs: PositiveInt = 1


def knn_scores(
    train_x: np.ndarray, train_y: np.ndarray, query_x: np.ndarray, k: int, temperature: float
) -> np.ndarray:
    """Weighted k-NN vote shares (N_query, K) from 0/1 training targets (N_train, K)."""
    k = min(k, len(train_x))
    search = NearestNeighbors(n_neighbors=k, metric="cosine").fit(train_x)
    distance, index = search.kneighbors(query_x)
    weight = np.exp((1.0 - distance.astype(np.float64)) / temperature)
    votes = np.einsum("qn,qnk->qk", weight, train_y[index])
    # A unanimous vote can come out one rounding step above 1; shares are probabilities.
    return np.clip(votes / weight.sum(axis=1, keepdims=True), 0.0, 1.0)


def probe_scores(
    train_x: np.ndarray, train_y: np.ndarray, query_x: np.ndarray, task: TaskKind
) -> np.ndarray:
    """Linear-probe probabilities (N_query, K) from 0/1 training targets (N_train, K)."""
    if task == "multiclass":
        classes = train_y.argmax(axis=1)
        scores = np.zeros((len(query_x), train_y.shape[1]))
        if np.unique(classes).size == 1:
            scores[:, classes[0]] = 1.0
            return scores
        probe = _probe().fit(train_x, classes)
        scores[:, probe.classes_] = probe.predict_proba(query_x)
        return scores
    columns = []
    for label in train_y.T:
        if np.unique(label).size == 1:
            columns.append(np.full(len(query_x), float(label[0])))
        else:
            columns.append(_probe().fit(train_x, label).predict_proba(query_x)[:, 1])
    return np.stack(columns, axis=1)


def _probe() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))


def headline_metrics(
    scores: np.ndarray, targets: np.ndarray, task: TaskKind, names: list[str]
) -> dict[str, float]:
    """The metrics worth a line in the log, from scores and 0/1 targets."""
    if task == "multilabel":
        metrics = multilabel_metrics(scores, targets, 0.5, names)
    else:
        metrics = multiclass_metrics(scores, targets.argmax(axis=1), names)
    return {key: float(metrics[key]) for key in HEADLINE[task] if metrics.get(key) is not None}


def monitor_loaders(
    cfg: MonitorConfig, data: UnlabelledConfig, plain: Compose
) -> tuple[DataLoader, DataLoader]:
    """Loaders of the monitor manifest's train split and of its held-out rows (val and test):
    the pretraining data's preprocessing (and cache settings), then `plain` (the method's
    deterministic view, ending with `to_tensor`)."""
    manifest = load_manifest(cfg.manifest, cfg.labels, cfg.task)
    splits = split_manifest(manifest, cfg.split)
    preprocess = build_transforms(data.preprocess_spec())
    cache = open_cache(data, manifest, preprocess) if data.cache else None
    transform = plain if cache is not None else Compose([preprocess, plain])
    rows = (splits["train"], np.concatenate([splits["val"], splits["test"]]))
    return tuple(  # type: ignore[return-value]
        DataLoader(
            FrameDataset(manifest, indices, transform, cache),
            batch_size=data.batch_size,
            num_workers=0,
        )
        for indices in rows
    )


class FeatureMonitor(L.Callback):
    """Log k-NN and linear-probe scores of the method's features after training epochs.

    Args:
        cfg: the `monitor` section.
        train_loader: labelled frames the k-NN and the probe are fitted on.
        held_out_loader: labelled frames they are scored on.
    """

    def __init__(
        self, cfg: MonitorConfig, train_loader: DataLoader, held_out_loader: DataLoader
    ) -> None:
        self.cfg = cfg
        self.loaders = (train_loader, held_out_loader)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.current_epoch == 0:
            self._log_scores(pl_module, START_PREFIX)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not (trainer.current_epoch + 1) % self.cfg.every_n_epochs:
            self._log_scores(pl_module, EPOCH_PREFIX)

    def _log_scores(self, pl_module: L.LightningModule, prefix: str) -> None:
        (train_x, train_y), (val_x, val_y) = (
            extract_features(pl_module.method, loader, pl_module.device) for loader in self.loaders
        )
        cfg = self.cfg
        results = {"knn": knn_scores(train_x, train_y, val_x, cfg.k, cfg.temperature)}
        if cfg.probe:
            results["probe"] = probe_scores(train_x, train_y, val_x, cfg.task)
        for kind, scores in results.items():
            for key, value in headline_metrics(scores, val_y, cfg.task, cfg.labels).items():
                pl_module.log(f"{prefix}{kind}_{key}", value, on_epoch=True)


def extract_features(
    method: torch.nn.Module, loader: DataLoader, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, D) and targets (N, K) of every frame of `loader`, in eval mode."""
    was_training = method.training
    method.eval()
    features, targets = [], []
    try:
        with torch.no_grad():
            for images, target in loader:
                features.append(method.features(images.to(device)).float().cpu())
                targets.append(target)
    finally:
        method.train(was_training)
    return torch.cat(features).numpy(), torch.cat(targets).numpy()
