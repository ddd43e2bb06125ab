"""Registries: things found by name (backbones, heads, losses, simulators, transforms, recipes).

A registry maps names to objects, lists them, and turns an unknown name into an error that
suggests the closest valid one (in the manner of timm's `register_model` and MONAI's
`look_up_option`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from scivit.errors import ConfigError, closest, unknown_name_message

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of objects of one kind.

    Args:
        kind: what the entries are, used in error messages ("backbone", "loss", ...).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, obj: T) -> T:
        """Register `obj` under `name`; a name can be registered only once."""
        if name in self._entries:
            raise ValueError(f"{self.kind} '{name}' is already registered")
        self._entries[name] = obj
        return obj

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator form of `add`; the name defaults to the object's `__name__`."""

        def decorate(obj: T) -> T:
            return self.add(name or obj.__name__, obj)  # type: ignore[attr-defined]

        return decorate

    def get(self, name: str) -> T:
        """Return the entry called `name`, or raise a ConfigError naming the closest one."""
        try:
            return self._entries[name]
        except KeyError:
            raise ConfigError(unknown_name_message(self.kind, name, self._entries)) from None

    def build(self, name: str, *args: Any, **options: Any) -> Any:
        """Call the entry `name` with `args` and keyword `options`, checked by `check_options`."""
        factory = self.get(name)
        check_options(factory, options, f"{self.kind} '{name}'", given=len(args))
        return factory(*args, **options)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


def check_options(
    factory: Callable[..., Any], options: Iterable[str], what: str, given: int = 0
) -> None:
    """Unknown keyword options (with the closest valid name) and missing required ones become
    one-line ConfigErrors; the first `given` parameters are supplied positionally by the caller."""
    parameters = list(inspect.signature(factory).parameters.values())[given:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return
    names = [p.name for p in parameters]
    options = set(options)
    for key in sorted(options):
        if key not in names:
            guess = closest(key, names)
            hint = f"; did you mean '{guess}'?" if guess else f"; options: {', '.join(names)}"
            raise ConfigError(f"{what}: unknown option '{key}'{hint}")
    for parameter in parameters:
        if parameter.default is inspect.Parameter.empty and parameter.name not in options:
            raise ConfigError(f"{what}: missing option '{parameter.name}'")
