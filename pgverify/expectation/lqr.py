"""Exact expectations of estimators on LQR rollouts with Gaussian initial states and noise.

A batch of M rollouts of T steps of ``x_{t+1} = A x_t + B u_t``, ``u_t = −K x_t + w_t``,
``w_t ~ N(0, σ I_m)`` (σ a variance), ``x_0 ~ N(0, Σ0)``, costs ``c_t = x_tᵀQx_t + u_tᵀRu_t``
(t = 0, …, T−1). Every state, action and cost is a polynomial in the M(n + Tm) Gaussian variables
(``x_0 = L z`` with ``Σ0 = L D Lᵀ`` computed exactly, z ~ N(0, D)): states and actions of degree
1, costs of degree 2, Gaussian scores ``−σ⁻¹ w_t x_tᵀ`` of degree 2, so V0 and REINFORCE (with
constant, leave-one-out or quadratic state-dependent baselines) have degree 4 and their squares
degree 8. A rule exact for that degree (:mod:`pgverify.expectation.rules`, rational nodes and
weights) gives the expectation exactly: ``E f = Σ_i w_i f(x_i)``.

Tiers: with ``arithmetic="exact"`` the estimator receives object arrays of Fractions (the exact
rollouts at the nodes; pgverify's references then compute exactly) and the result is exact.
With ``arithmetic="float"`` it receives float64 arrays (the exact rollouts rounded to float64),
its values are summed exactly, and the result carries a rounding tolerance under a stated
assumption (:class:`pgverify.expectation.Expectation`). See docs/estimators.md, section 6.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import numeric_array, scalar
from pgverify.expectation.integrate import (
    DEFAULT_RELATIVE_ERROR,
    agree,
    arithmetic_name,
    integrate,
)
from pgverify.expectation.result import Expectation
from pgverify.expectation.rules import DEFAULT_NODE_BUDGET, GaussianFactor, Key, cubature

Estimator = Callable[[np.ndarray, np.ndarray, np.ndarray], Any]


def ldl(matrix: np.ndarray) -> tuple[np.ndarray, list[Fraction]]:
    """``Σ = L D Lᵀ`` exactly, L unit lower triangular: z ~ N(0, D) gives L z ~ N(0, Σ)."""
    n = matrix.shape[0]
    lower = np.empty((n, n), dtype=object)
    lower[:] = Fraction(0)
    diagonal: list[Fraction] = []
    for j in range(n):
        pivot = matrix[j, j] - sum((lower[j, k] ** 2 * diagonal[k] for k in range(j)), Fraction(0))
        if pivot <= 0:
            raise InvalidProblemError("Sigma0 is not positive definite in exact arithmetic")
        diagonal.append(pivot)
        lower[j, j] = Fraction(1)
        for i in range(j + 1, n):
            lower[i, j] = (
                matrix[i, j]
                - sum((lower[i, k] * lower[j, k] * diagonal[k] for k in range(j)), Fraction(0))
            ) / pivot
    return lower, diagonal


class _Rollouts:
    """The exact rollouts of one LQR problem at the nodes, cached per rollout's own node."""

    def __init__(self, problem: Any, K: Any, steps: int, noise: Fraction) -> None:
        def exact(matrix: Any, name: str) -> np.ndarray:
            return numeric_array(matrix, name, np.shape(matrix), exact=True)

        self.A, self.B = exact(problem.A, "A"), exact(problem.B, "B")
        self.Q, self.R = exact(problem.Q, "Q"), exact(problem.R, "R")
        self.K = numeric_array(K, "K", (problem.m, problem.n), exact=True)
        self.lower, variances = ldl(exact(problem.Sigma0, "Sigma0"))
        self.n, self.m, self.steps = problem.n, problem.m, steps
        self.factors = [GaussianFactor.of(v) for v in variances]
        self.factors += [GaussianFactor.of(noise)] * (steps * self.m)
        self._cache: dict[Key, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    @property
    def dimension(self) -> int:
        return len(self.factors)

    def rollout(self, key: Key) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(states (T+1, n), actions (T, m), costs (T,)) at the rollout's node ``key``."""
        if key not in self._cache:
            point = np.empty(self.dimension, dtype=object)
            point[:] = Fraction(0)
            for index, j in key:
                point[index] = j * self.factors[index].scale
            state = self.lower @ point[: self.n]
            noises = point[self.n :].reshape(self.steps, self.m)
            states, actions, costs = [state], [], []
            for t in range(self.steps):
                action = noises[t] - self.K @ state
                costs.append(state @ self.Q @ state + action @ self.R @ action)
                state = self.A @ state + self.B @ action
                states.append(state)
                actions.append(action)
            self._cache[key] = (np.array(states), np.array(actions), np.array(costs))
        return self._cache[key]


def lqr_expectation(
    problem: Any,
    K: Any,
    steps: int,
    estimator: Estimator,
    degree: int,
    *,
    batch: int = 1,
    variance: bool = False,
    arithmetic: str = "exact",
    noise: Any = None,
    node_budget: int = DEFAULT_NODE_BUDGET,
    relative_error: float = DEFAULT_RELATIVE_ERROR,
    check_degree: bool = False,
) -> Expectation:
    """The exact mean (and variance) of ``estimator(states, actions, costs)`` over a batch of
    ``batch`` independent rollouts of ``steps`` steps of ``problem`` under the gain ``K``.

    Args:
        problem: a :class:`pgverify.LQR` (A, B, Q, R, Σ0; its γ is not read: the estimator
            discounts).
        K: the gain (m, n); any K (finite horizon: no stability needed).
        steps: T ≥ 1 (costs c_0 … c_{T−1}; states x_0 … x_T).
        estimator: called with ``states`` (M, T+1, n), ``actions`` (M, T, m), ``costs`` (M, T)
            and returning an array (or number): object arrays of Fractions when ``arithmetic =
            "exact"`` (then it must compute exactly, as pgverify's references do), float64 arrays
            when ``"float"``.
        degree: the estimator's total degree as a polynomial in the Gaussian variables (4 for
            V0/REINFORCE and their baselines above; a state-dependent baseline of degree k in x
            adds to degree k + 2). A wrong degree gives a wrong mean: ``check_degree=True``
            evaluates the rule of the next degree too and raises CertificationError on a
            disagreement.
        batch: M ≥ 1 rollouts per sample (leave-one-out baselines couple them: product space).
        variance: also the exact entrywise variance (degree doubled; exact arithmetic only).
        arithmetic: ``"exact"`` or ``"float"`` (see the module docstring).
        noise: the exploration variance σ ≥ 0; default ``problem.noise`` (pass it to study
            γ = 1 with noise, which the LQR class itself refuses).
        node_budget: refuse (CubatureTooLarge, an InvalidProblemError) when the rule needs more
            nodes than this.
        relative_error: the float tier's assumed error of one evaluation relative to its largest
            entry (see :func:`pgverify.expectation.integrate.integrate`).

    Returns:
        :class:`pgverify.expectation.Expectation`: mean (and variance) as Fraction arrays, the
        node count, the rule, the tier and the rounding tolerance.
    """
    from pgverify.lqr import LQR  # here: pgverify.lqr imports much of the package

    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    if not callable(estimator):
        raise InvalidProblemError(f"estimator must be callable, got {estimator!r}")
    arithmetic = arithmetic_name(arithmetic)
    steps = _positive_int(steps, "steps")
    batch = _positive_int(batch, "batch")
    node_budget = _positive_int(node_budget, "node_budget")
    relative_error = float(scalar(relative_error, "relative_error", exact=False, positive=True))
    variance, check_degree = _flag(variance, "variance"), _flag(check_degree, "check_degree")
    sigma = Fraction(scalar(problem.noise if noise is None else noise, "noise", exact=True))
    if sigma < 0:
        raise InvalidProblemError(f"noise must be >= 0, got {noise!r}")
    rollouts = _Rollouts(problem, K, steps, sigma)
    per_rollout = rollouts.dimension
    factors = rollouts.factors * batch

    def evaluate(key: Key) -> Any:
        parts: list[list[tuple[int, int]]] = [[] for _ in range(batch)]
        for index, j in key:
            parts[index // per_rollout].append((index % per_rollout, j))
        samples = [rollouts.rollout(tuple(part)) for part in parts]
        states, actions, costs = (np.stack([s[i] for s in samples]) for i in range(3))
        if arithmetic == "float":
            states, actions, costs = (a.astype(np.float64) for a in (states, actions, costs))
        return estimator(states, actions, costs)

    def run(rule_degree: int) -> Expectation:
        rule = cubature(factors, rule_degree, node_budget)
        return integrate(
            rule, evaluate, arithmetic=arithmetic, variance=variance, relative_error=relative_error
        )

    result = run(2 * degree if variance else degree)
    if check_degree:
        agree(result, run((2 * degree if variance else degree) + 2))
    return result


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise InvalidProblemError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InvalidProblemError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)
