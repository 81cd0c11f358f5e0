"""The policy gradient theorem and the relative performance identity on finite MDPs, computed
two independent ways each, exactly (Fractions) or rigorously (balls, for softmax policies).

Policy gradient theorem (Sutton et al. 2000; seed eq. 13.7 with Ψ = Q):

    ∇C(θ) = (1 − γ)⁻¹ Σ_x d^π(x) Σ_u ∇π(u|x) Q^π(x, u).

Independently, differentiating the Bellman system ``(I − γP_π) V = c_π`` along a direction of
the policy table ``δπ``:  ``(I − γP_π) δV = δc_π + γ δP_π V``, ``δC = ρᵀ δV``.

Parametrisations: *direct* (θ = the table π[s, a] itself, every entry a free coordinate) and
*tabular softmax* (π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b]; ∂π(b|s)/∂θ[s, a] = π(b|s)(1[a = b] −
π(a|s)); irrational, so evaluated in balls — Agarwal, Kakade, Lee & Mahajan 2021 give the closed
form ∂C/∂θ[s, a] = (1 − γ)⁻¹ d^π(s) π(a|s) A^π(s, a)).
"""

from __future__ import annotations

from typing import Any

from flint import arb, ctx

from pgverify.mdp.evaluation import BallArithmetic, Evaluation, RationalArithmetic, evaluate
from pgverify.mdp.model import FiniteMDP


def softmax_policy(logits: Any, bits: int = 212) -> list[list[arb]]:
    """π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b] as balls (exp is irrational: tier certified)."""
    ar = BallArithmetic(bits)
    with ctx.workprec(bits):
        table = []
        for row in logits:
            weights = [ar.scalar(value).exp() for value in row]
            total = sum(weights, arb(0))
            table.append([w / total for w in weights])
    return table


def policy_gradient_theorem(evaluation: Evaluation, direction: list[list[Any]]) -> Any:
    """``(1 − γ)⁻¹ Σ_x d(x) Σ_u δπ(u|x) Q(x, u)``: the directional derivative of C along the
    policy-table direction ``δπ`` by the policy gradient theorem."""
    mdp, ar = evaluation.mdp, evaluation.arithmetic
    d = evaluation.native_visitation()
    total = ar.scalar(0)
    for s in range(mdp.states):
        inner = sum(
            (ar.scalar(direction[s][a]) * evaluation.q_value(s, a) for a in range(mdp.actions)),
            ar.scalar(0),
        )
        total += d[s] * inner
    return total / (1 - ar.scalar(mdp.gamma))


def bellman_derivative(evaluation: Evaluation, direction: list[list[Any]]) -> Any:
    """``ρᵀ δV`` with ``(I − γP_π) δV = δc_π + γ δP_π V`` — no Q, no visitation."""
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
    derivative = system.solve(ar.matrix(forcing))
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


def direct_gradient(mdp: FiniteMDP, policy: Any, route: str = "theorem") -> list[list[Any]]:
    """∂C/∂π[s, a] for every (s, a), exactly, by ``route`` "theorem" or "bellman"."""
    evaluation = evaluate(mdp, policy, RationalArithmetic())
    compute = policy_gradient_theorem if route == "theorem" else bellman_derivative
    return [
        [
            RationalArithmetic.export(compute(evaluation, unit_direction(mdp, s, a)))
            for a in range(mdp.actions)
        ]
        for s in range(mdp.states)
    ]


def softmax_gradient(
    mdp: FiniteMDP, logits: Any, route: str = "theorem", bits: int = 212
) -> list[list[arb]]:
    """∂C/∂θ[s, a] of the tabular softmax policy, certified balls, by ``route`` "theorem",
    "bellman" or "closed-form" ((1 − γ)⁻¹ d(s) π(a|s) A(s, a))."""
    policy = softmax_policy(logits, bits)
    ar = BallArithmetic(bits)
    with ctx.workprec(bits):
        evaluation = evaluate(mdp, policy, ar)
        d = evaluation.native_visitation()
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
    return result


def performance_difference(mdp: FiniteMDP, policy: Any, old_policy: Any) -> dict[str, Any]:
    """The three sides of the relative performance identity (exact for rational policies):
    ``C(π) − C(π_k)``, ``E_π Σ_t γ^t A^{π_k}(x_t, u_t)`` and
    ``(1 − γ)⁻¹ E_{x ~ d_π, u ~ π} A^{π_k}(x, u)``."""
    ar = RationalArithmetic()
    new = evaluate(mdp, policy, ar)
    old = evaluate(mdp, old_policy, ar)
    expected_advantage = [
        sum((new.policy[s][a] * old.advantage(s, a) for a in range(mdp.actions)), ar.scalar(0))
        for s in range(mdp.states)
    ]
    trajectory = sum(
        (new.resolvent_row[0, s] * expected_advantage[s] for s in range(mdp.states)), ar.scalar(0)
    )
    d = new.native_visitation()
    visitation = sum((d[s] * expected_advantage[s] for s in range(mdp.states)), ar.scalar(0)) / (
        1 - ar.scalar(mdp.gamma)
    )
    return {
        "difference": ar.export(new.native_cost() - old.native_cost()),
        "trajectory_form": ar.export(trajectory),
        "visitation_form": ar.export(visitation),
    }
