"""Backbone factory: every image encoder behind timm's interface.

Any timm architecture works by name (`resnet34`, `vit_small_patch14_dinov2`,
`deit_tiny_patch16_224`, `convnextv2_atto`, ...). scivit's own architectures register a builder
in `BACKBONES`; a builder takes `in_chans`, `img_size`, `drop_path_rate` (plus its own options)
and returns a module with timm's interface: `forward_features(x)`,
`forward_head(features, pre_logits=True)` and `num_features`.

Backbones are built without a classifier (`num_classes=0`): heads live in `scivit.models.heads`.
Single-channel detector images use `in_chans=1`; pretrained RGB weights are adapted by summing
the first convolution over its input channels (timm's `adapt_input_conv`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import timm
from torch import nn

from scivit.errors import ModelError, unknown_name_message
from scivit.models.weights import download_pretrained, hub_model_name, load_weights
from scivit.registry import Registry

BACKBONES: Registry[Callable[..., nn.Module]] = Registry("backbone")


def create_backbone(
    name: str,
    in_chans: int = 1,
    pretrained: str | None = None,
    img_size: int | None = None,
    drop_path_rate: float = 0.0,
    **kwargs: Any,
) -> nn.Module:
    """Build a feature extractor (no classifier) by name.

    Args:
        name: a name in `BACKBONES` or any timm model name (optionally with a pretrained tag).
        in_chans: number of input channels (1 for detector images).
        pretrained: None for random initialisation, a local weights file
            (`.safetensors`, `.pth`, `.pt`, `.bin`, `.ckpt`), "hub" for timm's default pretrained
            weights, or a timm pretrained tag of this architecture (e.g. "lvd142m").
        img_size: input size for architectures that fix it (vision transformers); ignored by
            those that do not take it (ConvNets).
        drop_path_rate: stochastic depth rate.
        **kwargs: further options of the architecture.

    Returns:
        A module with `forward_features`, `forward_head(pre_logits=True)` and `num_features`.
    """
    if in_chans < 1:
        raise ModelError(f"model.in_chans must be at least 1, got {in_chans}")
    options = {"in_chans": in_chans, "drop_path_rate": drop_path_rate, **kwargs}
    if name in BACKBONES:
        if pretrained == "hub":
            raise ModelError(f"backbone '{name}' has no hub weights; pass a local weights file")
        model = _build(name, BACKBONES.get(name), img_size, options)
        if pretrained is not None:
            load_weights(model, pretrained)
    elif timm.is_model(name):
        model = _create_timm(name, pretrained, img_size, {"num_classes": 0, **options})
    else:
        known = [*BACKBONES.names(), *timm.list_models()]
        raise ModelError(unknown_name_message("backbone", name, known))
    _check_img_size(name, model, img_size)
    return model


def _create_timm(
    name: str, pretrained: str | None, img_size: int | None, options: dict[str, Any]
) -> nn.Module:
    """Build a timm model, downloading or loading its weights as `pretrained` asks."""
    hub_name = hub_model_name(name, pretrained) if pretrained is not None else None
    if hub_name is not None:
        return _build(name, partial(download_pretrained, hub_name), img_size, options)
    model = _build(name, partial(timm.create_model, name), img_size, options)
    if pretrained is not None:
        load_weights(model, pretrained)
    return model


def _build(
    name: str, factory: Callable[..., nn.Module], img_size: int | None, options: dict[str, Any]
) -> nn.Module:
    """Call `factory`, passing `img_size` only when the architecture accepts it."""
    if img_size is not None:
        try:
            return factory(img_size=img_size, **options)
        except TypeError as err:
            if "'img_size'" not in str(err):
                raise _option_error(name, err) from None
    try:
        return factory(**options)
    except TypeError as err:
        raise _option_error(name, err) from None


def _option_error(name: str, err: TypeError) -> ModelError | TypeError:
    """A ModelError for an option the architecture does not take; other TypeErrors unchanged."""
    text = str(err)
    if "unexpected keyword argument" not in text:
        return err
    option = text.rsplit("argument", 1)[-1].strip(" '")
    return ModelError(f"backbone '{name}' does not accept the option '{option}'")


def _check_img_size(name: str, model: nn.Module, img_size: int | None) -> None:
    """Vision transformers need an input size divisible by their patch size."""
    patch_size = getattr(getattr(model, "patch_embed", None), "patch_size", None)
    if img_size is None or patch_size is None:
        return
    patch = patch_size[0] if isinstance(patch_size, tuple | list) else int(patch_size)
    if img_size % patch:
        nearest = max(patch, round(img_size / patch) * patch)
        raise ModelError(
            f"model.img_size={img_size} is not a multiple of the patch size {patch} of "
            f"'{name}' (DINOv2 models need multiples of 14); try {nearest}"
        )
