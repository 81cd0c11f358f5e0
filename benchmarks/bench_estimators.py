"""Returns and GAE reference throughput (issue #10): `discounted_returns` and `gae` on 10⁶ and
10⁷ transitions with episodes of random length, as one segment (1, N) and as a batch (16, N/16).
Target: ≥ 10⁶ transitions/s.

Run:  python benchmarks/bench_estimators.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from bench_certified_gradient import machine
from results_file import main

from pgverify.estimators import discounted_returns, gae

SECTION = "## Returns and GAE references: throughput (issue #10)"
TARGET = 1e6
ROUNDS = 3


def episode_flags(rows: int, steps: int, mean_length: float, rng: np.random.Generator):
    """(terminated, truncated): episode lengths geometric with the given mean (inf: no episode
    ends inside the segment); a third of the episode ends are truncations."""
    ends = rng.random((rows, steps)) < 1.0 / mean_length
    truncation = rng.random((rows, steps)) < 1.0 / 3.0
    return ends & ~truncation, ends & truncation


def best_time(function) -> float:
    function()  # the first call also pays for touching fresh memory
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def run() -> list[tuple[int, int, float, str, float]]:
    rng = np.random.default_rng(0)
    rows_out = []
    for transitions in (10**6, 10**7):
        for rows in (1, 16):
            for mean_length in (2.0, 20.0, 1000.0, np.inf):
                steps = transitions // rows
                shape = (rows, steps)
                costs, values = rng.normal(size=shape), rng.normal(size=shape)
                next_values = np.roll(values, -1, axis=1)
                terminated, truncated = episode_flags(rows, steps, mean_length, rng)
                cases = {
                    "discounted_returns": partial(
                        discounted_returns, costs, terminated | truncated, 0.99
                    ),
                    "gae": partial(
                        gae, costs, values, next_values, terminated, truncated, 0.99, 0.95
                    ),
                }
                for name, function in cases.items():
                    seconds = best_time(function)
                    row = (transitions, rows, mean_length, name, seconds)
                    print(row, f"{transitions / seconds:.3g}/s", flush=True)
                    rows_out.append(row)
    return rows_out


def render(results) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_estimators.py --write` (best of "
        f"{ROUNDS} after one warm-up call; the machine is shared, so figures vary by about 2x).",
        "",
        "Random costs and values; episode lengths geometric with the stated mean (inf: one "
        "episode per row), a third of the episode ends truncations; γ = 0.99, λ = 0.95. "
        "Input validation included.",
        "",
        "| transitions | layout (B, T) | mean episode length | function | time [s] | "
        "transitions/s |",
        "|---|---|---|---|---|---|",
    ]
    for transitions, rows, mean_length, name, seconds in results:
        lines.append(
            f"| {transitions:.0e} | ({rows}, {transitions // rows}) | {mean_length:g} | "
            f"`{name}` | {seconds:.3f} | {transitions / seconds:.3g} |"
        )
    slowest = min(transitions / seconds for transitions, _, _, _, seconds in results)
    verdict = "met" if slowest >= TARGET else "NOT met"
    lines += [
        "",
        f"Target ≥ 10⁶ transitions/s: slowest case {slowest:.3g}/s ({verdict}).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
