"""Finite MDP validation and the trajectory engine's limits."""

from fractions import Fraction

import pytest

from pgverify import InvalidProblemError
from pgverify.mdp import (
    EnumerationTooLarge,
    FiniteMDP,
    enumeration_size,
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
    with pytest.raises(InvalidProblemError, match=r"transitions\[1\] has 1 actions; expected 2"):
        make(transitions=[[[HALF, HALF], [1, 0]], [[0, 1]]])
    with pytest.raises(InvalidProblemError, match="costs has shape"):
        make(costs=[[1, 2]])
    with pytest.raises(InvalidProblemError, match="initial has 3 entries; expected 2"):
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
    with pytest.raises(InvalidProblemError, match="policy has 1 rows; expected 2"):
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
