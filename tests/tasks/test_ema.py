"""The moving average of the weights (`train.ema_decay`): the update against the EMA equation
with timm's warm-up, what validation and the checkpoints hold, resuming, and bad settings."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from scivit.errors import ConfigError
from scivit.recipe import load_recipe
from scivit.tasks.ema import ema_update, warmup_decay
from scivit.train import build_trainer

DECAY = 0.9


class Regression(L.LightningModule):
    """A linear model fitted by plain SGD that notes the sum of the weights it validates with."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = torch.nn.Linear(3, 1)
        self.validated: list[float] = []

    def training_step(self, batch, _):
        inputs, targets = batch
        return (self.layer(inputs) - targets).pow(2).mean()

    def validation_step(self, batch, _):
        self.validated.append(float(self.layer.weight.sum()))
        self.log("val/f1_macro", -self.training_step(batch, _))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


class WeightRecorder(L.Callback):
    """The trained (not averaged) weights after every optimizer step."""

    def __init__(self) -> None:
        self.steps: list[dict[str, torch.Tensor]] = []

    def on_train_batch_end(self, trainer, pl_module, *_) -> None:
        self.steps.append({k: v.detach().clone() for k, v in pl_module.state_dict().items()})


def loader() -> DataLoader:
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(24, 3, generator=generator)
    targets = inputs @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    return DataLoader(TensorDataset(inputs, targets), batch_size=4)


class ConfiguredRegression(Regression):
    """The same model with its own (non-sharding) `configure_model` hook, as the classifier has."""

    def configure_model(self) -> None:
        self.configured = True


def fit(
    run_dir, epochs: int, extra=(), resume: bool = False, module_type: type = Regression
) -> Regression:
    recipe = load_recipe(
        "lensing-base",
        [f"train.max_epochs={epochs}", f"train.ema_decay={DECAY}", "train.progress_bar=false"],
    )
    trainer = build_trainer(recipe, run_dir, "multiclass", extra)
    module = module_type()
    last = run_dir / "checkpoints" / "last.ckpt"
    trainer.fit(module, loader(), loader(), ckpt_path=str(last) if resume else None)
    return module


def expected_average(steps: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """W_1 first, then W_ema <- d_n W_ema + (1 - d_n) W_{n+1}, d_n = min(DECAY, (1+n)/(10+n))."""
    average = dict(steps[0])
    for updates, weights in enumerate(steps[1:], start=1):
        decay = min(DECAY, (1 + updates) / (10 + updates))
        average = {k: decay * average[k] + (1 - decay) * weights[k] for k in average}
    return average


def test_warmup_decay_starts_short_and_reaches_the_set_decay():
    assert warmup_decay(0.999, 0) == pytest.approx(0.1)
    assert warmup_decay(0.999, 90) == pytest.approx(91 / 100)
    assert warmup_decay(0.999, 100_000) == 0.999


def test_update_lerps_floats_and_copies_counters():
    averaged = [torch.zeros(2), torch.tensor(3)]
    update = ema_update(0.99)
    update(averaged, [torch.ones(2), torch.tensor(7)], torch.tensor(2))
    assert torch.allclose(averaged[0], torch.full((2,), 1 - 3 / 12))
    assert averaged[1].item() == 7


def test_checkpoints_and_validation_hold_the_average(tmp_path):
    recorder = WeightRecorder()
    module = fit(tmp_path, 3, [recorder])
    assert len(recorder.steps) == 18
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    expected = expected_average(recorder.steps)
    for name, value in expected.items():
        assert torch.allclose(last["state_dict"][name], value, atol=1e-6)
        assert torch.allclose(last["current_model_state"][name], recorder.steps[-1][name])
        assert torch.allclose(module.state_dict()[name], value, atol=1e-6)
    assert not torch.allclose(expected["layer.weight"], recorder.steps[-1]["layer.weight"])
    assert module.validated[-1] == pytest.approx(float(expected["layer.weight"].sum()), abs=1e-5)


def test_resumed_run_continues_the_average(tmp_path):
    whole = fit(tmp_path / "whole", 4)
    fit(tmp_path / "parts", 2)
    resumed = fit(tmp_path / "parts", 4, resume=True)
    for name, value in whole.state_dict().items():
        assert torch.allclose(resumed.state_dict()[name], value, atol=1e-6)


def test_no_sharding_warning_for_a_module_that_only_configures_itself(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = fit(tmp_path, 1, module_type=ConfiguredRegression)
    assert module.configured
    assert not [w for w in caught if "WeightAveraging" in str(w.message)]


def test_ema_with_a_sharded_strategy_is_refused():
    with pytest.raises(ConfigError, match="ema_decay.*fsdp"):
        load_recipe("lensing-base", ["train.ema_decay=0.999", "train.strategy=fsdp"])


@pytest.mark.parametrize("decay", ["1.0", "0"])
def test_decay_outside_the_open_unit_interval_is_refused(decay):
    with pytest.raises(ConfigError, match="ema_decay"):
        load_recipe("lensing-base", [f"train.ema_decay={decay}"])
