"""pgverify.trpo on fixed examples: published-style values, deliberately wrong implementations
told apart from the references (negative controls), and bad input named in the error."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from pgverify import InvalidProblemError
from pgverify.trpo import (
    backtracking_line_search,
    conjugate_gradient,
    conjugate_gradient_run,
    float_rounding_allowance,
    gaussian_kl,
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product,
    linear_gaussian_fisher_vector_product_from_moment,
    lqr_natural_gradient_three_ways,
    maximal_step,
    maximal_step_parts,
    natural_direction,
    residual_bound,
    softmax_fisher_vector_product,
    state_second_moment,
    two_layer_gaussian_fisher,
    two_layer_gaussian_fisher_vector_product,
)

SPD = np.array([[4, 1, 0], [1, 3, 1], [0, 1, 2]], dtype=object)
RHS = np.array([1, 2, 3], dtype=object)


def conditioned_system(dimension=20, kappa=1e3, seed=1):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    A = (Q * np.geomspace(1.0, kappa, dimension)) @ Q.T
    return (A + A.T) / 2, rng.standard_normal(dimension)


def relative_residual(A, b, x):
    return np.linalg.norm(b - A @ x) / np.linalg.norm(b)


# ------------------------------------------------------------------------------------------------
# conjugate gradient


def test_exact_cg_on_a_three_by_three_system_gives_the_rational_solution():
    x = conjugate_gradient(lambda p: SPD @ p, RHS, 3, precision="exact")
    assert list(x) == [Fraction(2, 9), Fraction(1, 9), Fraction(13, 9)]


def test_steepest_descent_is_told_apart_by_the_residual_bound():
    """Negative control: forgetting the conjugation (p = r: steepest descent) converges at
    ((κ−1)/(κ+1))^k instead of ((√κ−1)/(√κ+1))^k and breaks the float bound."""
    A, b = conditioned_system()
    kappa = float(np.linalg.cond(A)) * (1 + 1e-6)
    k = 200

    def steepest_descent(matvec, b, iterations):
        x, r = np.zeros_like(b), b.copy()
        for _ in range(iterations):
            z = matvec(r)
            step = (r @ r) / (r @ z)
            x, r = x + step * r, r - step * z
        return x

    bound = residual_bound(kappa, k) + float_rounding_allowance(kappa, k, len(b))
    assert relative_residual(A, b, conjugate_gradient(lambda p: A @ p, b, k)) <= bound
    assert relative_residual(A, b, steepest_descent(lambda p: A @ p, b, k)) > bound


def test_cg_that_ignores_damping_is_told_apart():
    damped = conjugate_gradient(
        lambda p: SPD @ p, RHS, 3, damping=Fraction(1, 2), precision="exact"
    )
    undamped = conjugate_gradient(lambda p: SPD @ p, RHS, 3, precision="exact")
    assert list(damped) != list(undamped)
    shifted = SPD + np.diag([Fraction(1, 2)] * 3)
    assert list(shifted @ damped) == list(RHS)


def test_cg_run_records_residuals_until_exact_termination():
    run = conjugate_gradient_run(lambda p: SPD @ p, RHS, 10, precision="exact")
    assert run.steps == 3 and run.stopped == "tolerance"
    assert run.residual_norms_squared[0] == 14 and run.residual_norms_squared[-1] == 0


def test_residual_bound_values():
    assert residual_bound(1, 0) == 2
    assert residual_bound(4, 1) == pytest.approx(4 / 3)  # 2·2·(1/3)


# ------------------------------------------------------------------------------------------------
# Fisher-vector products: wrong conventions are told apart

K = np.zeros((2, 3))
STATES = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [2.0, 0.0, 1.0]])
V = np.arange(1.0, 7.0)


def test_row_major_fisher_vector_product_is_told_apart():
    S = state_second_moment(STATES)
    wrong = (V.reshape(2, 3) @ S).reshape(-1) / 0.5  # vec taken row-major
    right = linear_gaussian_fisher_vector_product(K, 0.5, STATES, V)
    assert np.allclose(right, linear_gaussian_fisher(S, 0.5, 2) @ V)
    assert not np.allclose(wrong, right)


def test_fisher_vector_product_with_sigma_instead_of_its_inverse_is_told_apart():
    S = state_second_moment(STATES)
    wrong = (V.reshape(3, 2).T @ S).T.reshape(-1) * 0.5
    right = linear_gaussian_fisher_vector_product(K, 0.5, STATES, V)
    assert not np.allclose(wrong, right)


def test_linear_fisher_vector_product_accepts_the_matrix_form():
    matrix = linear_gaussian_fisher_vector_product(K, 0.5, STATES, V.reshape(3, 2).T)
    assert matrix.shape == (2, 3)
    assert np.allclose(
        matrix.reshape(-1, order="F"), linear_gaussian_fisher_vector_product(K, 0.5, STATES, V)
    )


W0 = np.array([[0.5, -1.0, 0.25], [0.75, 0.5, -0.5]])
W1 = np.array([[1.0, -0.5], [0.25, 2.0]])


def test_two_layer_product_without_the_first_layer_is_told_apart():
    v = np.linspace(-1, 1, 2 * 2 + 2 * 3)
    right = two_layer_gaussian_fisher_vector_product(W0, W1, 0.5, STATES, v)
    assert np.allclose(right, two_layer_gaussian_fisher(W0, W1, 0.5, STATES) @ v)
    truncated = v.copy()
    truncated[4:] = 0  # a product that forgets the W0 block of J
    assert not np.allclose(
        two_layer_gaussian_fisher_vector_product(W0, W1, 0.5, STATES, truncated), right
    )


def test_softmax_product_on_a_fixed_example():
    policy = [[Fraction(1, 2), Fraction(1, 2)], [Fraction(1, 3), Fraction(2, 3)]]
    product = softmax_fisher_vector_product(
        policy, [Fraction(1, 4), Fraction(3, 4)], [1, 2, 3, 5], precision="exact"
    )
    # state 0: (1/4)(1/2)(1 − 3/2), (1/4)(1/2)(2 − 3/2); state 1: mean 13/3
    assert list(product) == [Fraction(-1, 16), Fraction(1, 16), Fraction(-1, 3), Fraction(1, 3)]


def test_softmax_three_ways_zero_the_unvisited_state():
    from pgverify import FiniteMDP
    from pgverify.trpo import softmax_natural_gradient_three_ways

    half, third = Fraction(1, 2), Fraction(1, 3)
    mdp = FiniteMDP.create(
        [
            [[half, half, 0], [0, 1, 0]],
            [[0, 1, 0], [third, 1 - third, 0]],
            [[0, 0, 1], [0, 0, 1]],  # never reached from state 0
        ],
        [[1, 2], [0, half], [3, -1]],
        Fraction(9, 10),
        [1, 0, 0],
    )
    routes = softmax_natural_gradient_three_ways(mdp, [[0.5, -1], [0.25, 0], [1, 2]], digits=30)
    assert routes.visited == (True, True, False)
    assert all(value == 0 for value in routes.conjugate_gradient[2])
    assert routes.largest_relative_gap() < 1e-25
    assert routes.conjugate_gradient_steps <= 2


# ------------------------------------------------------------------------------------------------
# Gaussian KL


def test_gaussian_kl_one_dimensional_value():
    # KL(N(0, 1) ‖ N(1, 2)) = ½ (1/2 + 1/2 − 1 + log 2) = ½ log 2
    assert gaussian_kl([0], [[1]], [1], [[2]]) == pytest.approx(0.5 * np.log(2), rel=1e-15)
    with mpmath.workdps(50):
        value = gaussian_kl([0], [[1]], [1], [[2]], precision=40)
        assert abs(value - mpmath.log(2) / 2) < mpmath.mpf(10) ** -39


def test_reversed_gaussian_kl_is_told_apart():
    p = ([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]])
    q = ([0.5, -1.0], [[2.0, 0.0], [0.0, 0.5]])
    assert abs(gaussian_kl(*p, *q) - gaussian_kl(*q, *p)) > 0.1


def test_gaussian_kl_without_the_log_determinant_is_told_apart():
    value = gaussian_kl([0, 0], np.eye(2), [0, 0], 2 * np.eye(2))
    without_log = 0.5 * (1.0 - 2 + 0)  # tr(Σq⁻¹Σp) = 1, so ½(1 − 2) without log det = −½
    assert value == pytest.approx(0.5 * (1 - 2 + 2 * np.log(2)))
    assert value != pytest.approx(without_log)


def test_gaussian_kl_is_exactly_zero_between_equal_distributions():
    cov = [[Fraction(2), Fraction(1, 2)], [Fraction(1, 2), Fraction(1)]]
    assert gaussian_kl([1, 2], cov, [1, 2], cov, precision="exact") == 0


# ------------------------------------------------------------------------------------------------
# maximal step and line search


def test_maximal_step_without_the_factor_two_misses_the_boundary():
    F = np.array([[2.0, 1.0], [1.0, 3.0]])
    g = np.array([1.0, 2.0])
    step = maximal_step(g, F, 0.01)
    assert 0.5 * step @ F @ step == pytest.approx(0.01, rel=1e-14)
    x = np.linalg.solve(F, g)
    wrong = np.sqrt(0.01 / (g @ x)) * x
    assert 0.5 * wrong @ F @ wrong == pytest.approx(0.005, rel=1e-12)


def test_maximal_step_parts_in_the_exact_tier():
    F = np.array([[2, 1], [1, 3]], dtype=object)
    parts = maximal_step_parts([1, 2], F, Fraction(63, 40), precision="exact")
    assert list(parts.direction) == [Fraction(1, 5), Fraction(3, 5)]
    assert parts.curvature == Fraction(7, 5) and parts.beta == Fraction(3, 2)


def test_natural_direction_by_cg_equals_the_direct_solve_exactly():
    by_cg = natural_direction(RHS, lambda p: SPD @ p, precision="exact")
    direct = natural_direction(RHS, SPD, precision="exact")
    assert list(by_cg) == list(direct)


def surrogate(s):
    return (s[0] - Fraction(1, 10)) ** 2


def squared(s):
    return s @ s


def test_line_search_with_only_the_last_candidate_good_exposes_an_off_by_one():
    """Candidates 1, 1/2, 1/4, 1/8: only 1/8 improves; a loop over j < max_backtracks (three
    candidates) would reject everything."""
    outcome = backtracking_line_search(
        surrogate,
        squared,
        [Fraction(1), Fraction(0)],
        Fraction(2),
        Fraction(1, 2),
        3,
        precision="exact",
    )
    assert outcome.exponent == 3 and list(outcome.step) == [Fraction(1, 8), 0]
    shorter = backtracking_line_search(
        surrogate,
        squared,
        [Fraction(1), Fraction(0)],
        Fraction(2),
        Fraction(1, 2),
        2,
        precision="exact",
    )
    assert shorter.step is None and "rejected all 3 candidates" in shorter.reason


def test_line_search_ignoring_the_kl_constraint_is_told_apart():
    # s = 1/2 improves the surrogate (−s) but its KL 1/4 exceeds max_kl = 1/16; s = 1/4 does not
    outcome = backtracking_line_search(
        lambda s: -s[0],
        squared,
        [Fraction(1, 2)],
        Fraction(1, 16),
        Fraction(1, 2),
        3,
        precision="exact",
    )
    assert outcome.exponent == 1 and outcome.trials[0].reason.startswith("kl = 1/4 > max_kl")


def test_line_search_needs_a_strict_decrease():
    outcome = backtracking_line_search(lambda s: 0, squared, [1.0], 1.0, 0.5, 2)
    assert outcome.step is None and "did not decrease" in outcome.reason


def test_line_search_treats_a_nan_value_as_a_rejection():
    outcome = backtracking_line_search(
        lambda s: float("nan") if s[0] > 0.3 else -s[0], squared, [1.0], 1.0, 0.5, 3
    )
    assert outcome.exponent == 2
    assert outcome.trials[0].reason == "the surrogate is not finite"


# ------------------------------------------------------------------------------------------------
# bad input names the argument, the value and the expectation


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conjugate_gradient(lambda p: p, [1.0, float("nan")], 2), "b has a non-finite"),
        (lambda: conjugate_gradient(lambda p: p, [1.0], -1), "iterations must be an int in [0,"),
        (lambda: conjugate_gradient(lambda p: p, [1.0], True), "iterations must be an int"),
        (lambda: conjugate_gradient("A", [1.0], 1), "matvec must be callable"),
        (lambda: conjugate_gradient(lambda p: [1.0, 2.0], [1.0], 1), "expected (1,)"),
        (
            lambda: conjugate_gradient(lambda p: -p, [1], 1, precision="exact"),
            "not positive definite",
        ),
        (lambda: conjugate_gradient(lambda p: p, [1.0], 1, tolerance=-1), "tolerance must be >= 0"),
        (
            lambda: conjugate_gradient(lambda p: p, [1.0], 1, precision="double"),
            "precision must be",
        ),
        (
            lambda: conjugate_gradient(lambda p: 0.5 * p, [1], 1, precision="exact"),
            "returned float entries in the exact tier",
        ),
        (lambda: linear_gaussian_fisher_vector_product(K, 0, STATES, V), "sigma must be > 0"),
        (lambda: linear_gaussian_fisher_vector_product(K, 1, STATES[:, :2], V), "expected (N, 3)"),
        (lambda: linear_gaussian_fisher_vector_product(K, 1, STATES, V[:5]), "expected (6,)"),
        (
            lambda: two_layer_gaussian_fisher_vector_product(W0, W1[:, :1], 1, STATES, V),
            "W1 has shape",
        ),
        (
            lambda: two_layer_gaussian_fisher_vector_product(
                W0, W1, 1, STATES, np.ones(10), precision="exact"
            ),
            "tanh is irrational",
        ),
        (
            lambda: softmax_fisher_vector_product([[0.5, 0.4]], [1.0], [1.0, 2.0]),
            "policy[0] sums to",
        ),
        (lambda: gaussian_kl([0], [[-1.0]], [0], [[1.0]]), "cov_p is not positive definite"),
        (lambda: gaussian_kl([0, 0], np.eye(2), [0], [[1.0]]), "mean_q has shape"),
        (
            lambda: gaussian_kl([0], [[1]], [0], [[2]], precision="exact"),
            "logarithms are irrational",
        ),
        (lambda: gaussian_kl([0], [[1, 0], [0, 1]], [0], [[1]]), "cov_p has shape"),
        (lambda: maximal_step([0.0, 0.0], np.eye(2), 0.1), "gradient is zero"),
        (lambda: maximal_step([1.0], np.eye(1), 0), "max_kl must be > 0"),
        (lambda: maximal_step([1.0], np.eye(2), 0.1), "fisher has shape"),
        (
            lambda: maximal_step([1], np.eye(1, dtype=int), Fraction(1, 3), precision="exact"),
            "irrational",
        ),
        (lambda: backtracking_line_search(squared, squared, [1.0], 1, 1.0, 2), "backtrack_ratio"),
        (lambda: backtracking_line_search(squared, squared, [1.0], 1, 0.5, -1), "max_backtracks"),
        (
            lambda: backtracking_line_search(lambda s: float("nan"), squared, [1.0], 1, 0.5, 1),
            "surrogate(0)",
        ),
        (lambda: conjugate_gradient(lambda p: p, [[1, 2], [3]], 1), "b could not be read"),
        (lambda: gaussian_kl([0.0], [[1.0], [1, 2]], [0.0], [[1.0]]), "cov_p could not be read"),
        (lambda: conjugate_gradient(lambda p: p, [1.0], 1, precision=10**400), "precision must"),
        (lambda: float_rounding_allowance(10.0, 10**400, 2), "iterations must be an int in"),
        (lambda: linear_gaussian_fisher(np.eye(2), 1.0, 10**400), "m (the number of inputs)"),
        (
            lambda: linear_gaussian_fisher_vector_product_from_moment(np.eye(2), 1.0, V, None),
            "m (the number of inputs)",
        ),
        (lambda: lqr_natural_gradient_three_ways("LQR", np.eye(3)), "problem must be a pgverify"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(InvalidProblemError) as error:
        call()
    assert message in str(error.value)
