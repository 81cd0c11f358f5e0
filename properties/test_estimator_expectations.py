"""Estimators judged by their exact expectation (issue 10): unbiased estimators' exact means equal
their exact targets on drawn LQR problems and finite MDPs; the biased batch-mean baseline's exact
bias equals its formula; the variance of a baselined estimator follows its exact formula; zeroth
order is exact on quadratics.

Exact means come from pgverify.expectation (rational cubature or enumeration, Fractions); targets
from pgverify.LQR.finite_horizon_gradient (certified enclosures, an independent code path) and
pgverify.mdp.finite_horizon (exact)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.estimators.policy_gradient import (
    gaussian_reinforce,
    gaussian_v0,
    score_function_estimate,
    softmax_scores,
)
from pgverify.estimators.zeroth_order import quadratic_cost, zeroth_order_estimate
from pgverify.expectation import (
    additive_moments,
    directions_expectation,
    lqr_expectation,
    lqr_gradient_target,
    mdp_expectation,
    quadratic_gradient,
    softmax_gradient_target,
)
from pgverify.strategies import lqr_problems_with_gains, mdps_with_policies

SMALL = st.integers(1, 2)
noisy_problems = lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True)


def reinforce(problem, K, baseline=None):
    def estimator(states, actions, costs):
        return gaussian_reinforce(
            states, actions, costs, K, problem.noise, problem.gamma, baseline=baseline
        )

    return estimator


@given(noisy_problems, st.integers(1, 3))
def test_v0_exact_expectation_is_the_finite_horizon_gradient(case, steps):
    problem, K = case

    def v0(states, actions, costs):
        return gaussian_v0(states, actions, costs, K, problem.noise, problem.gamma)

    mean = lqr_expectation(problem, K, steps, v0, degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@given(noisy_problems, st.integers(1, 3))
def test_reinforce_exact_expectation_is_the_finite_horizon_gradient(case, steps):
    problem, K = case
    mean = lqr_expectation(problem, K, steps, reinforce(problem, K), degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@given(noisy_problems, st.integers(1, 2), st.data())
def test_state_dependent_quadratic_baseline_keeps_reinforce_unbiased(case, steps, data):
    problem, K = case
    weights = np.array(data.draw(st.lists(st.integers(-4, 4), min_size=2, max_size=2))) / 4

    def baseline(states):  # b(x) = w0 + w1 |x|² (degree 2 in x: the estimator has degree 4)
        return weights[0] + weights[1] * (states * states).sum(axis=-1)

    mean = lqr_expectation(problem, K, steps, reinforce(problem, K, baseline), degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@given(noisy_problems, st.integers(1, 2), st.data())
def test_previous_rollouts_average_return_baseline_keeps_reinforce_unbiased(case, steps, data):
    problem, K = case
    previous_average = data.draw(st.lists(st.integers(-8, 8), min_size=steps, max_size=steps))
    estimator = reinforce(problem, K, np.array(previous_average) / 2)
    mean = lqr_expectation(problem, K, steps, estimator, degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@settings(max_examples=6)
@given(lqr_problems_with_gains(n=1, m=1, noisy=True), st.integers(1, 2))
def test_leave_one_out_baseline_keeps_reinforce_unbiased_over_a_batch_of_two(case, steps):
    problem, K = case
    estimator = reinforce(problem, K, "leave_one_out")
    mean = lqr_expectation(problem, K, steps, estimator, degree=4, batch=2).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@settings(max_examples=6)
@given(lqr_problems_with_gains(n=1, m=1, noisy=True), st.integers(1, 2))
def test_batch_mean_baseline_including_own_return_has_exact_bias_minus_gradient_over_m(case, steps):
    problem, K = case
    batch = 2
    biased = lqr_expectation(
        problem, K, steps, reinforce(problem, K, "batch_mean"), degree=4, batch=batch
    ).mean
    gradient = lqr_expectation(problem, K, steps, reinforce(problem, K), degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(gradient)
    assert np.all(biased - gradient == -gradient / batch)


@given(lqr_problems_with_gains(n=1, m=1, noisy=True), st.integers(-8, 8))
def test_constant_baseline_variance_is_the_exact_quadratic_in_b_and_the_optimum_reduces_it(
    case, numerator
):
    # one step, scalar K: Var((c − b) s) = Var(c s) − 2b E[c s²] + b² E[s²]; minimum at
    # b* = E[c s²] / E[s²], where it is reduced by E[c s²]² / E[s²] (Greensmith et al. 2004)
    problem, K = case
    b = Fraction(numerator, 4)
    plain = lqr_expectation(problem, K, 1, reinforce(problem, K), degree=4, variance=True)
    based = lqr_expectation(problem, K, 1, reinforce(problem, K, b), degree=4, variance=True)

    def moments(states, actions, costs):
        gain = Fraction(float(K[0, 0]))
        score = (actions[0, 0, 0] + gain * states[0, 0, 0]) * states[0, 0, 0]
        score = -score / Fraction(problem.noise)
        return np.array([costs[0, 0] * score * score, score * score], dtype=object)

    cost_score_square, score_square = lqr_expectation(problem, K, 1, moments, degree=6).mean
    expected = plain.variance[0, 0] - 2 * b * cost_score_square + b * b * score_square
    assert based.variance[0, 0] == expected
    optimum = cost_score_square / score_square
    best = lqr_expectation(problem, K, 1, reinforce(problem, K, optimum), degree=4, variance=True)
    assert best.variance[0, 0] == plain.variance[0, 0] - cost_score_square**2 / score_square


def softmax_estimator(policy, gamma, kind, baseline=None):
    def estimator(states, actions, costs):
        scores = softmax_scores(states, actions, policy)
        return score_function_estimate(scores, costs, gamma, kind, baseline, states)

    return estimator


def exact_table(policy):
    table = np.empty((len(policy), len(policy[0])), dtype=object)
    table[:] = [[Fraction(p) for p in row] for row in policy]
    return table


mdp_cases = mdps_with_policies(st.integers(1, 3), st.integers(1, 2), allow_zero=False)


@given(mdp_cases, st.integers(1, 3), st.sampled_from(["v0", "reinforce"]))
def test_softmax_score_function_estimators_are_unbiased_exactly_on_finite_mdps(case, steps, kind):
    mdp, policy = case
    estimator = softmax_estimator(exact_table(policy), mdp.gamma, kind)
    mean = mdp_expectation(mdp, policy, steps, estimator).mean
    assert np.all(mean == softmax_gradient_target(mdp, policy, steps))


@given(mdp_cases, st.integers(1, 2), st.data())
def test_softmax_state_dependent_baseline_is_unbiased_exactly(case, steps, data):
    mdp, policy = case
    values = data.draw(st.lists(st.integers(-8, 8), min_size=mdp.states, max_size=mdp.states))
    table = np.array([Fraction(v, 3) for v in values], dtype=object)
    estimator = softmax_estimator(exact_table(policy), mdp.gamma, "reinforce", lambda s: table[s])
    mean = mdp_expectation(mdp, policy, steps, estimator).mean
    assert np.all(mean == softmax_gradient_target(mdp, policy, steps))


@settings(max_examples=8)
@given(mdps_with_policies(st.integers(1, 2), st.integers(1, 2), allow_zero=False))
def test_softmax_leave_one_out_is_unbiased_and_batch_mean_biased_by_its_formula(case):
    mdp, policy = case
    target = softmax_gradient_target(mdp, policy, 2)
    for baseline, factor in (("leave_one_out", 1), ("batch_mean", Fraction(1, 2))):
        estimator = softmax_estimator(exact_table(policy), mdp.gamma, "reinforce", baseline)
        mean = mdp_expectation(mdp, policy, 2, estimator, batch=2).mean
        assert np.all(mean == target * factor)


@given(mdps_with_policies(st.integers(1, 3), st.integers(1, 2)), st.integers(1, 3))
def test_dynamic_programming_moments_of_additive_statistics_equal_the_enumeration(case, steps):
    mdp, policy = case

    def per_step(t, s, a):  # a vector statistic: discounted cost, and visits to state 0 by time
        return np.array([mdp.gamma**t * mdp.costs[s][a], Fraction(t + 1) * (s == 0)], dtype=object)

    def statistic(states, actions, costs):
        return sum(per_step(t, states[0, t], actions[0, t]) for t in range(steps))

    fast = additive_moments(mdp, policy, steps, per_step)
    slow = mdp_expectation(mdp, policy, steps, statistic, variance=True)
    assert np.all(fast.mean == slow.mean) and np.all(fast.variance == slow.variance)


def eighths(size):
    return st.lists(st.integers(-16, 16), min_size=size, max_size=size).map(
        lambda values: np.array([Fraction(v, 8) for v in values], dtype=object)
    )


@st.composite
def quadratic_cases(draw):
    m, n = draw(SMALL), draw(SMALL)
    size = m * n
    factor = draw(eighths(size * size)).reshape(size, size)
    hessian = factor.T @ factor  # any symmetric matrix would do; this one is also ⪰ 0
    return hessian, draw(eighths(size)), draw(eighths(size)).reshape(m, n)


@pytest.mark.parametrize("kind", ["gaussian", "gaussian_shifted", "antithetic", "sphere"])
@given(case=quadratic_cases(), count=st.integers(1, 2), smoothing=st.integers(1, 16))
def test_zeroth_order_estimators_are_exactly_unbiased_on_quadratic_costs(
    kind, case, count, smoothing
):
    hessian, gradient, K = case
    cost = quadratic_cost(hessian, gradient, Fraction(3))
    mu = Fraction(smoothing, 4)

    def estimator(directions):
        return zeroth_order_estimate(cost, K, directions, mu, kind)

    distribution = "sphere" if kind == "sphere" else "gaussian"
    mean = directions_expectation(estimator, K.shape, count, 3, distribution=distribution).mean
    assert np.all(mean == quadratic_gradient(hessian, gradient, K))


@pytest.mark.slow
@settings(max_examples=10)
@given(lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True), st.integers(1, 2))
def test_leave_one_out_and_batch_mean_on_two_dimensional_problems(case, steps):
    problem, K = case
    target = lqr_gradient_target(problem, K, steps)
    loo = lqr_expectation(problem, K, steps, reinforce(problem, K, "leave_one_out"), 4, batch=2)
    mean = lqr_expectation(problem, K, steps, reinforce(problem, K, "batch_mean"), 4, batch=2)
    assert target.contains(loo.mean)
    assert target.contains(mean.mean * 2)


@pytest.mark.parametrize("kind", ["gaussian", "gaussian_shifted", "antithetic"])
@given(case=quadratic_cases(), smoothing=st.integers(1, 16), data=st.data())
def test_gaussian_smoothing_bias_on_a_cubic_cost_is_exactly_three_mu_squared_a(
    kind, case, smoothing, data
):
    # C(k) = quadratic + Σ_i a_i k_i³: C_μ = C + (μ²/2) ΔC, ΔC = 6 Σ a_i k_i, so the smoothed
    # gradient is ∇C(k) + 3 μ² a (Nesterov & Spokoiny 2017, Gaussian smoothing of a cubic)
    hessian, gradient, K = case
    cubic = data.draw(eighths(K.size))
    quadratic = quadratic_cost(hessian, gradient)
    mu = Fraction(smoothing, 4)

    def cost(point):
        k = np.asarray(point).reshape(-1)
        return quadratic(point) + (cubic * k * k * k).sum()

    def estimator(directions):
        return zeroth_order_estimate(cost, K, directions, mu, kind)

    mean = directions_expectation(estimator, K.shape, 1, 4).mean
    exact_gradient = quadratic_gradient(hessian, gradient, K) + (
        3 * cubic * K.reshape(-1) ** 2
    ).reshape(K.shape)
    assert np.all(mean == exact_gradient + (3 * mu * mu * cubic).reshape(K.shape))


@given(noisy_problems, st.integers(1, 2))
def test_float_evaluation_lies_within_its_reported_rounding_tolerance_of_the_exact_mean(
    case, steps
):
    problem, K = case
    exact = lqr_expectation(problem, K, steps, reinforce(problem, K), degree=4)
    rounded = lqr_expectation(
        problem, K, steps, reinforce(problem, K), degree=4, arithmetic="float"
    )
    assert rounded.rounding_tolerance > 0
    assert np.all(np.abs(rounded.mean - exact.mean) <= rounded.rounding_tolerance)
