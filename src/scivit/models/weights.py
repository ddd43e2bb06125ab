"""Pretrained weights: timm's hub when online, local files always.

`pretrained` in a model config is either "hub" / a timm pretrained tag (downloaded through
timm, which adapts the first convolution to `in_chans` itself) or a local file:
`.safetensors` (read with safetensors) or `.pth`/`.pt`/`.bin`/`.ckpt` (read with
`torch.load(weights_only=True)`, never unpickling code). A local file may hold a bare state dict,
one nested under "state_dict" / "model" (timm, torchvision, DINOv2 releases), or a Lightning
checkpoint of a scivit model; the prefix in front of the backbone's own names ("model.backbone.",
"module.", ...) is found by matching names. Then the architecture's own timm filter runs
(resampling ViT position embeddings to `img_size`), the first convolution is adapted to
`in_chans`, classifier tensors are dropped, and tensors the file lacks or the model lacks are
reported as warnings.

Offline (`SCIVIT_OFFLINE` or `HF_HUB_OFFLINE` set), hub downloads fail at once with a message
that says how to pass a local file.
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import timm
import torch
from huggingface_hub import constants as hub_constants
from safetensors import SafetensorError
from timm.models import adapt_input_conv, split_model_name_tag
from timm.models import load_state_dict as timm_load_state_dict
from torch import nn

from scivit.errors import ModelError

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
ADAPTER_MARKERS = (".lora_", ".ia3_l", ".base_layer.")
_TRUE = {"1", "true", "yes", "on"}
_SHOWN = 3


def hub_model_name(name: str, pretrained: str) -> str | None:
    """The timm name to download for `pretrained`, or None when `pretrained` is a file path.

    "hub" means the architecture's default pretrained weights; a timm pretrained tag of the
    architecture (e.g. "lvd142m" for `vit_small_patch14_dinov2`) selects those weights.
    """
    if pretrained == "hub":
        return name
    arch, _ = split_model_name_tag(name)
    tags = {split_model_name_tag(full)[1] for full in timm.list_pretrained(f"{arch}.*")}
    return f"{arch}.{pretrained}" if pretrained in tags else None


def download_pretrained(hub_name: str, **kwargs: Any) -> nn.Module:
    """`timm.create_model(hub_name, pretrained=True)`, offline-aware, with a clear failure."""
    with _offline_if_requested():
        try:
            return timm.create_model(hub_name, pretrained=True, **kwargs)
        except (OSError, RuntimeError) as err:
            raise ModelError(
                f"cannot download pretrained weights for {hub_name} (offline?); pass a local "
                "file: model.pretrained=/path/to/weights.safetensors"
            ) from err


@contextmanager
def _offline_if_requested() -> Iterator[None]:
    """Switch the Hugging Face hub to offline mode while inside, when the user asked for it.

    huggingface_hub reads `HF_HUB_OFFLINE` once at import, so its constant is set as well.
    """
    wanted = any(
        os.environ.get(key, "").lower() in _TRUE for key in ("SCIVIT_OFFLINE", "HF_HUB_OFFLINE")
    )
    if not wanted:
        yield
        return
    saved_env, saved_flag = os.environ.get("HF_HUB_OFFLINE"), hub_constants.HF_HUB_OFFLINE
    os.environ["HF_HUB_OFFLINE"] = "1"
    hub_constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = saved_flag
        if saved_env is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = saved_env


def load_weights(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a local weights file into `model` (in place) and return it.

    Raises:
        ModelError: the file is missing, unreadable, holds unmerged adapters, matches none of
            the model's tensors, or holds tensors of the wrong shape.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: pretrained weights file not found")
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise ModelError(f"{path}: unknown weights format; use one of {', '.join(WEIGHT_SUFFIXES)}")
    target = model.state_dict()
    state = _strip_prefix(_read_state_dict(path), target, path)
    state = _architecture_filter(model, state)
    state = _adapt_first_conv(model, state, target)
    state = _drop_classifier(model, state, target)
    _check_shapes(state, target, path)
    result = model.load_state_dict(state, strict=False)
    _report(
        path,
        "tensors of the model are not in the file and keep their initial values",
        result.missing_keys,
    )
    _report(
        path,
        "tensors of the file have no place in the model and were ignored",
        result.unexpected_keys,
    )
    return model


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a weights file, un-nested from "state_dict" / "model" / EMA entries."""
    try:
        state = timm_load_state_dict(str(path), device="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, pickle.UnpicklingError, SafetensorError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{path}: cannot read weights ({reason})") from None
    tensors = {key: value for key, value in state.items() if isinstance(value, torch.Tensor)}
    if not tensors:
        raise ModelError(f"{path}: holds no tensors")
    return tensors


