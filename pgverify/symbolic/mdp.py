"""The relative performance identity (performance difference lemma) on finite MDPs, exactly.

For policies π (new) and π_k (old) of a finite discounted MDP with costs,

    C(π) − C(π_k) = E_π Σ_t γ^t A^{π_k}(x_t, u_t) = (1 − γ)⁻¹ E_{x ~ d_π, u ~ π} A^{π_k}(x, u),

with ``d_π(x) = (1 − γ) Σ_t γ^t Pr_π(x_t = x)`` (Kakade & Langford 2002; the seed's relative
policy performance identity).  Evaluated in closed form: ``V = (I − γ P_π)⁻¹ c_π``.
"""

from __future__ import annotations

import random

import sympy
from sympy.polys.matrices import DomainMatrix

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.polynomial import PolynomialAlgebra

SOURCE = "seed (relative policy performance identity); Kakade & Langford (ICML 2002), Lemma 6.1"


def _random_distribution(rng: random.Random, size: int) -> list[sympy.Rational]:
    weights = [rng.randint(1, 9) for _ in range(size)]
    total = sum(weights)
    return [sympy.Rational(w, total) for w in weights]


def _random_rational_case(seed: int, states: int, actions: int, gamma: sympy.Rational):
    """(terms of the identity) on a seeded random MDP with rational data, two random policies."""
    rng = random.Random(seed)
    transition = [
        [_random_distribution(rng, states) for _ in range(actions)] for _ in range(states)
    ]
    cost = [
        [sympy.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(actions)]
        for _ in range(states)
    ]
    policy = [_random_distribution(rng, actions) for _ in range(states)]
    old_policy = [_random_distribution(rng, actions) for _ in range(states)]
    initial = _random_distribution(rng, states)
    return _identity_terms(transition, cost, policy, old_policy, initial, gamma, states, actions)


def _symbolic_distribution(name: str, size: int) -> list[sympy.Expr]:
    """A generic distribution: free symbols for all but the last entry, which closes the sum."""
    head = [sympy.Symbol(f"{name}_{i + 1}", positive=True) for i in range(size - 1)]
    return [*head, 1 - sum(head)]


def _identity_terms(transition, cost, policy, old_policy, initial, gamma, states, actions):
    """(C(π) − C(π_k), trajectory form, visitation form) for the given tables."""

    def evaluate(pi):
        P = sympy.Matrix(
            states, states, lambda s, t: sum(pi[s][a] * transition[s][a][t] for a in range(actions))
        )
        c = sympy.Matrix(states, 1, lambda s, _: sum(pi[s][a] * cost[s][a] for a in range(actions)))
        resolvent = (sympy.eye(states) - gamma * P).inv()
        return resolvent, resolvent * c

    rho = sympy.Matrix(1, states, initial)
    resolvent_new, value_new = evaluate(policy)
    _, value_old = evaluate(old_policy)
    q_old = [
        [
            cost[s][a] + gamma * sum(transition[s][a][t] * value_old[t] for t in range(states))
            for a in range(actions)
        ]
        for s in range(states)
    ]
    advantage = [[q_old[s][a] - value_old[s] for a in range(actions)] for s in range(states)]
    expected_advantage = sympy.Matrix(
        states, 1, lambda s, _: sum(policy[s][a] * advantage[s][a] for a in range(actions))
    )
    difference = (rho * value_new)[0, 0] - (rho * value_old)[0, 0]
    trajectory_form = (rho * resolvent_new * expected_advantage)[0, 0]
    visitation = (1 - gamma) * rho * resolvent_new
    visitation_form = (visitation * expected_advantage)[0, 0] / (1 - gamma)
    return difference, trajectory_form, visitation_form, visitation, expected_advantage


@derivation(
    "performance-difference-mdp",
    "relative performance identity, both forms, exact rationals on a random MDP",
    states=4,
    actions=3,
)
def performance_difference_rational(states: int, actions: int) -> Derivation:
    difference, trajectory, visitation_form, _, _ = _random_rational_case(
        states * 100 + actions, states, actions, sympy.Rational(9, 10)
    )
    result = Derivation(
        "performance-difference-mdp",
        "Relative performance identity on a finite MDP (exact rationals)",
        "C(pi) - C(pi_k) = E_pi sum_t gamma^t A^{pi_k} = (1 - gamma)^-1 E_{x ~ d_pi, u ~ pi} A^{pi_k}",
        SOURCE,
        {"states": states, "actions": actions},
    )
    result.steps.append(
        Step("seeded random rational MDP, policies and initial distribution; gamma = 9/10")
    )
    result.steps.append(Step("V = (I - gamma P_pi)^-1 c_pi, Q = c + gamma P V, A = Q - V (exact)"))
    result.steps.append(Step("C(pi) - C(pi_k)", difference))
    return conclude(result, [difference - trajectory, difference - visitation_form])


