"""A self-contained HTML evaluation report: metrics, per-label table, figures, example frames.

Images are embedded as base64 PNG so the single file can be mailed or archived as is.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scivit.fileio import atomic_open

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3} td.name{text-align:left}
.examples{display:flex;flex-wrap:wrap;gap:12px}
.ex{width:190px;font-size:11px} .ex img{width:180px;height:180px;object-fit:contain}
.tp{color:#17803d} .fp{color:#c0392b} .fn{color:#888;text-decoration:line-through}
img.fig{max-width:100%}
"""


@dataclass
class Example:
    """One frame shown in the report with its true and predicted labels."""

    title: str
    png: bytes
    truth: Sequence[str]
    predicted: Sequence[str]


def _img(png: bytes, css: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{css}" src="data:image/png;base64,{data}">'


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="name">{_fmt(c)}</td>' if i == 0 else f"<td>{_fmt(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _example_html(example: Example) -> str:
    truth, predicted = set(example.truth), set(example.predicted)
    tags = [f'<span class="tp">{html.escape(t)}</span>' for t in sorted(truth & predicted)]
    tags += [f'<span class="fp">{html.escape(t)}</span>' for t in sorted(predicted - truth)]
    tags += [f'<span class="fn">{html.escape(t)}</span>' for t in sorted(truth - predicted)]
    return (
        f'<div class="ex">{_img(example.png)}<br><b>{html.escape(example.title)}</b><br>'
        f"{', '.join(tags) or '<i>no tags</i>'}</div>"
    )


def write_report(
    path: str | Path,
    title: str,
    summary: dict[str, Any],
    headline: dict[str, Any],
    per_label_header: Sequence[str],
    per_label_rows: Sequence[Sequence[Any]],
    figures: Sequence[Path],
    examples: Sequence[Example],
) -> Path:
    """Write the report atomically and return its path."""
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        _table(["run", ""], list(summary.items())),
        "<h2>Metrics</h2>",
        _table(["metric", "value"], list(headline.items())),
        "<h2>Per label</h2>",
        _table(per_label_header, per_label_rows),
        "<h2>Figures</h2>",
    ]
    parts += [
        f"<h3>{html.escape(fig.stem.replace('_', ' '))}</h3>{_img(fig.read_bytes(), 'fig')}"
        for fig in figures
    ]
    parts.append(
        "<h2>Example frames</h2><p><span class='tp'>correct</span> · "
        "<span class='fp'>false positive</span> · <span class='fn'>missed</span></p>"
    )
    parts.append('<div class="examples">' + "".join(map(_example_html, examples)) + "</div>")
    parts.append("</body></html>")
    with atomic_open(path) as handle:
        handle.write("\n".join(parts))
    return Path(path)
