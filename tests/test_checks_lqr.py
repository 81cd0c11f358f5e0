"""The LQR checks pass right implementations (numpy, scipy; float64 and float32), fail wrong ones
within their default run with a minimal copy-pasteable case, and name every slip of their
catalogue."""

import re
from functools import partial

import numpy as np
import pytest

from pgverify import LQR, OracleMismatch, assert_close
from pgverify.checks import (
    check_gauss_newton_step,
    check_lqr_cost,
    check_lqr_gradient,
    check_lyapunov_solver,
    check_natural_gradient_step,
    check_optimal_gain,
    check_policy_gradient_step,
    check_policy_iteration_step,
    check_riccati_solver,
)
from pgverify.checks import lqr as lqr_checks
from pgverify.checks._lqr_support import riccati_regression_cases
from tests.test_checks_implementations import (
    LQRImplementation,
    lyapunov,
    optimal_gain,
    riccati,
    riccati_by_policy_iteration,
    scipy_lyapunov,
    scipy_riccati,
)

RIGHT = LQRImplementation()
SINGLE = LQRImplementation(dtype=np.float32)


def wrong(slip):
    return LQRImplementation(slip)


CORRECT_FLOAT64 = [
    (check_lyapunov_solver, lyapunov),
    (check_lyapunov_solver, scipy_lyapunov),
    (check_riccati_solver, scipy_riccati),
    (check_riccati_solver, riccati_by_policy_iteration),
    (check_optimal_gain, optimal_gain),
    (check_lqr_cost, RIGHT.cost),
    (check_lqr_gradient, RIGHT.gradient),
    (check_policy_gradient_step, RIGHT.pg_step),
    (check_natural_gradient_step, RIGHT.npg_step),
    (check_gauss_newton_step, RIGHT.gn_step),
    (check_policy_iteration_step, RIGHT.pi_step),
]

CORRECT_FLOAT32 = [
    (check_lyapunov_solver, partial(lyapunov, dtype=np.float32)),
    (check_riccati_solver, partial(riccati_by_policy_iteration, dtype=np.float32)),
    (check_optimal_gain, partial(optimal_gain, dtype=np.float32)),
    (check_lqr_cost, SINGLE.cost),
    (check_lqr_gradient, SINGLE.gradient),
    (check_policy_gradient_step, SINGLE.pg_step),
    (check_natural_gradient_step, SINGLE.npg_step),
    (check_gauss_newton_step, SINGLE.gn_step),
    (check_policy_iteration_step, SINGLE.pi_step),
]


def _name(value):
    return getattr(value, "__name__", None) or getattr(getattr(value, "func", None), "__name__", "")


@pytest.mark.parametrize(("check", "fn"), CORRECT_FLOAT64, ids=lambda v: _name(v))
def test_a_right_float64_implementation_passes_the_default_run(check, fn):
    report = check(fn)
    assert report.tier == "certified"
    assert report.generated_cases == 40
    assert report.worst_ratio <= 1


@pytest.mark.parametrize(("check", "fn"), CORRECT_FLOAT32, ids=lambda v: _name(v))
def test_a_right_float32_implementation_passes_by_default(check, fn):
    assert check(fn).worst_ratio <= 1


@pytest.mark.parametrize(
    ("check", "fn", "options"),
    [
        (check_riccati_solver, scipy_riccati, {"gamma": 0.9}),
        (check_optimal_gain, optimal_gain, {"gamma": 0.5}),
        (check_lqr_cost, RIGHT.cost, {"gamma": 0.9, "noise": 0.25}),
        (check_lqr_gradient, RIGHT.gradient, {"gamma": 0.9, "noise": 0.25}),
        (check_policy_gradient_step, RIGHT.pg_step, {"gamma": 0.5, "noise": 1.0}),
        (check_natural_gradient_step, RIGHT.npg_step, {"gamma": 0.9}),
        (check_gauss_newton_step, RIGHT.gn_step, {"gamma": 0.9, "noise": 0.25}),
        (check_policy_iteration_step, RIGHT.pi_step, {"gamma": 0.99}),
    ],
    ids=lambda v: _name(v) if callable(v) else str(v),
)
def test_gamma_and_noise_switch_the_problem_and_are_passed_to_fn(check, fn, options):
    seen = []

    def recording(*arguments, **keywords):
        seen.append(keywords)
        return fn(*arguments, **keywords)

    check(recording, max_examples=10, **options)
    assert seen and all(keywords == options for keywords in seen)


def test_without_gamma_fn_gets_no_keyword_arguments():
    seen = []

    def recording(*arguments, **keywords):
        seen.append(keywords)
        return RIGHT.gradient(*arguments)

    check_lqr_gradient(recording, max_examples=3)
    assert seen and all(keywords == {} for keywords in seen)


