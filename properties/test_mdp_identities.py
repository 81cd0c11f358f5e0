"""Property suite for finite MDPs: every identity checked with no rounding at all (Fractions), or
within certified radii (softmax policies, balls).  Negative controls are refuted."""

from fractions import Fraction

from flint import ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.mdp import (
    direct_fisher,
    direct_gradient,
    discounted_cost,
    evaluate,
    exact_moments,
    finite_horizon_cost,
    finite_horizon_gradient,
    performance_difference,
    score_function_estimator,
    softmax_gradient,
    softmax_policy,
)
from pgverify.strategies import finite_mdps, softmax_logits, tabular_policies


@st.composite
def mdp_and_policy(draw, states=st.integers(1, 4), actions=st.integers(1, 3)):
    mdp = draw(finite_mdps(states, actions))
    return mdp, draw(tabular_policies(mdp))


@st.composite
def mdp_and_two_policies(draw):
    mdp = draw(finite_mdps())
    return mdp, draw(tabular_policies(mdp)), draw(tabular_policies(mdp))


@given(mdp_and_policy())
def test_policy_gradient_theorem_equals_the_derivative_of_the_bellman_system_exactly(case):
    mdp, policy = case
    assert direct_gradient(mdp, policy, "theorem") == direct_gradient(mdp, policy, "bellman")


@given(mdp_and_policy())
def test_policy_gradient_with_an_unnormalised_visitation_is_refuted(case):
    """Negative control: dropping the (1 − γ)⁻¹ (i.e. using the unnormalised visitation with
    the normalised formula twice) changes every non-zero entry."""
    mdp, policy = case
    correct = direct_gradient(mdp, policy, "theorem")
    wrong = [[g * (1 - mdp.gamma) for g in row] for row in correct]
    assert all(
        w != c for row_w, row_c in zip(wrong, correct) for w, c in zip(row_w, row_c) if c != 0
    )


@given(mdp_and_two_policies())
def test_relative_performance_identity_holds_exactly_in_both_forms(case):
    mdp, policy, old_policy = case
    sides = performance_difference(mdp, policy, old_policy)
    assert sides["difference"] == sides["trajectory_form"] == sides["visitation_form"]


@given(mdp_and_two_policies())
def test_relative_performance_identity_without_the_normalisation_is_refuted(case):
    mdp, policy, old_policy = case
    sides = performance_difference(mdp, policy, old_policy)
    wrong = sides["visitation_form"] * (1 - mdp.gamma)  # E_{x ~ d} A without (1 − γ)⁻¹
    assert (wrong == sides["difference"]) == (sides["difference"] == 0)


@given(mdp_and_policy())
def test_visitation_is_a_probability_vector(case):
    mdp, policy = case
    d = evaluate(mdp, policy).visitation()
    assert sum(d) == 1 and all(x >= 0 for x in d)


@given(mdp_and_policy(), st.integers(0, 3))
def test_finite_horizon_cost_is_the_exact_mean_of_the_trajectory_cost(case, horizon):
    mdp, policy = case
    mean, _ = exact_moments(
        mdp, policy, horizon, lambda batch: discounted_cost(mdp, batch[0]), limit=10**5
    )
    assert mean == finite_horizon_cost(mdp, policy, horizon)


@given(mdp_and_policy(states=st.integers(1, 2), actions=st.integers(1, 2)), st.integers(0, 2))
@settings(max_examples=10)
def test_batch_mean_has_the_single_trajectory_mean_and_a_variance_m_times_smaller(case, horizon):
    mdp, policy = case

    def cost(batch):
        return discounted_cost(mdp, batch[0])

    def batch_mean(batch):
        return sum((discounted_cost(mdp, t) for t in batch), Fraction(0)) / len(batch)

    mean_1, variance_1 = exact_moments(mdp, policy, horizon, cost)
    mean_2, variance_2 = exact_moments(mdp, policy, horizon, batch_mean, batch=2, limit=10**5)
    assert mean_2 == mean_1 and variance_2 == variance_1 / 2


