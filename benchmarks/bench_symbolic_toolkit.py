"""Time of `pgverify.symbolic.prove` on the guide's worked example (issue #12, item 5): the
derivative of C(θK0) against 2 tr(K0ᵀ E_K Σ_K), with P_K and Σ_K solved symbolically, and the
exact zero test it uses (common denominators by exponents, no gcd) against sympy's fraction field.

Run:  python benchmarks/bench_symbolic_toolkit.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import multiprocessing
import time

import sympy
from bench_certified_gradient import machine
from results_file import main

from pgverify.symbolic import prove, symbolic_lqr
from pgverify.symbolic.core import _vanishes
from pgverify.symbolic.rational import vanishes_rationally

SECTION = "## Symbolic toolkit: prove on the guide's example (issue #12)"
FRACTION_FIELD_TIMEOUT = 120.0
CASES = [(1, 1, False), (2, 1, False), (2, 1, True)]


def example(n: int, m: int, noisy: bool):
    lqr = symbolic_lqr(n, m, discounted=noisy, noisy=noisy)
    K0 = lqr.gain("k")
    theta = sympy.Symbol("theta")
    K = theta * K0
    derivative = sympy.diff(lqr.cost(K), theta)
    claim = 2 * (K0.T * lqr.E(K) * lqr.state_covariance(K)).trace()
    return lqr, K, derivative, claim


def _fraction_field(n: int, m: int, noisy: bool) -> None:
    _, _, derivative, claim = example(n, m, noisy)
    residual = derivative - claim
    _vanishes(residual, sorted(residual.free_symbols, key=str))


def time_fraction_field(n: int, m: int, noisy: bool) -> float | None:
    """Seconds of sympy's fraction-field zero test in a child process; None past the timeout."""
    start = time.perf_counter()
    child = multiprocessing.Process(target=_fraction_field, args=(n, m, noisy))
    child.start()
    child.join(FRACTION_FIELD_TIMEOUT)
    if child.is_alive():
        child.terminate()
        child.join()
        return None
    return time.perf_counter() - start


def run() -> list[tuple]:
    rows = []
    for n, m, noisy in CASES:
        start = time.perf_counter()
        lqr, K, derivative, claim = example(n, m, noisy)
        built = time.perf_counter() - start
        start = time.perf_counter()
        verdict = prove(derivative, claim, lqr.domain(K)).verdict
        proved = time.perf_counter() - start
        start = time.perf_counter()
        refuted = prove(derivative, claim / 2, lqr.domain(K)).verdict
        refuting = time.perf_counter() - start
        residual = derivative - claim
        start = time.perf_counter()
        vanishes_rationally(residual, sorted(residual.free_symbols, key=str))
        rational = time.perf_counter() - start
        field = time_fraction_field(n, m, noisy)
        rows.append((n, m, noisy, built, verdict, proved, refuted, refuting, rational, field))
        print(rows[-1], flush=True)
    return rows


def render(rows) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_symbolic_toolkit.py --write` (one run each, sympy "
        f"{sympy.__version__}).",
        "",
        "| n, m | discounted, noisy | build [s] | prove (true) [s] | prove (wrong: refuted) [s] "
        "| zero test, exponents [s] | zero test, sympy fraction field [s] |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, m, noisy, built, verdict, proved, refuted, refuting, rational, field in rows:
        shown = "yes" if noisy else "no"
        stopped = f"> {FRACTION_FIELD_TIMEOUT:.0f} (stopped)"
        field_text = stopped if field is None else f"{field:.2f}"
        lines.append(
            f"| {n}, {m} | {shown} | {built:.2f} | {proved:.2f} ({verdict}) | "
            f"{refuting:.2f} ({refuted}) | {rational:.2f} | {field_text} |"
        )
    lines += [
        "",
        "Build: P_K, Σ_K solved by Cramer's rule and C(θK0) differentiated by sympy.  The "
        "fraction-field column includes the build (run in a child process).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
