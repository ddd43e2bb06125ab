"""One typed configuration mechanism: pydantic models filled from YAML plus dotted overrides.

Every section of a recipe is a `StrictModel` (unknown keys are errors). `load_config` reads a
YAML file, applies `key.sub=value` overrides, validates, and turns validation failures into one
line that names the key and suggests the closest valid one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from scivit.errors import ConfigError, closest

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config section: unknown keys are rejected, values are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, raising a ConfigError that names the file on any problem."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: recipe file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: a recipe must be a mapping of sections, got {type(data).__name__}"
        )
    return data


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split `a.b.c=value` into (['a','b','c'], value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override '{text}' must look like section.key=value")
    return key.strip().split("."), parse_scalar(raw)


def parse_scalar(raw: str) -> Any:
    """Parse a command-line value as YAML, also reading `1e-3` as a number (YAML 1.1 does not)."""
    if not raw.strip():
        return None
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        return raw
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of `data` with every dotted override set (intermediate mappings created).

    A name given as a plain string (`train.strategy=deepspeed`) followed by one of its options
    (`train.strategy.zero_stage=3`) becomes the mapping `{name: deepspeed, zero_stage: 3}`.
    """
    result = _deep_copy(data)
    for text in overrides:
        keys, value = parse_override(text)
        node = result
        for key in keys[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = {"name": child} if isinstance(child, str) else {}
                node[key] = child
            node = child
        node[keys[-1]] = value
    return result


KIND_KEYS = ("name", "type")


def merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge `update` into a copy of `base`: mappings merge, everything else replaces.

    A nested mapping that names another kind of thing than the base's (a different `name`,
    such as head `linear` for `mlp`, or `type`, such as a categorical search-space entry for an
    int one) replaces the base's mapping, so no option of the old kind is left behind.
    """
    result = _deep_copy(base)
    for key, value in update.items():
        current = result.get(key)
        if isinstance(value, dict) and isinstance(current, dict) and _same_kind(current, value):
            result[key] = merge(current, value)
        else:
            result[key] = _deep_copy(value)
    return result


def _same_kind(base: dict[str, Any], update: dict[str, Any]) -> bool:
    """False when `base` and `update` both set a kind key (`name`, `type`) and differ in it."""
    return not any(key in base and key in update and base[key] != update[key] for key in KIND_KEYS)


def validate(model: type[M], data: dict[str, Any], source: str = "config") -> M:
    """Build `model` from `data`; the first problem becomes a one-line ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe_validation_error(model, err, source)) from None


def load_config(
    model: type[M], path: str | Path | None = None, overrides: list[str] | None = None
) -> M:
    """Read `path` (optional), apply `overrides`, and validate into `model`."""
    data = read_yaml(path) if path is not None else {}
    data = apply_overrides(data, overrides or [])
    return validate(model, data, str(path) if path is not None else "config")


def describe_validation_error(model: type[BaseModel], err: ValidationError, source: str) -> str:
    """One line for the first validation error, naming the dotted key (and a suggestion)."""
    first = err.errors()[0]
    location = [str(part) for part in first["loc"]]
    key = ".".join(location)
    if first["type"] == "extra_forbidden":
        valid = _fields_at(model, location[:-1])
        guess = closest(location[-1], valid)
        hint = f"; did you mean '{'.'.join([*location[:-1], guess])}'?" if guess else ""
        return f"{source}: unknown key '{key}'{hint}"
    if not location:  # a check across sections names its keys itself
        return f"{source}: {first['msg'].removeprefix('Value error, ')}"
    return f"{source}: invalid value for '{key}': {first['msg']}"


def _fields_at(model: type[BaseModel], path: list[str]) -> list[str]:
    """Field names of the nested model reached by following `path` from `model`."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_type(fields[part].annotation)
    return list(getattr(current, "model_fields", {}))


def _model_type(annotation: Any) -> Any:
    """The BaseModel class inside an annotation such as `Foo | None`, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_type(arg)
        if found is not None:
            return found
    return None


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value
