"""The critic-based policy-gradient estimators (Ψ_t = Q, A, TD residual, GAE; issue 10) are
exactly unbiased with the policy's exact finite-horizon critic: their exact expectations equal
the exact gradient of the discounted finite-horizon cost ``E Σ_{t<T} γ^t c_t``.

Target used: ``∇C_{T−1}(K)`` from pgverify.LQR.finite_horizon_gradient (certified enclosures, an
independent code path: the forward/backward recursion, no rollouts) and ``∂C_{T−1}/∂θ`` from
pgverify.mdp.finite_horizon (exact). Exact means come from pgverify.expectation (rational
cubature of degree 4, or enumeration of every trajectory), the critic from
pgverify.expectation.critic (exact Fractions). GAE is checked at λ drawn from [0, 1]: with the
exact critic it is unbiased for every λ."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.estimators.critic_gradient import (
    CRITIC_KINDS,
    critic_advantages,
    critic_estimate,
    gaussian_critic_pg,
)
from pgverify.estimators.policy_gradient import gaussian_reinforce, softmax_scores
from pgverify.expectation import (
    lqr_expectation,
    lqr_gradient_target,
    mdp_expectation,
    softmax_gradient_target,
)
from pgverify.expectation.critic import (
    lqr_critic,
    lqr_discounted_critic,
    mdp_critic,
    mdp_discounted_critic,
)
from pgverify.mdp import evaluate
from pgverify.strategies import lqr_problems_with_gains, mdps_with_policies

SMALL = st.integers(1, 2)
LAMBDAS = st.integers(0, 4).map(lambda k: Fraction(k, 4))


def exact(matrix):
    return np.array([[Fraction(float(v)) for v in row] for row in np.asarray(matrix)], dtype=object)


def lqr_estimator(problem, K, steps, kind, lam, gamma=None):
    sigma = Fraction(problem.noise)
    discount = Fraction(problem.gamma if gamma is None else gamma)
    critic = lqr_critic(problem, K, steps, sigma, discount)
    gain = exact(K)

    def estimator(states, actions, costs):
        values, q_values = critic.arrays(states, actions)
        return gaussian_critic_pg(
            states,
            actions,
            costs,
            gain,
            sigma,
            discount,
            kind=kind,
            values=values,
            q_values=q_values,
            lam=lam,
        )

    return estimator


@pytest.mark.parametrize("kind", CRITIC_KINDS)
@settings(max_examples=5)
@given(
    case=lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True),
    steps=st.integers(1, 3),
    lam=LAMBDAS,
)
def test_critic_estimator_exact_expectation_is_the_finite_horizon_gradient_on_lqr(
    kind, case, steps, lam
):
    problem, K = case
    estimator = lqr_estimator(problem, K, steps, kind, lam)
    mean = lqr_expectation(problem, K, steps, estimator, degree=4).mean
    assert lqr_gradient_target(problem, K, steps).contains(mean)


@settings(max_examples=4)
@given(
    case=lqr_problems_with_gains(n=1, m=1, noisy=True),
    steps=st.integers(1, 3),
    kind=st.sampled_from(CRITIC_KINDS),
    lam=LAMBDAS,
)
def test_critic_estimators_at_gamma_one_have_the_exact_mean_of_undiscounted_reinforce(
    case, steps, kind, lam
):
    # γ = 1 at a finite horizon with noise (the LQR class refuses it for infinite-horizon
    # quantities): REINFORCE's exact mean is the gradient (properties/test_estimator_expectations)
    problem, K = case
    estimator = lqr_estimator(problem, K, steps, kind, lam, gamma=1)

    def reinforce(states, actions, costs):
        return gaussian_reinforce(states, actions, costs, exact(K), Fraction(problem.noise), 1)

    mean = lqr_expectation(problem, K, steps, estimator, degree=4).mean
    assert np.all(mean == lqr_expectation(problem, K, steps, reinforce, degree=4).mean)


@settings(max_examples=2)
@given(case=lqr_problems_with_gains(n=1, m=1, noisy=True), steps=st.integers(1, 2))
def test_critic_estimators_have_polynomial_degree_four_in_the_gaussian_variables(case, steps):
    # Q_t and V_t are quadratics in (x, u), as the costs are: the degree stays 4, and the rule
    # exact for degree 6 gives the same mean (else lqr_expectation raises CertificationError)
    problem, K = case
    for kind in CRITIC_KINDS:
        estimator = lqr_estimator(problem, K, steps, kind, Fraction(1, 2))
        lqr_expectation(problem, K, steps, estimator, degree=4, check_degree=True)


@settings(max_examples=3)
@given(case=lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True), steps=st.integers(1, 3))
def test_on_lqr_the_exact_td_residual_equals_the_exact_advantage_at_every_rollout(case, steps):
    # the dynamics are deterministic given (x_t, u_t): c_t + γV_{t+1}(x_{t+1}) = Q_t(x_t, u_t)
    problem, K = case
    critic = lqr_critic(problem, K, steps, Fraction(problem.noise), Fraction(problem.gamma))
    seen = []

    def compare(states, actions, costs):
        values, q_values = critic.arrays(states, actions)
        arrays = {"values": values, "q_values": q_values}
        gamma = Fraction(problem.gamma)
        td = critic_advantages("td", costs, gamma, **arrays)
        advantage = critic_advantages("advantage", costs, gamma, **arrays)
        seen.append(bool(np.all(td == advantage)))
        return np.zeros(1, dtype=object)

    lqr_expectation(problem, K, steps, compare, degree=2)
    assert seen and all(seen)


def exact_table(policy):
    table = np.empty((len(policy), len(policy[0])), dtype=object)
    table[:] = [[Fraction(p) for p in row] for row in policy]
    return table


@pytest.mark.parametrize("kind", CRITIC_KINDS)
@settings(max_examples=8)
@given(
    case=mdps_with_policies(st.integers(1, 3), st.integers(1, 2), allow_zero=False),
    steps=st.integers(1, 3),
    lam=LAMBDAS,
)
def test_softmax_critic_estimator_exact_expectation_is_the_finite_horizon_gradient(
    kind, case, steps, lam
):
    mdp, policy = case
    table = exact_table(policy)
    critic = mdp_critic(mdp, policy, steps)

    def estimator(states, actions, costs):
        # column T (V_0 of the last state) is never read at the horizon: any state will do
        values, q_values = critic.arrays(states, actions, states[:, -1], exact=True)
        scores = softmax_scores(states, actions, table)
        return critic_estimate(
            scores, costs, mdp.gamma, kind, values=values, q_values=q_values, lam=lam
        )

    mean = mdp_expectation(mdp, policy, steps, estimator).mean
    assert np.all(mean == softmax_gradient_target(mdp, policy, steps))


def to_go(costs, gamma):
    """G_t = Σ_{k≥t} γ^{k−t} c_k, (M, T), exactly."""
    steps = costs.shape[1]
    result = np.empty(costs.shape, dtype=object)
    running = 0 * costs[:, 0]
    for t in reversed(range(steps)):
        running = costs[:, t] + gamma * running
        result[:, t] = running
    return result


@settings(max_examples=4)
@given(case=lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True), steps=st.integers(1, 3))
def test_lqr_critic_is_the_conditional_expected_cost_to_go(case, steps):
    # E[(G_t − V_t(x_t)) φ(x_t)] = 0 and E[(G_t − Q_t(x_t, u_t)) φ(x_t, u_t)] = 0 for φ = 1 and
    # the quadratic monomials: V_t and Q_t are the conditional means of G_t (noise constants
    # included, which no estimator's expectation can see: a constant is a baseline)
    problem, K = case
    gamma = Fraction(problem.gamma)
    critic = lqr_critic(problem, K, steps, Fraction(problem.noise), gamma)

    def residuals(states, actions, costs):
        values, q_values = critic.arrays(states, actions)
        returns = to_go(costs, gamma)
        terms = []
        for t in range(steps):
            x, xu = states[0, t], np.concatenate([states[0, t], actions[0, t]])
            for error, point in (
                (returns[0, t] - values[0, t], x),
                (returns[0, t] - q_values[0, t], xu),
            ):
                terms.append(error)
                terms.extend((error * np.outer(point, point)).ravel())
        return np.array(terms, dtype=object)

    mean = lqr_expectation(problem, K, steps, residuals, degree=4).mean
    assert np.all(mean == 0)


@settings(max_examples=8)
@given(
    case=mdps_with_policies(st.integers(1, 3), st.integers(1, 2), allow_zero=False),
    steps=st.integers(1, 3),
)
def test_mdp_critic_is_the_conditional_expected_cost_to_go(case, steps):
    mdp, policy = case
    critic = mdp_critic(mdp, policy, steps)
    S, A = mdp.states, mdp.actions

    def residuals(states, actions, costs):
        values, q_values = critic.arrays(states, actions, states[:, -1], exact=True)
        returns = to_go(costs, mdp.gamma)
        terms = np.zeros((steps, S, A, 2), dtype=object)
        for t in range(steps):
            s, a = states[0, t], actions[0, t]
            terms[t, s, a] = [returns[0, t] - values[0, t], returns[0, t] - q_values[0, t]]
        return terms

    mean = mdp_expectation(mdp, policy, steps, residuals).mean
    # Q: zero per (s, a); V: zero per s after summing the actions
    assert np.all(mean[..., 1] == 0) and np.all(mean[..., 0].sum(axis=2) == 0)


# ----- the discounted infinite-horizon (stationary) critic over truncated rollouts -------------


def truncated_gradient(problem, K, steps):
    """2E_K Σ_{t<T} γ^t E[x_t x_tᵀ] in Fractions, with P_K from the certified oracle's midpoint
    replaced by the exact critic's P (checked against the oracle's enclosure separately)."""
    gamma, sigma = Fraction(problem.gamma), Fraction(problem.noise)
    A, B, R, Sigma0 = (exact(m) for m in (problem.A, problem.B, problem.R, problem.Sigma0))
    gain = exact(K)
    P = lqr_discounted_critic(problem, K, steps, sigma, gamma).matrices[0]
    E = (R + gamma * B.T @ P @ B) @ gain - gamma * B.T @ P @ A
    closed = A - B @ gain
    moment, total = Sigma0, 0 * Sigma0
    for t in range(steps):
        total = total + gamma**t * moment
        moment = closed @ moment @ closed.T + sigma * B @ B.T
    return 2 * E @ total


@settings(max_examples=4)
@given(case=lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True))
def test_discounted_critic_value_matrix_is_the_oracles(case):
    problem, K = case
    critic = lqr_discounted_critic(problem, K, 1, Fraction(problem.noise), Fraction(problem.gamma))
    assert problem.value_matrix(K, precision="certified").contains(critic.matrices[0])


@pytest.mark.parametrize("kind", CRITIC_KINDS)
@settings(max_examples=4)
@given(
    case=lqr_problems_with_gains(n=SMALL, m=SMALL, noisy=True),
    steps=st.integers(1, 3),
    lam=LAMBDAS,
)
def test_stationary_critic_estimator_on_truncated_rollouts_has_the_truncated_theorem_mean(
    kind, case, steps, lam
):
    # a time limit cuts the rollout (no episode ends): TD and GAE bootstrap from V(x_T)
    problem, K = case
    sigma, gamma = Fraction(problem.noise), Fraction(problem.gamma)
    critic = lqr_discounted_critic(problem, K, steps, sigma, gamma)
    gain = exact(K)

    def estimator(states, actions, costs):
        values, q_values = critic.arrays(states, actions)
        truncated = np.zeros(costs.shape, dtype=bool)
        return gaussian_critic_pg(
            states, actions, costs, gain, sigma, gamma, kind=kind, values=values,
            q_values=q_values, terminated=truncated, lam=lam,
        )  # fmt: skip

    mean = lqr_expectation(problem, K, steps, estimator, degree=4).mean
    assert np.all(mean == truncated_gradient(problem, K, steps))


@pytest.mark.parametrize("kind", CRITIC_KINDS)
@settings(max_examples=6)
@given(
    case=mdps_with_policies(st.integers(1, 2), st.integers(1, 2), allow_zero=False),
    steps=st.integers(1, 2),
    lam=LAMBDAS,
)
def test_softmax_stationary_critic_on_truncated_rollouts_has_the_truncated_theorem_mean(
    kind, case, steps, lam
):
    # E[A(x, u) s | x] = e_x ⊗ (π(·|x) A(x, ·)) for the softmax score (Σ_a π A = 0), so the
    # mean is Σ_{t<T} γ^t P(x_t = s) π(a|s) A(s, a); one more step is enumerated for x_T
    mdp, policy = case
    table = exact_table(policy)
    critic = mdp_discounted_critic(mdp, policy, steps)
    evaluation = evaluate(mdp, policy)

    def estimator(states, actions, costs):
        values, q_values = critic.arrays(
            states[:, :steps], actions[:, :steps], states[:, steps], exact=True
        )
        scores = softmax_scores(states[:, :steps], actions[:, :steps], table)
        truncated = np.zeros((1, steps), dtype=bool)
        return critic_estimate(
            scores, costs[:, :steps], mdp.gamma, kind, values=values, q_values=q_values,
            terminated=truncated, lam=lam,
        )  # fmt: skip

    mean = mdp_expectation(mdp, policy, steps + 1, estimator).mean
    law = list(mdp.initial)
    expected = np.zeros((mdp.states, mdp.actions), dtype=object)
    for t in range(steps):
        for s in range(mdp.states):
            for a in range(mdp.actions):
                expected[s, a] += mdp.gamma**t * law[s] * table[s, a] * evaluation.advantage(s, a)
        law = [
            sum(
                law[s] * table[s, a] * mdp.transitions[s][a][y]
                for s in range(mdp.states)
                for a in range(mdp.actions)
            )
            for y in range(mdp.states)
        ]
    assert np.all(mean == expected)
