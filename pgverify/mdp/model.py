"""Finite discounted MDPs with exact rational data (tier exact).

``P[s, a, s']`` transition probabilities, ``c[s, a]`` costs (minimised, the seed's convention),
discount γ ∈ (0, 1), initial distribution ρ.  Every number is held as a ``fractions.Fraction``;
floats are converted exactly (a float is a dyadic rational), so probabilities given as floats
must sum to 1 *exactly* — pass Fractions or integers over a common denominator otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError

Table = tuple[tuple[Fraction, ...], ...]


def exact(value: Any, name: str) -> Fraction:
    """A Fraction equal to ``value`` (int, Fraction, finite float, numpy number), or an error."""
    if isinstance(value, bool):
        raise InvalidProblemError(f"{name} must be a number, got the bool {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer)):
        return Fraction(int(value))
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise InvalidProblemError(f"{name} must be finite, got {value!r}")
        return Fraction(float(value))
    raise InvalidProblemError(
        f"{name} must be an int, Fraction or float, got {type(value).__name__} {value!r}"
    )


def _nested(value: Any, depth: int, name: str) -> list:
    if isinstance(value, np.ndarray):
        if np.iscomplexobj(value):
            raise InvalidProblemError(f"{name} has complex entries; expected real numbers")
        value = value.tolist()
    if depth == 0:
        return value
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise InvalidProblemError(
            f"{name} must be a nested sequence of depth {depth}, got {value!r}"
        )
    return [_nested(item, depth - 1, name) for item in value]


def distribution(values: Any, name: str) -> tuple[Fraction, ...]:
    """Validate a probability vector: non-negative entries summing to exactly 1."""
    entries = tuple(exact(v, name) for v in _nested(values, 1, name))
    if not entries:
        raise InvalidProblemError(f"{name} is empty; expected a probability vector")
    negative = [v for v in entries if v < 0]
    if negative:
        raise InvalidProblemError(f"{name} has a negative probability {negative[0]}; expected >= 0")
    total = sum(entries)
    if total != 1:
        raise InvalidProblemError(
            f"{name} sums to {total} (= {float(total)!r}), not exactly 1; use Fractions "
            "(floats rarely sum to 1 exactly)"
        )
    return entries


@dataclass(frozen=True)
class FiniteMDP:
    """A finite discounted MDP in exact arithmetic.

    Shapes: ``transitions`` (S, A, S), ``costs`` (S, A), ``initial`` (S,); ``gamma`` in (0, 1).
    """

    transitions: tuple[tuple[tuple[Fraction, ...], ...], ...]
    costs: Table
    gamma: Fraction
    initial: tuple[Fraction, ...]

    @classmethod
    def create(cls, transitions: Any, costs: Any, gamma: Any, initial: Any) -> FiniteMDP:
        """Validate and convert: every bad input raises InvalidProblemError naming it."""
        rows = _nested(transitions, 2, "transitions")
        if not rows or not rows[0]:
            raise InvalidProblemError("transitions is empty; expected shape (S, A, S)")
        states, actions = len(rows), len(rows[0])
        table = []
        for s, by_action in enumerate(rows):
            if len(by_action) != actions:
                raise InvalidProblemError(
                    f"transitions[{s}] has {len(by_action)} actions; expected {actions}"
                )
            entries = []
            for a, row in enumerate(by_action):
                probabilities = distribution(row, f"transitions[{s}][{a}]")
                if len(probabilities) != states:
                    raise InvalidProblemError(
                        f"transitions[{s}][{a}] has {len(probabilities)} entries; expected {states}"
                    )
                entries.append(probabilities)
            table.append(tuple(entries))
        cost_rows = _nested(costs, 2, "costs")
        if len(cost_rows) != states or any(len(row) != actions for row in cost_rows):
            raise InvalidProblemError(
                f"costs has shape ({len(cost_rows)}, {[len(r) for r in cost_rows]}); "
                f"expected ({states}, {actions})"
            )
        cost_table = tuple(
            tuple(exact(v, f"costs[{s}]") for v in row) for s, row in enumerate(cost_rows)
        )
        discount = exact(gamma, "gamma")
        if not (0 < discount < 1):
            raise InvalidProblemError(f"gamma must lie in (0, 1), got {discount}")
        start = distribution(initial, "initial")
        if len(start) != states:
            raise InvalidProblemError(f"initial has {len(start)} entries; expected {states}")
        return cls(tuple(table), cost_table, discount, start)

    @property
    def states(self) -> int:
        return len(self.transitions)

    @property
    def actions(self) -> int:
        return len(self.transitions[0])


def tabular_policy(mdp: FiniteMDP, probabilities: Any) -> Table:
    """Validate a direct tabular policy π[s, a] (rows: exact probability vectors)."""
    rows = _nested(probabilities, 1, "policy")
    if len(rows) != mdp.states:
        raise InvalidProblemError(
            f"policy has {len(rows)} rows; expected {mdp.states} (one per state)"
        )
    table = tuple(distribution(row, f"policy[{s}]") for s, row in enumerate(rows))
    if any(len(row) != mdp.actions for row in table):
        raise InvalidProblemError(f"policy rows must have {mdp.actions} entries (one per action)")
    return table
