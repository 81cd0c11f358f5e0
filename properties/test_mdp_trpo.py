"""TRPO's pieces on finite MDPs: exact (Fractions) or certified (balls); negative controls."""

from fractions import Fraction

from flint import arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.mdp import (
    FiniteMDP,
    direct_gradient,
    softmax_gradient,
    softmax_policy,
    softmax_score,
    trpo,
)
from pgverify.strategies import finite_mdps, softmax_logits, tabular_policies


@st.composite
def mdp_and_policy(draw):
    mdp = draw(finite_mdps(st.integers(1, 3), st.integers(2, 3)))
    return mdp, draw(tabular_policies(mdp))


@st.composite
def mdp_and_logits(draw):
    mdp = draw(finite_mdps(st.integers(1, 3), st.integers(2, 3)))
    return mdp, draw(softmax_logits(mdp)), draw(softmax_logits(mdp))


def tangent(table):
    return [row[a] - row[a + 1] for row in table for a in range(len(row) - 1)]


@given(mdp_and_policy())
def test_surrogate_vanishes_at_the_old_policy(case):
    mdp, policy = case
    assert trpo.surrogate(mdp, policy, policy) == 0


@given(mdp_and_policy())
def test_surrogate_gradient_is_one_minus_gamma_times_the_cost_gradient_exactly(case):
    mdp, policy = case
    surrogate = tangent(trpo.surrogate_gradient_direct(mdp, policy))
    cost = tangent(direct_gradient(mdp, policy))
    assert surrogate == [(1 - mdp.gamma) * g for g in cost]
    # negative control: "the same as the gradient of C" fails with the normalised visitation d
    if any(g != 0 for g in cost):
        assert surrogate != cost


@given(mdp_and_logits())
@settings(max_examples=8)
def test_hessian_of_the_expected_kl_is_the_fisher_matrix(case):
    mdp, logits, _ = case
    hessian = trpo.expected_kl_hessian(mdp, logits)
    fisher = trpo.softmax_fisher(mdp, logits)
    assert hessian.overlaps(fisher)
    assert hessian.max_radius < 1e-50


@given(mdp_and_logits())
@settings(max_examples=8)
def test_softmax_natural_gradient_moves_logits_along_the_advantage(case):
    mdp, logits, _ = case
    fisher = trpo.softmax_fisher(mdp, logits)
    natural = trpo.softmax_natural_gradient(mdp, logits)
    gradient = softmax_gradient(mdp, logits)
    assert trpo.fisher_times(fisher, natural).overlaps(gradient)


@given(mdp_and_logits())
@settings(max_examples=8)
def test_reversed_kl_is_told_apart_from_trpo_kl_away_from_the_old_policy(case):
    """Negative control: KL(π_k‖π_θ) and KL(π_θ‖π_k) agree to second order at θ_k, but for a
    finite step their certified enclosures are disjoint unless the two values truly coincide."""
    mdp, old, new = case
    forward = trpo.expected_kl(mdp, old, new)
    backward = trpo.expected_kl(mdp, old, new, reverse=True)
    if abs(forward.mid - backward.mid) > 1e-40:
        assert not forward.overlaps(backward)
    assert forward.ball >= 0 or forward.contains(0)


def test_reversed_kl_differs_on_a_fixed_example():
    mdp = FiniteMDP.create([[[1], [1]]], [[0, 1]], Fraction(9, 10), [1])
    forward = trpo.expected_kl(mdp, [[0.0, 0.0]], [[2.0, -1.0]])
    backward = trpo.expected_kl(mdp, [[0.0, 0.0]], [[2.0, -1.0]], reverse=True)
    assert not forward.overlaps(backward)


@given(mdp_and_logits())
@settings(max_examples=8)
def test_softmax_scores_average_to_zero_under_the_policy(case):
    mdp, logits, _ = case
    policy = softmax_policy(logits).ball
    with ctx.workprec(212):
        for s in range(mdp.states):
            total = arb_mat(mdp.states * mdp.actions, 1)
            for a in range(mdp.actions):
                total += policy[s, a] * softmax_score(logits, s, a).ball
            assert all(t.contains(0) for t in total.entries())
