"""Iterations and time for PG, NPG, Gauss–Newton and policy iteration to reach
C(K) − C(K*) ≤ 1e-10 on the built-in systems of `pgverify report` (issue #11).

Each method runs in float64 from the system's gain with the step its theorem allows
(:mod:`pgverify.lqr.iterations`; GN also at α = ¼), stopping at the first iterate whose float64
gap is ≤ 1e-10 or after MAX_STEPS steps; the reached iterate's gap is then confirmed in certified
arithmetic (its enclosure's upper end must be ≤ 1e-10).

Run:  python benchmarks/bench_iterations.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import math
import time

from bench_certified_gradient import machine
from flint import ctx
from results_file import main

from pgverify.lqr import iterations
from pgverify.precision import DEFAULT_CERTIFIED_BITS
from pgverify.report import builtin_systems

SECTION = "## Iterations to a cost gap of 1e-10: PG, NPG, GN, PI (issue #11)"
TARGET_GAP = 1e-10
MAX_STEPS = 2000
VARIANTS = [("pg", None), ("npg", None), ("gn", 0.5), ("gn", 0.25), ("pi", None)]


def certified_gap_upper(problem, gain) -> float:
    with ctx.workprec(DEFAULT_CERTIFIED_BITS):
        gap = problem.cost(gain, "certified").ball - problem.optimal_cost("certified").ball
        return float(gap.upper())


def run() -> list[tuple]:
    rows = []
    for system in builtin_systems():
        problem = system.problem
        constants = iterations.theorem_constants(problem)
        for method, alpha in VARIANTS:
            start = time.perf_counter()
            result = iterations.run_iterations(
                problem,
                method,
                system.gain,
                alpha,
                steps=MAX_STEPS,
                gap_tolerance=TARGET_GAP,
                constants=constants,
            )
            seconds = time.perf_counter() - start
            steps = len(result.gains) - 1
            reached = result.gaps[-1] <= TARGET_GAP
            certified = certified_gap_upper(problem, result.gains[-1]) if reached else None
            first_alpha = result.alphas[0] if result.alphas else None
            rate = result.rates[0] if result.rates else 1.0
            promised = (
                math.ceil(math.log(result.gaps[0] / TARGET_GAP) / -math.log(rate))
                if rate < 1.0
                else math.inf
            )
            final_gap = certified if reached else float(result.gaps[-1])
            row = (system.name, method, first_alpha, steps, reached, seconds, final_gap, promised)
            rows.append(row)
            print(row, flush=True)
    return rows


def render(results) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_iterations.py --write` (one run each, float64 iterations "
        "including the per-step stability check; the machine is shared, so times vary by ~2x).",
        "",
        "Step sizes from the theorems (Fazel, Ge, Kakade & Mesbahi 2018; docs/convergence.md): PG "
        "the one-step lemma's bound recomputed at every iterate (α below: at K₀), NPG "
        "½/(‖R‖ + ‖B‖²C(K₀)/μ), GN ½ (= PI) and ¼.  'not reached' = gap still above 1e-10 after "
        f"{MAX_STEPS} steps.  Final gap: the upper end of the certified enclosure of the reached "
        "iterate's gap (float64 when not reached).  Theorem's count: the iterations the proven "
        "linear rate ρ of the first step guarantees, ⌈log(gap₀/1e-10)/(−log ρ)⌉.",
        "",
        "| system | method | α | iterations | reached | time [s] | final gap | theorem's count |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, method, alpha, steps, reached, seconds, gap, promised in results:
        step = "—" if alpha is None else f"{alpha:.3g}"
        verdict = "yes" if reached else "not reached"
        lines.append(
            f"| {name} | {iterations.METHOD_NAMES[method]} | {step} | {steps} | {verdict} | "
            f"{seconds:.3f} | {gap:.2g} | {promised:.3g} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
