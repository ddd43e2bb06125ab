"""Precision selection."""

import pytest

from scivit.errors import ConfigError
from scivit.tasks.hardware import resolve_precision


def test_explicit_precision_passes_through():
    assert resolve_precision("bf16-mixed") == "bf16-mixed"


def test_auto_on_cpu_follows_matrix_units(monkeypatch):
    from scivit.tasks import hardware

    monkeypatch.setattr(hardware, "cpu_has_bf16_matrix_units", lambda: False)
    assert resolve_precision("auto", accelerator="cpu") == "32-true"
    monkeypatch.setattr(hardware, "cpu_has_bf16_matrix_units", lambda: True)
    assert resolve_precision("auto", accelerator="cpu") == "bf16-mixed"


def test_unknown_precision_is_an_error():
    with pytest.raises(ConfigError, match="train.precision 'fp8'"):
        resolve_precision("fp8")
