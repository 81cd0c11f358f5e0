"""Benchmark: precision across scales, and the high-precision tier's speed (issue #8).

1. Soundness and precision at extreme scales: a 3-state system (Dean et al. 2017) whose Q, R
   and Σ0 are scaled by 2^k, k in {−1000, 0, +1000}, at 212 and 1100 bits, through both certified
   engines: certified digits of ∇C(K) and whether the exact rational value (Kronecker systems over
   the rationals, ``tests/exact_lqr.py``) lies inside.  Before the Magnitude radii, the BLAS
   engine returned radius-0 balls excluding the truth at 2^-1000 and at 1100 bits, and both
   engines stalled near 1e-323 absolute accuracy.
2. The high-precision tier, ``precision=30``, vs the certified tier for ∇C(K) at n = 30 (target
   ≤ 0.1 s; with mpmath matrices throughout it took 0.46 s on this machine, 1.1 s in the issue).

Run:  python benchmarks/bench_scales.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from flint import arb, arb_mat, ctx
from results_file import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pgverify import LQR, Certified
from pgverify.lqr.examples import random_stabilisable_system
from tests.exact_lqr import exact_lqr, to_balls

SECTION = "## Certified precision across scales; high-precision tier speed (issue #8)"
DEAN_A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])


def certified_digits(enclosure) -> int:
    """Normwise certified decimal digits, log10(max |mid| / max rad), from the balls."""
    entries = enclosure.ball.entries()
    with ctx.workprec(64):
        radius = max(entry.rad() for entry in entries)
        size = max(abs(entry.mid()) for entry in entries)
        return int(float((size / radius).log() / arb(10).log()))


def best_time(problem: LQR, K: np.ndarray, precision, repeats: int = 5) -> float:
    """Best time of ``gradient(K, precision)`` on fresh copies of the problem (an LQR caches
    its evaluations at a gain, so a repeated call on one object would time the cache)."""
    best = np.inf
    for _ in range(repeats):
        fresh = LQR(problem.A, problem.B, problem.Q, problem.R, problem.Sigma0)
        start = time.perf_counter()
        fresh.gradient(K, precision=precision)
        best = min(best, time.perf_counter() - start)
    return best


def run() -> dict:
    rows = []
    K = 0.5 * np.eye(3)
    for exponent in (-1000, 0, 1000):
        weight = np.ldexp(np.eye(3), exponent)
        problem = LQR(DEAN_A, np.eye(3), 1e-3 * weight, weight, weight)
        exact = exact_lqr(problem, K).gradient
        for bits in (212, 1100):
            for engine in ("arb", "blas"):
                gradient = problem.gradient(K, Certified(bits=bits, engine=engine))
                with ctx.workprec(8000):
                    inside = bool(arb_mat(gradient.ball).contains(to_balls(exact, 8000)))
                rows.append((exponent, bits, engine, certified_digits(gradient), inside))
    problem, K30 = random_stabilisable_system(30, 15, 0)
    timings = {
        "high-precision (30 digits)": best_time(problem, K30, 30),
        "certified (212 bits)": best_time(problem, K30, "certified"),
    }
    return {"rows": rows, "timings": timings}


def render(results: dict) -> str:
    machine = (
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )
    lines = [
        SECTION,
        "",
        f"Machine: {machine}. Recorded by `python benchmarks/bench_scales.py --write`.",
        "",
        "Dean et al. system, K = 0.5 I, Q = 1e-3·2^k I, R = Σ0 = 2^k I:",
        "",
        "| k | bits | engine | certified digits of ∇C | contains the exact value |",
        "|---|---|---|---|---|",
    ]
    for exponent, bits, engine, digits, inside in results["rows"]:
        lines.append(f"| {exponent} | {bits} | {engine} | {digits} | {inside} |")
    lines += [
        "",
        "∇C(K) at n = 30, m = 15 (best of 5; target for the high-precision tier ≤ 0.1 s):",
        "",
    ]
    lines += ["| tier | time [s] |", "|---|---|"]
    for name, seconds in results["timings"].items():
        lines.append(f"| {name} | {seconds:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
