"""Exact expectations of estimators on finite-MDP trajectory batches, by enumeration.

Every batch of M trajectories of T steps with positive probability is enumerated with its exact
probability (:func:`pgverify.mdp.exact_moments`, horizon N = T − 1), so the mean and variance
are exact Fractions when the estimator computes exactly (pgverify's references do when the
policy table is given as Fractions). The enumeration's size is bounded up front
(:func:`pgverify.mdp.enumeration_size`) and refused past ``limit``.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.expectation.integrate import require_exact
from pgverify.expectation.lqr import _flag, _positive_int
from pgverify.expectation.result import Expectation, to_fraction_array
from pgverify.mdp import enumeration_size, exact_moments
from pgverify.mdp.model import tabular_policy

DEFAULT_LIMIT = 1_000_000


def mdp_expectation(
    mdp: Any,
    policy: Any,
    steps: int,
    estimator: Callable[[np.ndarray, np.ndarray, np.ndarray], Any],
    *,
    batch: int = 1,
    variance: bool = False,
    limit: int = DEFAULT_LIMIT,
) -> Expectation:
    """The exact mean (and variance) of ``estimator(states, actions, costs)`` over batches of
    ``batch`` independent trajectories of ``steps`` steps of ``mdp`` under the tabular
    ``policy`` (S, A) of exact probabilities.

    The estimator receives ``states`` and ``actions`` as (M, T) int arrays and ``costs`` (M, T)
    as an object array of the exact Fraction costs ``c(x_t, u_t)``. Raises
    ``pgverify.mdp.EnumerationTooLarge`` (an InvalidProblemError) past ``limit`` cases."""
    if not callable(estimator):
        raise InvalidProblemError(f"estimator must be callable, got {estimator!r}")
    variance = _flag(variance, "variance")
    steps = _positive_int(steps, "steps")
    batch = _positive_int(batch, "batch")
    shape: list[tuple[int, ...]] = []

    def statistic(sample: tuple) -> list[Fraction]:
        states = np.array([[s for s, _ in trajectory] for trajectory in sample], dtype=np.int64)
        actions = np.array([[a for _, a in trajectory] for trajectory in sample], dtype=np.int64)
        costs = np.empty(states.shape, dtype=object)
        for i, trajectory in enumerate(sample):
            for t, (s, a) in enumerate(trajectory):
                costs[i, t] = mdp.costs[s][a]
        raw = estimator(states, actions, costs)
        require_exact(raw)
        value = to_fraction_array(raw, "the estimator's value")
        if not shape:
            shape.append(value.shape)
        return list(value.ravel())

    mean, spread = exact_moments(mdp, policy, steps - 1, statistic, batch=batch, limit=limit)

    def array(values: list[Fraction]) -> np.ndarray:
        result = np.empty(len(values), dtype=object)
        result[:] = values
        return result.reshape(shape[0])

    size = enumeration_size(mdp, steps - 1, batch)
    rule = f"enumeration of every batch of {batch} trajectories (at most {size:,} cases)"
    return Expectation(array(mean), array(spread) if variance else None, size, rule, "exact")


def additive_moments(
    mdp: Any,
    policy: Any,
    steps: int,
    per_step: Callable[[int, int, int], Any],
) -> Expectation:
    """The exact mean and variance of an additive statistic ``Φ = Σ_{t<T} f_t(x_t, u_t)`` of one
    trajectory of T = ``steps`` steps, by dynamic programming instead of enumeration.

    ``per_step(t, s, a)`` gives ``f_t(s, a)``: a number or an array (then the moments are
    entrywise), exact (Fractions, ints) for an exact result. With the state-action laws
    ``d_0(s, a) = ρ(s) π(a|s)``, ``d_{t+1}(s', a') = Σ_{s,a} d_t(s, a) P(s'|s, a) π(a'|s')`` and the
    expected future sums ``H_{T−1} = 0``, ``H_t(s, a) = Σ_{s'} P(s'|s, a) Σ_{a'} π(a'|s')
    (f_{t+1} + H_{t+1})(s', a')``:

        E Φ = Σ_t Σ_{s,a} d_t f_t,      E Φ² = Σ_t Σ_{s,a} d_t (f_t² + 2 f_t H_t),

    since ``E Φ² = Σ_t E f_t² + 2 Σ_{t<t'} E[f_t f_{t'}]`` and, by the Markov property,
    ``Σ_{t'>t} E[f_t f_{t'}] = E[f_t H_t]``. O(T S² A) exact operations, against up to
    (SA)^T trajectories for enumeration. For the mean over a batch of M independent
    trajectories, the mean is the same and the variance is divided by M."""
    if not callable(per_step):
        raise InvalidProblemError(f"per_step must be callable, got {per_step!r}")
    steps = _positive_int(steps, "steps")
    table = tabular_policy(mdp, policy)
    S, A = mdp.states, mdp.actions
    pi = _object_array([[table[s][a] for a in range(A)] for s in range(S)])
    transitions = _object_array(
        [[mdp.transitions[s][a][t] for t in range(S)] for s in range(S) for a in range(A)]
    )  # (S·A, S)
    values = []
    for t in range(steps):
        rows = [
            [to_fraction_array(per_step(t, s, a), "per_step(t, s, a)") for a in range(A)]
            for s in range(S)
        ]
        values.append(
            np.array(rows, dtype=object)
            if rows[0][0].ndim == 0
            else np.stack([np.stack(row) for row in rows])
        )
    extra = values[0].shape[2:]
    law = _object_array(list(mdp.initial))[:, None] * pi  # d_0 (S, A)
    laws = [law]
    for _ in range(steps - 1):
        law = (law.reshape(-1) @ transitions)[:, None] * pi
        laws.append(law)
    following = values[-1] * 0  # H_{T−1} = 0
    mean = second = None
    for t in reversed(range(steps)):
        weight = _expand(laws[t], values[t].ndim)
        term_mean = (weight * values[t]).sum(axis=(0, 1))
        term_second = (weight * (values[t] * values[t] + 2 * values[t] * following)).sum(
            axis=(0, 1)
        )
        mean = term_mean if mean is None else mean + term_mean
        second = term_second if second is None else second + term_second
        if t > 0:  # H_{t−1} from f_t + H_t
            ahead = (_expand(pi, values[t].ndim) * (values[t] + following)).sum(axis=1)  # (S, *P)
            following = (transitions @ ahead.reshape(S, -1)).reshape((S, A, *extra))
    mean = np.asarray(mean, dtype=object)
    spread = np.asarray(second - mean * mean, dtype=object)
    rule = f"dynamic programming over {steps} steps of {S} states x {A} actions"
    return Expectation(mean, spread, steps * S * A, rule, "exact")


def _object_array(rows: Any) -> np.ndarray:
    result = np.empty(np.shape(rows), dtype=object)
    result[...] = rows
    return result


def _expand(array: np.ndarray, ndim: int) -> np.ndarray:
    return array.reshape(array.shape + (1,) * (ndim - array.ndim))
