"""Exact expectations for learned critics, actor-critic gradients and covariance estimates.

LQR rollouts as in :func:`pgverify.expectation.lqr_expectation`: ``x_0 ~ N(0, Σ0)``,
``u_t = −Kx_t + w_t``, ``w_t ~ N(0, σI)`` (σ = ``problem.noise``, a variance), ``x_{t+1} = Ax_t +
Bu_t``, costs ``c_t = x_tᵀQx_t + u_tᵀRu_t``, discount γ = ``problem.gamma``; T = ``steps``.

* :func:`discounted_state_moment` — ``S_T = Σ_{t<T} γ^t S_t`` with ``S_0 = Σ0``,
  ``S_{t+1} = A_K S_t A_Kᵀ + σBBᵀ``: the exact mean of the covariance estimate
  :func:`pgverify.estimators.state_covariance_estimate` (Fazel et al. 2018, Algorithm 1).
* :func:`critic_gradient_expectation` — the exact mean of
  :func:`pgverify.estimators.td_actor_critic` with the quadratic critic ``V̂(x) = xᵀP̂x + c``
  (any symmetric P̂, any constant): ``2 (RK − γBᵀP̂A_K) S_T``. With ``P̂ = P_K`` (the true
  value, :meth:`pgverify.LQR.value_matrix`) this is ``2 E_K S_T``, which tends to ∇C(K) as
  T → ∞. Derivation: given x_t, ``E[c_t s_t] = 2RK x_t x_tᵀ``, ``E[V̂(x_t) s_t] = 0`` (x_t does
  not depend on w_t) and ``E[γV̂(x_{t+1}) s_t] = −2γBᵀP̂A_K x_t x_tᵀ`` (``s_t = −σ⁻¹w_t x_tᵀ``,
  ``x_{t+1} = A_K x_t + Bw_t``, Isserlis' theorem); the constant c contributes ``E[s_t] = 0``.
* :func:`critic_error_bias` — the bias a critic error ``e(x) = xᵀΔx + c`` induces:
  ``E[Σ_t γ^t s_t (γ e(x_{t+1}) − e(x_t))] = −2γ BᵀΔA_K S_T``.
* :func:`population_lstd` / :func:`population_lstd_tabular` — LSTD(λ) with the sample averages
  replaced by their exact expectations (cubature / enumeration): ``E[Â]⁻¹ E[b̂]``. Whenever V^π
  is representable this is V^π's weights (docs/estimators.md §8).

Tier: exact (Fractions; the float64 problem data are dyadic rationals, read exactly).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import numeric_array, scalar
from pgverify.estimators.critics import (
    lstd_statistics,
    one_hot_features,
    quadratic_value_features,
    solve_exactly,
)
from pgverify.expectation.lqr import _positive_int, lqr_expectation
from pgverify.expectation.mdp import mdp_expectation
from pgverify.expectation.result import Expectation
from pgverify.expectation.rules import DEFAULT_NODE_BUDGET
from pgverify.mdp import validation


def _problem(problem: Any) -> Any:
    from pgverify.lqr import LQR  # here: pgverify.lqr imports much of the package

    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    return problem


def _exact(matrix: np.ndarray, name: str) -> np.ndarray:
    return numeric_array(matrix, name, np.shape(matrix), exact=True)


def discounted_state_moment(problem: Any, K: Any, steps: int, gamma: Any = None) -> np.ndarray:
    """``Σ_{t<T} γ^t S_t`` (n, n), exact Fractions: ``S_0 = Σ0``, ``S_{t+1} = A_K S_t A_Kᵀ +
    σBBᵀ`` (σ = ``problem.noise``); γ defaults to ``problem.gamma`` (pass 1 for the
    finite-horizon Σ̂ of Fazel et al. 2018, Algorithm 1). Any K (finite horizon)."""
    problem = _problem(problem)
    gain = numeric_array(K, "K", (problem.m, problem.n), exact=True)
    steps = _positive_int(steps, "steps")
    discount = Fraction(scalar(problem.gamma if gamma is None else gamma, "gamma", exact=True))
    if not 0 < discount <= 1:
        raise InvalidProblemError(f"gamma = {gamma!r} is outside (0, 1]")
    A, B = _exact(problem.A, "A"), _exact(problem.B, "B")
    closed_loop = A - B @ gain
    noise_input = (B @ B.T) * Fraction(problem.noise)
    moment = _exact(problem.Sigma0, "Sigma0")
    total, weight = moment * 1, Fraction(1)
    for _ in range(steps - 1):
        moment = closed_loop @ moment @ closed_loop.T + noise_input
        weight *= discount
        total = total + moment * weight
    return total


def _symmetric(matrix: Any, name: str, n: int) -> np.ndarray:
    exact = numeric_array(matrix, name, (n, n), exact=True)
    if np.any(exact != exact.T):
        raise InvalidProblemError(
            f"{name} is not symmetric; expected a symmetric (n, n) matrix (V̂(x) = xᵀPx + c)"
        )
    return exact


def critic_gradient_expectation(problem: Any, K: Any, steps: int, value_matrix: Any) -> np.ndarray:
    """``2 (RK − γBᵀP̂A_K) Σ_{t<T} γ^t S_t`` (m, n), exact: the mean of the TD-residual
    actor-critic estimate (:func:`pgverify.estimators.td_actor_critic`, Gaussian scores) over
    T-step rollouts with the critic ``V̂(x) = xᵀP̂x + c``, P̂ = ``value_matrix`` (symmetric)."""
    problem = _problem(problem)
    P = _symmetric(value_matrix, "value_matrix", problem.n)
    moment = discounted_state_moment(problem, K, steps)
    gain = numeric_array(K, "K", (problem.m, problem.n), exact=True)
    A, B, R = _exact(problem.A, "A"), _exact(problem.B, "B"), _exact(problem.R, "R")
    gamma = Fraction(problem.gamma)
    return 2 * (R @ gain - gamma * (B.T @ P @ (A - B @ gain))) @ moment


def critic_error_bias(problem: Any, K: Any, steps: int, value_error: Any) -> np.ndarray:
    """``−2γ BᵀΔA_K Σ_{t<T} γ^t S_t`` (m, n), exact: the bias of the TD-residual actor-critic
    estimate caused by the critic error ``e(x) = xᵀΔx + c``, Δ = ``value_error`` (symmetric),
    i.e. ``E[Σ_t γ^t s_t (γ e(x_{t+1}) − e(x_t))]``."""
    problem = _problem(problem)
    error = _symmetric(value_error, "value_error", problem.n)
    moment = discounted_state_moment(problem, K, steps)
    gain = numeric_array(K, "K", (problem.m, problem.n), exact=True)
    A, B = _exact(problem.A, "A"), _exact(problem.B, "B")
    gamma = Fraction(problem.gamma)
    return -2 * gamma * (B.T @ error @ (A - B @ gain)) @ moment


def _lam(lam: Any) -> Fraction:
    value = Fraction(scalar(lam, "lam", exact=True))
    if not 0 <= value <= 1:
        raise InvalidProblemError(f"lam = {lam!r} is outside [0, 1]")
    return value


def _solve_population(statistics: Expectation, p: int) -> np.ndarray:
    flat = statistics.mean.ravel()
    matrix = flat[: p * p].reshape(p, p)
    return solve_exactly(matrix, flat[p * p :], "population LSTD matrix E[Â]")


def population_lstd(
    problem: Any, K: Any, steps: int, lam: Any = 0, *, node_budget: int = DEFAULT_NODE_BUDGET
) -> np.ndarray:
    """``E[Â]⁻¹ E[b̂]`` (p,), exact Fractions: LSTD(λ) with the quadratic features of
    :func:`pgverify.estimators.quadratic_value_features` on T-step LQR rollouts, its averages
    replaced by their exact expectations (degree-4 cubature, :func:`lqr_expectation`; γ and σ
    the problem's). The result is V^π's weights: ``quadratic_value_parameters`` gives
    ``(P_K, σ(tr R + γ tr BᵀP_K B)/(1 − γ))``. InvalidProblemError when γ = 1 (the constant
    feature is then not identifiable) or E[Â] is singular."""
    problem = _problem(problem)
    trace_decay = _lam(lam)
    gamma = Fraction(problem.gamma)
    if gamma == 1:
        raise InvalidProblemError(
            "population_lstd needs problem.gamma < 1: with γ = 1 the constant feature's TD "
            "difference 1 − γ vanishes, so E[Â] is singular (and with noise V^π is infinite)"
        )
    p = problem.n * (problem.n + 1) // 2 + 1

    def statistics(states: np.ndarray, actions: np.ndarray, costs: np.ndarray) -> np.ndarray:
        matrix, rhs = lstd_statistics(quadratic_value_features(states), costs, gamma, trace_decay)
        return np.concatenate([matrix.ravel(), rhs])

    moments = lqr_expectation(problem, K, steps, statistics, 4, node_budget=node_budget)
    return _solve_population(moments, p)


def population_lstd_tabular(mdp: Any, policy: Any, steps: int, lam: Any = 0) -> np.ndarray:
    """``E[Â]⁻¹ E[b̂]`` (S,), exact Fractions: LSTD(λ) with one-hot features on trajectories of
    T = ``steps`` states (T − 1 ≥ 1 transitions, costs c_0 … c_{T−2}) of ``mdp`` under the exact
    ``policy`` table, its averages replaced by their exact expectations (enumeration,
    :func:`mdp_expectation`). It equals V^π (:func:`pgverify.mdp.evaluate`) whenever every state
    can be visited before the last step; InvalidProblemError (E[Â] singular) otherwise."""
    mdp = validation.finite_mdp(mdp)
    steps = _positive_int(steps, "steps")
    if steps < 2:
        raise InvalidProblemError(f"steps must be >= 2 (one transition at least), got {steps}")
    trace_decay = _lam(lam)
    count = mdp.states

    def statistics(states: np.ndarray, actions: np.ndarray, costs: np.ndarray) -> np.ndarray:
        features = one_hot_features(states, count).astype(int).astype(object)
        matrix, rhs = lstd_statistics(features, costs[:, :-1], mdp.gamma, trace_decay)
        return np.concatenate([matrix.ravel(), rhs])

    moments = mdp_expectation(mdp, policy, steps, statistics)
    return _solve_population(moments, count)
