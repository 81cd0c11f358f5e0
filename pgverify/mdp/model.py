"""Finite discounted MDPs with exact rational data (tier exact).

``P[s, a, s']`` transition probabilities, ``c[s, a]`` costs (minimised), discount γ ∈ (0, 1),
initial distribution ρ.  Every number is held as a ``fractions.Fraction``; floats are converted
exactly (a float is a dyadic rational), so probabilities given as floats must sum to 1 *exactly*
— pass Fractions or integers over a common denominator otherwise (checked by
:mod:`pgverify.mdp.validation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pgverify.errors import InvalidProblemError
from pgverify.mdp import validation

Table = tuple[tuple[Fraction, ...], ...]


@dataclass(frozen=True)
class FiniteMDP:
    """A finite discounted MDP in exact arithmetic.

    Shapes: ``transitions`` (S, A, S), each ``transitions[s][a]`` a probability vector over the
    next state; ``costs`` (S, A); ``gamma`` in (0, 1); ``initial`` (S,), a probability vector.
    The constructor (and :meth:`create`, its alias) validates and converts every entry to an
    exact Fraction; every bad input raises :class:`pgverify.InvalidProblemError` naming it.
    """

    transitions: tuple[Table, ...]
    costs: Table
    gamma: Fraction
    initial: tuple[Fraction, ...]

    def __post_init__(self) -> None:
        axes = [(None, "state"), (None, "action"), (None, "next state")]
        rows = validation.table(self.transitions, "transitions", axes)
        states = len(rows)
        transitions = tuple(
            tuple(
                validation.probability_vector(row, f"transitions[{s}][{a}]", states, "next state")
                for a, row in enumerate(by_action)
            )
            for s, by_action in enumerate(rows)
        )
        actions = len(rows[0])
        costs = validation.table(self.costs, "costs", [(states, "state"), (actions, "action")])
        gamma = validation.exact_number(self.gamma, "gamma")
        if not (0 < gamma < 1):
            raise InvalidProblemError(f"gamma must lie in (0, 1), got {gamma}")
        initial = validation.probability_vector(self.initial, "initial", states, "state")
        object.__setattr__(self, "transitions", transitions)
        object.__setattr__(self, "costs", costs)
        object.__setattr__(self, "gamma", gamma)
        object.__setattr__(self, "initial", initial)

    @classmethod
    def create(cls, transitions: Any, costs: Any, gamma: Any, initial: Any) -> FiniteMDP:
        """Validate and convert (the same as the constructor)."""
        return cls(transitions, costs, gamma, initial)

    @property
    def states(self) -> int:
        return len(self.transitions)

    @property
    def actions(self) -> int:
        return len(self.transitions[0])


def tabular_policy(mdp: FiniteMDP, policy: Any) -> Table:
    """A direct tabular policy π[s, a] validated for ``mdp``: shape (S, A), every row an exact
    probability vector (non-negative Fractions summing to exactly 1)."""
    return validation.policy(validation.finite_mdp(mdp), policy)
