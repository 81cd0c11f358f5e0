"""Exact evaluation of a policy on a finite MDP (tier exact in Fractions, certified in balls).

One set of formulas, two arithmetics: rational matrices (python-flint ``fmpq_mat``: no rounding)
for tabular policies with rational probabilities, and Arb balls (``arb_mat``) for policies whose
probabilities are irrational (softmax).  With ``P_π[s, t] = Σ_a π(a|s) P(t|s, a)`` and
``c_π[s] = Σ_a π(a|s) c(s, a)``:

* ``V^π = (I − γ P_π)⁻¹ c_π``,  ``Q^π(s, a) = c(s, a) + γ Σ_t P(t|s, a) V^π(t)``,
  ``A^π = Q^π − V^π``,  ``C(π) = ρᵀ V^π``;
* ``d^π = (1 − γ) ρᵀ (I − γ P_π)⁻¹`` — the normalised discounted visitation
  ``(1 − γ) Σ_t γ^t Pr(x_t = ·)``, a probability vector;
* ``C_N(π) = Σ_{t=0}^{N} γ^t ρ_tᵀ c_π`` with ``ρ_{t+1}ᵀ = ρ_tᵀ P_π`` (finite horizon).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from flint import arb, arb_mat, ctx, fmpq, fmpq_mat

from pgverify.mdp.model import FiniteMDP


class RationalArithmetic:
    """fmpq / fmpq_mat: exact."""

    tier = "exact"

    @staticmethod
    def scalar(value: Any) -> fmpq:
        if isinstance(value, fmpq):
            return value
        value = Fraction(value)
        return fmpq(value.numerator, value.denominator)

    def matrix(self, rows: list[list[Any]]) -> fmpq_mat:
        return fmpq_mat(len(rows), len(rows[0]), [self.scalar(v) for row in rows for v in row])

    @staticmethod
    def export(value: Any) -> Fraction:
        return Fraction(int(value.p), int(value.q))


class BallArithmetic:
    """arb / arb_mat at ``bits`` of working precision: certified enclosures."""

    tier = "certified"

    def __init__(self, bits: int = 212) -> None:
        self.bits = bits

    def scalar(self, value: Any) -> arb:
        if isinstance(value, arb):
            return value
        if isinstance(value, Fraction):
            with ctx.workprec(self.bits):
                return arb(fmpq(value.numerator, value.denominator))
        return arb(value)

    def matrix(self, rows: list[list[Any]]) -> arb_mat:
        return arb_mat(len(rows), len(rows[0]), [self.scalar(v) for row in rows for v in row])

    @staticmethod
    def export(value: Any) -> arb:
        return value


@dataclass
class Evaluation:
    """Everything about one policy on one MDP, in one arithmetic (entries are fmpq or arb)."""

    mdp: FiniteMDP
    policy: list[list[Any]]
    arithmetic: Any
    transition: Any  # P_π, (S, S)
    stage_cost: Any  # c_π, (S, 1)
    value: Any  # V^π, (S, 1)
    resolvent_row: Any  # ρᵀ (I − γ P_π)⁻¹, (1, S)

    def q_value(self, s: int, a: int) -> Any:
        mdp, ar = self.mdp, self.arithmetic
        total = ar.scalar(mdp.costs[s][a])
        gamma = ar.scalar(mdp.gamma)
        for t in range(mdp.states):
            total += gamma * ar.scalar(mdp.transitions[s][a][t]) * self.value[t, 0]
        return total

    def advantage(self, s: int, a: int) -> Any:
        return self.q_value(s, a) - self.value[s, 0]

    def cost(self) -> Any:
        """C(π) = ρᵀV^π (a Fraction, or a ball)."""
        return self.arithmetic.export(self.native_cost())

    def visitation(self) -> list[Any]:
        """d^π(s) = (1 − γ) [ρᵀ (I − γP_π)⁻¹]_s (Fractions, or balls)."""
        return [self.arithmetic.export(x) for x in self.native_visitation()]

    def native_cost(self) -> Any:
        ar = self.arithmetic
        return sum(
            (ar.scalar(p) * self.value[s, 0] for s, p in enumerate(self.mdp.initial)), ar.scalar(0)
        )

    def native_visitation(self) -> list[Any]:
        factor = 1 - self.arithmetic.scalar(self.mdp.gamma)
        return [factor * self.resolvent_row[0, s] for s in range(self.mdp.states)]


def evaluate(mdp: FiniteMDP, policy: Any, arithmetic: Any = None) -> Evaluation:
    """Evaluate ``policy`` (rows π(·|s), Fractions or balls) on ``mdp``."""
    ar = arithmetic or RationalArithmetic()
    S, A = mdp.states, mdp.actions
    pi = [[ar.scalar(policy[s][a]) for a in range(A)] for s in range(S)]
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
    gamma = ar.scalar(mdp.gamma)
    system = ar.matrix(
        [[(1 if s == t else 0) - gamma * transition_rows[s][t] for t in range(S)] for s in range(S)]
    )
    value = system.solve(ar.matrix(cost_rows))
    resolvent_row = system.transpose().solve(ar.matrix([[p] for p in mdp.initial])).transpose()
    return Evaluation(
        mdp, pi, ar, ar.matrix(transition_rows), ar.matrix(cost_rows), value, resolvent_row
    )


def finite_horizon_cost(mdp: FiniteMDP, policy: Any, horizon: int, arithmetic: Any = None) -> Any:
    """``C_N(π) = E Σ_{t=0}^{N} γ^t c(x_t, u_t)`` by the forward recursion of the state law."""
    ar = arithmetic or RationalArithmetic()
    evaluation = evaluate(mdp, policy, ar)
    law = ar.matrix([list(mdp.initial)])
    total, discount = ar.scalar(0), ar.scalar(1)
    gamma = ar.scalar(mdp.gamma)
    for _ in range(horizon + 1):
        total += discount * (law * evaluation.stage_cost)[0, 0]
        law = law * evaluation.transition
        discount *= gamma
    return ar.export(total)
