"""Hand-worked values and validation of the score-function and zeroth-order references."""

from fractions import Fraction

import numpy as np
import pytest

from pgverify import InvalidProblemError
from pgverify.estimators.policy_gradient import (
    gaussian_reinforce,
    gaussian_scores,
    gaussian_v0,
    score_function_estimate,
    softmax_reinforce,
    softmax_scores,
    softmax_v0,
)
from pgverify.estimators.zeroth_order import quadratic_cost, zeroth_order_estimate

# one rollout, n = m = 1, K = 1, σ = 1/2, γ = 1/2: x = (1, 2, 0), u = (0, −1), c = (1, 3)
# w = u + Kx = (1, 1); scores s_t = −w_t x_t / σ = (−2, −4)
STATES = np.array([[[1.0], [2.0], [0.0]]])
ACTIONS = np.array([[[0.0], [-1.0]]])
COSTS = np.array([[1.0, 3.0]])
K = np.array([[1.0]])


def test_gaussian_scores_are_minus_noise_times_state_over_variance():
    assert gaussian_scores(STATES, ACTIONS, K, 0.5).reshape(-1).tolist() == [-2.0, -4.0]


def test_gaussian_v0_is_discounted_cost_times_sum_of_scores():
    # (1 + 3/2) (−2 − 4) = −15
    assert gaussian_v0(STATES, ACTIONS, COSTS, K, 0.5, 0.5).tolist() == [[-15.0]]


def test_gaussian_reinforce_weights_each_score_by_discounted_cost_to_go():
    # γ⁰ G_0 s_0 + γ¹ G_1 s_1 = 2.5·(−2) + 0.5·3·(−4) = −11
    assert gaussian_reinforce(STATES, ACTIONS, COSTS, K, 0.5, 0.5).tolist() == [[-11.0]]


def test_constant_baseline_subtracts_discounted_baseline_times_score():
    # −11 − (b s_0 + γ b s_1) with b = 1: −11 − (−2 − 2) = −7
    assert gaussian_reinforce(STATES, ACTIONS, COSTS, K, 0.5, 0.5, 1.0).tolist() == [[-7.0]]


def test_state_dependent_baseline_is_evaluated_at_the_visited_states():
    # b(x) = x: b = (1, 2): −11 − (1·(−2) + ½·2·(−4)) = −5
    result = gaussian_reinforce(STATES, ACTIONS, COSTS, K, 0.5, 0.5, lambda x: x[..., 0])
    assert result.tolist() == [[-5.0]]


def test_leave_one_out_and_batch_mean_baselines_on_a_batch_of_two():
    costs = np.array([[2.0], [4.0]])
    scores = np.array([[[1.0]], [[3.0]]])
    # leave-one-out: ((2 − 4)·1 + (4 − 2)·3) / 2 = 2; batch mean 3: ((2 − 3) + (4 − 3)·3)/2 = 1
    loo = score_function_estimate(scores, costs, 1.0, "reinforce", "leave_one_out")
    mean = score_function_estimate(scores, costs, 1.0, "reinforce", "batch_mean")
    assert (loo.tolist(), mean.tolist()) == ([2.0], [1.0])


def test_exact_inputs_give_exact_outputs():
    states = np.array([[[Fraction(1)], [Fraction(2)], [Fraction(0)]]], dtype=object)
    result = gaussian_reinforce(states, ACTIONS, COSTS, K, Fraction(1, 3), Fraction(1, 3))
    # scores (−3, −6); 1·(1 + 1)·(−3) + (1/3)·3·(−6) = −12
    assert result[0, 0] == Fraction(-12) and isinstance(result[0, 0], Fraction)


def test_softmax_references_on_a_uniform_policy():
    states, actions, costs = np.array([[0, 1]]), np.array([[1, 0]]), np.array([[1.0, 3.0]])
    logits = np.zeros((2, 2))
    assert softmax_v0(states, actions, costs, logits, 0.5).tolist() == [
        [-1.25, 1.25],
        [1.25, -1.25],
    ]
    assert softmax_reinforce(states, actions, costs, logits, 0.5).tolist() == [
        [-1.25, 1.25],
        [0.75, -0.75],
    ]


def test_softmax_scores_of_an_exact_table_are_exact():
    table = np.array([[Fraction(1, 3), Fraction(2, 3)]], dtype=object)
    scores = softmax_scores(np.array([[0]]), np.array([[1]]), table)
    assert scores.reshape(-1).tolist() == [Fraction(-1, 3), Fraction(1, 3)]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("gaussian", 16.0), ("gaussian_shifted", 12.0), ("antithetic", 8.0), ("sphere", 4.5)],
)
def test_zeroth_order_forms_on_a_scalar_square(kind, expected):
    # C(K) = K², K = 1, μ = 1/2, direction 2 (Gaussian) or 1 (sphere)
    direction = np.array([[[1.0]]]) if kind == "sphere" else np.array([[[2.0]]])
    estimate = zeroth_order_estimate(lambda k: float(k[0, 0]) ** 2, K, direction, 0.5, kind)
    assert estimate.tolist() == [[expected]]


def test_quadratic_cost_is_half_the_hessian_form_plus_the_linear_term():
    cost = quadratic_cost(np.array([[2.0, 0.0], [0.0, 4.0]]), np.array([1.0, -1.0]), 5.0)
    assert cost(np.array([[1.0, 2.0]])) == 1.0 + 8.0 + 1.0 - 2.0 + 5.0


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: gaussian_v0(STATES[:, :2], ACTIONS, COSTS, K, 0.5, 0.5), "states"),
        (lambda: gaussian_v0(STATES, ACTIONS, COSTS[:, :1], K, 0.5, 0.5), "costs"),
        (lambda: gaussian_v0(STATES, ACTIONS, COSTS, K, 0.0, 0.5), "sigma"),
        (lambda: gaussian_v0(STATES, ACTIONS, COSTS, K, 0.5, 1.5), "gamma"),
        (lambda: gaussian_reinforce(STATES, ACTIONS, COSTS, K, 0.5, 0.5, "loo"), "baseline"),
        (
            lambda: gaussian_reinforce(STATES, ACTIONS, COSTS, K, 0.5, 0.5, "leave_one_out"),
            "M >= 2",
        ),
        (lambda: score_function_estimate(np.ones((1, 2, 1)), COSTS, 0.5, "v1"), "kind"),
        (lambda: score_function_estimate(np.ones((1, 2, 1)), COSTS, 0.5, "v0", 1.0), "V0"),
        (
            lambda: softmax_v0(
                np.array([[0, 3]]), np.array([[0, 0]]), COSTS, np.zeros((2, 2)), 0.5
            ),
            "states",
        ),
        (lambda: zeroth_order_estimate(abs, K, np.ones((1, 1, 1)) * 2, 0.5, "sphere"), "unit"),
        (lambda: zeroth_order_estimate(abs, K, np.ones((1, 1, 1)), 0.5, "ball"), "kind"),
        (lambda: zeroth_order_estimate(abs, K, np.ones((1, 1, 1)), -1.0, "gaussian"), "smoothing"),
    ],
)
def test_bad_input_is_refused_by_name(call, names):
    with pytest.raises(InvalidProblemError, match=names):
        call()
