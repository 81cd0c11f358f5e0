"""pgverify.checks.trpo and pgverify.checks.lspi: right implementations (numpy, written here
independently of pgverify) pass; each deliberately wrong one (``slip=``) fails with the slip
named in the diagnosis."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch, checks
from pgverify.checks.trpo import MatrixOperator, Quadratic

# ------------------------------------------------------------------------------------------
# implementations under test


def conjugate_gradient(matvec, b, iterations, slip=""):
    with np.errstate(all="ignore"):  # a slipped CG may divide 0 by 0
        return _conjugate_gradient(matvec, b, iterations, slip)


def _conjugate_gradient(matvec, b, iterations, slip):
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    steps = iterations + {"one short": -1, "one more": 1}.get(slip, 0)
    for _ in range(steps):
        if slip == "steepest descent":
            r = b - matvec(x)
            x = x + (r @ r) / (r @ matvec(r)) * r
            continue
        Ap = matvec(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        if slip != "residual not updated":
            r = r - alpha * Ap
        rr_new = r @ r
        beta = {"beta sign": -rr_new / rr, "beta inverted": rr / rr_new}.get(slip, rr_new / rr)
        p = r + beta * p
        rr = rr_new
    return x


def conjugate_gradient_with_stop(matvec, b, iterations):
    """rllab-style: stop once the residual vanishes (no 0/0 after exact convergence)."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(iterations):
        Ap = matvec(p)
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r @ r
        if rr_new < 1e-30:
            break
        p = r + rr_new / rr * p
        rr = rr_new
    return x


def fisher_vector_product(K, sigma, states, v, slip=""):
    m, n = K.shape
    S = states.T @ states
    if slip != "sum":
        S = S / len(states)
    if slip == "flat":
        return (v @ S / sigma).reshape(-1, order="F")
    if slip in ("row-major", "I kron S"):
        order = "C" if slip == "row-major" else "F"
        F = np.kron(S, np.eye(m)) if slip == "row-major" else np.kron(np.eye(m), S)
        return (F @ v.reshape(-1, order=order) / sigma).reshape(m, n, order=order)
    power = {"sigma": -1.0, "sigma squared": 2.0, "no sigma": 0.0}.get(slip, 1.0)
    return v @ S / sigma**power


def gaussian_kl(mean_p, cov_p, mean_q, cov_q, slip=""):
    if slip == "reversed":
        mean_p, cov_p, mean_q, cov_q = mean_q, cov_q, mean_p, cov_p
    k = len(mean_p)
    inverse_q = np.linalg.inv(cov_q)
    gap = mean_q - mean_p
    trace = np.trace(np.linalg.inv(cov_p) @ cov_q if slip == "trace" else inverse_q @ cov_p)
    if slip == "no inverse in the trace":
        trace = np.trace(cov_q @ cov_p)
    logdet = np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(cov_p)[1]
    if slip == "logdet inverted":
        logdet = -logdet
    terms = trace + gap @ inverse_q @ gap
    terms += 0.0 if slip == "no dimension" else -k
    terms += 0.0 if slip == "no logdet" else logdet
    return terms if slip == "no half" else 0.5 * terms


def trpo_step(gradient, fisher_vector_product, max_kl, slip=""):
    x = conjugate_gradient_with_stop(fisher_vector_product, gradient, 2 * len(gradient))
    if slip == "gradient":
        x = gradient
    ratio = (1.0 if slip == "no 2" else 2.0) * max_kl / (x @ fisher_vector_product(x))
    if slip == "gradient":
        ratio = (
            2
            * max_kl
            / (
                gradient
                @ conjugate_gradient_with_stop(fisher_vector_product, gradient, 2 * len(gradient))
            )
        )
    if slip == "F g":
        x = fisher_vector_product(gradient)
    beta = ratio if slip == "no sqrt" else np.sqrt(ratio)
    return -beta * x if slip == "ascent" else beta * x


