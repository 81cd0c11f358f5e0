"""Learned critics, the TD-residual actor-critic estimate and the covariance estimates:
hand-computed values, exact-arithmetic agreement, bad input, and deliberately wrong
implementations that the exact properties (properties/test_critics.py) reject."""

from fractions import Fraction

import numpy as np
import pytest

from pgverify import LQR, InvalidProblemError
from pgverify.estimators import (
    gaussian_scores,
    lstd,
    lstd_statistics,
    natural_gradient_estimate,
    one_hot_features,
    quadratic_value_features,
    quadratic_value_parameters,
    state_covariance_estimate,
    td0,
    td_actor_critic,
)
from pgverify.expectation import (
    critic_error_bias,
    critic_gradient_expectation,
    discounted_state_moment,
    lqr_expectation,
    population_lstd,
)
from tests.critic_support import exact_matrix, quadratic_values, stein_residual

PROBLEM = LQR([[1.0, 0.5], [0.0, 0.75]], [[0.0], [1.0]], np.eye(2), [[1.0]], gamma=0.9, noise=0.25)
K = np.array([[0.25, 0.5]])


def fractions(array):
    return exact_matrix(array)


# ----- hand-computed values --------------------------------------------------------------------


def test_quadratic_features_are_the_upper_triangle_monomials_and_a_constant():
    assert quadratic_value_features(np.array([2.0, 3.0])).tolist() == [4.0, 6.0, 9.0, 1.0]


def test_quadratic_value_parameters_halve_the_cross_weight():
    P, constant = quadratic_value_parameters(np.array([1.0, 4.0, 2.0, 7.0]), 2)
    assert P.tolist() == [[1.0, 2.0], [2.0, 2.0]] and constant == 7.0
    x = np.array([2.0, 3.0])
    features = quadratic_value_features(x)
    assert features @ np.array([1.0, 4.0, 2.0, 7.0]) == x @ P @ x + constant


def test_one_hot_features_mark_the_visited_state():
    assert one_hot_features([[0, 2]], 3).tolist() == [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]


def test_lstd0_on_one_transition_with_one_feature_is_cost_over_one_minus_gamma_ratio():
    # θ = c φ / (φ (φ − γφ')) = 3 / (1 − 0.5 · 2) ... with φ = 1, φ' = 0.5: 3 / (1 − 0.25)
    weights = lstd([[[1.0], [0.5]]], [[3.0]], 0.5)
    assert weights.tolist() == pytest.approx([4.0], rel=1e-15)


def test_lstd_lambda_traces_accumulate_discounted_features():
    # two steps, φ = (1, 1, 1): z = (1, 1 + γλ); Â = Σ z (1 − γ) / 2, b̂ = (c0 + (1 + γλ) c1) / 2
    gamma, lam = Fraction(1, 2), Fraction(1, 2)
    features = fractions([[[1.0], [1.0], [1.0]]])
    matrix, rhs = lstd_statistics(features, fractions([[2.0, 4.0]]), gamma, lam)
    assert matrix[0, 0] == (1 + (1 + gamma * lam)) * (1 - gamma) / 2
    assert rhs[0] == (2 + (1 + gamma * lam) * 4) / 2


def test_td0_one_sweep_is_one_mean_td_update_from_zero():
    # θ = 0: δ = c, so θ₁ = α mean(c φ) = 0.5 · (2·1 + 4·3) / 2
    weights = td0([[[1.0], [3.0], [0.0]]], [[2.0, 4.0]], 0.9, 0.5, sweeps=1)
    assert weights.tolist() == [3.5]


def test_td_actor_critic_weighs_each_td_residual_by_gamma_to_the_t():
    scores = np.array([[[1.0], [10.0]]])  # (M, T, P) = (1, 2, 1)
    costs = np.array([[1.0, 2.0]])
    values = np.array([[3.0, 5.0, 7.0]])
    # δ0 = 1 + 0.5·5 − 3 = 0.5, δ1 = 2 + 0.5·7 − 5 = 0.5; 0.5·1 + 0.5·0.5·10 = 3
    assert td_actor_critic(scores, costs, values, 0.5).tolist() == [3.0]


def test_state_covariance_estimate_is_the_discounted_sum_of_outer_products_over_rollouts():
    states = np.array([[[1.0, 0.0], [0.0, 2.0]], [[1.0, 1.0], [0.0, 0.0]]])
    # rollout 1: e1e1ᵀ + 0.5·diag(0, 4); rollout 2: 11ᵀ; mean over 2
    expected = (np.array([[1.0, 0.0], [0.0, 2.0]]) + np.ones((2, 2))) / 2
    np.testing.assert_array_equal(state_covariance_estimate(states, 0.5), expected)


