"""The policy gradient theorem and the relative performance identity on finite MDPs, computed
two independent ways each, exactly (Fractions) or rigorously (Enclosures, for softmax policies).

Policy gradient theorem (Sutton, McAllester, Singh & Mansour 2000, Theorem 1, in the normalised
visitation d^π of :mod:`pgverify.mdp.evaluation`):

    ∇C(θ) = (1 − γ)⁻¹ Σ_x d^π(x) Σ_u ∇π(u|x) Q^π(x, u).

Independently, differentiating the Bellman system ``(I − γP_π) V = c_π`` along a direction of
the policy table ``δπ``:  ``(I − γP_π) δV = δc_π + γ δP_π V``, ``δC = ρᵀ δV``.

Parametrisations: *direct* (θ = the table π[s, a] itself, every entry a free coordinate) and
*tabular softmax* (π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b]; ∂π(b|s)/∂θ[s, a] = π(b|s)(1[a = b] −
π(a|s)); irrational, so evaluated in balls — Agarwal, Kakade, Lee & Mahajan 2021 give
the closed form ∂C/∂θ[s, a] = (1 − γ)⁻¹ d^π(s) π(a|s) A^π(s, a)).

Relative performance identity (Kakade & Langford 2002, Lemma 6.1).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from flint import arb, ctx

from pgverify.enclosure import Enclosure
from pgverify.errors import CertificationError
from pgverify.mdp import validation
from pgverify.mdp.evaluation import (
    DEFAULT_BITS,
    BallArithmetic,
    BellmanSolution,
    RationalArithmetic,
    arithmetic_for_policies,
    solve_bellman,
)
from pgverify.mdp.model import FiniteMDP

DIRECT_ROUTES = ("theorem", "bellman")
SOFTMAX_ROUTES = ("theorem", "bellman", "closed-form")


def softmax_rows(logits: tuple[tuple[Fraction, ...], ...], bits: int) -> list[list[arb]]:
    """π(a|s) = exp(θ[s, a] − max_b θ[s, b]) / Σ_b exp(θ[s, b] − max_b θ[s, b]) as balls.

    Shifting by the row maximum (exactly, in Fractions) changes nothing mathematically and keeps
    every exponential in (0, 1], so huge logits cannot overflow."""
    ar = BallArithmetic(bits)
    table = []
    with ctx.workprec(bits):
        for s, row in enumerate(logits):
            top = max(row)
            weights = [ar.scalar(value - top).exp() for value in row]
            total = sum(weights, arb(0))
            probabilities = [w / total for w in weights]
            if not all(p.is_finite() for p in probabilities):
                raise CertificationError(
                    f"could not enclose softmax(logits[{s}]) at {bits} bits; try more bits"
                )
            table.append(probabilities)
    return table


def softmax_policy(logits: Any, bits: int = DEFAULT_BITS) -> Enclosure:
    """π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b] for an (S, A) table of finite logits: an
    Enclosure of shape (S, A) (exp is irrational: tier certified)."""
    theta = validation.logits(logits)
    working_bits = validation.bits(bits)
    return BallArithmetic(working_bits).export_table(softmax_rows(theta, working_bits))


def policy_gradient_theorem(evaluation: BellmanSolution, direction: list[list[Any]]) -> Any:
    """``(1 − γ)⁻¹ Σ_x d(x) Σ_u δπ(u|x) Q(x, u)``: the directional derivative of C along the
    policy-table direction ``δπ`` by the policy gradient theorem (native numbers)."""
    mdp, ar = evaluation.mdp, evaluation.arithmetic
    d = evaluation.visitation()
    total = ar.scalar(0)
    for s in range(mdp.states):
        inner = sum(
            (ar.scalar(direction[s][a]) * evaluation.q(s, a) for a in range(mdp.actions)),
            ar.scalar(0),
        )
        total += d[s] * inner
    return total / (1 - ar.scalar(mdp.gamma))


def bellman_derivative(evaluation: BellmanSolution, direction: list[list[Any]]) -> Any:
    """``ρᵀ δV`` with ``(I − γP_π) δV = δc_π + γ δP_π V`` — no Q, no visitation (native)."""
    mdp, ar = evaluation.mdp, evaluation.arithmetic
    S, A = mdp.states, mdp.actions
    gamma = ar.scalar(mdp.gamma)
    delta = [[ar.scalar(direction[s][a]) for a in range(A)] for s in range(S)]
    forcing = []
    for s in range(S):
        change = sum((delta[s][a] * ar.scalar(mdp.costs[s][a]) for a in range(A)), ar.scalar(0))
        for t in range(S):
            moved = sum(
                (delta[s][a] * ar.scalar(mdp.transitions[s][a][t]) for a in range(A)), ar.scalar(0)
            )
            change += gamma * moved * evaluation.value[t, 0]
        forcing.append([change])
    system = ar.matrix(
        [
            [(1 if s == t else 0) - gamma * evaluation.transition[s, t] for t in range(S)]
            for s in range(S)
        ]
    )
    derivative = ar.solve(system, ar.matrix(forcing))
    return sum((ar.scalar(p) * derivative[s, 0] for s, p in enumerate(mdp.initial)), ar.scalar(0))


def unit_direction(mdp: FiniteMDP, s: int, a: int) -> list[list[int]]:
    """The direct-parametrisation coordinate direction e_{(s, a)}."""
    return [[1 if (t, b) == (s, a) else 0 for b in range(mdp.actions)] for t in range(mdp.states)]


def softmax_direction(policy: list[list[Any]], s: int, a: int) -> list[list[Any]]:
    """∂π/∂θ[s, a] for the tabular softmax: row s is π(·|s)(e_a − π(a|s)), other rows 0."""
    states, actions = len(policy), len(policy[0])
    zero = policy[0][0] * 0
    return [
        [
            (policy[t][b] * ((1 if b == a else 0) - policy[s][a]) if t == s else zero)
            for b in range(actions)
        ]
        for t in range(states)
    ]


def direct_gradient(mdp: FiniteMDP, policy: Any, route: str = "theorem") -> list[list[Fraction]]:
    """∂C/∂π[s, a] for every (s, a), exactly (an (S, A) table of Fractions), by ``route``
    ``"theorem"`` (the policy gradient theorem) or ``"bellman"`` (the differentiated Bellman
    system)."""
    mdp = validation.finite_mdp(mdp)
    table = validation.policy(mdp, policy)
    route = validation.choice(route, "route", DIRECT_ROUTES)
    ar = RationalArithmetic()
    evaluation = solve_bellman(mdp, table, ar)
    compute = policy_gradient_theorem if route == "theorem" else bellman_derivative
    return ar.export_table(
        [
            [compute(evaluation, unit_direction(mdp, s, a)) for a in range(mdp.actions)]
            for s in range(mdp.states)
        ]
    )


def softmax_gradient(
    mdp: FiniteMDP, logits: Any, route: str = "theorem", bits: int = DEFAULT_BITS
) -> Enclosure:
    """∂C/∂θ[s, a] of the tabular softmax policy, an Enclosure of shape (S, A), by ``route``
    ``"theorem"``, ``"bellman"`` or ``"closed-form"`` ((1 − γ)⁻¹ d(s) π(a|s) A(s, a))."""
    mdp = validation.finite_mdp(mdp)
    theta = validation.logits(logits, mdp=mdp)
    route = validation.choice(route, "route", SOFTMAX_ROUTES)
    working_bits = validation.bits(bits)
    policy = softmax_rows(theta, working_bits)
    ar = BallArithmetic(working_bits)
    evaluation = solve_bellman(mdp, policy, ar)
    with ar.context():
        d = evaluation.visitation()
        result = []
        for s in range(mdp.states):
            row = []
            for a in range(mdp.actions):
                if route == "closed-form":
                    value = (
                        d[s]
                        * policy[s][a]
                        * evaluation.advantage(s, a)
                        / (1 - ar.scalar(mdp.gamma))
                    )
                else:
                    compute = policy_gradient_theorem if route == "theorem" else bellman_derivative
                    value = compute(evaluation, softmax_direction(policy, s, a))
                row.append(value)
            result.append(row)
        return ar.export_table(result)


def performance_difference(
    mdp: FiniteMDP, policy: Any, old_policy: Any, *, bits: int = DEFAULT_BITS
) -> dict[str, Any]:
    """The three sides of the relative performance identity: ``C(π) − C(π_k)``,
    ``E_π Σ_t γ^t A^{π_k}(x_t, u_t)`` and ``(1 − γ)⁻¹ E_{x ~ d_π, u ~ π} A^{π_k}(x, u)``, keyed
    ``"difference"``, ``"trajectory_form"``, ``"visitation_form"``.  Fractions for exact
    policies; Enclosures when either policy is an Enclosure."""
    mdp = validation.finite_mdp(mdp)
    ar, (table, old_table) = arithmetic_for_policies(
        mdp, {"policy": policy, "old_policy": old_policy}, bits
    )
    new = solve_bellman(mdp, table, ar)
    old = solve_bellman(mdp, old_table, ar)
    with ar.context():
        expected_advantage = [
            sum(
                (new.policy[s][a] * old.advantage(s, a) for a in range(mdp.actions)),
                ar.scalar(0),
            )
            for s in range(mdp.states)
        ]
        trajectory = sum(
            (new.resolvent_row[0, s] * expected_advantage[s] for s in range(mdp.states)),
            ar.scalar(0),
        )
        d = new.visitation()
        visitation = sum(
            (d[s] * expected_advantage[s] for s in range(mdp.states)), ar.scalar(0)
        ) / (1 - ar.scalar(mdp.gamma))
        return {
            "difference": ar.export(new.cost() - old.cost()),
            "trajectory_form": ar.export(trajectory),
            "visitation_form": ar.export(visitation),
        }
