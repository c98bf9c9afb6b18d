"""Timing for the token_agent benchmarks: medians of alternating runs, printed beside the baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def compare(title: str, runs: dict[str, Callable[[], object]], rounds: int, target: str) -> dict[str, float]:
    """Warm every run once, time them alternately ``rounds`` times, print and return the medians (seconds).

    ``runs`` names token_agent's run first and the baseline second; ``target`` is printed with the ratio.
    """
    for run in runs.values():
        run()
    timings: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            timings[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"{title}, median of {rounds}:")
    for name, seconds in medians.items():
        print(f"  {name:<14} {seconds * 1000:8.1f} ms")
    agent, baseline = medians.values()
    print(f"  {'ratio':<14} {agent / baseline:8.2f}×  (target: {target})")
    return medians
