"""Distributed training strategies chosen in a recipe: DDP, FSDP, DeepSpeed ZeRO-2/3.

`train.strategy` is either a name (`auto`, `ddp`, `fsdp`, `deepspeed`) or a mapping with the
name and its options. `build_strategy` turns it into the Lightning strategy object, checking
first that the machine can run it (FSDP needs CUDA GPUs; DeepSpeed needs its package), so a
recipe that cannot run fails before any process is launched, with a line saying what to change.
The DeepSpeed configuration is assembled here and validated by DeepSpeed's own schema.
"""

from __future__ import annotations

import importlib.util
import json
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch.strategies import DDPStrategy, Strategy
from pydantic import Field, model_validator

from scivit.config import StrictModel
from scivit.errors import ConfigError
from scivit.fileio import atomic_open

StrategyName = Literal["auto", "ddp", "fsdp", "deepspeed"]
FSDP_MIN_WRAP_PARAMS = 1_000_000


class StrategyConfig(StrictModel):
    """`train.strategy`: how training is spread over devices and nodes.

    `zero_stage` (DeepSpeed) shards optimizer state and gradients (2) or also the parameters
    (3). `offload` moves optimizer state ("optimizer") or optimizer state and parameters
    ("all", ZeRO-3 / FSDP only) to CPU memory. `sharding` picks FSDP's sharding strategy.
    """

    name: StrategyName = "auto"
    zero_stage: Literal[2, 3] = 2
    offload: Literal["none", "optimizer", "all"] = "none"
    sharding: Literal["full", "grad_op", "hybrid"] = "full"
    find_unused_parameters: bool = False
    timeout_minutes: int = Field(30, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value


def build_strategy(
    cfg: StrategyConfig, accelerator: str, precision: str, run_dir: Path
) -> str | Strategy:
    """The Lightning strategy for `cfg`; raises ConfigError when this machine cannot run it."""
    builder = STRATEGY_BUILDERS[cfg.name]
    return builder(cfg, accelerator, precision, run_dir)


def _auto(cfg: StrategyConfig, accelerator: str, precision: str, run_dir: Path) -> str:
    return "auto"


def _ddp(cfg: StrategyConfig, accelerator: str, precision: str, run_dir: Path) -> DDPStrategy:
    from datetime import timedelta

    return DDPStrategy(
        find_unused_parameters=cfg.find_unused_parameters,
        timeout=timedelta(minutes=cfg.timeout_minutes),
    )


def _uses_gpus(accelerator: str) -> bool:
    return accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()


def _fsdp(cfg: StrategyConfig, accelerator: str, precision: str, run_dir: Path) -> Strategy:
    if not _uses_gpus(accelerator):
        raise ConfigError(
            "train.strategy=fsdp needs CUDA GPUs and none is available here; use "
            "train.strategy=ddp (or deepspeed) on CPUs"
        )
    from lightning.pytorch.strategies import FSDPStrategy
    from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

    if cfg.offload == "optimizer":
        raise ConfigError("train.strategy.offload=optimizer is DeepSpeed-only; FSDP offloads 'all'")
    sharding = {"full": "FULL_SHARD", "grad_op": "SHARD_GRAD_OP", "hybrid": "HYBRID_SHARD"}
    # Wrapping by size works for any backbone (ViT blocks, ResNet stages) without a per-model
    # list of layer classes.
    policy = partial(size_based_auto_wrap_policy, min_num_params=FSDP_MIN_WRAP_PARAMS)
    return FSDPStrategy(
        sharding_strategy=sharding[cfg.sharding],
        cpu_offload=cfg.offload == "all",
        auto_wrap_policy=policy,
        state_dict_type="full",
    )


def deepspeed_config(cfg: StrategyConfig, precision: str) -> dict[str, Any]:
    """The DeepSpeed configuration for `cfg` (batch size and accumulation come from Lightning)."""
    if cfg.offload == "all" and cfg.zero_stage != 3:
        raise ConfigError(
            "train.strategy.offload=all (parameters to CPU) needs zero_stage: 3; "
            "use offload: optimizer with ZeRO-2"
        )
    zero: dict[str, Any] = {
        "stage": cfg.zero_stage,
        "overlap_comm": True,
        "contiguous_gradients": True,
    }
    if cfg.offload in ("optimizer", "all"):
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": torch.cuda.is_available()}
    if cfg.offload == "all":
        zero["offload_param"] = {"device": "cpu", "pin_memory": torch.cuda.is_available()}
    config: dict[str, Any] = {"zero_optimization": zero}
    if cfg.offload != "none":
        # scivit builds its own AdamW (layer-wise groups); let DeepSpeed step it on the CPU.
        config["zero_force_ds_cpu_optimizer"] = False
    if precision.startswith("bf16"):
        config["bf16"] = {"enabled": True}
    elif precision.startswith("16"):
        config["fp16"] = {"enabled": True}
    return config


def validate_deepspeed_config(config: dict[str, Any]) -> None:
    """Check `config` against DeepSpeed's own schema; a ConfigError names the first problem."""
    from deepspeed.runtime.config import DeepSpeedConfig

    probe = {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1, **config}
    try:
        DeepSpeedConfig(probe)
    except Exception as err:  # DeepSpeed raises pydantic, assertion and value errors
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise ConfigError(f"train.strategy: invalid DeepSpeed configuration: {detail}") from None


def _deepspeed(cfg: StrategyConfig, accelerator: str, precision: str, run_dir: Path) -> Strategy:
    if importlib.util.find_spec("deepspeed") is None:
        raise ConfigError(
            "train.strategy=deepspeed needs the deepspeed package: "
            "pip install 'scivit[distributed]' (or use train.strategy=ddp)"
        )
    from lightning.pytorch.strategies import DeepSpeedStrategy

    config = deepspeed_config(cfg, precision)
    validate_deepspeed_config(config)
    run_dir.mkdir(parents=True, exist_ok=True)
    with atomic_open(run_dir / "deepspeed.json", "w") as handle:
        json.dump(config, handle, indent=2)
    process_group = None if _uses_gpus(accelerator) else "gloo"
    return DeepSpeedStrategy(config=config, process_group_backend=process_group)


STRATEGY_BUILDERS = {"auto": _auto, "ddp": _ddp, "fsdp": _fsdp, "deepspeed": _deepspeed}
