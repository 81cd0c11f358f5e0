"""Learned critics, actor-critic bias and covariance estimates (issue 10), judged exactly where the
mathematics allows and statistically (seeded, stated false-alarm probability) where it does not.

Tiers, property by property:

* exact — the population LSTD(λ) solution (sample averages replaced by their exact expectations)
  *is* V^π: for LQR, P̂ solves ``P = Q + KᵀRK + γA_KᵀPA_K`` exactly in rationals (so it is P_K,
  the unique solution when √γ ρ(A_K) < 1), its constant is σ(tr R + γ tr BᵀP̂B)/(1 − γ) exactly,
  and the oracle's certified P_K contains it; for finite MDPs it equals pgverify.mdp.evaluate's
  exact V^π;
* exact — the TD-residual actor-critic estimate's mean, for any quadratic critic, is the closed
  form ``2(RK − γBᵀP̂A_K)S_T``, and a critic error's bias ``E[Σ γ^t s_t(γe(x_{t+1}) − e(x_t))]``
  is ``−2γBᵀΔA_K S_T`` (rational cubature against the closed forms);
* exact — E[Σ̂] of Fazel et al.'s covariance estimate is ``Σ_{t<ℓ} γ^t S_t``;
* statistical — the sampled critic's estimating equation is centred at V^π (so the sampled critic
  converges to it), a learned critic's actor-critic bias is the bias its error predicts, and the
  data-driven natural gradient ∇C Σ̂⁻¹ is biased by the Wishart factor N/(N − n − 1) that
  vanishes as N grows. Each statistical test states its false-alarm probability (1e-6, Student t
  with Bonferroni, :func:`pgverify.expectation.statistical_test`)."""

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
    population_lstd_tabular,
    statistical_test,
)
from pgverify.mdp import FiniteMDP, evaluate
from pgverify.strategies import lqr_problems_with_gains, mdps_with_policies
from tests.critic_support import (
    exact_matrix,
    lqr_rollouts,
    mdp_rollouts,
    quadratic_values,
    stein_residual,
    value_constant,
)

noisy_problems = lqr_problems_with_gains(n=st.integers(1, 2), m=st.integers(1, 2), noisy=True)
TRACE_DECAYS = st.sampled_from([0, Fraction(1, 2), 1])


def symmetric_rationals(n: int) -> st.SearchStrategy[np.ndarray]:
    entries = st.integers(-8, 8).map(lambda k: Fraction(k, 4))
    return st.lists(entries, min_size=n * n, max_size=n * n).map(
        lambda values: _symmetrised(np.array(values, dtype=object).reshape(n, n))
    )


def _symmetrised(matrix: np.ndarray) -> np.ndarray:
    return (matrix + matrix.T) / 2


# ----- exact: the population LSTD(λ) fixed point is V^π -----------------------------------------


@settings(max_examples=8)
@given(noisy_problems, st.integers(1, 2), TRACE_DECAYS)
def test_population_lstd_solves_the_lyapunov_equation_exactly(case, steps, lam):
    problem, K = case
    P, constant = quadratic_value_parameters(population_lstd(problem, K, steps, lam), problem.n)
    assert np.all(stein_residual(problem, K, P) == 0)
    assert constant == value_constant(problem, P)


@settings(max_examples=5)
@given(noisy_problems, TRACE_DECAYS)
def test_population_lstd_value_matrix_is_inside_the_certified_value_matrix(case, lam):
    problem, K = case
    P, _ = quadratic_value_parameters(population_lstd(problem, K, 1, lam), problem.n)
    assert problem.value_matrix(K, precision="certified").contains(P.tolist())


@settings(max_examples=10)
@given(mdps_with_policies(states=st.integers(1, 3), actions=st.integers(1, 2)), TRACE_DECAYS)
def test_population_lstd_with_one_hot_features_is_the_exact_tabular_value(case, lam):
    mdp, policy = case
    uniform = [Fraction(1, mdp.states)] * mdp.states  # every state visited: E[Â] invertible
    mdp = FiniteMDP.create(mdp.transitions, mdp.costs, mdp.gamma, uniform)
    weights = population_lstd_tabular(mdp, policy, 2, lam)
    assert list(weights) == list(evaluate(mdp, policy).value)


# ----- exact: the actor-critic estimate's mean and the bias of a critic error --------------------


def actor_critic(problem, K, value_matrix):
    def estimator(states, actions, costs):
        scores = gaussian_scores(states, actions, K, problem.noise)
        values = quadratic_values(states, value_matrix, Fraction(3))  # any constant: no effect
        return td_actor_critic(scores, costs, values, problem.gamma)

    return estimator


