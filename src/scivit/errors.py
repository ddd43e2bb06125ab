"""User-facing errors: one clear line that names the file or key and what is wrong.

Every error a user can cause (a bad file, an unknown recipe key, a wrong label) is raised as a
`ScivitError` subclass. The CLI prints its message on one line and exits non-zero; anything
else is a bug and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

OnError = Literal["skip", "fail"]
"""What a bulk job does with an input it cannot read: report it and go on, or stop."""


class ScivitError(Exception):
    """Base class of errors caused by user input; the message is shown without a traceback."""


class ReadError(ScivitError):
    """A file could not be read or holds unusable data."""


class ConfigError(ScivitError):
    """A recipe, override or option is invalid."""


class DataError(ScivitError):
    """A manifest, label vocabulary or split is invalid."""


class ModelError(ScivitError):
    """A model cannot be built or its weights cannot be loaded."""


def closest(name: str, options: Iterable[str]) -> str | None:
    """Return the option that looks most like `name`, or None when nothing is close."""
    options = list(options)
    lowered = {option.lower(): option for option in options}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[matches[0]] if matches else None


def unknown_name_message(kind: str, name: str, options: Iterable[str]) -> str:
    """Message for an unknown name that suggests the closest valid one."""
    options = sorted(options)
    guess = closest(name, options)
    if guess is not None:
        return f"unknown {kind} '{name}'; did you mean '{guess}'?"
    shown = ", ".join(options[:12]) + (" ..." if len(options) > 12 else "")
    return f"unknown {kind} '{name}'; valid: {shown}"
