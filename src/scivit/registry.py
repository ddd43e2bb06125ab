"""Registries: things found by name (backbones, heads, losses, simulators, transforms, recipes).

A registry maps names to objects, lists them, and turns an unknown name into an error that
suggests the closest valid one (in the manner of timm's `register_model` and MONAI's
`look_up_option`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from scivit.errors import ConfigError, unknown_name_message

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

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)