@settings(max_examples=8)
@given(noisy_problems, st.integers(1, 3), st.data())
def test_td_actor_critic_exact_mean_is_the_closed_form_for_any_quadratic_critic(case, steps, data):
    problem, K = case
    critic = data.draw(symmetric_rationals(problem.n))
    mean = lqr_expectation(problem, K, steps, actor_critic(problem, K, critic), degree=4).mean
    assert np.all(mean == critic_gradient_expectation(problem, K, steps, critic))


@settings(max_examples=8)
@given(noisy_problems, st.integers(1, 3), st.data())
def test_critic_error_bias_is_the_expected_discounted_score_times_error_difference(
    case, steps, data
):
    problem, K = case
    error = data.draw(symmetric_rationals(problem.n))
    gamma = Fraction(problem.gamma)

    def bias_statistic(states, actions, costs):  # Σ_t γ^t s_t (γ e(x_{t+1}) − e(x_t))
        scores = gaussian_scores(states, actions, K, problem.noise)
        e = quadratic_values(states, error, Fraction(-5))
        weights = np.array([gamma**t for t in range(steps)], dtype=object)
        difference = (gamma * e[:, 1:] - e[:, :-1]) * weights
        return (difference[:, :, None, None] * scores).sum(axis=(0, 1))

    mean = lqr_expectation(problem, K, steps, bias_statistic, degree=4).mean
    assert np.all(mean == critic_error_bias(problem, K, steps, error))


def test_true_critic_actor_critic_mean_tends_to_the_gradient_as_the_horizon_grows():
    # γ = 1/2: the terms beyond T = 100 weigh below 2^-100 of the sum
    problem, K = _example(gamma=0.5)
    P = exact_matrix(problem.value_matrix(K, precision=30))  # 30 digits: far below the tolerance
    long_run = np.asarray(critic_gradient_expectation(problem, K, 100, P), dtype=float)
    np.testing.assert_allclose(long_run, problem.gradient(K), rtol=1e-12)


# ----- exact: the covariance estimate's mean --------------------------------------------------


@settings(max_examples=8)
@given(noisy_problems, st.integers(1, 3), st.sampled_from(["problem", "one"]))
def test_covariance_estimate_exact_mean_is_the_discounted_state_moment(case, steps, weighting):
    problem, K = case
    gamma = problem.gamma if weighting == "problem" else 1.0

    def estimate(states, actions, costs):
        return state_covariance_estimate(states[:, :steps], gamma)

    mean = lqr_expectation(problem, K, steps, estimate, degree=2).mean
    assert np.all(mean == discounted_state_moment(problem, K, steps, gamma))


@settings(max_examples=8)
@given(noisy_problems, st.integers(1, 4))
def test_discounted_state_moment_gives_the_oracles_certified_finite_horizon_cost(case, steps):
    # C_{T−1}(K) = Σ_{t<T} γ^t [tr(Q_K S_t) + σ tr R] = tr(Q_K S_T) + σ tr R Σ_{t<T} γ^t
    problem, K = case
    gain, Q, R = exact_matrix(K), exact_matrix(problem.Q), exact_matrix(problem.R)
    gamma, noise = Fraction(problem.gamma), Fraction(problem.noise)
    moment = discounted_state_moment(problem, K, steps)
    cost = np.trace((Q + gain.T @ R @ gain) @ moment) + noise * np.trace(R) * sum(
        gamma**t for t in range(steps)
    )
    assert problem.finite_horizon_cost(K, steps - 1, precision="certified").contains(cost)


def test_discounted_state_moment_tends_to_the_oracle_state_covariance():
    problem, K = _example(gamma=0.5)
    long_run = np.asarray(discounted_state_moment(problem, K, 100), dtype=float)
    np.testing.assert_allclose(long_run, problem.state_covariance(K), rtol=1e-12)


# ----- float: batch TD(0) converges to the LSTD(0) solution on the same data ---------------------


def test_batch_td0_converges_to_the_lstd0_solution_on_the_same_data():
    rng = np.random.default_rng(3)
    features = rng.standard_normal((50, 6, 3))
    costs = rng.standard_normal((50, 5))
    matrix, _ = lstd_statistics(features, costs, 0.9)
    step = 1 / np.abs(np.linalg.eigvals(matrix)).max()
    converged = td0(features, costs, 0.9, step, sweeps=5000)
    np.testing.assert_allclose(converged, lstd(features, costs, 0.9), rtol=1e-8, atol=1e-10)


# ----- statistical ---------------------------------------------------------------------------


FALSE_ALARM = 1e-6


