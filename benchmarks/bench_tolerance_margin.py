"""How much of the tolerance right float64 Lyapunov solvers use: the worst error / tolerance of
``check_lyapunov_solver`` over ten 1000-case campaigns (seeds 0–8 and 2026) per solver.  The
figure docs/checks.md quotes ("How a result is judged") comes from here.

Run:  python benchmarks/bench_tolerance_margin.py [--write]
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import scipy.linalg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_certified_gradient import machine
from results_file import main

from pgverify.checks import check_lyapunov_solver

SECTION = "## pgverify.checks: tolerance used by right Lyapunov solvers (1000-case campaigns)"
SEEDS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 2026)


def kronecker(A: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """P = Q + AᵀPA as (I − Aᵀ ⊗ Aᵀ) vec P = vec Q, solved by LU (column-major vec)."""
    n = A.shape[0]
    system = np.eye(n * n) - np.kron(A.T, A.T)
    return np.linalg.solve(system, Q.reshape(-1, order="F")).reshape(n, n, order="F")


SOLVERS = {
    "scipy solve_discrete_lyapunov(A.T, Q), method='direct'": lambda A, Q: (
        scipy.linalg.solve_discrete_lyapunov(A.T, Q, method="direct")
    ),
    "scipy solve_discrete_lyapunov(A.T, Q), method='bilinear'": lambda A, Q: (
        scipy.linalg.solve_discrete_lyapunov(A.T, Q, method="bilinear")
    ),
    "numpy LU on the Kronecker system": kronecker,
}


def run() -> list[tuple[str, list[float], float]]:
    rows = []
    for label, solver in SOLVERS.items():
        start = time.perf_counter()
        ratios = [
            check_lyapunov_solver(solver, max_examples=1000, seed=seed).worst_ratio
            for seed in SEEDS
        ]
        rows.append((label, ratios, time.perf_counter() - start))
    return rows


def render(rows: list[tuple[str, list[float], float]]) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {date.today()} by "
        "`python benchmarks/bench_tolerance_margin.py --write`: `check_lyapunov_solver` with "
        f"max_examples=1000 at seeds {', '.join(map(str, SEEDS))} (1007 cases each, no "
        "failure).",
        "",
        "| solver | worst error / tolerance (max over seeds) | median over seeds | time [s] |",
        "|---|---|---|---|",
    ]
    for label, ratios, seconds in rows:
        lines.append(
            f"| {label} | {max(ratios):.3g} | {float(np.median(ratios)):.3g} | {seconds:.0f} |"
        )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    main(__doc__, SECTION, run, render)
