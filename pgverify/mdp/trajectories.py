"""Exact trajectory engine: the probability of every trajectory, and of every batch.

A trajectory of horizon N is ``(x_0, u_0, x_1, u_1, …, x_N, u_N)``; its probability under a
tabular policy π is ``ρ(x_0) Π_t π(u_t|x_t) Π_{t<N} P(x_{t+1}|x_t, u_t)`` — an exact Fraction.
Enumerating the support (zero-probability branches pruned) gives the exact law of any function
of a trajectory; a batch of M independent trajectories is enumerated as a product.  The size of
the enumeration is bounded up front, ``(|S||A|)^{N+1}`` per trajectory and its M-th power per
batch, and a :class:`EnumerationTooLarge` error (not a hang) is raised past ``limit``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

from pgverify.errors import InvalidProblemError
from pgverify.mdp.model import FiniteMDP, tabular_policy

DEFAULT_LIMIT = 1_000_000

Trajectory = tuple[tuple[int, int], ...]


class EnumerationTooLarge(InvalidProblemError):
    """The exact enumeration would exceed the caller's limit."""


def enumeration_size(mdp: FiniteMDP, horizon: int, batch: int = 1) -> int:
    """An upper bound of the number of (batches of) trajectories: ``((|S||A|)^{N+1})^M``."""
    return ((mdp.states * mdp.actions) ** (horizon + 1)) ** batch


def _check_size(mdp: FiniteMDP, horizon: int, batch: int, limit: int) -> None:
    if not isinstance(horizon, int) or horizon < 0:
        raise InvalidProblemError(f"the horizon N must be an int >= 0, got {horizon!r}")
    if not isinstance(batch, int) or batch < 1:
        raise InvalidProblemError(f"the batch size M must be an int >= 1, got {batch!r}")
    size = enumeration_size(mdp, horizon, batch)
    if size > limit:
        raise EnumerationTooLarge(
            f"enumerating batches of M = {batch} trajectories of horizon N = {horizon} on "
            f"|S| = {mdp.states}, |A| = {mdp.actions} may visit up to {size:,} cases, above the "
            f"limit {limit:,}; raise limit= if you mean it"
        )


def trajectories(
    mdp: FiniteMDP, policy: Any, horizon: int, *, limit: int = DEFAULT_LIMIT
) -> Iterator[tuple[Trajectory, Fraction]]:
    """Every trajectory with positive probability, with its exact probability."""
    _check_size(mdp, horizon, 1, limit)
    pi = tabular_policy(mdp, policy)

    def extend(prefix: Trajectory, state: int, probability: Fraction, step: int):
        for action, p_action in enumerate(pi[state]):
            if p_action == 0:
                continue
            here = (*prefix, (state, action))
            mass = probability * p_action
            if step == horizon:
                yield here, mass
                continue
            for following, p_next in enumerate(mdp.transitions[state][action]):
                if p_next:
                    yield from extend(here, following, mass * p_next, step + 1)

    for start, p_start in enumerate(mdp.initial):
        if p_start:
            yield from extend((), start, p_start, 0)


def batch_law(
    mdp: FiniteMDP, policy: Any, horizon: int, batch: int, *, limit: int = DEFAULT_LIMIT
) -> Iterator[tuple[tuple[Trajectory, ...], Fraction]]:
    """Every batch of ``batch`` independent trajectories with its exact probability."""
    _check_size(mdp, horizon, batch, limit)
    support = list(trajectories(mdp, policy, horizon, limit=limit))
    for combination in itertools.product(support, repeat=batch):
        probability = Fraction(1)
        for _, p in combination:
            probability *= p
        yield tuple(t for t, _ in combination), probability


def exact_moments(
    mdp: FiniteMDP,
    policy: Any,
    horizon: int,
    statistic: Callable[[tuple[Trajectory, ...]], Any],
    *,
    batch: int = 1,
    limit: int = DEFAULT_LIMIT,
) -> tuple[Any, Any]:
    """Exact mean and variance of ``statistic(batch of trajectories)``.

    ``statistic`` may return a Fraction (or int) or a list of them (a vector estimator, e.g. a
    policy-gradient estimate); the variance is then entrywise."""
    mean: Any = None
    second: Any = None
    total = Fraction(0)
    for sample, probability in batch_law(mdp, policy, horizon, batch, limit=limit):
        value = statistic(sample)
        total += probability
        if isinstance(value, (list, tuple)):
            weighted = [probability * Fraction(v) for v in value]
            squares = [probability * Fraction(v) ** 2 for v in value]
            mean = (
                weighted if mean is None else [m + w for m, w in zip(mean, weighted, strict=True)]
            )
            second = (
                squares if second is None else [m + w for m, w in zip(second, squares, strict=True)]
            )
        else:
            mean = (mean or 0) + probability * Fraction(value)
            second = (second or 0) + probability * Fraction(value) ** 2
    if total != 1:
        raise ArithmeticError(f"trajectory probabilities sum to {total}, not 1")  # pragma: no cover
    if isinstance(mean, list):
        return mean, [s - m * m for s, m in zip(second, mean, strict=True)]
    return mean, second - mean * mean


def discounted_cost(mdp: FiniteMDP, trajectory: Trajectory) -> Fraction:
    """``Σ_t γ^t c(x_t, u_t)`` of one trajectory."""
    return sum((mdp.gamma**t * mdp.costs[s][a] for t, (s, a) in enumerate(trajectory)), Fraction(0))
