"""The relative performance identity (performance difference lemma) on finite MDPs, exactly.

For policies π (new) and π_k (old) of a finite discounted MDP with costs,

    C(π) − C(π_k) = E_π Σ_t γ^t A^{π_k}(x_t, u_t) = (1 − γ)⁻¹ E_{x ~ d_π, u ~ π} A^{π_k}(x, u),

with ``d_π(x) = (1 − γ) Σ_t γ^t Pr_π(x_t = x)`` (Kakade & Langford 2002; the relative
policy performance identity of the lecture notes).  Evaluated in closed form: ``V = (I − γ P_π)⁻¹ c_π``.
"""

from __future__ import annotations

import random

import sympy
from sympy.polys.matrices import DomainMatrix

from pgverify.symbolic.core import Derivation, Sampler, Step, conclude, derivation
from pgverify.symbolic.definitions import Bellman, bellman_target
from pgverify.symbolic.polynomial import PolynomialAlgebra
from pgverify.symbolic.problems import symbolic_mdp

SOURCE = "Hu, lecture notes on policy-based RL (relative policy performance identity); Kakade & Langford (ICML 2002), Lemma 6.1"


PREMISES = [
    "finite MDP: transition probabilities P(t|s, a) (each row a distribution), costs c(s, a), "
    "initial distribution rho, 0 < gamma < 1; policies pi (new) and pi_k (old)",
    "Bellman: V^pi = c_pi + gamma P_pi V^pi, so V^pi = (I - gamma P_pi)^-1 c_pi; C(pi) = rho V^pi",
    "Q^{pi_k}(s, a) = c(s, a) + gamma sum_t P(t|s, a) V^{pi_k}(t), A^{pi_k} = Q^{pi_k} - V^{pi_k}",
    "d_pi = (1 - gamma) sum_t gamma^t Pr_pi(x_t = .) = (1 - gamma) rho (I - gamma P_pi)^-1",
]


def _identity_terms(
    transition, cost, policy, old_policy, initial, gamma, states, actions, bellman=bellman_target
):
    """(C(π) − C(π_k), the visitation form (1 − γ)⁻¹ E_{d_π, π} A^{π_k}, d_π, E_π A^{π_k}) for
    the given tables (exact sympy values)."""

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
            bellman(
                cost[s][a],
                sum(transition[s][a][t] * value_old[t] for t in range(states)),
                gamma,
            )
            for a in range(actions)
        ]
        for s in range(states)
    ]
    advantage = [[q_old[s][a] - value_old[s] for a in range(actions)] for s in range(states)]
    expected_advantage = sympy.Matrix(
        states, 1, lambda s, _: sum(policy[s][a] * advantage[s][a] for a in range(actions))
    )
    difference = (rho * value_new)[0, 0] - (rho * value_old)[0, 0]
    visitation = (1 - gamma) * rho * resolvent_new
    visitation_form = (visitation * expected_advantage)[0, 0] / (1 - gamma)
    return difference, visitation_form, visitation, expected_advantage


def _symbolic_tables(states: int, actions: int):
    """Generic tables: transition rows, costs, the two policies, rho and gamma (symbols), from
    :func:`pgverify.symbolic.problems.symbolic_mdp`."""
    mdp = symbolic_mdp(states, actions)
    policy, old_policy = mdp.policy("pi"), mdp.policy("mu")
    return mdp.transition, mdp.cost, policy, old_policy, mdp.initial, mdp.gamma


MDP_DOMAIN = (
    "every transition row, policy row and rho a distribution with positive entries; "
    "0 < gamma < 1; costs any rationals"
)


def _mdp_domain(states: int, actions: int) -> Sampler:
    """Draws the free symbols of :func:`_symbolic_tables` inside the domain (the public
    :meth:`SymbolicMDP.domain` of the MDP and its two policies)."""
    mdp = symbolic_mdp(states, actions)
    return mdp.domain(mdp.policy("pi"), mdp.policy("mu")).draw


def _seeded_instance(seed: int, states: int, actions: int, gamma: sympy.Rational):
    """The symbolic tables at one seeded point of the domain (exact rationals)."""
    point = _mdp_domain(states, actions)(random.Random(seed))
    point[sympy.Symbol("gamma", positive=True)] = gamma
    tables = _symbolic_tables(states, actions)
    return [_substitute_tables(table, point) for table in tables]


