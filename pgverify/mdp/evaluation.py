"""Evaluation of a policy on a finite MDP: tier exact (Fractions) for tabular policies with exact
probabilities, tier certified (:class:`pgverify.Enclosure`) for policies given as balls (softmax).

One set of formulas, two arithmetics: rational matrices (python-flint ``fmpq_mat``: no rounding)
and Arb balls (``arb_mat``) for probabilities that are irrational.  With
``P_π[s, t] = Σ_a π(a|s) P(t|s, a)`` and ``c_π[s] = Σ_a π(a|s) c(s, a)``:

* ``V^π = (I − γ P_π)⁻¹ c_π``,  ``Q^π(s, a) = c(s, a) + γ Σ_t P(t|s, a) V^π(t)``,
  ``A^π = Q^π − V^π``,  ``C(π) = ρᵀ V^π``;
* ``d^π = (1 − γ) ρᵀ (I − γ P_π)⁻¹`` — the normalised discounted visitation
  ``(1 − γ) Σ_t γ^t Pr(x_t = ·)``, a probability vector;
* ``C_N(π) = Σ_{t=0}^{N} γ^t ρ_tᵀ c_π`` with ``ρ_{t+1}ᵀ = ρ_tᵀ P_π`` (finite horizon).

(Puterman, *Markov Decision Processes*, 1994, §6.1; Kakade & Langford 2002 for d^π.)

Result types (the public boundary): exact results are ``fractions.Fraction`` (vectors: lists of
Fractions; tables: lists of rows), certified results :class:`pgverify.Enclosure` (vectors: shape
(n,); tables: shape (S, A)).  Inside, the computation stays in python-flint.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from flint import arb, arb_mat, ctx, fmpq, fmpq_mat

from pgverify.enclosure import Enclosure
from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.mdp import validation
from pgverify.mdp.model import FiniteMDP

DEFAULT_BITS = 212
"""Working precision of certified (ball) MDP results: about 64 decimal digits."""


class RationalArithmetic:
    """fmpq / fmpq_mat: exact; results leave as Fractions."""

    tier = "exact"

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    @staticmethod
    def scalar(value: Any) -> fmpq:
        if isinstance(value, fmpq):
            return value
        value = Fraction(value)
        return fmpq(value.numerator, value.denominator)

    def matrix(self, rows: list[list[Any]]) -> fmpq_mat:
        return fmpq_mat(len(rows), len(rows[0]), [self.scalar(v) for row in rows for v in row])

    def solve(self, system: fmpq_mat, rhs: fmpq_mat) -> fmpq_mat:
        return system.solve(rhs)

    @staticmethod
    def export(value: Any) -> Fraction:
        if isinstance(value, int):
            return Fraction(value)
        return Fraction(int(value.p), int(value.q))

    def export_vector(self, values: list[Any]) -> list[Fraction]:
        return [self.export(v) for v in values]

    def export_table(self, rows: list[list[Any]]) -> list[list[Fraction]]:
        return [[self.export(v) for v in row] for row in rows]


class BallArithmetic:
    """arb / arb_mat at ``bits`` of working precision; results leave as Enclosures."""

    tier = "certified"

    def __init__(self, bits: int = DEFAULT_BITS) -> None:
        self.bits = bits

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return ctx.workprec(self.bits)

    def scalar(self, value: Any) -> arb:
        if isinstance(value, arb):
            return value
        if isinstance(value, Fraction):
            with ctx.workprec(self.bits):
                return arb(fmpq(value.numerator, value.denominator))
        return arb(value)

    def matrix(self, rows: list[list[Any]]) -> arb_mat:
        return arb_mat(len(rows), len(rows[0]), [self.scalar(v) for row in rows for v in row])

    def solve(self, system: arb_mat, rhs: arb_mat) -> arb_mat:
        try:
            return system.solve(rhs)
        except ZeroDivisionError as exc:
            raise CertificationError(
                f"could not certify the solution of the {system.nrows()}x{system.ncols()} "
                f"Bellman system at {self.bits} bits (numerically singular in ball arithmetic); "
                "try more bits"
            ) from exc

    @staticmethod
    def export(value: Any) -> Enclosure:
        return Enclosure(value if isinstance(value, arb) else arb(value))

    def export_vector(self, values: list[Any]) -> Enclosure:
        return Enclosure([self.scalar(v) for v in values])

    def export_table(self, rows: list[list[Any]]) -> Enclosure:
        return Enclosure(self.matrix(rows))


Arithmetic = RationalArithmetic | BallArithmetic


def arithmetic_for_policies(
    mdp: FiniteMDP, policies: Mapping[str, Any], bits: Any
) -> tuple[Arithmetic, list[list[list[Any]]]]:
    """Validate the named policies and choose their arithmetic: exact when every policy holds
    exact probabilities, balls at ``bits`` when one of them is an :class:`pgverify.Enclosure`."""
    working_bits = validation.bits(bits)
    certified = any(isinstance(p, Enclosure) for p in policies.values())
    arithmetic: Arithmetic = BallArithmetic(working_bits) if certified else RationalArithmetic()
    tables = []
    for name, value in policies.items():
        if isinstance(value, Enclosure):
            tables.append(validation.certified_policy(mdp, value, name))
        else:
            tables.append([list(row) for row in validation.policy(mdp, value, name)])
    return arithmetic, tables


class BellmanSolution:
    """The solved Bellman system of one policy in one arithmetic, in python-flint numbers (for
    the formulas of :mod:`pgverify.mdp`; indices are not checked).  Each method enters the
    working precision itself, so no caller computes them at 53 bits by mistake."""

    def __init__(
        self,
        mdp: FiniteMDP,
        arithmetic: Arithmetic,
        policy: list[list[Any]],
        transition: Any,
        stage_cost: Any,
        value: Any,
        resolvent_row: Any,
    ) -> None:
        self.mdp = mdp
        self.arithmetic = arithmetic
        self.policy = policy  # π(a|s), rows of fmpq or arb
        self.transition = transition  # P_π, (S, S)
        self.stage_cost = stage_cost  # c_π, (S, 1)
        self.value = value  # V^π, (S, 1)
        self.resolvent_row = resolvent_row  # ρᵀ (I − γ P_π)⁻¹, (1, S)

    def q(self, s: int, a: int) -> Any:
        mdp, ar = self.mdp, self.arithmetic
        with ar.context():
            total = ar.scalar(mdp.costs[s][a])
            gamma = ar.scalar(mdp.gamma)
            for t in range(mdp.states):
                total += gamma * ar.scalar(mdp.transitions[s][a][t]) * self.value[t, 0]
            return total

    def advantage(self, s: int, a: int) -> Any:
        with self.arithmetic.context():
            return self.q(s, a) - self.value[s, 0]

    def cost(self) -> Any:
        ar = self.arithmetic
        with ar.context():
            return sum(
                (ar.scalar(p) * self.value[s, 0] for s, p in enumerate(self.mdp.initial)),
                ar.scalar(0),
            )

    def visitation(self) -> list[Any]:
        with self.arithmetic.context():
            factor = 1 - self.arithmetic.scalar(self.mdp.gamma)
            return [factor * self.resolvent_row[0, s] for s in range(self.mdp.states)]


class Evaluation:
    """Everything about one policy on one MDP (returned by :func:`evaluate`).

    Results are Fractions (``tier == "exact"``) or :class:`pgverify.Enclosure` objects
    (``tier == "certified"``): :attr:`value` (V^π, one entry per state), :meth:`cost` (C(π)),
    :meth:`visitation` (d^π), :meth:`q_value` and :meth:`advantage` (Q^π(s, a), A^π(s, a)).
    """

    def __init__(self, solution: BellmanSolution) -> None:
        if not isinstance(solution, BellmanSolution):
            raise InvalidProblemError(
                f"solution must be the BellmanSolution pgverify builds, got "
                f"{validation.shown(solution)}; use pgverify.mdp.evaluate(mdp, policy)"
            )
        self._solution = solution
        self.mdp = solution.mdp

    def __repr__(self) -> str:
        return (
            f"Evaluation(tier={self.tier!r}, states={self.mdp.states}, actions={self.mdp.actions})"
        )

    @property
    def tier(self) -> str:
        """``"exact"`` (results are Fractions) or ``"certified"`` (results are Enclosures)."""
        return self._solution.arithmetic.tier

    @property
    def policy(self) -> Any:
        """π(a|s), shape (S, A): a list of rows of Fractions, or an Enclosure."""
        return self._solution.arithmetic.export_table(self._solution.policy)

    @property
    def value(self) -> Any:
        """V^π(s) for every state: S Fractions, or an Enclosure of shape (S,)."""
        solution = self._solution
        return solution.arithmetic.export_vector(
            [solution.value[s, 0] for s in range(self.mdp.states)]
        )

    def cost(self) -> Any:
        """C(π) = ρᵀV^π: a Fraction, or a scalar Enclosure."""
        return self._solution.arithmetic.export(self._solution.cost())

    def visitation(self) -> Any:
        """d^π(s) = (1 − γ) [ρᵀ (I − γP_π)⁻¹]_s: S Fractions, or an Enclosure of shape (S,)."""
        return self._solution.arithmetic.export_vector(self._solution.visitation())

    def q_value(self, state: int, action: int) -> Any:
        """Q^π(s, a) = c(s, a) + γ Σ_t P(t|s, a) V^π(t): a Fraction, or a scalar Enclosure."""
        s = validation.state(self.mdp, state)
        a = validation.action(self.mdp, action)
        return self._solution.arithmetic.export(self._solution.q(s, a))

    def advantage(self, state: int, action: int) -> Any:
        """A^π(s, a) = Q^π(s, a) − V^π(s): a Fraction, or a scalar Enclosure."""
        s = validation.state(self.mdp, state)
        a = validation.action(self.mdp, action)
        return self._solution.arithmetic.export(self._solution.advantage(s, a))


def policy_matrices(mdp: FiniteMDP, pi: list[list[Any]], ar: Arithmetic) -> tuple[Any, Any]:
    """``P_π`` (S, S) and ``c_π`` (S, 1) of a policy already in ``ar``'s numbers."""
    S, A = mdp.states, mdp.actions
    transition_rows = [
        [
            sum((pi[s][a] * ar.scalar(mdp.transitions[s][a][t]) for a in range(A)), ar.scalar(0))
            for t in range(S)
        ]
        for s in range(S)
    ]
    cost_rows = [
        [sum((pi[s][a] * ar.scalar(mdp.costs[s][a]) for a in range(A)), ar.scalar(0))]
        for s in range(S)
    ]
    return ar.matrix(transition_rows), ar.matrix(cost_rows)


