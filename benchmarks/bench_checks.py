"""pgverify.checks (issue #9): the time of each check's default run on a right implementation and
on a wrong one (failure path: shrinking, state/input deletion, diagnosis), and with --campaign
the 1000-case false-alarm campaigns of scipy's and python-control's solvers.

Run:  python benchmarks/bench_checks.py [--write] [--campaign]   (--write updates RESULTS.md)
Targets: every default run <= 10 s, the LQR ones <= 2 s, on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
from bench_certified_gradient import machine
from results_file import write_section

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgverify import (
    OracleMismatch,
    checks,
)
from tests.test_checks_implementations import (
    LQRImplementation,
    MDPImplementation,
    gaussian_fisher,
    gaussian_score,
    lyapunov,
    optimal_gain,
    riccati,
    scipy_riccati,
    two_layer_score,
)
from tests.test_checks_peers import (
    control_dare,
    control_dlqr,
    control_dlyap,
    scipy_dare,
    scipy_dlqr,
    scipy_dlyap,
)

SECTION = "## pgverify.checks: default run times (issue #9)"
CAMPAIGN_SECTION = "## pgverify.checks: 1000-case campaigns of the peers (issue #9)"

LQR, MDP = LQRImplementation(), MDPImplementation()

# (check, right implementation, a wrong one, its slip)
RUNS = [
    ("check_lyapunov_solver", lyapunov, partial(lyapunov, slip="transposed"), "transposed"),
    ("check_riccati_solver", scipy_riccati, partial(riccati, slip="continuous"), "CARE"),
    ("check_optimal_gain", optimal_gain, partial(optimal_gain, slip="R alone"), "R alone"),
    ("check_lqr_cost", LQR.cost, LQRImplementation("no KRK").cost, "no KᵀRK"),
    ("check_lqr_gradient", LQR.gradient, LQRImplementation("sigma0 for sigmaK").gradient, "Σ0"),
    ("check_policy_gradient_step", LQR.pg_step, LQRImplementation("ascent").pg_step, "ascent"),
    ("check_natural_gradient_step", LQR.npg_step, LQRImplementation("vanilla").npg_step, "PG"),
    ("check_gauss_newton_step", LQR.gn_step, LQRImplementation("R curvature").gn_step, "R"),
    ("check_policy_iteration_step", LQR.pi_step, LQRImplementation("sign").pi_step, "sign"),
    ("check_gaussian_score", gaussian_score, partial(gaussian_score, slip="std"), "σ as std"),
    ("check_two_layer_score", two_layer_score, partial(two_layer_score, slip="no h'"), "no h'"),
    ("check_gaussian_fisher", gaussian_fisher, partial(gaussian_fisher, slip="row-major"), "row"),
    ("check_policy_evaluation", MDP.value, MDPImplementation("P transposed").value, "P_πᵀ"),
    ("check_q_function", MDP.q, MDPImplementation("gamma missing").q, "no γ"),
    ("check_discounted_visitation", MDP.visitation, MDPImplementation("initial").visitation, "ρ"),
    (
        "check_softmax_policy_gradient",
        MDP.softmax_gradient,
        MDPImplementation("Q for A").softmax_gradient,
        "Q for A",
    ),
    (
        "check_softmax_natural_gradient",
        MDP.softmax_natural_gradient,
        MDPImplementation("vanilla").softmax_natural_gradient,
        "vanilla",
    ),
]


def best_time(call, repeats: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - start)
    return best, result


def failing(check, fn) -> None:
    try:
        check(fn)
    except OracleMismatch:
        return
    raise AssertionError("the wrong implementation passed")


def run_default() -> str:
    rows = []
    for name, right, wrong, slip in RUNS:
        check = getattr(checks, name)
        passing, report = best_time(lambda check=check, right=right: check(right))
        failure, _ = best_time(lambda check=check, wrong=wrong: failing(check, wrong), 1)
        rows.append(
            f"| `{name}` | {report.cases} | {report.tier} | {passing:.2f} | {failure:.2f} ({slip}) "
            f"| {report.worst_ratio:.2g} |"
        )
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return "\n".join(
        [
            SECTION,
            "",
            f"Machine: {machine()}; OPENBLAS_NUM_THREADS {threads}.  Recorded {date.today()} by "
            "`python benchmarks/bench_checks.py --write` (passing run: best of 3; failing run: "
            "one run, from the first case to the message with its diagnosis).",
            "",
            "| check | cases (fixed + 40 generated) | reference tier | passing run [s] | "
            "failing run [s] (slip) | worst error / tolerance (right implementation) |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            "Targets: each default run <= 10 s, the LQR ones <= 2 s. On this shared 2-core "
            "machine OpenBLAS' own threads slow the small solves down several-fold when other "
            "processes load the cores; OPENBLAS_NUM_THREADS=1 gives the figures above their "
            "best case.",
            "",
        ]
    )


def run_campaign() -> str:
    rows = []
    peers = [
        ("check_lyapunov_solver", "scipy solve_discrete_lyapunov(A.T, Q)", scipy_dlyap),
        ("check_riccati_solver", "scipy solve_discrete_are", scipy_dare),
        ("check_optimal_gain", "scipy solve_discrete_are + gain", scipy_dlqr),
        ("check_lyapunov_solver", "python-control dlyap(A.T, Q)", control_dlyap),
        ("check_riccati_solver", "python-control dare", control_dare),
        ("check_optimal_gain", "python-control dlqr", control_dlqr),
    ]
    for name, label, fn in peers:
        check = getattr(checks, name)
        start = time.perf_counter()
        report = check(fn, max_examples=1000, seed=2026)
        seconds = time.perf_counter() - start
        worst = f"{report.worst_ratio:.3g}"
        rows.append(f"| `{name}` | {label} | {report.cases} | 0 | {worst} | {seconds:.1f} |")
    import control

    return "\n".join(
        [
            CAMPAIGN_SECTION,
            "",
            f"Machine: {machine()}, python-control {control.__version__}.  Recorded "
            f"{date.today()} by `python benchmarks/bench_checks.py --campaign --write` (the "
            "same runs as `pytest -m slow tests/test_checks_peers.py`; seed 2026).",
            "",
            "| check | implementation | cases | failures | worst error / tolerance | time [s] |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="record the results in RESULTS.md")
    parser.add_argument("--campaign", action="store_true", help="the 1000-case peer campaigns")
    arguments = parser.parse_args()
    np.seterr(all="ignore")
    text = run_campaign() if arguments.campaign else run_default()
    if arguments.write:
        write_section(CAMPAIGN_SECTION if arguments.campaign else SECTION, text)
    print(text)


if __name__ == "__main__":
    main()
