"""Timing and peak-memory helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def timed(run: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """Median wall time of `rounds` runs, and the last run's result."""
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def peak_mib(run: Callable[[], object]) -> float:
    """Peak Python allocation of one run, in MiB (tracemalloc)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
