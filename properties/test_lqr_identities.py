"""Property suite: the closed forms of policy optimisation on LQR, checked against independent
references at the highest affordable tier.

Tiers used: certified (ball enclosures vs a 320-bit Kronecker solve; identities as overlapping
enclosures — disjoint balls would *prove* a violation), high-precision (central finite
differences of the 50-digit cost), float (PI convergence vs scipy's DARE).
"""

from itertools import pairwise

import mpmath
import numpy as np
import pytest
import scipy.linalg
from flint import arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify import Certified
from pgverify.precision import to_arb
from pgverify.strategies import lqr_problems_with_gains
from tests.reference import (
    REFERENCE_BITS,
    central_difference_gradient,
    closed_loop_and_stage_cost,
    kronecker_stein,
)

small = lqr_problems_with_gains(n=st.integers(1, 3))  # γ = 1 or < 1, with or without noise
small_any_discount = lqr_problems_with_gains(n=st.integers(1, 3), noisy=False)
small_undiscounted = lqr_problems_with_gains(n=st.integers(1, 3), discounted=False)
small_noisy = lqr_problems_with_gains(n=st.integers(1, 3), noisy=True)

FLOAT_RELATIVE_TOLERANCE = 1e-9
"""Documented agreement of the float64 path with the certified midpoint on the generated
problems (ρ(A − BK) ≤ 0.95, weights with λ_min ≥ 1/4): relative to the largest entry."""


ENGINES = [Certified(engine="arb"), Certified(engine="blas")]
"""Both certified engines on every problem (``"auto"`` would pick Arb at these sizes)."""


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
@given(case=small_any_discount)
def test_certified_value_matrix_contains_the_kronecker_reference(certified, case):
    problem, K = case
    closed, stage = closed_loop_and_stage_cost(problem, K)
    reference = kronecker_stein(closed, stage, problem.gamma, "value")
    assert problem.value_matrix(K, certified).contains(reference)


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
@given(case=small_any_discount)
def test_certified_state_covariance_contains_the_kronecker_reference(certified, case):
    problem, K = case
    closed, _ = closed_loop_and_stage_cost(problem, K)
    reference = kronecker_stein(closed, problem.Sigma0, problem.gamma, "covariance")
    assert problem.state_covariance(K, certified).contains(reference)


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
@given(case=small_noisy)
def test_certified_noisy_state_covariance_contains_the_kronecker_reference(certified, case):
    """With exploration noise Σ0_eff = Σ0 + γσBBᵀ/(1 − γ) is not a float: the reference forms it
    in 320-bit balls."""
    problem, K = case
    closed, _ = closed_loop_and_stage_cost(problem, K)
    with ctx.workprec(REFERENCE_BITS):
        B = arb_mat(problem.B.tolist())
        weight = to_arb(problem.gamma) * to_arb(problem.noise) / (1 - to_arb(problem.gamma))
        effective = arb_mat(problem.Sigma0.tolist()) + B * B.transpose() * weight
    reference = kronecker_stein(closed, effective, problem.gamma, "covariance")
    assert problem.state_covariance(K, certified).contains(reference)


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
@given(case=small_any_discount)
def test_certified_gradient_carries_at_least_50_digits(certified, case):
    problem, K = case
    gradient = problem.gradient(K, certified)
    # >= 50 significant digits, or an absolute radius below 1e-50 when the gradient is ~0
    scale = max(1.0, float(np.max(np.abs(gradient.mid))))
    assert gradient.digits >= 50 or gradient.max_radius <= 1e-50 * scale


@given(small_any_discount)
def test_float_gradient_agrees_with_the_certified_midpoint(case):
    problem, K = case
    certified = problem.gradient(K, "certified")
    scale = max(float(np.max(np.abs(certified.mid))), 1e-300)
    error = float(np.max(np.abs(problem.gradient(K) - certified.mid)))
    assert error <= FLOAT_RELATIVE_TOLERANCE * scale