def line_search(surrogate, kl, step, max_kl, backtrack_ratio, max_backtracks, slip=""):
    baseline = surrogate(np.zeros_like(step))
    last = max_backtracks + {"off by one": 0, "one too many": 2}.get(slip, 1)
    candidate = None
    for j in range(1 if slip == "from r" else 0, last):
        candidate = backtrack_ratio**j * step
        kl_ok = slip == "ignore kl" or kl(candidate) <= max_kl
        loss = surrogate(candidate)
        improves = slip == "no improvement needed" or (
            loss > baseline if slip == "maximising" else loss < baseline
        )
        if kl_ok and improves:
            return candidate
    return candidate if slip == "last trial" else None


def _features(z):
    rows, cols = np.triu_indices(z.shape[1])
    return z[:, rows] * z[:, cols]


def lspi_step(states, actions, costs, next_states, K, gamma=1.0, slip=""):
    n = states.shape[1]
    discount = 1.0 if slip == "no discount" else gamma
    z = np.hstack([states, actions])
    z_next = np.hstack([next_states, -next_states @ K.T])
    features, next_features = _features(z), _features(z_next)
    weights = np.linalg.solve(
        features.T @ (features - discount * next_features), features.T @ costs
    )
    size = z.shape[1]
    rows, cols = np.triu_indices(size)
    H = np.zeros((size, size))
    H[rows, cols] = weights
    # an off-diagonal weight is 2 H_ij: each half goes to one side (the slip keeps it whole)
    H = H + np.triu(H, 1).T if slip == "unhalved" else (H + H.T) / 2
    gain = np.linalg.solve(H[n:, n:], H[n:, :n])
    if slip == "K itself":
        return K
    if slip == "sign":
        return -gain
    if slip == "transposed":
        return gain.T
    return gain


RIGHT = [
    (checks.check_conjugate_gradient, conjugate_gradient),
    (checks.check_fisher_vector_product, fisher_vector_product),
    (checks.check_gaussian_kl, gaussian_kl),
    (checks.check_trpo_step, trpo_step),
    (checks.check_backtracking_line_search, line_search),
    (checks.check_lspi_step, lspi_step),
    (partial(checks.check_lspi_step, gamma=0.9), lspi_step),
]


@pytest.mark.parametrize(("check", "fn"), RIGHT, ids=lambda item: getattr(item, "__name__", ""))
def test_right_implementations_pass(check, fn):
    report = check(fn)
    assert report.generated_cases > 0 and report.worst_ratio <= 1.0


# (check, wrong implementation, words of the expected diagnosis)
WRONG = [
    (checks.check_conjugate_gradient, "steepest descent", "steepest descent"),
    (checks.check_conjugate_gradient, "beta sign", "sign of Fletcher–Reeves"),
    (checks.check_conjugate_gradient, "beta inverted", "upside down"),
    (checks.check_conjugate_gradient, "one short", "one step short"),
    (checks.check_conjugate_gradient, "one more", "one step too many"),
    (checks.check_conjugate_gradient, "residual not updated", "residual never updated"),
    (checks.check_fisher_vector_product, "sigma", "multiplied by σ instead of divided"),
    (checks.check_fisher_vector_product, "sigma squared", "standard deviation"),
    (checks.check_fisher_vector_product, "no sigma", "factor σ⁻¹ left out"),
    (checks.check_fisher_vector_product, "row-major", "flattened row-major"),
    (checks.check_fisher_vector_product, "I kron S", "Kronecker factors swapped"),
    (checks.check_fisher_vector_product, "sum", "sum over states"),
    (checks.check_gaussian_kl, "reversed", "KL(q‖p)"),
    (checks.check_gaussian_kl, "no logdet", "without the log-determinant"),
    (checks.check_gaussian_kl, "logdet inverted", "ratio inverted"),
    (checks.check_gaussian_kl, "no dimension", "without the −k"),
    (checks.check_gaussian_kl, "no half", "factor ½ missing"),
    (checks.check_gaussian_kl, "trace", "tr(Σ_p⁻¹Σ_q)"),
    (checks.check_gaussian_kl, "no inverse in the trace", "tr(Σ_qΣ_p)"),
    (checks.check_trpo_step, "no 2", "factor 2 under the root"),
    (checks.check_trpo_step, "no sqrt", "square root missing"),
    (checks.check_trpo_step, "ascent", "ascent direction"),
    (checks.check_trpo_step, "gradient", "the gradient g where"),
    (checks.check_trpo_step, "F g", "F g in place of F⁻¹g"),
    (checks.check_backtracking_line_search, "off by one", "max_backtracks candidates"),
    (checks.check_backtracking_line_search, "one too many", "one backtrack too many"),
    (checks.check_backtracking_line_search, "from r", "full step never tried"),
    (checks.check_backtracking_line_search, "ignore kl", "ignoring the KL"),
    (checks.check_backtracking_line_search, "no improvement needed", "does not improve"),
    (checks.check_backtracking_line_search, "last trial", "last candidate returned"),
    (checks.check_backtracking_line_search, "maximising", "increase of the surrogate"),
    (checks.check_lspi_step, "K itself", "K itself"),
    (checks.check_lspi_step, "sign", "u = +Kx"),
    (checks.check_lspi_step, "transposed", "transposed"),
    (partial(checks.check_lspi_step, gamma=0.9), "no discount", "undiscounted"),
    (checks.check_lspi_step, "unhalved", "off-diagonal feature weights"),
]

