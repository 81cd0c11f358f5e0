"""The public hypothesis strategies generate what they promise, cover the whole model by
default, and refuse bad arguments when they are built."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from pgverify import LQR, InvalidProblemError
from pgverify.mdp import FiniteMDP, tabular_policy
from pgverify.strategies import (
    DISCOUNTS,
    MAX_SPECTRAL_RADIUS,
    NOISE_VARIANCES,
    finite_mdps,
    lqr_problems,
    lqr_problems_with_gains,
    mdps_with_logits,
    mdps_with_policies,
    positive_definite_matrices,
    rational_distributions,
    softmax_logits,
    stabilizing_gains,
    tabular_policies,
)

SEARCH = settings(database=None, max_examples=200, phases=[Phase.generate])
"""For :func:`hypothesis.find`: the default strategies must reach each kind of case quickly (the
first case found is enough: no shrinking)."""


# --------------------------------------------------------------------------------------------
# LQR problems
# --------------------------------------------------------------------------------------------


@given(lqr_problems_with_gains(n=st.integers(1, 5)))
def test_generated_gains_are_stabilising_with_margin(case):
    problem, K = case
    assert K.shape == (problem.m, problem.n)
    assert problem.spectral_radius(K) <= MAX_SPECTRAL_RADIUS


@pytest.mark.parametrize(
    "kind",
    [
        lambda p: p.gamma == 1 and p.noise == 0,
        lambda p: p.gamma < 1 and p.noise == 0,
        lambda p: p.gamma < 1 and p.noise > 0,
    ],
    ids=["undiscounted", "discounted", "discounted-noisy"],
)
def test_the_default_problems_cover_every_kind_of_model(kind):
    problem, _ = find(lqr_problems_with_gains(), lambda case: kind(case[0]), settings=SEARCH)
    assert kind(problem)


@given(lqr_problems_with_gains())
def test_noise_comes_only_with_a_discount(case):
    problem, _ = case
    assert problem.noise == 0 or problem.gamma < 1


@given(lqr_problems_with_gains(noisy=True))
def test_noisy_problems_are_discounted_with_one_of_the_documented_variances(case):
    problem, _ = case
    assert problem.noise in NOISE_VARIANCES and problem.gamma in DISCOUNTS


@given(lqr_problems_with_gains(discounted=False))
def test_undiscounted_problems_have_gamma_one_and_no_noise(case):
    problem, _ = case
    assert problem.gamma == 1.0 and problem.noise == 0.0


@given(lqr_problems_with_gains(discounted=True, noisy=False))
def test_discounted_noise_free_problems_draw_a_documented_discount(case):
    problem, _ = case
    assert problem.gamma in DISCOUNTS and problem.noise == 0.0


@given(lqr_problems_with_gains(discounted=st.just(True), noisy=st.just(False)))
def test_flags_may_be_strategies(case):
    problem, _ = case
    assert problem.gamma < 1 and problem.noise == 0.0


@given(lqr_problems(n=3, m=2))
def test_generated_problems_are_stabilisable_with_positive_definite_weights(problem):
    assert (problem.n, problem.m) == (3, 2)
    assert np.min(np.linalg.eigvalsh(problem.Q)) > 0
    assert np.min(np.linalg.eigvalsh(problem.R)) > 0
    unit_weights = LQR(problem.A, problem.B, np.eye(3), np.eye(2))
    assert problem.spectral_radius(unit_weights.optimal_gain()) < 1


@given(st.data())
def test_stabilizing_gains_of_a_given_problem_stabilise_it(data):
    problem = data.draw(lqr_problems(n=2))
    K = data.draw(stabilizing_gains(problem))
    assert problem.spectral_radius(K) <= MAX_SPECTRAL_RADIUS


@given(st.data())
def test_a_drawn_size_is_checked_when_drawn(data):
    with pytest.raises(InvalidProblemError, match=r"n \(drawn\) must be an int >= 1, got 0"):
        data.draw(lqr_problems_with_gains(n=st.just(0)))


@given(st.data())
def test_a_drawn_flag_is_checked_when_drawn(data):
    with pytest.raises(InvalidProblemError, match=r"noisy \(drawn\) must be a bool, got 1"):
        data.draw(lqr_problems_with_gains(noisy=st.just(1)))


# --------------------------------------------------------------------------------------------
# Finite MDPs
# --------------------------------------------------------------------------------------------


@given(mdps_with_policies())
def test_mdps_come_with_a_valid_tabular_policy_of_their_shape(case):
    mdp, policy = case
    assert isinstance(mdp, FiniteMDP)
    assert (len(policy), len(policy[0])) == (mdp.states, mdp.actions)
    assert all(isinstance(p, Fraction) for row in policy for p in row)
    tabular_policy(mdp, policy)  # raises unless every row is a probability vector


@given(mdps_with_policies(states=2, actions=3, allow_zero=False))
def test_policies_without_zeros_are_strictly_positive(case):
    mdp, policy = case
    assert (mdp.states, mdp.actions) == (2, 3)
    assert all(p > 0 for row in policy for p in row)


@given(mdps_with_logits(states=st.integers(2, 3)))
def test_mdps_come_with_logits_of_their_shape(case):
    mdp, logits = case
    assert mdp.states in (2, 3)
    assert np.asarray(logits, dtype=float).shape == (mdp.states, mdp.actions)


@given(rational_distributions(4))
def test_rational_distributions_are_exact_probability_vectors(weights):
    assert len(weights) == 4 and sum(weights) == 1 and min(weights) >= 0


# --------------------------------------------------------------------------------------------
# Arguments are checked when a strategy is built
# --------------------------------------------------------------------------------------------

MDP = FiniteMDP.create([[[1]]], [[0]], Fraction(1, 2), [1])
PROBLEM = LQR([[0.5]], [[1.0]], [[1.0]], [[1.0]])


@pytest.mark.parametrize(
    ("builder", "arguments", "named"),
    [
        (lqr_problems_with_gains, {"n": 0}, "n must be an int >= 1, got 0"),
        (lqr_problems_with_gains, {"n": "3"}, "n must be an int >= 1, got '3'"),
        (lqr_problems_with_gains, {"m": 1.5}, "m must be an int >= 1, got 1.5"),
        (lqr_problems_with_gains, {"discounted": "yes"}, "discounted must be a bool"),
        (lqr_problems_with_gains, {"noisy": 1}, "noisy must be a bool, got 1"),
        (lqr_problems_with_gains, {"discounted": False, "noisy": True}, "discounted=False"),
        (lqr_problems, {"n": True}, "n must be an int >= 1, got True"),
        (positive_definite_matrices, {"n": 0}, "n must be an int >= 1"),
        (positive_definite_matrices, {"n": 2, "floor": 0.0}, "floor must be a finite real > 0"),
        (stabilizing_gains, {"problem": None}, "problem must be a pgverify.LQR"),
        (stabilizing_gains, {"problem": PROBLEM, "base_gain": [[2.0]]}, "base_gain has rho"),
        (stabilizing_gains, {"problem": PROBLEM, "base_gain": [[1.0, 0.0]]}, "base_gain has shape"),
        (finite_mdps, {"states": 0}, "states must be an int >= 1"),
        (finite_mdps, {"actions": True}, "actions must be an int >= 1"),
        (rational_distributions, {"size": -1}, "size must be an int >= 1"),
        (rational_distributions, {"size": 2, "allow_zero": "no"}, "allow_zero must be a bool"),
        (tabular_policies, {"mdp": None}, "mdp must be a pgverify.FiniteMDP"),
        (tabular_policies, {"mdp": MDP, "allow_zero": 0}, "allow_zero must be a bool"),
        (softmax_logits, {"mdp": [[0.0]]}, "mdp must be a pgverify.FiniteMDP"),
        (mdps_with_policies, {"allow_zero": None}, "allow_zero must be a bool"),
        (mdps_with_logits, {"states": -2}, "states must be an int >= 1"),
    ],
)
def test_bad_arguments_are_refused_when_the_strategy_is_built(builder, arguments, named):
    with pytest.raises(InvalidProblemError, match=named.replace("(", r"\(").replace(")", r"\)")):
        builder(**arguments)
