"""pgverify.checks (issues #9, #11): the time of each check's default run on a right
implementation and on a wrong one (failure path: shrinking, state/input deletion, diagnosis),
and with --campaign the 1000-case false-alarm campaigns of scipy's and python-control's solvers.

With --estimators: the checks of returns, advantages and estimators (issue #10).

Run:  python benchmarks/bench_checks.py [--write] [--campaign | --estimators]
      (--write updates RESULTS.md)
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
from tests.test_checks_batched_segments import flattened, row_by_row
from tests.test_checks_critic_kinds import loop_gaussian, loop_softmax
from tests.test_checks_estimators import (
    loop_gae,
    loop_lambda_returns,
    loop_reinforce,
    loop_returns,
    loop_softmax_reinforce,
    loop_td,
    with_slip,
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
from tests.test_checks_trpo import (
    conjugate_gradient,
    fisher_vector_product,
    gaussian_kl,
    line_search,
    lspi_step,
    trpo_step,
)
from tests.test_checks_zeroth_order import loop_zeroth_order

SECTION = "## pgverify.checks: default run times (issue #9)"
ESTIMATOR_SECTION = "## pgverify.checks: estimator checks, default run times (issue #10)"
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
    (
        "check_conjugate_gradient",
        conjugate_gradient,
        partial(conjugate_gradient, slip="steepest descent"),
        "steepest descent",
    ),
    (
        "check_fisher_vector_product",
        fisher_vector_product,
        partial(fisher_vector_product, slip="row-major"),
        "row-major",
    ),
    ("check_gaussian_kl", gaussian_kl, partial(gaussian_kl, slip="reversed"), "KL(q‖p)"),
    ("check_trpo_step", trpo_step, partial(trpo_step, slip="no 2"), "no 2"),
    (
        "check_backtracking_line_search",
        line_search,
        partial(line_search, slip="ignore kl"),
        "KL ignored",
    ),
    ("check_lspi_step", lspi_step, partial(lspi_step, slip="sign"), "sign"),
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


def _pg(slip):
    return partial(loop_reinforce, slip=slip)


# (label, check called with the implementation alone, right implementation, a wrong one, slip)
ESTIMATOR_RUNS = [
    (
        "check_discounted_returns",
        checks.check_discounted_returns,
        loop_returns,
        with_slip(loop_returns, "no cut"),
        "no cut at episode ends",
    ),
    (
        "check_td_residuals",
        checks.check_td_residuals,
        loop_td,
        with_slip(loop_td, "bootstrap terminal"),
        "bootstrap through a terminal",
    ),
    (
        "check_gae",
        checks.check_gae,
        loop_gae,
        with_slip(loop_gae, "trace across truncation"),
        "trace across a truncation",
    ),
    (
        "check_lambda_returns",
        checks.check_lambda_returns,
        loop_lambda_returns,
        with_slip(loop_lambda_returns, "gamma trace"),
        "γ for γλ",
    ),
    (
        "check_gae(batched=True)",
        partial(checks.check_gae, batched=True),
        row_by_row(loop_gae),
        flattened(loop_gae),
        "scan over the flattened batch",
    ),
    (
        'check_pg_estimator(kind="reinforce")',
        partial(checks.check_pg_estimator, kind="reinforce"),
        _pg(None),
        _pg("no gamma^t"),
        "no γᵗ",
    ),
    (
        'check_pg_estimator(kind="baselined")',
        partial(checks.check_pg_estimator, kind="baselined"),
        _pg("leave one out"),
        _pg("batch mean with own return"),
        "batch mean with own return",
    ),
    (
        'check_softmax_pg_estimator(kind="reinforce")',
        partial(checks.check_softmax_pg_estimator, kind="reinforce"),
        loop_softmax_reinforce,
        partial(loop_softmax_reinforce, slip="no gamma^t"),
        "no γᵗ",
    ),
    (
        'check_pg_estimator(kind="gae")',
        partial(checks.check_pg_estimator, kind="gae"),
        partial(loop_gaussian, kind="gae"),
        partial(loop_gaussian, kind="gae", slip="bootstrap through the end"),
        "bootstrap through the terminal step",
    ),
    (
        'check_pg_estimator(kind="advantage")',
        partial(checks.check_pg_estimator, kind="advantage"),
        partial(loop_gaussian, kind="advantage"),
        partial(loop_gaussian, kind="advantage", slip="Q for A"),
        "Q for A: kind mismatch",
    ),
    (
        'check_softmax_pg_estimator(kind="gae")',
        partial(checks.check_softmax_pg_estimator, kind="gae"),
        partial(loop_softmax, kind="gae"),
        partial(loop_softmax, kind="gae", slip="trace by lambda"),
        "λ for γλ: kind mismatch",
    ),
    (
        'check_zeroth_order_estimator(kind="antithetic")',
        partial(checks.check_zeroth_order_estimator, kind="antithetic"),
        partial(loop_zeroth_order, kind="antithetic"),
        partial(loop_zeroth_order, kind="antithetic", slip="no half"),
        "1/2 missing",
    ),
    (
        'check_zeroth_order_estimator(kind="gaussian")',
        partial(checks.check_zeroth_order_estimator, kind="gaussian"),
        partial(loop_zeroth_order, kind="gaussian"),
        partial(loop_zeroth_order, kind="gaussian", slip="variance"),
        "μ read as a variance: cubic costs only",
    ),
    (
        'check_zeroth_order_estimator(kind="sphere")',
        partial(checks.check_zeroth_order_estimator, kind="sphere"),
        partial(loop_zeroth_order, kind="sphere"),
        partial(loop_zeroth_order, kind="sphere", slip="no mn"),
        "mn missing",
    ),
]


def _unbiased_run(mean):
    return checks.check_unbiased(lambda rng: rng.normal(mean, 1.0), [0.0, 0.0])


def run_estimators() -> str:
    rows = []
    for label, check, right, wrong, slip in ESTIMATOR_RUNS:
        passing, _ = best_time(lambda check=check, right=right: check(right))
        failure, _ = best_time(lambda check=check, wrong=wrong: failing(check, wrong), 1)
        rows.append(f"| `{label}` | {passing:.2f} | {failure:.2f} ({slip}) |")
    passing, verdict = best_time(lambda: _unbiased_run([0.0, 0.0]))
    failure, _ = best_time(lambda: failing(lambda fn: fn(), lambda: _unbiased_run([0.1, 0.0])), 1)
    rows.append(
        f"| `check_unbiased` (20 000 draws, 2 entries) | {passing:.2f} | {failure:.2f} (bias "
        f"0.1; detectable bias {verdict.detectable_bias[0]:.3f}) |"
    )
    thorough = []
    checks.set_profile("thorough")
    try:
        for label, check, right in (
            ('check_pg_estimator(kind="reinforce")', ESTIMATOR_RUNS[5][1], ESTIMATOR_RUNS[5][2]),
            (
                'check_softmax_pg_estimator(kind="reinforce")',
                ESTIMATOR_RUNS[7][1],
                ESTIMATOR_RUNS[7][2],
            ),
        ):
            start = time.perf_counter()
            report = check(right)
            seconds = time.perf_counter() - start
            thorough.append(f"`{label}` {report.generated_cases} generated, {seconds:.1f} s")
    finally:
        checks.set_profile("fast")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset")
    return "\n".join(
        [
            ESTIMATOR_SECTION,
            "",
            f"Machine: {machine()}; OPENBLAS_NUM_THREADS {threads}.  Recorded {date.today()} by "
            "`python benchmarks/bench_checks.py --estimators --write` (passing run: best of 3; "
            "failing run: one run, to the message with its diagnosis).  Implementations: the "
            "loops of tests/test_checks_estimators.py, test_checks_critic_kinds.py, "
            "test_checks_zeroth_order.py and test_checks_batched_segments.py.  The "
            "returns/GAE checks run 3 fixed + 40 "
            "generated cases; the estimator checks weigh the user's function at every node of "
            "their cubature rules (policy gradient: 3 fixed LQR rollout distributions, 4 for "
            "the critic kinds, + 8 generated ones of up to 313 nodes; zeroth order: 4 fixed + "
            "40 generated quadratic and cubic costs) or on every trajectory batch (2 fixed "
            "finite MDPs, 64 and 1 296 batches, + 8 generated); the fixed cases' exact targets "
            "and slip expectations are computed once per process and cached, the generated "
            "ones' in each run; a failing run shrinks within the failure's kind (at most 25 "
            "cases) and deletes states/inputs, T and M (at most 30); for the critic kinds on "
            "MDPs the state after the last step is enumerated too (up to 4× the batches).",
            "",
            "| check | passing run [s] | failing run [s] (slip) |",
            "|---|---|---|",
            *rows,
            "",
            "Target: each default run <= 10 s.  The thorough profile (one run, passing): "
            + "; ".join(thorough)
            + ".",
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
    parser.add_argument("--estimators", action="store_true", help="the issue #10 checks")
    arguments = parser.parse_args()
    np.seterr(all="ignore")
    if arguments.campaign:
        section, text = CAMPAIGN_SECTION, run_campaign()
    elif arguments.estimators:
        section, text = ESTIMATOR_SECTION, run_estimators()
    else:
        section, text = SECTION, run_default()
    if arguments.write:
        write_section(section, text)
    print(text)


if __name__ == "__main__":
    main()