def test_sampled_lstd_estimating_equation_is_centred_at_the_true_value():
    """Per rollout, ``b̂_i − Â_i θ*`` has mean zero exactly (the module docstring of
    pgverify.estimators.critics), so the sampled LSTD critic is consistent. Statistical: a t-test
    over 4000 seeded rollouts, false-alarm probability ≤ 1e-6; the same test at a value 10% off
    (θ* scaled by 1.1) fails."""
    problem, K = _example()
    theta = _true_weights(problem, K)

    def residuals_at(weights):
        def draw(rng, count):
            states, _, costs = lqr_rollouts(problem, K, 4, count, rng)
            features = quadratic_value_features(states)
            per_rollout = []
            for i in range(count):
                matrix, rhs = lstd_statistics(
                    features[i : i + 1], costs[i : i + 1], problem.gamma, 0.5
                )
                per_rollout.append(rhs - matrix @ weights)
            return np.array(per_rollout)

        return draw

    zero = np.zeros(len(theta))
    verdict = statistical_test(residuals_at(theta), zero, 4000, seed=11, false_alarm=FALSE_ALARM)
    assert verdict.passed, verdict
    assert not statistical_test(residuals_at(1.1 * theta), zero, 4000, seed=11).passed


def test_sampled_tabular_lstd_estimating_equation_is_centred_at_the_exact_value():
    """One-hot features on a 3-state MDP: per trajectory, ``b̂_i − Â_i V^π`` has mean zero
    (V^π exact, pgverify.mdp.evaluate); t-test over 4000 seeded trajectories of 5 transitions,
    false-alarm probability ≤ 1e-6; the test at V^π + 1/2 in one state fails."""
    half, third = Fraction(1, 2), Fraction(1, 3)
    mdp = FiniteMDP.create(
        [[[half, half, 0], [0, 0, 1]], [[third, third, third], [1, 0, 0]], [[0, half, half]] * 2],
        [[1, 2], [4, Fraction(1, 4)], [0, 3]],
        Fraction(9, 10),
        [third, third, third],
    )
    policy = [[half, half], [Fraction(1, 4), Fraction(3, 4)], [1, 0]]
    value = np.array(evaluate(mdp, policy).value, dtype=float)

    def residuals_at(weights):
        def draw(rng, count):
            states, costs = mdp_rollouts(mdp, policy, 5, count, rng)
            features = one_hot_features(states, 3)
            per_trajectory = []
            for i in range(count):
                matrix, rhs = lstd_statistics(features[i : i + 1], costs[i : i + 1], 0.9, 0.5)
                per_trajectory.append(rhs - matrix @ weights)
            return np.array(per_trajectory)

        return draw

    zero = np.zeros(3)
    verdict = statistical_test(residuals_at(value), zero, 4000, seed=3, false_alarm=FALSE_ALARM)
    assert verdict.passed, verdict
    shifted = value + np.array([0, 0.5, 0])
    assert not statistical_test(residuals_at(shifted), zero, 4000, seed=3).passed


def test_sampled_lstd_critic_error_shrinks_like_one_over_root_n():
    """Consistency: the root-mean-square error of LSTD(0) over 20 seeded fits drops by a factor
    in [2, 8] when the number of rollouts grows 16-fold (4 is the N^(−1/2) rate)."""
    problem, K = _example()
    theta = _true_weights(problem, K)
    rng = np.random.default_rng(5)

    def rms_error(count):
        errors = []
        for _ in range(20):
            states, _, costs = lqr_rollouts(problem, K, 4, count, rng)
            errors.append(lstd(quadratic_value_features(states), costs, problem.gamma) - theta)
        return np.sqrt(np.mean(np.square(errors)))

    ratio = rms_error(250) / rms_error(4000)
    assert 2 < ratio < 8, ratio


def test_learned_critic_actor_critic_bias_is_the_bias_its_critic_error_predicts():
    """A batch-TD(0) critic trained for 3 sweeps on 64 independent rollouts, then the
    actor-critic estimate on 64 fresh ones. Conditionally on the critic its mean is
    ``critic_gradient_expectation(P̂)`` exactly, so ``estimate − target(P_K) − bias(P̂ − P_K)``
    has mean zero (t-test passes, false alarm ≤ 1e-6), while ``estimate − target(P_K)`` has
    not: the bias is detected (t-test fails; its detectable bias is below the predicted bias)."""
    problem, K = _example()
    steps, batch = 4, 64
    true_P = exact_matrix(problem.value_matrix(K, precision=30))
    target = np.asarray(critic_gradient_expectation(problem, K, steps, true_P), dtype=float)
    records: dict[str, list] = {"residual": [], "raw": [], "bias": []}

    def fit_and_estimate(rng):
        states, _, costs = lqr_rollouts(problem, K, steps, batch, rng)
        weights = td0(quadratic_value_features(states), costs, problem.gamma, 0.02, sweeps=3)
        P_hat, _ = quadratic_value_parameters(weights, problem.n)  # the constant adds no bias
        states, actions, costs = lqr_rollouts(problem, K, steps, batch, rng)
        values = quadratic_value_features(states) @ weights
        scores = gaussian_scores(states, actions, K, problem.noise)
        estimate = td_actor_critic(scores, costs, values, problem.gamma)
        error = exact_matrix(P_hat) - true_P
        bias = np.asarray(critic_error_bias(problem, K, steps, error), dtype=float)
        return estimate, bias

    def draws(rng, count):
        for _ in range(count):
            estimate, bias = fit_and_estimate(rng)
            records["residual"].append(estimate - target - bias)
            records["raw"].append(estimate - target)
            records["bias"].append(bias)
        return np.array(records["residual"])

    centred = statistical_test(draws, np.zeros_like(target), 400, seed=2, false_alarm=FALSE_ALARM)
    assert centred.passed, centred
    predicted = np.mean(records["bias"], axis=0)
    raw = statistical_test(
        lambda rng, count: np.array(records["raw"]), np.zeros_like(target), 400, seed=2
    )
    assert not raw.passed
    assert np.max(np.abs(predicted)) > np.max(raw.detectable_bias)