def _substitute_tables(table, point):
    if isinstance(table, list):
        return [_substitute_tables(item, point) for item in table]
    return sympy.sympify(table).xreplace(point)


def _performance_difference_instance(
    states: int, actions: int, *, bellman: Bellman = bellman_target
) -> Derivation:
    seed = states * 100 + actions
    transition, cost, policy, old_policy, initial, gamma = _seeded_instance(
        seed, states, actions, sympy.Rational(9, 10)
    )
    difference, visitation_form, _, _ = _identity_terms(
        transition, cost, policy, old_policy, initial, gamma, states, actions, bellman
    )
    result = Derivation(
        "performance-difference-mdp",
        "Relative performance identity on a finite MDP (one seeded rational instance)",
        "C(pi) - C(pi_k) = (1 - gamma)^-1 E_{x ~ d_pi, u ~ pi} A^{pi_k} on one instance",
        SOURCE,
        {"states": states, "actions": actions},
        premises=PREMISES,
        covers=(
            f"one instance only (random rational MDP, policies and rho drawn with seed {seed}, "
            "gamma = 9/10): a numeric check at larger sizes, not a proof; "
            "performance-difference-symbolic is the proof"
        ),
    )
    result.steps.append(
        Step(f"seeded random rational MDP, policies and initial distribution (seed {seed})")
    )
    result.steps.append(Step("V = (I - gamma P_pi)^-1 c_pi, Q = c + gamma P V, A = Q - V (exact)"))
    result.steps.append(Step("C(pi) - C(pi_k)", difference))
    return conclude(result, [difference - visitation_form])


@derivation(
    "performance-difference-mdp",
    "relative performance identity, exact rationals on one seeded random MDP (an instance)",
    states=4,
    actions=3,
)
def performance_difference_rational(states: int, actions: int) -> Derivation:
    return _performance_difference_instance(states, actions)


def _trajectory_residual(P, c, new, rho, value, g, states, actions, horizon, bellman):
    """E_π Σ_{t<N} γ^t A(x_t, u_t) − [E_π Σ_{t<N} γ^t c(x_t, u_t) + γ^N E_π V(x_N) − E V(x_0)]
    with the expectation an explicit sum over every trajectory (x_0, u_0, …, x_N) weighted by
    ρ(x_0) Π_t π(u_t|x_t) P(x_{t+1}|x_t, u_t); A(s, a) = bellman(c(s, a), Σ_t P(t|s,a) V(t)) − V(s)
    for the generic vector V."""
    zero = g.ring.zero
    advantage = [
        [
            bellman(c[s][a], sum((P[s][a][t] * value[t] for t in range(states)), zero), g)
            - value[s]
            for a in range(actions)
        ]
        for s in range(states)
    ]
    total = zero
    for first in range(states):
        paths = [(rho[first], [first], [])]
        for _ in range(horizon):
            paths = [
                (weight * new[path[-1]][a] * P[path[-1]][a][t], [*path, t], [*acts, a])
                for weight, path, acts in paths
                for a in range(actions)
                for t in range(states)
            ]
        for weight, path, acts in paths:
            discount = g.ring.one
            summed = zero
            for step in range(horizon):
                state, act = path[step], acts[step]
                summed += discount * (advantage[state][act] - c[state][act])
                discount *= g
            summed -= discount * value[path[-1]] - value[path[0]]
            total += weight * summed
    return total


ROUTES = ("resolvent", "trajectories")