def test_natural_gradient_estimate_right_multiplies_by_the_inverse_covariance():
    result = natural_gradient_estimate([[2.0, 4.0]], [[2.0, 0.0], [0.0, 4.0]])
    np.testing.assert_array_equal(result, [[1.0, 1.0]])


# ----- exact arithmetic agrees with float --------------------------------------------------------


def test_exact_lstd_and_td0_agree_with_their_float_computation():
    rng = np.random.default_rng(1)
    states = rng.standard_normal((3, 4, 2))
    costs = rng.random((3, 3))
    features = quadratic_value_features(states)
    exact_features = quadratic_value_features(fractions(states))
    for lam in (0.0, 0.5):
        exact = lstd(exact_features, fractions(costs), 0.9, lam)
        assert all(isinstance(v, Fraction) for v in exact)
        np.testing.assert_allclose(lstd(features, costs, 0.9, lam), exact.astype(float), rtol=1e-9)
    exact = td0(exact_features, fractions(costs), 0.9, 0.01, sweeps=4)
    np.testing.assert_allclose(td0(features, costs, 0.9, 0.01, sweeps=4), exact.astype(float))


# ----- bad input --------------------------------------------------------------------------------


def test_lstd_refuses_data_that_excite_no_feature_but_one():
    features = np.ones((2, 3, 2))  # two identical features: Â singular
    with pytest.raises(InvalidProblemError, match="LSTD matrix"):
        lstd(features, np.ones((2, 2)), 0.9)


def test_td0_reports_divergence_naming_the_step_size():
    with pytest.raises(InvalidProblemError, match="step_size"):
        td0([[[1.0], [0.0]]], [[1.0]], 0.9, 1e10, sweeps=200)


def test_costs_of_the_wrong_length_name_both_costs_and_features():
    with pytest.raises(InvalidProblemError, match=r"costs.*features"):
        lstd_statistics(np.ones((2, 3, 1)), np.ones((2, 3)), 0.9)


def test_population_lstd_tabular_refuses_a_single_state_trajectory():
    from pgverify.expectation import population_lstd_tabular
    from pgverify.mdp import FiniteMDP

    mdp = FiniteMDP.create([[[1]]], [[1]], Fraction(1, 2), [1])
    with pytest.raises(InvalidProblemError, match="steps"):
        population_lstd_tabular(mdp, [[1]], 1)


def test_critic_gradient_expectation_refuses_an_asymmetric_value_matrix():
    with pytest.raises(InvalidProblemError, match="value_matrix is not symmetric"):
        critic_gradient_expectation(PROBLEM, K, 2, [[1.0, 2.0], [0.0, 1.0]])


# ----- deliberately wrong implementations are rejected by the exact properties -------------------


def test_lstd_traces_are_free_but_a_td_target_with_the_wrong_discount_misses_the_value():
    """E[z_t δ_t] = 0 for *any* trace built from x_0 … x_t, so the population fixed point is
    V^π whatever the trace decay (even a trace without γ); a TD target discounted by γλ in
    place of γ is wrong."""
    gamma = Fraction(PROBLEM.gamma)

    def statistics(target_discount):
        def estimator(states, actions, costs):
            features = quadratic_value_features(states)
            visited = features[:, :-1]
            traces = visited.copy()
            for t in range(1, visited.shape[1]):  # z_t = z_{t−1} / 2 + φ_t: no γ in the trace
                traces[:, t] = traces[:, t - 1] / 2 + visited[:, t]
            flat = traces.reshape(-1, 4)
            differences = (visited - target_discount * features[:, 1:]).reshape(-1, 4)
            return np.concatenate([(flat.T @ differences).ravel(), flat.T @ costs.reshape(-1)])

        return estimator

    def fixed_point_residual(target_discount):
        moments = lqr_expectation(PROBLEM, K, 2, statistics(target_discount), 4).mean
        matrix, rhs = moments[:16].reshape(4, 4), moments[16:]
        weights = np.linalg.solve(matrix.astype(float), rhs.astype(float))
        P, _ = quadratic_value_parameters(exact_matrix(weights), 2)
        return np.max(np.abs(stein_residual(PROBLEM, K, P).astype(float)))

    assert fixed_point_residual(gamma) < 1e-12  # float solve: rounding only
    assert fixed_point_residual(gamma / 2) > 1e-3
    right_P, _ = quadratic_value_parameters(population_lstd(PROBLEM, K, 2, 0.5), 2)
    assert np.all(stein_residual(PROBLEM, K, right_P) == 0)


