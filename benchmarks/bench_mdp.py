"""Finite-MDP benchmarks (issue #4): exact evaluation at |S| = 50, |A| = 5 in Fractions and in
balls, and the largest exact trajectory enumeration that completes within 10 s.

Run:  python benchmarks/bench_mdp.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import random
import time
from fractions import Fraction

from bench_certified_gradient import machine
from results_file import main

from pgverify.mdp import (
    FiniteMDP,
    discounted_cost,
    enumeration_size,
    evaluate,
    exact_moments,
    softmax_policy,
)

SECTION = "## Finite MDPs: exact evaluation and trajectory enumeration (issue #4)"
BUDGET = 10.0


def random_mdp(states: int, actions: int, seed: int = 0) -> FiniteMDP:
    rng = random.Random(seed)

    def distribution(size: int) -> list[Fraction]:
        weights = [rng.randint(1, 9) for _ in range(size)]
        return [Fraction(w, sum(weights)) for w in weights]

    transitions = [[distribution(states) for _ in range(actions)] for _ in range(states)]
    costs = [
        [Fraction(rng.randint(-9, 9), rng.randint(1, 4)) for _ in range(actions)]
        for _ in range(states)
    ]
    return FiniteMDP.create(transitions, costs, Fraction(9, 10), distribution(states))


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def evaluation_times() -> list[tuple[str, float]]:
    mdp = random_mdp(50, 5)
    rng = random.Random(1)
    policy = [[Fraction(w, 15) for w in (1, 2, 3, 4, 5)] for _ in range(50)]
    logits = [[rng.uniform(-2, 2) for _ in range(5)] for _ in range(50)]

    def exact() -> None:
        evaluation = evaluate(mdp, policy)
        evaluation.cost()
        evaluation.visitation()

    def balls() -> None:
        evaluation = evaluate(mdp, softmax_policy(logits))
        evaluation.cost()
        evaluation.visitation()

    return [
        ("V, C and d, Fractions (fmpq), |S| = 50, |A| = 5", min(timed(exact) for _ in range(3))),
        (
            "V, C and d, 212-bit balls, softmax policy, |S| = 50, |A| = 5",
            min(timed(balls) for _ in range(3)),
        ),
    ]


def largest_enumerations() -> list[tuple[int, int, int, int, int, float]]:
    rows = []
    for states, actions, batch in [(2, 2, 1), (3, 2, 1), (3, 3, 1), (2, 2, 2)]:
        mdp = random_mdp(states, actions, seed=states * 10 + actions)
        policy = [[Fraction(1, actions)] * actions for _ in range(states)]
        best = None
        previous = None
        for horizon in range(0, 40):
            size = enumeration_size(mdp, horizon, batch)
            if previous is not None:
                predicted = previous[1] * size / previous[0]
                if predicted > 1.5 * BUDGET:
                    break

            def run(horizon=horizon, mdp=mdp, policy=policy, batch=batch) -> None:
                exact_moments(
                    mdp,
                    policy,
                    horizon,
                    lambda b: sum((discounted_cost(mdp, t) for t in b), Fraction(0)),
                    batch=batch,
                    limit=10**12,
                )

            seconds = timed(run)
            if seconds > BUDGET:
                break
            best = (states, actions, horizon, batch, size, seconds)
            previous = (size, seconds)
        if best:
            rows.append(best)
            print(best, flush=True)
    return rows


def render(times, enumerations) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_mdp.py --write`.",
        "",
        "| exact evaluation | time [s] (best of 3) |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.3f} |" for name, seconds in times]
    lines += [
        "",
        "Largest exact enumeration within 10 s (mean and variance of the discounted cost of a "
        "batch;",
        "uniform policy, so every branch has positive probability):",
        "",
        "| states | actions | horizon N | batch M | cases (bound) | time [s] |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {s} | {a} | {n} | {m} | {size:,} | {sec:.2f} |"
        for s, a, n, m, size, sec in enumerations
    ]
    lines.append("")
    return "\n".join(lines)


def run() -> tuple[list, list]:
    times = evaluation_times()
    print(times, flush=True)
    return times, largest_enumerations()


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, lambda results: render(*results))
