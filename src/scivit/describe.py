"""Human-readable text for `scivit inspect`: what the reader sees in a file."""

from __future__ import annotations

from typing import Any

FIRST_KEYS = (
    "path",
    "format",
    "n_frames",
    "shape",
    "dtype",
    "min",
    "max",
    "mean",
    "std",
    "invalid_pixels",
)


def _value(value: Any, width: int = 100) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_inspection(info: dict[str, Any]) -> str:
    """Main facts first, then datasets and header entries, one per line."""
    lines = [f"{key}: {_value(info[key])}" for key in FIRST_KEYS if key in info]
    for key, value in info.items():
        if key in FIRST_KEYS:
            continue
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}:")
            lines += [
                "  " + ", ".join(f"{k}={_value(v, 40)}" for k, v in item.items()) for item in value
            ]
        else:
            lines.append(f"{key}: {_value(value)}")
    return "\n".join(lines) + "\n"