def _performance_difference_symbolic(
    states: int,
    actions: int,
    horizon: int,
    *,
    bellman: Bellman = bellman_target,
    routes: tuple[str, ...] = ROUTES,
) -> Derivation:
    tables = _symbolic_tables(states, actions)
    transition, cost, policy, old_policy, initial, gamma = tables
    values = [sympy.Symbol(f"V_{s + 1}") for s in range(states)]
    symbols = sorted(
        set().union(*(sympy.sympify(x).free_symbols for x in _flatten(tables))) | {gamma, *values},
        key=str,
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
    # det_old · A^{π_k}(s, a) = bellman(det_old c(s, a), Σ_t P(t|s,a) det_old V_old(t)) − det_old V_old(s)
    advantage = [
        [
            bellman(
                det_old * c[s][a],
                sum((P[s][a][t] * value_old[t][0] for t in range(states)), algebra.ring.zero),
                g,
            )
            - value_old[s][0]
            for a in range(actions)
        ]
        for s in range(states)
    ]
    expected = [[sum(new[s][a] * advantage[s][a] for a in range(actions))] for s in range(states)]
    # C(π) − C(π_k) and (1 − γ)⁻¹ d_π E_π A with d_π = (1 − γ) ρ adj_new / det_new, both
    # multiplied by det_new · det_old (the (1 − γ) factors cancel):
    difference = mul(rho, value_new)[0][0] * det_old - mul(rho, value_old)[0][0] * det_new
    visitation_sum = mul(rho, mul(adj_new, expected))[0][0]
    result = Derivation(
        "performance-difference-symbolic",
        "Relative performance identity on a finite MDP (fully symbolic, two independent routes)",
        "C(pi) - C(pi_k) = E_pi sum_t gamma^t A^{pi_k} = (1 - gamma)^-1 E_{x ~ d_pi, u ~ pi} A^{pi_k}",
        SOURCE,
        {"states": states, "actions": actions, "horizon": horizon},
        premises=[
            *PREMISES,
            "trajectory route: Pr(x_0, u_0, ..., x_N) = rho(x_0) prod_t pi(u_t|x_t) "
            "P(x_{t+1}|x_t, u_t); C(pi) = lim_N E sum_{t<N} gamma^t c_t, and "
            "gamma^N E V(x_N) -> 0 (|V| bounded, gamma < 1): this limit is not checked by sympy",
        ],
        covers=(
            "every value of the symbolic probabilities, costs, policies and gamma at the sizes "
            f"shown; the trajectory route at horizons N = 1..{horizon} (for any V)"
        ),
    )
    result.steps.append(
        Step(
            "Bellman route: (I - gamma P_pi)^-1 = adj / det; C(pi) - C(pi_k) and the visitation "
            "form (1 - gamma)^-1 d_pi E_pi A^{pi_k}, both multiplied by det_new det_old"
        )
    )
    result.steps.append(
        Step(
            "trajectory route (independent: no resolvent): for every trajectory of length N, "
            "weighted by its probability, sum_t gamma^t A(x_t, u_t) telescopes in expectation to "
            "sum_t gamma^t c_t + gamma^N V(x_N) - V(x_0), for a generic vector V (so for V^{pi_k}, "
            "with E V^{pi_k}(x_0) = C(pi_k)); N -> infinity gives C(pi) - C(pi_k)"
        )
    )
    value = [lift(v) for v in values]
    residuals = [(difference - visitation_sum).as_expr()] if "resolvent" in routes else []
    if "trajectories" in routes:
        residuals += [
            _trajectory_residual(P, c, new, rho[0], value, g, states, actions, N, bellman).as_expr()
            for N in range(1, horizon + 1)
        ]
    return conclude(result, residuals, domain=_mdp_domain(states, actions))


@derivation(
    "performance-difference-symbolic",
    "relative performance identity with symbolic probabilities, costs, policies and gamma: "
    "Bellman-resolvent route and trajectory route",
    states=2,
    actions=2,
    horizon=3,
)
def performance_difference_symbolic(states: int, actions: int, horizon: int) -> Derivation:
    return _performance_difference_symbolic(states, actions, horizon)


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
    transition, cost, policy, old_policy, initial, gamma = _symbolic_tables(states, actions)
    difference, _, visitation, expected_advantage = _identity_terms(
        transition, cost, policy, old_policy, initial, gamma, states, actions
    )
    wrong = (visitation * expected_advantage)[0, 0]  # E_{x ~ d} A without (1 − γ)⁻¹
    result = Derivation(
        "refute-performance-difference-without-normalisation",
        "Refutation: the visitation form without the factor (1 - gamma)^-1",
        "C(pi) - C(pi_k) = E_{x ~ d_pi, u ~ pi} A^{pi_k} (wrong)",
        SOURCE,
        {"states": states, "actions": actions},
        premises=PREMISES,
        domain=MDP_DOMAIN,
    )
    result.steps.append(Step("evaluate both sides exactly at random MDPs of the domain"))
    return conclude(result, [difference - wrong], domain=_mdp_domain(states, actions))