def test_natural_gradient_estimate_is_biased_by_the_wishart_factor_and_consistent():
    """One step (Σ̂ from x_0 only): ``N Σ̂ ~ Wishart(Σ0, N)``, ``E[Σ̂⁻¹] = N Σ0⁻¹ / (N − n − 1)``
    (Muirhead, "Aspects of Multivariate Statistical Theory", 1982, Thm 3.2.12), so with the exact
    gradient G, ``E[G Σ̂⁻¹] = N/(N − n − 1) · G Σ0⁻¹``. At N = 8 (n = 2; N ≥ n + 4 keeps the
    variance finite) the t-test against this biased mean passes (false alarm ≤ 1e-6) and the one
    against G Σ0⁻¹ fails; at N = 200 the biased mean passes too and the measured bias is at least
    10 times smaller (the factor's excess (n + 1)/(N − n − 1) drops from 0.6 to 0.015)."""
    problem, K = _example()
    G = problem.gradient(K)
    natural = G @ np.linalg.inv(problem.Sigma0)
    n = problem.n

    def estimates(per_estimate):
        def draw(rng, count):
            states, _, _ = lqr_rollouts(problem, K, 1, count * per_estimate, rng)
            first = states[:, :1].reshape(count, per_estimate, 1, n)
            return np.array(
                [natural_gradient_estimate(G, state_covariance_estimate(x)) for x in first]
            )

        return draw

    def wishart_factor(count):
        return count / (count - n - 1)

    small = statistical_test(estimates(8), wishart_factor(8) * natural, 4000, seed=4)
    assert small.passed, small
    assert not statistical_test(estimates(8), natural, 4000, seed=4).passed
    large = statistical_test(estimates(200), wishart_factor(200) * natural, 1000, seed=4)
    assert large.passed, large
    small_bias = np.abs(small.mean - natural).max()
    assert np.abs(large.mean - natural).max() < small_bias / 10


def test_discounted_natural_gradient_estimate_over_three_steps_is_biased_and_consistent():
    """Σ̂ over three discounted steps with exploration noise (no closed form for E[Σ̂⁻¹]): with
    the exact gradient G, the t-test of ``E[G Σ̂⁻¹] = G S_3⁻¹`` (S_3 = E[Σ̂], exact) fails at
    N = 4 rollouts per estimate — the bias is detected — and the measured bias at N = 64 is
    over 10 times smaller (statistical, seeded)."""
    problem, K = _example()
    steps, n = 3, problem.n
    G = problem.gradient(K)
    moment = np.asarray(discounted_state_moment(problem, K, steps), dtype=float)
    target = G @ np.linalg.inv(moment)

    def estimates(per_estimate):
        def draw(rng, count):
            states, _, _ = lqr_rollouts(problem, K, steps, count * per_estimate, rng)
            groups = states[:, :steps].reshape(count, per_estimate, steps, n)
            return np.array(
                [
                    natural_gradient_estimate(G, state_covariance_estimate(x, problem.gamma))
                    for x in groups
                ]
            )

        return draw

    small = statistical_test(estimates(4), target, 4000, seed=7)
    assert not small.passed
    large = statistical_test(estimates(64), target, 1000, seed=7)
    assert np.abs(large.mean - target).max() < np.abs(small.mean - target).max() / 10


def _example(gamma=0.9):
    from pgverify import LQR

    problem = LQR(
        [[1.0, 0.5], [0.0, 0.75]],
        [[0.0], [1.0]],
        np.eye(2),
        [[1.0]],
        np.diag([1.0, 0.5]),
        gamma=gamma,
        noise=0.25,
    )
    return problem, np.array([[0.25, 0.5]])


def _true_weights(problem, K):
    return np.asarray(population_lstd(problem, K, 1), dtype=float)