IMPLEMENTATIONS = {
    "check_conjugate_gradient": conjugate_gradient,
    "check_fisher_vector_product": fisher_vector_product,
    "check_gaussian_kl": gaussian_kl,
    "check_trpo_step": trpo_step,
    "check_backtracking_line_search": line_search,
    "check_lspi_step": lspi_step,
}


def _name(check):
    return getattr(check, "__name__", None) or check.func.__name__


@pytest.mark.parametrize(("check", "slip", "diagnosis"), WRONG, ids=[w[1] for w in WRONG])
def test_a_wrong_implementation_fails_with_its_slip_named(check, slip, diagnosis):
    wrong = partial(IMPLEMENTATIONS[_name(check)], slip=slip)
    with pytest.raises(OracleMismatch) as failure:
        check(wrong, max_examples=5)
    message = str(failure.value)
    assert "Diagnosis" in message and diagnosis in message.split("Diagnosis", 1)[1]


def test_a_flat_column_major_fisher_vector_product_is_accepted_and_named():
    report = checks.check_fisher_vector_product(partial(fisher_vector_product, slip="flat"))
    assert any("flat vec(F v), column-major" in note for note in report.notes)


def test_a_flat_row_major_fisher_vector_product_fails_named():
    def row_major(K, sigma, states, v):
        return fisher_vector_product(K, sigma, states, v).reshape(-1)

    with pytest.raises(OracleMismatch, match="flattened row-major \\(a flat result"):
        checks.check_fisher_vector_product(row_major)


def test_a_result_of_another_shape_is_refused_naming_both_accepted_shapes():
    def transposed(K, sigma, states, v):
        return fisher_vector_product(K, sigma, states, v).T

    with pytest.raises(OracleMismatch, match=r"shaped like K \(\d, \d\) or as a flat vector"):
        checks.check_fisher_vector_product(transposed, max_examples=0)


def spinning_up_cg(matvec, b, iterations):
    """OpenAI Spinning Up's cg: 1e-8 added to pᵀAp."""
    x, r = np.zeros_like(b), b.copy()
    p, rr = r.copy(), r @ r
    for _ in range(iterations):
        z = matvec(p)
        alpha = rr / (p @ z + 1e-8)
        x, r = x + alpha * p, r - alpha * z
        rr_new = r @ r
        p, rr = r + rr_new / rr * p, rr_new
    return x


def test_spinning_up_conjugate_gradient_passes_as_a_named_form():
    report = checks.check_conjugate_gradient(spinning_up_cg)
    assert any("Spinning Up" in note for note in report.notes)


