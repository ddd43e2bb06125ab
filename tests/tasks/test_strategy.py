"""Distributed strategies: recipe parsing, machine checks and the DeepSpeed configuration."""

from __future__ import annotations

import json

import pytest
from lightning.pytorch.strategies import DDPStrategy

from scivit.config import apply_overrides, validate
from scivit.errors import ConfigError
from scivit.tasks.classify import TrainConfig
from scivit.tasks.strategy import (
    StrategyConfig,
    build_strategy,
    deepspeed_config,
    validate_deepspeed_config,
)


def test_a_bare_name_and_a_mapping_give_the_same_config():
    by_name = validate(TrainConfig, {"strategy": "deepspeed"})
    by_mapping = validate(TrainConfig, {"strategy": {"name": "deepspeed"}})
    assert by_name.strategy == by_mapping.strategy
    assert by_name.strategy.zero_stage == 2


def test_dotted_overrides_extend_a_strategy_given_by_name():
    data = apply_overrides({}, ["strategy=deepspeed", "strategy.zero_stage=3"])
    cfg = validate(TrainConfig, data)
    assert (cfg.strategy.name, cfg.strategy.zero_stage) == ("deepspeed", 3)


def test_unknown_strategy_is_a_one_line_error():
    with pytest.raises(ConfigError, match="strategy") as info:
        validate(TrainConfig, {"strategy": "horovod"}, "recipe.yaml")
    assert "\n" not in str(info.value)


def test_ddp_builds_a_lightning_ddp_strategy(tmp_path):
    strategy = build_strategy(StrategyConfig(name="ddp"), "cpu", "32-true", tmp_path)
    assert isinstance(strategy, DDPStrategy)


def test_fsdp_on_a_cpu_says_what_to_use_instead(tmp_path):
    with pytest.raises(ConfigError, match="needs CUDA GPUs.*strategy=ddp"):
        build_strategy(StrategyConfig(name="fsdp"), "cpu", "32-true", tmp_path)


def test_deepspeed_zero3_with_offload_is_a_valid_config():
    config = deepspeed_config(StrategyConfig(name="deepspeed", zero_stage=3, offload="all"), "bf16")
    zero = config["zero_optimization"]
    assert zero["stage"] == 3
    assert zero["offload_param"]["device"] == zero["offload_optimizer"]["device"] == "cpu"
    assert config["bf16"] == {"enabled": True}
    validate_deepspeed_config(config)


def test_parameter_offload_needs_zero3():
    with pytest.raises(ConfigError, match="zero_stage: 3"):
        deepspeed_config(StrategyConfig(name="deepspeed", zero_stage=2, offload="all"), "32")


def test_deepspeed_schema_rejects_a_bad_value():
    config = deepspeed_config(StrategyConfig(name="deepspeed"), "32-true")
    config["zero_optimization"]["stage"] = 7
    with pytest.raises(ConfigError, match="invalid DeepSpeed configuration.*stage"):
        validate_deepspeed_config(config)


def test_deepspeed_strategy_writes_its_config(tmp_path):
    from lightning.pytorch.strategies import DeepSpeedStrategy

    cfg = StrategyConfig(name="deepspeed", offload="optimizer")
    strategy = build_strategy(cfg, "cpu", "32-true", tmp_path)
    assert isinstance(strategy, DeepSpeedStrategy)
    written = json.loads((tmp_path / "deepspeed.json").read_text())
    assert written["zero_optimization"]["offload_optimizer"]["device"] == "cpu"


def test_missing_deepspeed_package_says_how_to_install(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "deepspeed" else real(name)
    )
    with pytest.raises(ConfigError, match="pip install"):
        build_strategy(StrategyConfig(name="deepspeed"), "cpu", "32-true", tmp_path)
