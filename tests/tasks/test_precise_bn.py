"""Batch-norm statistics recomputed before validation (`train.precise_bn_batches`): the running
statistics against the batch averages, frozen batch norms left alone, the statistics a
validation inside `fit` sees, and bad settings."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from scivit.errors import ConfigError
from scivit.recipe import load_recipe
from scivit.tasks.precise_bn import recompute_batch_norm
from scivit.train import build_trainer


def _batches(count: int, size: int = 6) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Image batches whose brightness grows from batch to batch, with dummy targets."""
    generator = torch.Generator().manual_seed(0)
    return [
        (torch.randn(size, 1, 5, 5, generator=generator) * (k + 1) + k, torch.zeros(size))
        for k in range(count)
    ]


class FrozenStem(nn.Sequential):
    """A stem whose batch norm stays in eval mode in training, as a frozen backbone's does."""

    def train(self, mode: bool = True) -> FrozenStem:
        super().train(mode)
        self[0].eval()
        return self


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(FrozenStem(nn.BatchNorm2d(1)), nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))


def test_statistics_are_the_averages_over_the_first_batches():
    model = _model().eval()
    batches = _batches(5)
    with torch.no_grad():
        outputs = [model[1](model[0](images)) for images, _ in batches[:3]]
    used = recompute_batch_norm(model, batches, 3)
    assert used == 3
    norm = model[2]
    expected_mean = torch.stack([o.mean(dim=(0, 2, 3)) for o in outputs]).mean(0)
    expected_var = torch.stack([o.transpose(0, 1).flatten(1).var(1) for o in outputs]).mean(0)
    torch.testing.assert_close(norm.running_mean, expected_mean)
    torch.testing.assert_close(norm.running_var, expected_var)
    assert norm.momentum == pytest.approx(0.1)
    assert not model.training and not norm.training


def test_frozen_batch_norms_keep_their_statistics():
    model = _model()
    frozen = model[0][0]
    frozen.running_mean.fill_(3.0)
    frozen.running_var.fill_(2.0)
    recompute_batch_norm(model, _batches(2), 2)
    assert frozen.running_mean.item() == 3.0 and frozen.running_var.item() == 2.0


def test_no_batches_leave_the_statistics_untouched():
    model = _model()
    model[2].running_mean.fill_(1.5)
    assert recompute_batch_norm(model, [], 4) == 0
    assert torch.all(model[2].running_mean == 1.5)


class Normalised(L.LightningModule):
    """Batch norm on the inputs and a linear layer; notes the mean it validates with."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.norm = nn.BatchNorm1d(3)
        self.layer = nn.Linear(3, 1)
        self.validated: list[torch.Tensor] = []

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.layer(self.norm(inputs))

    def training_step(self, batch, _):
        inputs, targets = batch
        return (self(inputs) - targets).pow(2).mean()

    def validation_step(self, batch, _):
        self.validated.append(self.norm.running_mean.clone())
        self.log("val/f1_macro", -self.training_step(batch, _))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def _fit(run_dir, overrides: list[str]) -> tuple[Normalised, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(24, 3, generator=generator) * 2 + torch.tensor([1.0, -3.0, 5.0])
    loader = DataLoader(TensorDataset(inputs, inputs.sum(1, keepdim=True)), batch_size=4)
    recipe = load_recipe(
        "lensing-base", ["train.max_epochs=2", "train.progress_bar=false", *overrides]
    )
    module = Normalised()
    build_trainer(recipe, run_dir, "multiclass").fit(module, loader, loader)
    return module, inputs


@pytest.mark.parametrize("average", [[], ["train.ema_decay=0.9"]])
def test_validation_inside_fit_sees_the_recomputed_statistics(tmp_path, average):
    """Also with a weight average, whose swapped-in statistics are recomputed in turn."""
    module, inputs = _fit(tmp_path / "precise", ["train.precise_bn_batches=2", *average])
    sanity_check, after_sanity_check = module.validated[:2], module.validated[2:]
    assert all(torch.all(mean == 0) for mean in sanity_check)
    assert len(after_sanity_check) == 2 * 6
    for mean in after_sanity_check:
        torch.testing.assert_close(mean, inputs[:8].mean(0))
    plain, _ = _fit(tmp_path / "plain", ["train.precise_bn_batches=null"])
    assert not torch.allclose(plain.validated[-1], inputs[:8].mean(0), atol=0.1)


@pytest.mark.parametrize("batches", ["0", "-3"])
def test_a_batch_count_below_one_is_refused(batches):
    with pytest.raises(ConfigError, match="precise_bn_batches"):
        load_recipe("lensing-base", [f"train.precise_bn_batches={batches}"])