# --------------------------------------------------------------------------------------------
# Wrong implementations fail within the default run, with a minimal case and a diagnosis
# --------------------------------------------------------------------------------------------

TWO_WRONG_EACH = [
    (check_lyapunov_solver, partial(lyapunov, slip="transposed"), "transposed convention"),
    (check_lyapunov_solver, partial(lyapunov, slip="one step"), "one step of the fixed-point"),
    (check_riccati_solver, partial(riccati, slip="continuous"), "continuous-time algebraic"),
    (check_riccati_solver, partial(riccati, slip="A transposed"), "for Aᵀ in place of A"),
    (check_optimal_gain, partial(optimal_gain, slip="sign"), "−K* (the gain of the convention"),
    (check_optimal_gain, partial(optimal_gain, slip="R alone"), "R alone as the curvature"),
    (check_lqr_cost, wrong("sigmaK for sigma0").cost, "tr(P_K Σ_K) — Σ_K in place of Σ0"),
    (check_lqr_cost, wrong("no KRK").cost, "without the control cost KᵀRK"),
    (check_lqr_gradient, wrong("sigma0 for sigmaK").gradient, "Σ0 in place of Σ_K"),
    (check_lqr_gradient, wrong("transposed P").gradient, "transposed Lyapunov convention"),
    (check_policy_gradient_step, wrong("ascent").pg_step, "(ascent instead of descent)"),
    (check_policy_gradient_step, wrong("natural step").pg_step, "the natural-gradient step"),
    (check_natural_gradient_step, wrong("vanilla").npg_step, "vanilla policy-gradient step"),
    (check_natural_gradient_step, wrong("no factor 2").npg_step, "without its factor 2"),
    (check_gauss_newton_step, wrong("R curvature").gn_step, "R alone as the curvature"),
    (check_gauss_newton_step, wrong("natural step").gn_step, "the curvature left out"),
    (check_policy_iteration_step, wrong("R curvature").pi_step, "R alone as the curvature"),
    (check_policy_iteration_step, wrong("optimal gain").pi_step, "the optimal gain K*"),
]


def _case_code(message):
    """The copy-pasteable case of a failure message (the indented block after its header)."""
    block = re.search(r"\n\n((?:    .*\n)+)\n", message).group(1)
    return "\n".join(line[4:] for line in block.splitlines())


@pytest.mark.parametrize(("check", "fn", "diagnosis"), TWO_WRONG_EACH, ids=lambda v: _name(v))
def test_a_wrong_implementation_fails_the_default_run_with_a_minimal_case_and_diagnosis(
    check, fn, diagnosis
):
    with pytest.raises(OracleMismatch) as failure:
        check(fn)
    message = str(failure.value)
    assert message.startswith(f"{check.__name__}: the implementation disagrees")
    assert "reference tier certified" in message
    assert "Minimal failing case" in message
    assert "Diagnosis: your result equals" in message and diagnosis in message
    # the case is copy-pasteable Python that rebuilds the failing inputs exactly ...
    namespace = {"fn": fn}
    code = _case_code(message)
    if "actual: the implementation raised" in message.split("\n\n")[3]:
        with pytest.raises(Exception):  # the minimal case makes the implementation raise
            exec(code, namespace)  # the message's own code, written by the check
        return
    exec(code, namespace)
    # ... small (hypothesis' shrinking, then state/input deletion) ...
    assert namespace["A"].shape[0] <= 3
    # ... and really failing: the result disagrees with the oracle on it
    reference = _oracle_value(check, namespace)
    with pytest.raises(OracleMismatch):
        assert_close(namespace["result"], reference, condition=1e3)


def _oracle_value(check, case):
    if check is check_lyapunov_solver:
        n = case["A"].shape[0]
        problem = LQR(case["A"], np.zeros((n, 1)), case["Q"], np.eye(1))
        return problem.value_matrix(np.zeros((1, n)), precision="certified")
    problem = LQR(case["A"], case["B"], case["Q"], case["R"], Sigma0=case.get("Sigma0"))
    if check is check_riccati_solver:
        return problem.optimal_value_matrix("certified")
    if check is check_optimal_gain:
        return problem.optimal_gain("certified")
    method = {
        check_lqr_cost: "cost",
        check_lqr_gradient: "gradient",
        check_policy_gradient_step: "policy_gradient_step",
        check_natural_gradient_step: "natural_gradient_step",
        check_gauss_newton_step: "gauss_newton_step",
        check_policy_iteration_step: "policy_iteration_step",
    }[check]
    arguments = (case["alpha"],) if "alpha" in case else ()
    return getattr(problem, method)(case["K"], *arguments, precision="certified")


