"""Simulator worker processes: results in task order, OpenMP threads told to wait passively."""

from __future__ import annotations

import os

import pytest

from scivit.simulate.parallel import parallel_map


@pytest.mark.parametrize(
    ("caller_policy", "worker_policy"), [(None, "passive"), ("active", "active")]
)
def test_workers_wait_passively_unless_the_caller_chose(monkeypatch, caller_policy, worker_policy):
    if caller_policy is None:
        monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    else:
        monkeypatch.setenv("OMP_WAIT_POLICY", caller_policy)
    names = ["OMP_WAIT_POLICY", "SCIVIT_NOT_SET", "OMP_WAIT_POLICY"]
    assert list(parallel_map(os.getenv, names, workers=2)) == [worker_policy, None, worker_policy]
    assert os.environ.get("OMP_WAIT_POLICY") == caller_policy


def test_one_worker_runs_in_this_process_in_order():
    assert list(parallel_map(abs, [-3, 2, -1], workers=1)) == [3, 2, 1]
