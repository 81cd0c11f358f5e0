"""Learned critics and covariance estimates (issue #10): transitions per second of `lstd` (λ = 0
and 0.9), one sweep of batch `td0`, `td_actor_critic` and `state_covariance_estimate`, with the
quadratic features of LQR (n = 4, p = 11) and one-hot features (S = 50); and the cost of the
exact population LSTD (`pgverify.expectation.population_lstd`: nodes and time).

Run:  python benchmarks/bench_critics.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import time
from functools import partial

import numpy as np
from bench_certified_gradient import machine
from results_file import main

from pgverify import LQR
from pgverify.estimators import (
    lstd,
    one_hot_features,
    quadratic_value_features,
    state_covariance_estimate,
    td0,
    td_actor_critic,
)
from pgverify.expectation import lqr_expectation, population_lstd

SECTION = "## Learned critics and covariance estimates: throughput (issue #10)"
ROUNDS = 3


def best_time(function) -> float:
    function()
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def throughput() -> list[tuple[str, str, int, float]]:
    rng = np.random.default_rng(0)
    rows = []

    def record(layout: str, name: str, transitions: int, function) -> None:
        seconds = best_time(function)
        rows.append((layout, name, transitions, seconds))
        print(rows[-1], f"{transitions / seconds:.3g}/s", flush=True)

    for transitions in (10**5, 10**6):
        rollouts, steps = transitions // 100, 100
        states = rng.standard_normal((rollouts, steps + 1, 4))
        costs = rng.random((rollouts, steps))
        tabular = rng.integers(0, 50, (rollouts, steps + 1))
        layouts = {
            "quadratic, n = 4 (p = 11)": partial(quadratic_value_features, states),
            "one-hot, S = 50": partial(one_hot_features, tabular, 50),
        }
        for layout, featurise in layouts.items():
            features = featurise()
            record(layout, "features", transitions, featurise)
            record(layout, "lstd, λ = 0", transitions, partial(lstd, features, costs, 0.99))
            record(layout, "lstd, λ = 0.9", transitions, partial(lstd, features, costs, 0.99, 0.9))
            record(layout, "td0, 1 sweep", transitions, partial(td0, features, costs, 0.99, 1e-3))
        scores = rng.standard_normal((rollouts, steps, 2, 4))
        values = rng.standard_normal((rollouts, steps + 1))
        record(
            "-",
            "td_actor_critic, (m, n) = (2, 4)",
            transitions,
            partial(td_actor_critic, scores, costs, values, 0.99),
        )
        record(
            "-",
            "state_covariance_estimate, n = 4",
            transitions,
            partial(state_covariance_estimate, states[:, :steps], 0.99),
        )
    return rows


def population_cost() -> list[tuple[int, int, int, int, float]]:
    rows = []
    for n, m in ((1, 1), (2, 1), (2, 2)):
        problem = LQR(
            np.eye(n) * 0.5 + np.eye(n, k=1) * 0.25,
            np.eye(n, m),
            np.eye(n),
            np.eye(m),
            gamma=0.9,
            noise=0.25,
        )
        K = np.full((m, n), 0.125)
        for steps in (1, 2, 3):
            nodes = lqr_expectation(problem, K, steps, lambda s, a, c: c.sum(), 4).nodes
            start = time.perf_counter()
            population_lstd(problem, K, steps, 0.5)
            rows.append((n, m, steps, nodes, time.perf_counter() - start))
            print(rows[-1], flush=True)
    return rows


def run():
    return throughput(), population_cost()


def render(results) -> str:
    speeds, population = results
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_critics.py --write` (best of "
        f"{ROUNDS} after one warm-up call; the machine is shared, so figures vary by about 2x).",
        "",
        "Rollouts of 100 transitions (M = transitions / 100), random states and costs, γ = 0.99; "
        "input validation included. `td0` is one sweep (every transition read once); LSTD "
        "includes forming Â, b̂ and the solve.",
        "",
        "| features | function | transitions | time [s] | transitions/s |",
        "|---|---|---|---|---|",
    ]
    for layout, name, transitions, seconds in speeds:
        lines.append(
            f"| {layout} | `{name}` | {transitions:.0e} | {seconds:.3f} | "
            f"{transitions / seconds:.3g} |"
        )
    lines += [
        "",
        "Exact population LSTD(0.5) (`population_lstd`: degree-4 rational cubature of the LSTD "
        "statistics, then an exact solve), A = 0.5 I + 0.25 (superdiagonal), γ = 0.9, σ = 0.25:",
        "",
        "| n | m | steps T | nodes | time [s] |",
        "|---|---|---|---|---|",
    ]
    for n, m, steps, nodes, seconds in population:
        lines.append(f"| {n} | {m} | {steps} | {nodes:,} | {seconds:.2f} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