def solve_bellman(mdp: FiniteMDP, policy: list[list[Any]], ar: Arithmetic) -> BellmanSolution:
    """The Bellman system of an already validated policy (rows of Fractions, fmpq or arb)."""
    S, A = mdp.states, mdp.actions
    with ar.context():
        pi = [[ar.scalar(policy[s][a]) for a in range(A)] for s in range(S)]
        transition, stage_cost = policy_matrices(mdp, pi, ar)
        gamma = ar.scalar(mdp.gamma)
        system = ar.matrix(
            [[(1 if s == t else 0) - gamma * transition[s, t] for t in range(S)] for s in range(S)]
        )
        value = ar.solve(system, stage_cost)
        initial = ar.matrix([[p] for p in mdp.initial])
        resolvent_row = ar.solve(system.transpose(), initial).transpose()
        return BellmanSolution(mdp, ar, pi, transition, stage_cost, value, resolvent_row)


def evaluate(mdp: FiniteMDP, policy: Any, *, bits: int = DEFAULT_BITS) -> Evaluation:
    """Evaluate ``policy`` on ``mdp``.

    ``policy``: an (S, A) table of exact probabilities (Fractions, ints, floats — each row summing
    to exactly 1) → tier exact; or an :class:`pgverify.Enclosure` of shape (S, A) (e.g.
    :func:`pgverify.mdp.softmax_policy`) → tier certified, in balls of ``bits`` bits."""
    mdp = validation.finite_mdp(mdp)
    ar, (table,) = arithmetic_for_policies(mdp, {"policy": policy}, bits)
    return Evaluation(solve_bellman(mdp, table, ar))


def finite_horizon_cost(
    mdp: FiniteMDP, policy: Any, horizon: int, *, bits: int = DEFAULT_BITS
) -> Any:
    """``C_N(π) = E Σ_{t=0}^{N} γ^t c(x_t, u_t)`` by the forward recursion of the state law: a
    Fraction (exact policy) or a scalar Enclosure (``policy`` an Enclosure)."""
    mdp = validation.finite_mdp(mdp)
    steps = validation.horizon(horizon)
    ar, (table,) = arithmetic_for_policies(mdp, {"policy": policy}, bits)
    with ar.context():
        pi = [[ar.scalar(p) for p in row] for row in table]
        transition, stage_cost = policy_matrices(mdp, pi, ar)
        law = ar.matrix([list(mdp.initial)])
        total, discount = ar.scalar(0), ar.scalar(1)
        gamma = ar.scalar(mdp.gamma)
        for _ in range(steps + 1):
            total += discount * (law * stage_cost)[0, 0]
            law = law * transition
            discount *= gamma
        return ar.export(total)