def test_the_step_with_baselines_epsilon_in_the_curvature_passes_as_a_named_form():
    def baselines_step(gradient, fisher_vector_product, max_kl):
        x = conjugate_gradient_with_stop(fisher_vector_product, gradient, 10)
        return np.sqrt(2 * max_kl / (x @ fisher_vector_product(x) + 1e-8)) * x

    report = checks.check_trpo_step(baselines_step)
    assert any("1e-08 added to xᵀFx" in note for note in report.notes)


def test_a_step_returned_where_every_candidate_fails_is_reported_as_not_none():
    with pytest.raises(OracleMismatch, match="None is expected"):
        checks.check_backtracking_line_search(partial(line_search, slip="last trial"))


def test_user_cases_may_give_the_operator_as_a_matrix():
    case = {"matvec": [[2.0, 1.0], [1.0, 3.0]], "b": [1.0, -1.0], "iterations": 2}
    report = checks.check_conjugate_gradient(conjugate_gradient, cases=[case], max_examples=0)
    assert report.fixed_cases == 7


def test_a_non_symmetric_operator_in_a_user_case_is_refused():
    case = {"matvec": [[2.0, 1.0], [0.0, 3.0]], "b": [1.0, -1.0], "iterations": 1}
    with pytest.raises(InvalidProblemError, match="not symmetric"):
        checks.check_conjugate_gradient(conjugate_gradient, cases=[case])


def test_lspi_user_cases_are_systems_whose_data_the_check_generates():
    case = {"A": [[0.5]], "B": [[1.0]], "Q": [[1.0]], "R": [[1.0]], "K": [[0.25]]}
    report = checks.check_lspi_step(lspi_step, cases=[case], max_examples=0)
    assert report.fixed_cases == 5 and report.tier == "certified"


def test_an_lspi_user_case_with_data_only_is_refused_naming_the_keys():
    with pytest.raises(InvalidProblemError, match="A, B, Q, R, K"):
        checks.check_lspi_step(lspi_step, cases=[{"K": [[0.25]]}])


def test_the_printed_operator_rebuilds_the_case():
    import pgverify.checks.trpo  # noqa: F401  (the printed case names it)

    operator = MatrixOperator(np.array([[2.0, 0.5], [0.5, 1.0]]))
    rebuilt = eval(repr(operator), {"np": np, "pgverify": pgverify_module()})
    assert np.array_equal(rebuilt.matrix, operator.matrix)
    quadratic = Quadratic(np.array([1.0]), np.array([[2.0]]), 0.5)
    assert eval(repr(quadratic), {"np": np, "pgverify": pgverify_module()})(np.array([1.0])) == 2.5


def pgverify_module():
    import pgverify

    return pgverify


def test_the_kl_report_gives_the_weakest_reference_tier_of_its_cases():
    case = ([1.0, 0.0], [[2.0, 0.0], [0.0, 1.0]], [0.0, 1.0], [[1.0, 0.0], [0.0, 2.0]])
    report = checks.check_gaussian_kl(gaussian_kl, cases=[case], max_examples=0)
    assert report.tier == "high-precision"  # the fixed cases include unequal determinants


def test_a_user_case_with_v_not_shaped_like_k_is_refused_naming_v():
    case = {"K": [[1.0, 2.0]], "sigma": 0.5, "states": [[1.0, 0.0]], "v": [1.0, 2.0]}
    with pytest.raises(InvalidProblemError, match=r"v has shape \(2,\); expected \(1, 2\)"):
        checks.check_fisher_vector_product(fisher_vector_product, cases=[case])


def test_a_user_case_with_a_covariance_not_positive_definite_is_refused():
    case = ([0.0], [[-1.0]], [0.0], [[1.0]])
    with pytest.raises(InvalidProblemError, match="cov_p is not positive definite"):
        checks.check_gaussian_kl(gaussian_kl, cases=[case])


def test_a_backtrack_ratio_of_one_is_refused():
    case = (Quadratic([-1.0], [[0.0]]), Quadratic([0.0], [[1.0]]), [0.1], 0.01, 1.0, 3)
    with pytest.raises(InvalidProblemError, match="backtrack_ratio must lie in"):
        checks.check_backtracking_line_search(line_search, cases=[case])