def _strip_prefix(
    state: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], path: Path
) -> dict[str, torch.Tensor]:
    """Keep the tensors under the prefix that makes most names match the model, prefix removed."""
    counts: Counter[str] = Counter()
    for key in state:
        parts = key.split(".")
        for start in range(len(parts)):
            if ".".join(parts[start:]) in target:
                counts[".".join(parts[:start])] += 1
                break
    if not counts:
        raise ModelError(
            f"{path}: no tensor matches the model; are these weights of another architecture?"
        )
    prefix = counts.most_common(1)[0][0]
    head = f"{prefix}." if prefix else ""
    stripped = {key[len(head) :]: value for key, value in state.items() if key.startswith(head)}
    adapters = [key for key in stripped if any(marker in key for marker in ADAPTER_MARKERS)]
    if adapters:
        raise ModelError(
            f"{path}: holds unmerged LoRA/IA3 adapter tensors ({adapters[0]}); save the model "
            "after scivit.models.merge_adapters to use it as pretrained weights"
        )
    return stripped


def _architecture_filter(
    model: nn.Module, state: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Apply the timm module's own checkpoint filter (key remapping, ViT position resampling)."""
    module = sys.modules.get(type(model).__module__)
    filter_fn = getattr(module, "checkpoint_filter_fn", None)
    if not module or not module.__name__.startswith("timm.") or filter_fn is None:
        return state
    return dict(filter_fn(state, model))


def _adapt_first_conv(
    model: nn.Module, state: dict[str, torch.Tensor], target: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Adapt the first convolution to the model's input channels (timm's `adapt_input_conv`)."""
    first = getattr(model, "pretrained_cfg", {}).get("first_conv") or ()
    for name in [first] if isinstance(first, str) else list(first):
        key = f"{name}.weight"
        if key not in state or key not in target or state[key].ndim != 4:
            continue
        file_chans, model_chans = state[key].shape[1], target[key].shape[1]
        if file_chans != model_chans:
            state[key] = adapt_input_conv(model_chans, state[key], base_chans=file_chans)
    return state


def _drop_classifier(
    model: nn.Module, state: dict[str, torch.Tensor], target: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Remove the pretrained classifier: scivit backbones are built without one."""
    classifier = getattr(model, "pretrained_cfg", {}).get("classifier") or ()
    names = [classifier] if isinstance(classifier, str) else list(classifier)
    return {
        key: value
        for key, value in state.items()
        if key in target or not any(key.startswith(f"{name}.") for name in names)
    }


def _check_shapes(
    state: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor], path: Path
) -> None:
    """Refuse tensors whose shape differs from the model's (another architecture or size)."""
    wrong = [key for key in state if key in target and state[key].shape != target[key].shape]
    if wrong:
        key = wrong[0]
        raise ModelError(
            f"{path}: {len(wrong)} tensors do not fit the model (e.g. {key}: file "
            f"{tuple(state[key].shape)} vs model {tuple(target[key].shape)}); check model.backbone"
        )


def _report(path: Path, what: str, keys: list[str]) -> None:
    if keys:
        shown = ", ".join(keys[:_SHOWN]) + (" ..." if len(keys) > _SHOWN else "")
        warnings.warn(f"{path}: {len(keys)} {what}: {shown}", UserWarning, stacklevel=3)