@derivation(
    "performance-difference-symbolic",
    "relative performance identity with symbolic probabilities, costs, policies and gamma",
    states=2,
    actions=2,
)
def performance_difference_symbolic(states: int, actions: int) -> Derivation:
    transition = [
        [_symbolic_distribution(f"p{s + 1}{a + 1}", states) for a in range(actions)]
        for s in range(states)
    ]
    cost = [[sympy.Symbol(f"c_{s + 1}{a + 1}") for a in range(actions)] for s in range(states)]
    policy = [_symbolic_distribution(f"pi{s + 1}", actions) for s in range(states)]
    old_policy = [_symbolic_distribution(f"mu{s + 1}", actions) for s in range(states)]
    initial = _symbolic_distribution("rho", states)
    gamma = sympy.Symbol("gamma", positive=True)
    tables = [transition, cost, policy, old_policy, initial]
    symbols = sorted(
        set().union(*(sympy.sympify(x).free_symbols for x in _flatten(tables))) | {gamma}, key=str
    )
    algebra = PolynomialAlgebra(symbols)
    lift = algebra.scalar
    P = [[[lift(x) for x in row] for row in by_state] for by_state in transition]
    c = [[lift(x) for x in row] for row in cost]
    new = [[lift(x) for x in row] for row in policy]
    old = [[lift(x) for x in row] for row in old_policy]
    rho = [[lift(x) for x in initial]]
    g = lift(gamma)
    domain = algebra.ring.to_domain()

    def resolvent(pi):
        """(adj(I − γP_π), det(I − γP_π), c_π) as polynomials."""
        matrix = [
            [
                (1 if s == t else 0) - g * sum(pi[s][a] * P[s][a][t] for a in range(actions))
                for t in range(states)
            ]
            for s in range(states)
        ]
        system = DomainMatrix(matrix, (states, states), domain)
        c_pi = [[sum(pi[s][a] * c[s][a] for a in range(actions))] for s in range(states)]
        return system.adjugate().to_list(), system.det(), c_pi

    adj_new, det_new, c_new = resolvent(new)
    adj_old, det_old, c_old = resolvent(old)
    mul = algebra.mul
    value_new = mul(adj_new, c_new)  # V_π · det_new
    value_old = mul(adj_old, c_old)  # V_{π_k} · det_old
    # det_old · A^{π_k}(s, a) = det_old c(s, a) + γ Σ_t P(t|s,a) V_old(t) − V_old(s)
    advantage = [
        [
            det_old * c[s][a]
            + g * sum(P[s][a][t] * value_old[t][0] for t in range(states))
            - value_old[s][0]
            for a in range(actions)
        ]
        for s in range(states)
    ]
    expected = [[sum(new[s][a] * advantage[s][a] for a in range(actions))] for s in range(states)]
    # multiplied by det_new · det_old:
    difference = mul(rho, value_new)[0][0] * det_old - mul(rho, value_old)[0][0] * det_new
    trajectory = mul(rho, mul(adj_new, expected))[0][0]
    # visitation form: (1 − γ)⁻¹ (1 − γ) ρ (I − γP_π)⁻¹ E_π A — the same polynomial once the
    # factors (1 − γ)/(1 − γ) cancel; checked as  (1 − γ)·difference = (1 − γ)·visitation sum
    visitation = mul([[(1 - g) * entry for entry in rho[0]]], adj_new)
    visitation_sum = mul(visitation, expected)[0][0]
    result = Derivation(
        "performance-difference-symbolic",
        "Relative performance identity on a finite MDP (fully symbolic)",
        "C(pi) - C(pi_k) = E_pi sum_t gamma^t A^{pi_k} = (1 - gamma)^-1 E_{x ~ d_pi, u ~ pi} A^{pi_k}",
        SOURCE,
        {"states": states, "actions": actions},
    )
    result.steps.append(
        Step(
            "generic transition probabilities, costs, both policies, initial distribution and gamma"
        )
    )
    result.steps.append(
        Step("(I - gamma P_pi)^-1 = adj / det: multiply through by det_new det_old (polynomials)")
    )
    residuals = [
        (difference - trajectory).as_expr(),
        ((1 - g) * difference - visitation_sum).as_expr(),
    ]
    return conclude(result, residuals)


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


@derivation(
    "refute-performance-difference-without-normalisation",
    "negative control: dropping (1 - gamma)^-1 is refuted",
    states=3,
    actions=2,
)
def refute_missing_normalisation(states: int, actions: int) -> Derivation:
    difference, _, _, visitation, expected_advantage = _random_rational_case(
        7, states, actions, sympy.Rational(1, 2)
    )
    wrong = (visitation * expected_advantage)[0, 0]  # E_{x ~ d} A without (1 − γ)⁻¹
    result = Derivation(
        "refute-performance-difference-without-normalisation",
        "Refutation: the visitation form without the factor (1 - gamma)^-1",
        "C(pi) - C(pi_k) = E_{x ~ d_pi, u ~ pi} A^{pi_k} (wrong)",
        SOURCE,
        {"states": states, "actions": actions},
    )
    # a symbol-free residual: the "counterexample" is the seeded MDP itself
    outcome = conclude(result, [difference - wrong])
    if not outcome.proved and not outcome.counterexample:
        outcome.counterexample = {sympy.Symbol("seeded_MDP"): 7}
    return outcome