FINITE_DIFFERENCE_TOLERANCE = 1e-18
"""Central differences with step 2^-40 are O(step²) ≈ 1e-24 accurate times the third
derivative (up to ~1e4 on the generated problems): 1e-18 leaves a margin and still refutes any
wrong formula off by more than that."""


def max_relative_gap(approximation, reference, shape):
    with mpmath.workdps(50):
        return max(
            abs(approximation[i, j] - reference[i, j]) / (1 + abs(reference[i, j]))
            for i in range(shape[0])
            for j in range(shape[1])
        )


@given(st.one_of(small_any_discount, small_noisy))
@settings(max_examples=12)
def test_gradient_matches_central_differences_of_the_50_digit_cost(case):
    """Also for γ < 1 with exploration noise: the gradient REINFORCE estimates on LQR."""
    problem, K = case
    expected = problem.gradient(K, 50)
    differences = central_difference_gradient(lambda gain: problem.cost(gain, 50), K)
    assert max_relative_gap(differences, expected, K.shape) <= FINITE_DIFFERENCE_TOLERANCE


@given(small_any_discount)
def test_natural_gradient_is_gradient_times_inverse_covariance(case):
    problem, K = case
    gradient = problem.gradient(K, "certified")
    covariance = problem.state_covariance(K, "certified")
    # ∇C Σ⁻¹ computed independently: solve Σ Xᵀ = ∇Cᵀ in ball arithmetic.
    with ctx.workprec(212):
        independent = covariance.ball.solve(gradient.ball.transpose()).transpose()
    assert problem.natural_gradient(K, "certified").ball.overlaps(independent)


@given(small_any_discount)
def test_gauss_newton_with_half_step_is_policy_iteration(case):
    problem, K = case
    newton = problem.gauss_newton_step(K, 0.5, "certified")
    iteration = problem.policy_iteration_step(K, "certified")
    assert newton.overlaps(iteration)
    # narrow enclosures (relative to max(1, |K⁺|): the gain may be exactly 0, e.g. with B = 0)
    scale = max(1.0, float(np.max(np.abs(iteration.mid))))
    assert max(newton.max_radius, iteration.max_radius) <= 1e-50 * scale


@given(small_any_discount)
def test_policy_iteration_is_the_greedy_gain_of_the_q_matrix(case):
    problem, K = case
    H = problem.q_matrix(K, "certified")
    n = problem.n

    with ctx.workprec(212):
        entries = H.ball
        H_uu = arb_mat(
            [[entries[n + i, n + j] for j in range(problem.m)] for i in range(problem.m)]
        )
        H_ux = arb_mat([[entries[n + i, j] for j in range(n)] for i in range(problem.m)])
        greedy = H_uu.solve(H_ux)
    assert problem.policy_iteration_step(K, "certified").ball.overlaps(greedy)


@given(small_any_discount, st.sampled_from([0.0, 0.25, 1.0]))
def test_cost_difference_lemma_holds_within_the_certified_radius(case, weight):
    problem, K = case
    # a second stabilising gain: a convex combination with the policy-iteration gain
    following = problem.policy_iteration_step(K)
    K2 = (1 - weight) * K + weight * following
    if not problem.is_stabilizing(K2):
        K2 = K
    lemma = problem.cost_difference(K, K2, "certified")
    direct = problem.cost(K2, "certified").ball - problem.cost(K, "certified").ball
    assert lemma.contains(direct) or lemma.ball.overlaps(direct)
    assert lemma.max_radius <= 1e-40 * (1 + abs(problem.cost(K)))


@given(small_undiscounted)
@settings(max_examples=10)
def test_policy_iteration_stays_stabilising_decreases_cost_and_reaches_the_dare(case):
    problem, K = case
    X = scipy.linalg.solve_discrete_are(problem.A, problem.B, problem.Q, problem.R)
    costs = [problem.cost(K, "certified")]
    for _ in range(12):
        K = problem.policy_iteration_step(K)
        assert problem.is_stabilizing(K, "certified")
        costs.append(problem.cost(K, "certified"))
    for before, after in pairwise(costs):
        # monotone (Hewer 1971): C(K_{i+1}) <= C(K_i), decided rigorously; the float64 rounding
        # of each gain may raise the cost by O(eps²) relative once PI has converged
        slack = 1e-26 * abs(before.mid)
        assert after.mid - after.rad <= before.mid + before.rad + slack
    final = problem.value_matrix(K)
    assert np.max(np.abs(final - X)) <= 1e-9 * np.max(np.abs(X))


