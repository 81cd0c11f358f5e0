"""LSPI on LQR: LSTD-Q with quadratic features, and its greedy policy improvement.

For a stabilising gain K the Q-function of the policy ``u = −Kx`` is quadratic,

    Q^K(x, u) = zᵀ H_K z + c₀,   z = [x; u],
    H_K = [[Q + γAᵀP_K A, γAᵀP_K B], [γBᵀP_K A, R + γBᵀP_K B]]

(Bradtke, Ydstie & Barto, "Adaptive linear quadratic control using policy iteration", ACC 1994;
:meth:`pgverify.LQR.q_matrix`), with ``c₀ = 0`` without process noise.  LSTD-Q (Lagoudakis &
Parr, "Least-squares policy iteration", JMLR 2003) fits ``Q(z) = φ(z)ᵀθ`` with the quadratic
features ``φ(z) = (z_i z_j)_{i≤j}`` (and a constant when γ < 1) from transitions
``(x, u, c, x')`` by solving the projected Bellman equation

    Φᵀ (Φ − γ Φ') θ = Φᵀ c,   Φ' = φ([x'; −Kx']).

Noise-free data satisfy the Bellman equation exactly, so θ — hence H_K — is recovered exactly
whenever ``Φᵀ(Φ − γΦ')`` is invertible: the data must be persistently exciting, which needs
exploration in u (without it ``u = −Kx`` and at most n(n+1)/2 of the features vary
independently).  The greedy improvement ``K' = H_uu⁻¹ H_ux`` is then policy iteration's gain,
i.e. the Gauss–Newton step with α = ½.  With process noise the fit is consistent: its error
shrinks like N^(−1/2) in the number of transitions N.

Tier: float (numpy float64; the tests state the tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.lqr import validation
from pgverify.lqr.problem import LQR

CONDITION_LIMIT = 1e12
"""The LSTD-Q system is refused as not persistently exciting when its condition number exceeds
this: beyond it the float64 solution has no correct digit to speak of."""


@dataclass(frozen=True)
class Transitions:
    """N transitions: states (N, n), actions (N, m), costs (N,), next_states (N, n)."""

    states: np.ndarray
    actions: np.ndarray
    costs: np.ndarray
    next_states: np.ndarray

    def __len__(self) -> int:
        return self.states.shape[0]


def rollouts(
    problem: LQR,
    K: Any,
    *,
    episodes: int,
    horizon: int,
    exploration: float,
    seed: int,
    process_noise: float = 0.0,
) -> Transitions:
    """Seeded rollouts of ``u_t = −K x_t + e_t``, ``e_t ~ N(0, exploration·I)`` (a variance),
    ``x_{t+1} = A x_t + B u_t + w_t``, ``w_t ~ N(0, process_noise·I)``, ``x_0 ~ N(0, Σ0)``;
    cost ``c_t = x_tᵀQx_t + u_tᵀRu_t``.  ``episodes · horizon`` transitions."""
    if not isinstance(problem, LQR):
        raise InvalidProblemError(
            f"problem must be a pgverify.LQR, got {type(problem).__name__} {problem!r}"
        )
    K = problem.gain(K)
    episodes, horizon = _positive_int(episodes, "episodes"), _positive_int(horizon, "horizon")
    exploration = _variance(exploration, "exploration")
    process_noise = _variance(process_noise, "process_noise")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidProblemError(f"seed must be an int >= 0, got {seed!r}")
    rng = np.random.default_rng(seed)
    n, m = problem.n, problem.m
    # the episodes run side by side: step t of every episode at once, rows t·episodes + e
    x = rng.standard_normal((episodes, n)) @ np.linalg.cholesky(problem.Sigma0).T
    states, actions, next_states = [], [], []
    for _ in range(horizon):
        u = -x @ K.T + np.sqrt(exploration) * rng.standard_normal((episodes, m))
        disturbance = np.sqrt(process_noise) * rng.standard_normal((episodes, n))
        following = x @ problem.A.T + u @ problem.B.T + disturbance
        states.append(x)
        actions.append(u)
        next_states.append(following)
        x = following
    states, actions = np.vstack(states), np.vstack(actions)
    next_states = np.vstack(next_states)
    costs = np.einsum("ti,ij,tj->t", states, problem.Q, states) + np.einsum(
        "ti,ij,tj->t", actions, problem.R, actions
    )
    return Transitions(states, actions, costs, next_states)


def quadratic_features(z: np.ndarray) -> np.ndarray:
    """``φ(z) = (z_i z_j)_{i ≤ j}`` row by row: shape (N, d(d+1)/2) for z of shape (N, d)."""
    z = validation.as_real_matrix(z, "z", (None, None))
    rows, cols = np.triu_indices(z.shape[1])
    return z[:, rows] * z[:, cols]


def lstd_q(transitions: Transitions, K: Any, gamma: float = 1.0) -> np.ndarray:
    """H with ``Q^K(x, u) ≈ [x; u]ᵀ H [x; u]`` (+ a constant when γ < 1) by LSTD-Q with quadratic
    features (see the module docstring); shape (n + m, n + m), symmetric.

    Raises InvalidProblemError when the data are not persistently exciting (the LSTD-Q matrix
    is singular or its condition number exceeds :data:`CONDITION_LIMIT`)."""
    states, actions, costs, next_states = _validated(transitions, K)
    gamma = validation.discount(gamma)
    K = np.asarray(K, dtype=np.float64)
    z = np.hstack([states, actions])
    z_next = np.hstack([next_states, -next_states @ K.T])
    features, next_features = quadratic_features(z), quadratic_features(z_next)
    if gamma < 1.0:
        # the Q-function's constant (process noise makes it nonzero); with γ = 1 a constant
        # feature would have a zero Bellman difference and make the system singular
        ones = np.ones((len(costs), 1))
        features, next_features = np.hstack([features, ones]), np.hstack([next_features, ones])
    matrix = features.T @ (features - gamma * next_features)
    condition = np.linalg.cond(matrix)
    if not condition < CONDITION_LIMIT:
        raise InvalidProblemError(
            f"the transitions are not persistently exciting: the LSTD-Q matrix has condition "
            f"number {condition:.3g} (expected < {CONDITION_LIMIT:.0e}); explore in u (nonzero "
            f"exploration noise) and use at least {features.shape[1]} transitions"
        )
    weights = np.linalg.solve(matrix, features.T @ costs)
    size = z.shape[1]
    rows, cols = np.triu_indices(size)
    H = np.zeros((size, size))
    # zᵀHz = Σ_i H_ii z_i² + Σ_{i<j} 2 H_ij z_i z_j: off-diagonal weights are 2 H_ij
    H[rows, cols] = weights[: len(rows)]
    off_diagonal = rows != cols
    H[rows[off_diagonal], cols[off_diagonal]] /= 2.0
    H[cols, rows] = H[rows, cols]
    return H


def greedy_gain(H: Any, n: int) -> np.ndarray:
    """``K' = H_uu⁻¹ H_ux``, the minimiser over u of ``[x; u]ᵀ H [x; u]`` as ``u = −K'x``
    (Bradtke, Ydstie & Barto 1994); shape (m, n)."""
    H = validation.as_real_matrix(H, "H", (None, None))
    size = H.shape[0]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise InvalidProblemError(f"n (the state dimension) must be an int, got {n!r}")
    if H.shape[1] != size or not 0 < n < size:
        raise InvalidProblemError(
            f"H must be square of size n + m with 0 < n < n + m; got shape {H.shape} and n = {n}"
        )
    curvature = H[n:, n:]
    if not np.all(np.linalg.eigvalsh(0.5 * (curvature + curvature.T)) > 0):
        raise InvalidProblemError("H_uu must be positive definite for a greedy gain to exist")
    return np.linalg.solve(curvature, H[n:, :n])


def lspi_step(transitions: Transitions, K: Any, gamma: float = 1.0) -> np.ndarray:
    """One LSPI iteration: LSTD-Q evaluation of K, then the greedy gain."""
    H = lstd_q(transitions, K, gamma)
    return greedy_gain(H, transitions.states.shape[1])


def _validated(
    transitions: Transitions, K: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(transitions, Transitions):
        raise InvalidProblemError(
            f"transitions must be the Transitions of rollouts(...), got "
            f"{type(transitions).__name__} {transitions!r}"
        )
    states = validation.as_real_matrix(transitions.states, "states", (None, None))
    count, n = states.shape
    actions = validation.as_real_matrix(transitions.actions, "actions", (count, None))
    m = actions.shape[1]
    next_states = validation.as_real_matrix(transitions.next_states, "next_states", (count, n))
    costs = np.asarray(transitions.costs, dtype=np.float64)
    if costs.shape != (count,) or not np.all(np.isfinite(costs)):
        raise InvalidProblemError(
            f"costs must be {count} finite numbers (one per transition); got shape {costs.shape}"
        )
    validation.as_real_matrix(K, "K", (m, n))
    return states, actions, costs, next_states


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidProblemError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def _variance(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"{name} must be a variance (a number >= 0), got {value!r}")
    if not (np.isfinite(value) and value >= 0):
        raise InvalidProblemError(f"{name} must be a finite variance >= 0, got {value!r}")
    return float(value)
