"""Exact trajectory enumeration: the probability of every trajectory, and of every batch.

A trajectory of horizon N is ``((x_0, u_0), (x_1, u_1), …, (x_N, u_N))``; its probability under
a tabular policy π is ``ρ(x_0) Π_t π(u_t|x_t) Π_{t<N} P(x_{t+1}|x_t, u_t)`` — an exact Fraction.
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
from pgverify.mdp import validation
from pgverify.mdp.model import FiniteMDP, Table

DEFAULT_LIMIT = 1_000_000

Trajectory = tuple[tuple[int, int], ...]


class EnumerationTooLarge(InvalidProblemError):
    """The exact enumeration would exceed the caller's limit."""


def _size(mdp: FiniteMDP, horizon: int, batch: int) -> int:
    return ((mdp.states * mdp.actions) ** (horizon + 1)) ** batch


def enumeration_size(mdp: FiniteMDP, horizon: int, batch: int = 1) -> int:
    """An upper bound of the number of (batches of) trajectories: ``((|S||A|)^{N+1})^M``."""
    mdp = validation.finite_mdp(mdp)
    return _size(mdp, validation.horizon(horizon), validation.integer(batch, "batch", minimum=1))


def _checked(
    mdp: Any, policy: Any, horizon: Any, batch: Any, limit: Any
) -> tuple[FiniteMDP, Table, int, int, int]:
    """Validate the arguments of an enumeration and refuse one larger than ``limit``."""
    mdp = validation.finite_mdp(mdp)
    steps = validation.horizon(horizon)
    size = validation.integer(batch, "batch", minimum=1)
    bound = validation.integer(limit, "limit", minimum=1)
    table = validation.policy(mdp, policy)
    cases = _size(mdp, steps, size)
    if cases > bound:
        raise EnumerationTooLarge(
            f"enumerating batches of M = {size} trajectories of horizon N = {steps} on "
            f"|S| = {mdp.states}, |A| = {mdp.actions} may visit up to {cases:,} cases, above the "
            f"limit {bound:,}; raise limit= if you mean it"
        )
    return mdp, table, steps, size, bound


def _support(mdp: FiniteMDP, pi: Table, horizon: int) -> Iterator[tuple[Trajectory, Fraction]]:
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


def _batches(
    mdp: FiniteMDP, pi: Table, horizon: int, batch: int
) -> Iterator[tuple[tuple[Trajectory, ...], Fraction]]:
    support = list(_support(mdp, pi, horizon))
    for combination in itertools.product(support, repeat=batch):
        probability = Fraction(1)
        for _, p in combination:
            probability *= p
        yield tuple(t for t, _ in combination), probability


def trajectories(
    mdp: FiniteMDP, policy: Any, horizon: int, *, limit: int = DEFAULT_LIMIT
) -> Iterator[tuple[Trajectory, Fraction]]:
    """Every trajectory with positive probability, with its exact probability (the arguments
    are checked when called, before the first trajectory is asked for)."""
    mdp, pi, steps, _, _ = _checked(mdp, policy, horizon, 1, limit)
    return _support(mdp, pi, steps)


def batch_law(
    mdp: FiniteMDP, policy: Any, horizon: int, batch: int, *, limit: int = DEFAULT_LIMIT
) -> Iterator[tuple[tuple[Trajectory, ...], Fraction]]:
    """Every batch of ``batch`` independent trajectories with its exact probability."""
    mdp, pi, steps, size, _ = _checked(mdp, policy, horizon, batch, limit)
    return _batches(mdp, pi, steps, size)


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

    ``statistic`` may return a number (int, Fraction, finite float) or a sequence of numbers of
    one length (a vector estimator, e.g. a policy-gradient estimate): the mean and variance are
    then Fractions, or lists of Fractions (the variance entrywise)."""
    mdp, pi, steps, size, _ = _checked(mdp, policy, horizon, batch, limit)
    statistic = validation.function(statistic, "statistic")
    mean: Any = None
    second: Any = None
    total = Fraction(0)
    for sample, probability in _batches(mdp, pi, steps, size):
        value = validation.statistic_value(statistic(sample), "statistic(batch)")
        total += probability
        if isinstance(value, tuple):
            if mean is not None and (not isinstance(mean, list) or len(mean) != len(value)):
                raise InvalidProblemError(
                    f"statistic(batch) returned {len(value)} numbers for one batch and a "
                    "different shape for another; expected the same shape for every batch"
                )
            weighted = [probability * v for v in value]
            squares = [probability * v * v for v in value]
            if mean is None:
                mean, second = weighted, squares
            else:
                mean = [m + w for m, w in zip(mean, weighted, strict=True)]
                second = [m + w for m, w in zip(second, squares, strict=True)]
        else:
            if isinstance(mean, list):
                raise InvalidProblemError(
                    "statistic(batch) returned a number for one batch and a sequence for "
                    "another; expected the same shape for every batch"
                )
            mean = (mean or 0) + probability * value
            second = (second or 0) + probability * value * value
    if total != 1:
        raise ArithmeticError(f"trajectory probabilities sum to {total}, not 1")  # pragma: no cover
    if isinstance(mean, list):
        return mean, [s - m * m for s, m in zip(second, mean, strict=True)]
    return mean, second - mean * mean


def discounted_cost(mdp: FiniteMDP, trajectory: Trajectory) -> Fraction:
    """``Σ_t γ^t c(x_t, u_t)`` of one trajectory ``((x_0, u_0), ..., (x_N, u_N))``."""
    mdp = validation.finite_mdp(mdp)
    steps = validation.trajectory(mdp, trajectory)
    return sum((mdp.gamma**t * mdp.costs[s][a] for t, (s, a) in enumerate(steps)), Fraction(0))
