"""Header metadata as plain Python values (str, int, float, bool, short tuples).

Detector headers arrive as fabio string dicts, TIFF tags, HDF5 attributes (numpy scalars,
bytes, arrays) or Pillow info dicts. Everything in `Frame.meta` is turned into plain values so
that it can be printed, compared, and saved as JSON or YAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

import numpy as np

MAX_TEXT = 2048
MAX_ITEMS = 16

Plain = str | int | float | bool | tuple


def plain_value(value: Any) -> Plain | None:
    """Return `value` as a plain str/num (or a short tuple of them); None when it is not data."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, bytes | np.bytes_):
        return _plain_bytes(bytes(value))
    if isinstance(value, str | bool | int | float):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, np.generic):
        return plain_value(value.item())
    if isinstance(value, np.ndarray | list | tuple):
        return _plain_sequence(np.asarray(value, dtype=object))
    return None


def plain_header(items: Iterable[tuple[Any, Any]]) -> dict[str, Plain]:
    """Plain `{str: value}` from (key, value) pairs, dropping values that are not data."""
    header: dict[str, Plain] = {}
    for key, value in items:
        plain = plain_value(value)
        if plain is not None:
            header[str(key)] = plain
    return header


def _plain_bytes(value: bytes) -> str | None:
    try:
        return value.decode("utf-8").rstrip("\x00")[:MAX_TEXT]
    except UnicodeDecodeError:
        return None


def _plain_sequence(array: np.ndarray) -> Plain | None:
    if array.size == 1:
        return plain_value(array.reshape(-1)[0])
    if array.size > MAX_ITEMS:
        return f"array{tuple(array.shape)}"
    items = tuple(plain_value(item) for item in array.reshape(-1))
    if any(item is None or isinstance(item, tuple) for item in items):
        return None
    return items