# --------------------------------------------------------------------------------------------
# Every catalogue entry is recognised
# --------------------------------------------------------------------------------------------

GAMMA = {"gamma": 0.9}
NOISE = {"gamma": 0.5, "noise": 0.25}

GRADIENT_SLIPS = [
    ("sigma0 for sigmaK", {}, "computed with Σ0 in place of Σ_K"),
    ("no factor 2", {}, "without the factor 2 (E_K Σ_K)"),
    ("transposed P", {}, "with P_K from the transposed Lyapunov convention"),
    ("transposed Sigma", {}, "with Σ_K from the transposed convention"),
    ("A_K for A", {}, "with A_K where A belongs"),
    ("R curvature", {}, "with R alone as the curvature in E_K"),
    ("no KRK", {}, "with P_K computed without KᵀRK"),
    ("sigma on the left", {}, "with Σ_K on the left"),
    ("gamma missing in E", GAMMA, "with γ missing from E_K"),
    ("gamma missing in Sigma", GAMMA, "with γ missing from Σ_K"),
    ("noise ignored", NOISE, "with the exploration noise left out of Σ_K"),
    ("noise as std", NOISE, "with the noise variance read as a standard deviation"),
    ("noise without gamma", NOISE, "with Σ0 + σBBᵀ/(1 − γ) — γ missing from the noise term"),
    ("sigma from I", {}, "with Σ_K computed from I in place of Σ0"),
    ("undiscounted", GAMMA, "of the undiscounted problem (γ ignored everywhere"),
]

CATALOGUE = [
    (lqr_checks.LyapunovSpec, check_lyapunov_solver, partial(lyapunov, slip=s), {}, text)
    for s, text in [
        ("transposed", "transposed convention P = Q + A P Aᵀ"),
        ("no transpose", "P = Q + A P A (a transpose missing)"),
        ("sign", "−P, the solution of P = −Q + AᵀPA"),
        ("continuous", "continuous-time Lyapunov equation"),
        ("one step", "one step of the fixed-point iteration"),
    ]
]
CATALOGUE += [
    (lqr_checks.RiccatiSpec, check_riccati_solver, partial(riccati, slip=s), options, text)
    for s, options, text in [
        ("continuous", {}, "continuous-time algebraic Riccati"),
        ("A transposed", {}, "DARE solution for Aᵀ in place of A"),
        ("no control", {}, "value matrix of the zero gain"),
        ("undiscounted", GAMMA, "undiscounted DARE solution"),
    ]
]
CATALOGUE += [
    (lqr_checks.OptimalGainSpec, check_optimal_gain, partial(optimal_gain, slip=s), options, text)
    for s, options, text in [
        ("sign", {}, "−K* (the gain of the convention u = +Kx)"),
        ("R alone", {}, "R alone as the curvature (BᵀX*B dropped)"),
        ("continuous", {}, "continuous-time optimal gain R⁻¹BᵀX"),
        ("continuous riccati", {}, "with X the continuous-time Riccati solution"),
        ("A transposed", {}, "optimal gain computed for Aᵀ"),
        ("undiscounted", GAMMA, "undiscounted optimal gain"),
    ]
]
CATALOGUE += [
    (lqr_checks.CostSpec, check_lqr_cost, wrong(s).cost, options, text)
    for s, options, text in [
        ("sigmaK for sigma0", {}, "tr(P_K Σ_K) — Σ_K in place of Σ0"),
        ("sigma0 ignored", {}, "tr(P_K) — Σ0 left out"),
        ("transposed P", {}, "cost with P_K from the transposed Lyapunov convention"),
        ("no KRK", {}, "without the control cost KᵀRK"),
        ("normalised", GAMMA, "(1 − γ) C(K) — a normalised cost"),
        ("undiscounted P", GAMMA, "undiscounted cost"),
        ("noise ignored", NOISE, "without the exploration-noise term"),
        ("noise as std", NOISE, "read as a standard deviation"),
        ("noise without gamma", NOISE, "γ missing inside"),
        ("noise without trace R", NOISE, "without σ tr R"),
    ]
]
CATALOGUE.append(
    (
        lqr_checks.GradientSpec,
        check_lqr_gradient,
        wrong("ascent").gradient,
        {},
        "the ascent direction −∇C(K)",
    )
)
CATALOGUE += [
    (lqr_checks.GradientSpec, check_lqr_gradient, wrong(s).gradient, options, "the gradient " + t)
    for s, options, t in GRADIENT_SLIPS
]
CATALOGUE += [
    (lqr_checks.PolicyGradientStepSpec, check_policy_gradient_step, wrong(s).pg_step, options, t)
    for s, options, t in [
        ("ascent", {}, "K + α∇C(K) (ascent instead of descent)"),
        ("without K", {}, "K itself left out of the update"),
        ("natural step", {}, "K − 2αE_K (the natural-gradient step)"),
        *[(s, options, "K − α∇C(K) with the gradient " + t) for s, options, t in GRADIENT_SLIPS],
    ]
]
CATALOGUE += [
    (lqr_checks.NaturalGradientStepSpec, check_natural_gradient_step, wrong(s).npg_step, o, t)
    for s, o, t in [
        ("ascent", {}, "K + 2αE_K (ascent instead of descent)"),
        ("no factor 2", {}, "the natural gradient without its factor 2"),
        ("vanilla", {}, "the vanilla policy-gradient step"),
        ("times sigmaK", {}, "multiplied by Σ_K instead of Σ_K⁻¹"),
        ("sigma0 inverse", {}, "Σ0 in place of Σ_K"),
        ("A_K for A", {}, "A_K where A belongs in E_K"),
        ("R curvature", {}, "R alone as the curvature in E_K"),
        ("transposed P", {}, "P_K from the transposed Lyapunov convention"),
        ("gamma missing in E", GAMMA, "γ missing from E_K"),
    ]
]
CATALOGUE += [
    (lqr_checks.GaussNewtonStepSpec, check_gauss_newton_step, wrong(s).gn_step, o, t)
    for s, o, t in [
        ("ascent", {}, "K + 2α(K − K⁺) (ascent instead of descent)"),
        ("no factor 2", {}, "K − α(K − K⁺) (the factor 2 missing)"),
        ("R curvature", {}, "K − 2αR⁻¹E_K (R alone as the curvature)"),
        ("natural step", {}, "the natural-gradient step, the curvature left out"),
        ("curvature on the right", {}, "the curvature applied on the right"),
        ("no sigma inverse", {}, "Σ_K⁻¹ left out"),
        ("A_K for A", {}, "A_K where A belongs in K⁺"),
        ("transposed P", {}, "P_K from the transposed Lyapunov convention"),
        ("gamma missing in E", GAMMA, "γ missing from K⁺"),
    ]
]
CATALOGUE += [
    (lqr_checks.PolicyIterationStepSpec, check_policy_iteration_step, wrong(s).pi_step, o, t)
    for s, o, t in [
        ("sign", {}, "−K⁺ (the gain of the convention u = +Kx)"),
        ("R curvature", {}, "R alone as the curvature"),
        ("A_K for A", {}, "A_K where A belongs"),
        ("transposed P", {}, "P_K from the transposed Lyapunov convention"),
        ("no KRK", {}, "P_K computed without KᵀRK"),
        ("optimal gain", {}, "the optimal gain K* (the Riccati solution)"),
        ("unchanged", {}, "K itself (the input gain returned unchanged)"),
        ("gamma missing in E", GAMMA, "the greedy gain with γ missing"),
    ]
]


