"""Result types of pgverify.mdp: exact results are fractions.Fraction (so ``result == Fraction``
works), certified results are pgverify.Enclosure objects.

The example: one state, two actions with costs 1 and 3 (the state repeats whatever is done),
γ = 1/2.  By hand, for π = (1/4, 3/4): c_π = 5/2, V = c_π / (1 − γ) = 5, Q(0, ·) = c + γV =
(7/2, 11/2), A = (−3/2, 1/2), d = (1); C(π) = (π₀ + 3π₁) / (1 − (π₀ + π₁)/2) as a function of the
unconstrained table, so ∂C/∂π = (7, 11).  For the uniform softmax policy (logits 0, 0): V = 4,
A = (−1, 1), ∂C/∂θ = (1 − γ)⁻¹ d π A = (−1, 1), natural gradient A / (1 − γ) = (−2, 2), Fisher
diag π − ππᵀ = [[1/4, −1/4], [−1/4, 1/4]]."""

from fractions import Fraction

import pytest

from pgverify import Enclosure
from pgverify.mdp import (
    FiniteMDP,
    direct_fisher,
    direct_gradient,
    evaluate,
    exact_moments,
    finite_horizon_cost,
    performance_difference,
    softmax_gradient,
    softmax_policy,
    softmax_score,
    trpo,
)

MDP = FiniteMDP.create([[[1], [1]]], [[1, 3]], Fraction(1, 2), [1])
POLICY = [[Fraction(1, 4), Fraction(3, 4)]]
OLD_POLICY = [[1, 0]]
UNIFORM_LOGITS = [[0.0, 0.0]]


def fractions_only(values):
    return all(type(v) is Fraction for v in values)


def test_the_value_is_a_list_of_fractions():
    value = evaluate(MDP, POLICY).value
    assert value == [Fraction(5)] and fractions_only(value)


def test_q_value_is_a_fraction_equal_to_the_hand_value():
    q = evaluate(MDP, POLICY).q_value(0, 0)
    assert q == Fraction(7, 2) and type(q) is Fraction


def test_advantage_is_a_fraction_equal_to_the_hand_value():
    advantage = evaluate(MDP, POLICY).advantage(0, 0)
    assert advantage == Fraction(-3, 2) and type(advantage) is Fraction


def test_cost_and_visitation_are_fractions():
    evaluation = evaluate(MDP, POLICY)
    assert evaluation.cost() == 5 and type(evaluation.cost()) is Fraction
    assert evaluation.visitation() == [1] and fractions_only(evaluation.visitation())


def test_the_finite_horizon_cost_is_a_fraction():
    cost = finite_horizon_cost(MDP, POLICY, 1)  # 5/2 + (1/2)(5/2)
    assert cost == Fraction(15, 4) and type(cost) is Fraction


@pytest.mark.parametrize("route", ["theorem", "bellman"])
def test_the_direct_gradient_is_a_table_of_fractions(route):
    gradient = direct_gradient(MDP, POLICY, route)
    assert gradient == [[7, 11]] and fractions_only(gradient[0])


def test_the_performance_difference_sides_are_fractions():
    sides = performance_difference(MDP, POLICY, OLD_POLICY)  # C = 5 against C_old = 2
    assert set(sides.values()) == {Fraction(3)} and fractions_only(sides.values())


def test_the_surrogate_is_a_fraction():
    # A_old = (0, 2): L = d · Σ_a π(a) A_old(a) = 3/4 · 2
    value = trpo.surrogate(MDP, OLD_POLICY, POLICY)
    assert value == Fraction(3, 2) and type(value) is Fraction


def test_the_surrogate_gradient_is_a_table_of_fractions():
    gradient = trpo.surrogate_gradient_direct(MDP, OLD_POLICY)
    assert gradient == [[0, 2]] and fractions_only(gradient[0])


def test_the_direct_fisher_is_a_table_of_fractions():
    fisher = direct_fisher(MDP, POLICY)  # diag(d / π)
    assert fisher == [[4, 0], [0, Fraction(4, 3)]]
    assert fractions_only(fisher[0] + fisher[1])


def test_exact_moments_are_fractions():
    mean, variance = exact_moments(MDP, POLICY, 0, lambda batch: batch[0][0][1])
    assert (mean, variance) == (Fraction(3, 4), Fraction(3, 16))
    assert fractions_only([mean, variance])


def test_the_softmax_policy_is_an_enclosure_of_the_table():
    policy = softmax_policy(UNIFORM_LOGITS)
    assert isinstance(policy, Enclosure) and policy.shape == (1, 2)
    assert policy.contains([[Fraction(1, 2), Fraction(1, 2)]])


def test_a_certified_evaluation_returns_enclosures():
    evaluation = evaluate(MDP, softmax_policy(UNIFORM_LOGITS))
    assert evaluation.tier == "certified"
    assert isinstance(evaluation.cost(), Enclosure) and evaluation.cost().contains(4)
    assert evaluation.value.shape == (1,) and evaluation.value.contains([4])
    assert evaluation.advantage(0, 1).contains(1)


@pytest.mark.parametrize("route", ["theorem", "bellman", "closed-form"])
def test_the_softmax_gradient_is_an_enclosure_of_the_hand_value(route):
    gradient = softmax_gradient(MDP, UNIFORM_LOGITS, route)
    assert isinstance(gradient, Enclosure) and gradient.contains([[-1, 1]])


def test_the_softmax_natural_gradient_is_an_enclosure_of_the_hand_value():
    assert trpo.softmax_natural_gradient(MDP, UNIFORM_LOGITS).contains([[-2, 2]])


@pytest.mark.parametrize("matrix", [trpo.softmax_fisher, trpo.expected_kl_hessian])
def test_the_fisher_and_the_kl_hessian_are_enclosures_of_the_hand_value(matrix):
    quarter = Fraction(1, 4)
    assert matrix(MDP, UNIFORM_LOGITS).contains([[quarter, -quarter], [-quarter, quarter]])


def test_the_expected_kl_of_a_policy_to_itself_is_an_enclosure_of_zero():
    kl = trpo.expected_kl(MDP, UNIFORM_LOGITS, UNIFORM_LOGITS)
    assert isinstance(kl, Enclosure) and kl.contains(0)


def test_the_softmax_score_is_a_vector_enclosure():
    score = softmax_score(UNIFORM_LOGITS, 0, 0)  # e_0 − π
    assert score.shape == (2,) and score.contains([Fraction(1, 2), Fraction(-1, 2)])


@pytest.mark.parametrize(("bits", "digits"), [(212, 55), (400, 110)])
def test_a_certified_evaluation_carries_the_precision_asked_for(bits, digits):
    """Regression: the Bellman solve once ran at python-flint's default 53 bits (radius ~1e-14)
    whatever the policy's precision."""
    mdp = FiniteMDP.create(
        [[[Fraction(1, 3), Fraction(2, 3)], [1, 0]], [[0, 1], [Fraction(1, 2), Fraction(1, 2)]]],
        [[1, 2], [3, 4]],
        Fraction(9, 10),
        [Fraction(1, 2), Fraction(1, 2)],
    )
    policy = softmax_policy([[0.25, -1.0], [2.0, 0.5]], bits=bits)
    evaluation = evaluate(mdp, policy, bits=bits)
    assert evaluation.cost().digits >= digits
    assert min(evaluation.visitation().digits, evaluation.value.digits) >= digits