@given(mdp_and_policy())
def test_finite_horizon_cost_converges_to_the_discounted_cost(case):
    mdp, policy = case
    infinite = evaluate(mdp, policy).cost()
    finite = finite_horizon_cost(mdp, policy, 60)
    bound = max(abs(c) for row in mdp.costs for c in row) * mdp.gamma**61 / (1 - mdp.gamma)
    assert abs(infinite - finite) <= bound


@st.composite
def mdp_and_logits(draw):
    mdp = draw(finite_mdps(st.integers(1, 3), st.integers(1, 3)))
    return mdp, draw(softmax_logits(mdp))


@given(mdp_and_logits())
@settings(max_examples=10)
def test_softmax_gradient_three_ways_agree_within_certified_radii(case):
    mdp, logits = case
    theorem = softmax_gradient(mdp, logits, "theorem")
    bellman = softmax_gradient(mdp, logits, "bellman")
    closed = softmax_gradient(mdp, logits, "closed-form")
    assert theorem.overlaps(bellman) and theorem.overlaps(closed)
    assert theorem.max_radius < 1e-50


@given(mdp_and_logits())
@settings(max_examples=10)
def test_softmax_closed_form_without_the_policy_factor_is_refuted(case):
    """Negative control: (1 − γ)⁻¹ d(s) A(s, a) (missing π(a|s)) is disjoint from the true
    gradient wherever they differ by more than the radii."""
    mdp, logits = case
    closed = softmax_gradient(mdp, logits, "closed-form").ball
    policy = softmax_policy(logits).ball
    with ctx.workprec(212):
        for s in range(mdp.states):
            for a in range(mdp.actions):
                wrong = closed[s, a] / policy[s, a]
                if abs(wrong - closed[s, a]) > 1e-40:
                    assert not wrong.overlaps(closed[s, a])


def tangent(flat, mdp):
    """Components along the simplex-tangent directions e_(s,a) − e_(s,a+1): the directions in
    which a direct-parametrised policy can move (off the simplex, the trajectory density's
    future-action factors no longer sum to 1 and V0 differs from V1/V2 — a real distinction)."""
    return [
        flat[s * mdp.actions + a] - flat[s * mdp.actions + a + 1]
        for s in range(mdp.states)
        for a in range(mdp.actions - 1)
    ]


@st.composite
def mdp_and_positive_policy(draw):
    mdp = draw(finite_mdps(st.integers(1, 2), st.integers(1, 2)))
    return mdp, draw(tabular_policies(mdp, allow_zero=False))


@given(mdp_and_positive_policy(), st.integers(0, 2), st.sampled_from(["V0", "V1", "V2"]))
@settings(max_examples=12)
def test_every_score_function_form_has_the_exact_finite_horizon_gradient_as_mean(
    case, horizon, form
):
    mdp, policy = case
    estimator = score_function_estimator(mdp, policy, horizon, form)
    mean, _ = exact_moments(mdp, policy, horizon, estimator)
    expected = [g for row in finite_horizon_gradient(mdp, policy, horizon) for g in row]
    assert tangent(mean, mdp) == tangent(expected, mdp)


@given(mdp_and_positive_policy(), st.integers(1, 2))
@settings(max_examples=10)
def test_a_state_baseline_keeps_reinforce_unbiased(case, horizon):
    mdp, policy = case
    expected = [g for row in finite_horizon_gradient(mdp, policy, horizon) for g in row]
    state_baseline = score_function_estimator(
        mdp, policy, horizon, "V1", baseline=lambda t, x: Fraction(x + 1, 3)
    )
    mean, _ = exact_moments(mdp, policy, horizon, state_baseline)
    assert tangent(mean, mdp) == tangent(expected, mdp)


@given(mdp_and_positive_policy())
def test_direct_fisher_is_diagonal_with_visitation_over_probability(case):
    mdp, policy = case
    fisher = direct_fisher(mdp, policy)
    d = evaluate(mdp, policy).visitation()
    A = mdp.actions
    for i, row in enumerate(fisher):
        for j, value in enumerate(row):
            s, a = divmod(i, A)
            assert value == (d[s] / Fraction(policy[s][a]) if i == j else 0)
