"""The beam centre a detector image's text header records, in pixels.

- PILATUS/EIGER mini-CBF headers (`_array_data.header_contents`) carry a line
  ``# Beam_xy (x, y) pixels``; fabio keeps that text but parses it only for files that declare
  the PILATUS_1.2 convention, so the line is read here for every CBF.
- ESRF EDF headers of SAXS beamlines (ID02 convention) carry ``Center_1`` and ``Center_2``:
  the point of normal incidence along the fast (x) and slow (y) axes in pixel coordinates whose
  first pixel spans [0, 1), so its centre, pixel index 0 here, is 0.5 there.

The centre lands in the frame's header as `beam_center_x` / `beam_center_y` (x = column, y =
row); a header without one, or with a value that is not a finite number, adds nothing.
"""

from __future__ import annotations

import math
import re
from typing import Any

BEAM_XY = re.compile(r"Beam_xy\s*\(\s*([^,\s]+)\s*,\s*([^)\s]+)\s*\)\s*pixels", re.IGNORECASE)
EDF_PIXEL_ORIGIN = 0.5


def header_beam_center(header: dict[str, Any]) -> dict[str, float]:
    """`{"beam_center_x": x, "beam_center_y": y}` from a CBF or EDF header, or `{}`."""
    found = _pilatus_beam_xy(header) or _edf_center(header)
    if found is None:
        return {}
    return {"beam_center_x": found[0], "beam_center_y": found[1]}


def _pilatus_beam_xy(header: dict[str, Any]) -> tuple[float, float] | None:
    contents = header.get("_array_data.header_contents")
    match = BEAM_XY.search(contents) if isinstance(contents, str) else None
    return _finite_pair(match.group(1), match.group(2)) if match else None


def _edf_center(header: dict[str, Any]) -> tuple[float, float] | None:
    pair = _finite_pair(header.get("Center_1"), header.get("Center_2"))
    if pair is None:
        return None
    return pair[0] - EDF_PIXEL_ORIGIN, pair[1] - EDF_PIXEL_ORIGIN


def _finite_pair(x: Any, y: Any) -> tuple[float, float] | None:
    try:
        pair = float(x), float(y)
    except (TypeError, ValueError):
        return None
    return pair if all(math.isfinite(value) for value in pair) else None
