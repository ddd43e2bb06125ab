"""The training run's checkpoints: `best.ckpt` follows the monitored metric, `last.ckpt` the
latest epoch even when the metric stopped improving (so a run resumes where it stopped)."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from scivit.recipe import load_recipe
from scivit.train import build_trainer


class FadingMetric(L.LightningModule):
    """A tiny model whose validation F1 is best in the first epoch and falls after it."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def training_step(self, batch, _):
        return self.layer(batch[0]).pow(2).mean()

    def validation_step(self, batch, _):
        self.log("val/f1_macro", 1.0 / (self.current_epoch + 1))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_last_checkpoint_is_the_latest_epoch_when_the_best_is_earlier(tmp_path):
    recipe = load_recipe(
        "lensing-base",
        ["train.max_epochs=3", "train.progress_bar=false"],
    )
    trainer = build_trainer(recipe, tmp_path, "multiclass")
    loader = DataLoader(TensorDataset(torch.randn(8, 2)), batch_size=4)
    trainer.fit(FadingMetric(), loader, loader)
    best = torch.load(tmp_path / "checkpoints" / "best.ckpt", weights_only=False)
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert best["epoch"] == 0
    assert last["epoch"] == 2
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()) == [
        "best.ckpt",
        "last.ckpt",
    ]
