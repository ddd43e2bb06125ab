"""Turn the exceptions of third-party format parsers into one-line `ReadError`s.

fabio, tifffile, h5py, NumPy and Pillow report a malformed file with many exception types
(OSError, ValueError, struct.error, KeyError, UnicodeDecodeError, ...), depending on where in
the bytes the parser gives up. Around every call into a parser, any such exception becomes a
`ReadError` naming the file; scivit's own errors pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scivit.errors import ReadError, ScivitError


@contextmanager
def parser_errors(path: Path) -> Iterator[None]:
    """Re-raise any parser failure inside the block as a ReadError naming `path`."""
    try:
        yield
    except ScivitError:
        raise
    except Exception as err:
        raise ReadError(f"{path}: cannot read file ({describe(err)})") from err


def describe(err: BaseException) -> str:
    """`Type: first line of the message`, short enough for a one-line error."""
    lines = str(err).strip().splitlines()
    text = lines[0][:200] if lines else ""
    return f"{type(err).__name__}: {text}" if text else type(err).__name__