@pytest.mark.parametrize(
    ("spec", "check", "fn", "options", "diagnosis"),
    CATALOGUE,
    ids=[f"{entry[0].name}-{entry[4][:40]}" for entry in CATALOGUE],
)
def test_every_catalogue_slip_is_recognised(spec, check, fn, options, diagnosis):
    with pytest.raises(OracleMismatch) as failure:
        check(fn, max_examples=0, **options)  # the fixed cases reveal every slip
    diagnosis_text = str(failure.value).split("Diagnosis: ", 1)[1]
    assert diagnosis in diagnosis_text


@pytest.mark.parametrize(
    "spec",
    [
        lqr_checks.LyapunovSpec,
        lqr_checks.RiccatiSpec,
        lqr_checks.OptimalGainSpec,
        lqr_checks.CostSpec,
        lqr_checks.GradientSpec,
        lqr_checks.PolicyGradientStepSpec,
        lqr_checks.NaturalGradientStepSpec,
        lqr_checks.GaussNewtonStepSpec,
        lqr_checks.PolicyIterationStepSpec,
    ],
    ids=lambda spec: spec.name,
)
def test_every_catalogue_entry_has_a_recognition_test(spec):
    tested = [entry[4] for entry in CATALOGUE if entry[0] is spec]
    for slip in spec.slips:
        assert any(text in slip.description for text in tested), slip.description


@pytest.mark.parametrize(
    ("check", "fn"),
    [(check_riccati_solver, scipy_riccati), (check_optimal_gain, optimal_gain)],
    ids=["riccati", "optimal gain"],
)
def test_the_discounted_dean_system_is_a_fixed_case_not_skipped(check, fn):
    report = check(fn, gamma=0.9, max_examples=0)
    assert not any("skipped" in note for note in report.notes)
    assert report.fixed_cases == len(riccati_regression_cases())
    assert any(label.startswith("Dean") for label, _ in riccati_regression_cases())
