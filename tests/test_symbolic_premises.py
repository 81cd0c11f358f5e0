"""No derivation assumes its conclusion: each starts from definitions (its premises), and handing
it a wrong definition — a wrong score, a wrong value recursion, a wrong Bellman target, a wrong
state distribution — makes the proof fail.  (If a derivation defined its left side as the right
side, no wrong premise could break it.)"""

import sympy

from pgverify.symbolic.lqr import _natural_gradient, _relative_performance
from pgverify.symbolic.mdp import _performance_difference_instance, _performance_difference_symbolic
from pgverify.symbolic.policies import _natural_gradient_fisher, _score_two_layer

# residual indices of natural-gradient: duality, gradient, Fisher form, Gauss-Newton/greedy
DUALITY, GRADIENT, FISHER_FORM, GREEDY = range(4)
# residual indices of relative-performance-lqr
FIRST_HALF, SUMMED_HALF = 0, 1


def transposed_value_recursion(A, B, K, Q, R, P):
    """P = Q + KᵀRK + A_K P A_Kᵀ: the closed loop on the wrong side."""
    closed = A - B * K
    return Q + K.T * R * K + closed * P * closed.T


def value_recursion_without_R(A, B, K, Q, R, P):
    """P = Q + KᵀK + A_Kᵀ P A_K: the input cost weight forgotten."""
    closed = A - B * K
    return Q + K.T * K + closed.T * P * closed


def log_density_without_half(u, mean, variance):
    """−‖u − μ‖²/σ: the Gaussian exponent without its factor ½ (a score twice too large)."""
    gap = u - mean
    return -(gap.T * gap)[0, 0] / variance


def bellman_with_gamma_squared(cost, next_value, gamma):
    return cost + gamma**2 * next_value


def bellman_without_discount(cost, next_value, gamma):
    return cost + next_value


def test_natural_gradient_is_proved_at_small_sizes_from_its_definitions():
    assert _natural_gradient(2, 1).proved


def test_natural_gradient_fails_with_a_transposed_value_recursion():
    result = _natural_gradient(2, 1, value_recursion=transposed_value_recursion)
    assert not result.proved
    assert result.refuted_residual == DUALITY


def test_natural_gradient_derives_the_gradient_so_a_wrong_cost_weight_breaks_it():
    result = _natural_gradient(2, 1, value_recursion=value_recursion_without_R)
    assert not result.proved
    assert result.refuted_residual == GRADIENT


def test_natural_gradient_derives_the_fisher_matrix_so_a_wrong_score_breaks_it():
    result = _natural_gradient(2, 1, log_density=log_density_without_half)
    assert not result.proved
    assert result.refuted_residual == FISHER_FORM


def test_fisher_matrix_derivation_fails_with_a_wrong_score():
    result = _natural_gradient_fisher(2, 2, log_density=log_density_without_half)
    assert not result.proved
    assert result.refuted_residual == 0


def test_relative_performance_first_half_fails_with_a_wrong_bellman_target():
    result = _relative_performance(2, 1, bellman=bellman_with_gamma_squared)
    assert not result.proved
    assert result.refuted_residual == FIRST_HALF


def test_relative_performance_summed_half_fails_when_states_are_visited_by_the_old_policy():
    result = _relative_performance(2, 1, visiting="old")
    assert not result.proved
    assert result.refuted_residual == SUMMED_HALF


def test_performance_difference_instance_fails_with_a_wrong_bellman_target():
    assert not _performance_difference_instance(3, 2, bellman=bellman_without_discount).proved


def test_performance_difference_resolvent_route_alone_fails_with_a_wrong_bellman_target():
    result = _performance_difference_symbolic(
        2, 2, 2, bellman=bellman_without_discount, routes=("resolvent",)
    )
    assert not result.proved


def test_performance_difference_trajectory_route_alone_fails_with_a_wrong_bellman_target():
    result = _performance_difference_symbolic(
        2, 2, 2, bellman=bellman_without_discount, routes=("trajectories",)
    )
    assert not result.proved


def test_performance_difference_routes_each_prove_the_identity_on_their_own():
    for route in ("resolvent", "trajectories"):
        assert _performance_difference_symbolic(2, 2, 2, routes=(route,)).proved, route


def test_two_layer_score_fails_with_a_wrong_log_density():
    result = _score_two_layer(1, 1, 1, log_density=log_density_without_half)
    assert not result.proved
    assert result.counterexample_value != 0
    assert isinstance(result.counterexample_value, sympy.Number)
