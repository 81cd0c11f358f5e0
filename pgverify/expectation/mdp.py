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

from pgverify.expectation.lqr import _positive_int
from pgverify.expectation.result import Expectation, to_fraction_array
from pgverify.mdp import enumeration_size, exact_moments

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
        value = to_fraction_array(estimator(states, actions, costs), "the estimator's value")
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