def test_bias_formula_without_the_discount_factor_is_refuted_by_the_exact_expectation():
    error = fractions([[1.0, 0.5], [0.5, -1.0]])

    def bias_statistic(states, actions, costs):
        scores = gaussian_scores(states, actions, K, PROBLEM.noise)
        values = quadratic_values(states, error, 0)
        return td_actor_critic(scores, costs * 0, values, PROBLEM.gamma)

    mean = lqr_expectation(PROBLEM, K, 2, bias_statistic, degree=4).mean
    right = critic_error_bias(PROBLEM, K, 2, error)
    assert np.all(mean == right)
    assert np.any(mean != right / Fraction(PROBLEM.gamma))  # "−2BᵀΔA_K S_T": the γ dropped


def test_actor_critic_without_the_gamma_t_weight_misses_the_closed_form():
    critic = fractions([[2.0, 1.0], [1.0, 3.0]])
    gamma = Fraction(PROBLEM.gamma)

    def unweighted(states, actions, costs):  # Σ_t δ_t s_t: the γ^t is missing
        scores = gaussian_scores(states, actions, K, PROBLEM.noise)
        values = quadratic_values(states, critic, 0)
        residuals = costs + gamma * values[:, 1:] - values[:, :-1]
        return (residuals[:, :, None, None] * scores).sum(axis=(0, 1)) / len(costs)

    mean = lqr_expectation(PROBLEM, K, 3, unweighted, degree=4).mean
    assert np.any(mean != critic_gradient_expectation(PROBLEM, K, 3, critic))


def test_covariance_estimate_without_discount_weights_misses_the_discounted_moment():
    mean = lqr_expectation(
        PROBLEM, K, 3, lambda states, a, c: state_covariance_estimate(states[:, :3]), degree=2
    ).mean
    assert np.all(mean == discounted_state_moment(PROBLEM, K, 3, 1.0))
    assert np.any(mean != discounted_state_moment(PROBLEM, K, 3))  # the problem's γ = 0.9


def test_float_covariance_estimate_is_exactly_symmetric_with_discount_weights():
    # (γ^t x_i) x_j and x_i (γ^t x_j) round differently: the estimate is symmetrised
    states = np.random.default_rng(0).standard_normal((50, 3, 3))
    estimate = state_covariance_estimate(states, 0.9)
    np.testing.assert_array_equal(estimate, estimate.T)
    natural_gradient_estimate(np.ones((1, 3)), estimate)


def test_natural_gradient_estimate_refuses_a_clearly_asymmetric_float_covariance():
    with pytest.raises(InvalidProblemError, match="covariance is not symmetric"):
        natural_gradient_estimate([[1.0, 1.0]], [[2.0, 1.0], [0.0, 2.0]])


def test_population_lstd_refuses_an_undiscounted_problem_naming_gamma():
    undiscounted = LQR([[0.5]], [[1.0]], [[1.0]], [[1.0]])
    with pytest.raises(InvalidProblemError, match="gamma < 1"):
        population_lstd(undiscounted, [[0.25]], 2)


def test_natural_gradient_estimate_refuses_a_rank_deficient_float_covariance_naming_the_states():
    states = np.zeros((4, 3, 2))
    states[..., 0] = np.arange(12.0).reshape(4, 3)  # the state never leaves the first axis
    with pytest.raises(InvalidProblemError) as refused:
        natural_gradient_estimate(np.ones((1, 2)), state_covariance_estimate(states))
    message = str(refused.value)
    assert "covariance Σ̂ is singular" in message
    assert "rank 1 of n = 2" in message
    assert "smallest eigenvalue 0" in message
    assert "the visited states do not span R^2" in message
    assert "more rollouts" in message and "exploration noise" in message
    assert "feature" not in message  # the LSTD wording does not fit Σ̂


def test_natural_gradient_estimate_refuses_a_singular_exact_covariance_naming_its_rank():
    third = Fraction(1, 3)
    singular = np.array([[third, 2 * third], [2 * third, 4 * third]], dtype=object)
    with pytest.raises(InvalidProblemError, match=r"singular \(exactly\): rank 1 of n = 2"):
        natural_gradient_estimate(np.array([[Fraction(1), Fraction(0)]], dtype=object), singular)