@given(small_any_discount)
@settings(max_examples=8)
def test_certified_optimal_gain_contains_the_high_precision_newton_limit(case):
    problem, _ = case
    certified = problem.optimal_gain("certified")
    assert certified.max_radius <= 1e-40 * max(1.0, float(np.max(np.abs(certified.mid))))
    high = problem.optimal_gain(60)
    # the 60-digit Newton limit is rounded to 60 digits: it lies within 1e-58 of the ball
    for i in range(problem.m):
        for j in range(problem.n):
            gap = abs(to_arb(high[i, j]) - certified.ball[i, j])
            assert gap <= 1e-58 * max(1.0, abs(certified.mid[i, j]))
    value = problem.optimal_value_matrix("certified")
    # the DARE residual of the certified X* contains 0
    from flint import arb

    with ctx.workprec(300):
        A = arb_mat(problem.A.tolist())
        B = arb_mat(problem.B.tolist())
        Q = arb_mat(problem.Q.tolist())
        R = arb_mat(problem.R.tolist())
        X = value.ball
        g = arb(problem.gamma)  # exact; the float g*g would be rounded
        cross = B.transpose() * X * A
        residual = (
            Q
            + A.transpose() * X * A * g
            - cross.transpose() * (R + B.transpose() * X * B * g).solve(cross) * (g * g)
            - X
        )
    assert residual.contains(arb_mat(problem.n, problem.n))


@given(small_any_discount)
def test_finite_horizon_cost_converges_to_the_infinite_horizon_cost(case):
    problem, K = case
    horizon = 400
    finite = problem.finite_horizon_cost(K, horizon)
    infinite = problem.cost(K)
    assert finite <= infinite * (1 + 1e-12)
    assert abs(finite - infinite) <= 1e-6 * infinite


@given(small_noisy, st.integers(0, 6))
@settings(max_examples=10)
def test_finite_horizon_gradient_matches_central_differences(case, horizon):
    problem, K = case
    expected = problem.finite_horizon_gradient(K, horizon, 50)
    differences = central_difference_gradient(
        lambda gain: problem.finite_horizon_cost(gain, horizon, 50), K
    )
    assert max_relative_gap(differences, expected, K.shape) <= FINITE_DIFFERENCE_TOLERANCE


@given(small_any_discount)
def test_three_tiers_agree_on_the_cost(case):
    problem, K = case
    certified = problem.cost(K, "certified")
    high = to_arb(problem.cost(K, 60))
    # the 60-digit value is rounded to 60 digits: it lies within 1e-59 relative of the ball
    assert abs(high - certified.ball) <= 1e-59 * abs(high)
    assert problem.cost(K) == pytest.approx(certified.mid, rel=FLOAT_RELATIVE_TOLERANCE)


@given(small)
@settings(max_examples=8)
def test_central_differences_refute_the_classic_wrong_gradients(case):
    """Negative control: the finite-difference check says "no" to E_K Σ_K (missing factor 2) and
    to 2 E_K Σ0 (Σ0 in place of Σ_K) whenever these differ from the truth."""
    problem, K = case
    expected = problem.gradient(K, 50)
    differences = central_difference_gradient(lambda gain: problem.cost(gain, 50), K)
    with mpmath.workdps(50):
        E = problem.natural_gradient(K, 50) / 2
        wrong_factor = expected / 2
        wrong_covariance = 2 * E @ problem.Sigma0
    for wrong in (wrong_factor, wrong_covariance):
        if max_relative_gap(wrong, expected, K.shape) > 1e-12:
            assert max_relative_gap(differences, wrong, K.shape) > FINITE_DIFFERENCE_TOLERANCE
