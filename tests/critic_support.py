"""Independent helpers for the critic and covariance tests: seeded LQR rollouts, exact rational
matrices, quadratic critics, and the exact Lyapunov residual and value constant of a candidate
value matrix (written here from the definitions, sharing no code with pgverify's oracle)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import mpmath
import numpy as np


def exact_number(value: Any) -> Fraction:
    """A float, int, Fraction or mpmath number as the exact rational it denotes."""
    if isinstance(value, mpmath.mpf):
        mantissa, exponent = value.man_exp
        return Fraction(int(mantissa)) * Fraction(2) ** int(exponent)
    return Fraction(value)


def exact_matrix(array: Any) -> np.ndarray:
    """An object array of Fractions with the entries of ``array`` (floats read exactly)."""
    source = np.asarray(array, dtype=object)
    result = np.empty(source.shape, dtype=object)
    result.ravel()[:] = [exact_number(v) for v in source.ravel().tolist()]
    return result


def lqr_rollouts(
    problem: Any, K: np.ndarray, steps: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` seeded rollouts of ``u = −Kx + w``, ``w ~ N(0, σI)``, ``x_0 ~ N(0, Σ0)``:
    states (count, steps+1, n), actions (count, steps, m), costs (count, steps)."""
    x = rng.standard_normal((count, problem.n)) @ np.linalg.cholesky(problem.Sigma0).T
    states, actions, costs = [x], [], []
    for _ in range(steps):
        u = -x @ K.T + np.sqrt(problem.noise) * rng.standard_normal((count, problem.m))
        costs.append(
            np.einsum("ij,jk,ik->i", x, problem.Q, x) + np.einsum("ij,jk,ik->i", u, problem.R, u)
        )
        x = x @ problem.A.T + u @ problem.B.T
        states.append(x)
        actions.append(u)
    return np.stack(states, axis=1), np.stack(actions, axis=1), np.stack(costs, axis=1)


def quadratic_values(states: np.ndarray, matrix: np.ndarray, constant: Any) -> np.ndarray:
    """``xᵀPx + c`` for every state of ``states`` (..., n) (exact for Fraction inputs)."""
    return ((states @ matrix) * states).sum(axis=-1) + constant


def stein_residual(problem: Any, K: np.ndarray, P: np.ndarray) -> np.ndarray:
    """``Q + KᵀRK + γ A_KᵀPA_K − P`` in exact rationals."""
    A, B, Q, R = (exact_matrix(getattr(problem, name)) for name in "ABQR")
    gain = exact_matrix(K)
    closed_loop = A - B @ gain
    gamma = Fraction(problem.gamma)
    return Q + gain.T @ R @ gain + gamma * (closed_loop.T @ P @ closed_loop) - P


def value_constant(problem: Any, P: np.ndarray) -> Fraction:
    """``σ (tr R + γ tr BᵀPB) / (1 − γ)``, the value's constant under exploration noise σ."""
    B, R = exact_matrix(problem.B), exact_matrix(problem.R)
    gamma, noise = Fraction(problem.gamma), Fraction(problem.noise)
    return noise * (np.trace(R) + gamma * np.trace(B.T @ P @ B)) / (1 - gamma)


def mdp_rollouts(
    mdp: Any, policy: Any, steps: int, count: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` seeded trajectories of ``steps`` transitions of a finite MDP under a tabular
    policy: states (count, steps+1) ints, costs (count, steps) float64."""
    transitions = np.array(mdp.transitions, dtype=float)  # (S, A, S)
    table = np.array(policy, dtype=float)
    costs_table = np.array(mdp.costs, dtype=float)

    def draw(probabilities: np.ndarray) -> np.ndarray:  # one categorical draw per row
        cumulative = np.cumsum(probabilities, axis=-1)
        uniform = rng.random((probabilities.shape[0], 1)) * cumulative[:, -1:]
        return (uniform >= cumulative).sum(axis=-1)

    state = draw(np.tile(np.array(mdp.initial, dtype=float), (count, 1)))
    states, costs = [state], []
    for _ in range(steps):
        action = draw(table[state])
        costs.append(costs_table[state, action])
        state = draw(transitions[state, action])
        states.append(state)
    return np.stack(states, axis=1), np.stack(costs, axis=1)
