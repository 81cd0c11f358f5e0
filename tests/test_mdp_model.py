"""Finite MDP validation and the trajectory engine's limits."""

from fractions import Fraction

import pytest

from pgverify import InvalidProblemError
from pgverify.mdp import (
    EnumerationTooLarge,
    FiniteMDP,
    enumeration_size,
    exact_moments,
    finite_horizon_gradient,
    score_function_estimator,
    tabular_policy,
    trajectories,
)

HALF = Fraction(1, 2)
GOOD = dict(
    transitions=[[[HALF, HALF], [1, 0]], [[0, 1], [HALF, HALF]]],
    costs=[[1, 2], [3, 4]],
    gamma=Fraction(9, 10),
    initial=[HALF, HALF],
)


def make(**overrides):
    arguments = dict(GOOD)
    arguments.update(overrides)
    return FiniteMDP.create(**arguments)


def test_a_valid_mdp_is_held_in_fractions():
    mdp = make()
    assert (mdp.states, mdp.actions) == (2, 2)
    assert mdp.transitions[0][0] == (HALF, HALF)


def test_transition_rows_must_sum_to_exactly_one():
    with pytest.raises(InvalidProblemError, match=r"transitions\[0\]\[0\] sums to 3/4"):
        make(transitions=[[[HALF, Fraction(1, 4)], [1, 0]], [[0, 1], [HALF, HALF]]])


def test_float_rows_that_do_not_sum_to_one_exactly_are_refused():
    with pytest.raises(InvalidProblemError, match="use Fractions"):
        make(transitions=[[[0.1, 0.2, 0.7]] * 1] * 3, costs=[[0]] * 3, initial=[1, 0, 0])


def test_negative_probabilities_are_refused():
    with pytest.raises(InvalidProblemError, match="negative probability -1/2"):
        make(transitions=[[[Fraction(3, 2), -HALF], [1, 0]], [[0, 1], [HALF, HALF]]])


def test_shapes_are_checked():
    with pytest.raises(InvalidProblemError, match=r"transitions\[1\] has length 1; expected 2"):
        make(transitions=[[[HALF, HALF], [1, 0]], [[0, 1]]])
    with pytest.raises(InvalidProblemError, match="costs has length 1; expected 2"):
        make(costs=[[1, 2]])
    with pytest.raises(InvalidProblemError, match="initial has length 3; expected 2"):
        make(initial=[Fraction(1, 3)] * 3)


@pytest.mark.parametrize("gamma", [0, 1, Fraction(3, 2), -HALF])
def test_discount_must_lie_strictly_between_zero_and_one(gamma):
    with pytest.raises(InvalidProblemError, match="gamma must lie in"):
        make(gamma=gamma)


def test_non_numbers_are_refused():
    with pytest.raises(InvalidProblemError, match="costs"):
        make(costs=[["a", 2], [3, 4]])
    with pytest.raises(InvalidProblemError, match="must be finite"):
        make(costs=[[float("nan"), 2], [3, 4]])


def test_policies_are_validated():
    mdp = make()
    with pytest.raises(InvalidProblemError, match=r"policy\[1\] sums to 3/2"):
        tabular_policy(mdp, [[HALF, HALF], [1, HALF]])
    with pytest.raises(InvalidProblemError, match="policy has length 1; expected 2"):
        tabular_policy(mdp, [[HALF, HALF]])


def test_enumeration_beyond_the_limit_raises_instead_of_hanging():
    mdp = make()
    assert enumeration_size(mdp, 20) == 4**21
    with pytest.raises(EnumerationTooLarge, match="raise limit="):
        next(trajectories(mdp, [[HALF, HALF]] * 2, 20))


def test_the_limit_can_be_raised_by_the_caller():
    mdp = make()
    law = list(trajectories(mdp, [[HALF, HALF]] * 2, 4, limit=10**4))
    assert sum(p for _, p in law) == 1


def test_exact_moments_catch_reinforce_without_the_discount_in_front():
    """Negative control: the common bug Σ_t G_t ∇log π_t (missing γ^t) has a biased mean, and the
    exact check says so; the correct V1 estimator passes the same check."""
    mdp = make(gamma=HALF)
    policy = [[Fraction(1, 3), Fraction(2, 3)], [Fraction(3, 4), Fraction(1, 4)]]
    horizon = 2
    expected = [g for row in finite_horizon_gradient(mdp, policy, horizon) for g in row]
    correct = score_function_estimator(mdp, policy, horizon, "V1")

    def missing_discount(batch):
        trajectory = batch[0]
        costs = [mdp.costs[x][u] for x, u in trajectory]
        total = [Fraction(0)] * 4
        for t, (x, u) in enumerate(trajectory):
            to_go = sum(mdp.gamma ** (k - t) * costs[k] for k in range(t, len(costs)))
            total[x * 2 + u] += to_go / policy[x][u]
        return total

    def tangent(flat):
        return [flat[0] - flat[1], flat[2] - flat[3]]

    assert tangent(exact_moments(mdp, policy, horizon, correct)[0]) == tangent(expected)
    assert tangent(exact_moments(mdp, policy, horizon, missing_discount)[0]) != tangent(expected)
