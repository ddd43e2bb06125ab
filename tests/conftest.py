"""Shared test settings: never reach a model hub; keep thread counts small."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SCIVIT_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
