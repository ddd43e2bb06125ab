"""Run simulator shards in freshly spawned worker processes, in order.

Spawned, not forked: forking after pyFAI and sasmodels have started their thread pools can
deadlock. The workers start with `OMP_WAIT_POLICY=passive` unless the caller set a policy:
pyFAI's OpenMP geometry kernels run a parallel region per call, and with the default policy
their idle threads spin for the CPU the other worker needs, which made two workers on two cores
about three times slower per frame than one worker alone (`benchmarks/simulate_workers.py`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

Task = TypeVar("Task")
Result = TypeVar("Result")

WORKER_ENVIRONMENT = {"OMP_WAIT_POLICY": "passive"}


def parallel_map(
    function: Callable[[Task], Result], tasks: Sequence[Task], workers: int
) -> Iterator[Result]:
    """`function` over `tasks`, results in task order; in `workers` processes when > 1."""
    if workers == 1 or len(tasks) <= 1:
        yield from map(function, tasks)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        with worker_environment():
            results = pool.map(function, tasks)
        yield from results


@contextmanager
def worker_environment() -> Iterator[None]:
    """`WORKER_ENVIRONMENT` for processes spawned inside; variables already set are kept."""
    added = [name for name in WORKER_ENVIRONMENT if name not in os.environ]
    os.environ.update({name: WORKER_ENVIRONMENT[name] for name in added})
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
