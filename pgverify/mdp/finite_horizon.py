"""Finite-horizon policy gradients, exactly: the gradient of C_N and three score-function
forms, whose exact expectations (by trajectory enumeration) must equal it.

``C_N(π) = E Σ_{t=0}^{N} γ^t c(x_t, u_t)``, direct parametrisation (θ = the table π[s, a];
``∂ log π(u|x)/∂π[s, a] = 1[(x, u) = (s, a)] / π[s, a]``, so π > 0 is required):

* V0 (the whole-trajectory likelihood ratio):  ``(Σ_t γ^t c_t)(Σ_k ∇log π(u_k|x_k))``;
* V1 (REINFORCE, Williams 1992):
  ``Σ_t γ^t (Σ_{k≥t} γ^{k−t} c_k − b(x_t)) ∇log π(u_t|x_t)`` (b = 0 or any function of the
  state: unbiased either way);
* V2 (actor-critic, Sutton et al. 2000):  ``Σ_t γ^t Q_t(x_t, u_t) ∇log π(u_t|x_t)`` with the
  finite-horizon ``Q_t(x, u) = c(x, u) + γ Σ_y P(y|x, u) V_{t+1}(y)``, ``V_{N+1} = 0``.

The three means agree with ∇C_N along directions tangent to the simplex (Σ_a δπ[s, a] = 0), the
directions a policy can move in.  Off the simplex they differ: V0 differentiates the density of
the whole trajectory, whose future-action factors then no longer sum to 1.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from pgverify.errors import InvalidProblemError
from pgverify.mdp import validation
from pgverify.mdp.enumeration import Trajectory
from pgverify.mdp.model import FiniteMDP, Table

FORMS = ("V0", "V1", "V2")

Gradient = list[list[Fraction]]


def finite_horizon_gradient(mdp: FiniteMDP, policy: Any, horizon: int) -> Gradient:
    """∂C_N/∂π[s, a] by forward-mode differentiation of the state-law recursion: an (S, A)
    table of Fractions (exact)."""
    mdp = validation.finite_mdp(mdp)
    pi = validation.policy(mdp, policy)
    horizon = validation.horizon(horizon)
    S, A = mdp.states, mdp.actions
    P_pi = [
        [sum(pi[s][a] * mdp.transitions[s][a][t] for a in range(A)) for t in range(S)]
        for s in range(S)
    ]
    c_pi = [sum(pi[s][a] * mdp.costs[s][a] for a in range(A)) for s in range(S)]
    gradient = [[Fraction(0)] * A for _ in range(S)]
    for s0 in range(S):
        for a0 in range(A):
            law = list(mdp.initial)
            derivative = [Fraction(0)] * S
            total = Fraction(0)
            for t in range(horizon + 1):
                stage = sum(derivative[x] * c_pi[x] for x in range(S)) + law[s0] * mdp.costs[s0][a0]
                total += mdp.gamma**t * stage
                following = [sum(law[x] * P_pi[x][y] for x in range(S)) for y in range(S)]
                derivative = [
                    sum(derivative[x] * P_pi[x][y] for x in range(S))
                    + law[s0] * mdp.transitions[s0][a0][y]
                    for y in range(S)
                ]
                law = following
            gradient[s0][a0] = total
    return gradient


def finite_horizon_q(mdp: FiniteMDP, policy: Any, horizon: int) -> list[list[list[Fraction]]]:
    """``Q_t(x, u)`` for t = 0..N by the backward recursion (exact)."""
    mdp = validation.finite_mdp(mdp)
    return _finite_horizon_q(mdp, validation.policy(mdp, policy), validation.horizon(horizon))


def _finite_horizon_q(mdp: FiniteMDP, pi: Table, horizon: int) -> list[list[list[Fraction]]]:
    S, A = mdp.states, mdp.actions
    value_next = [Fraction(0)] * S
    tables: list[list[list[Fraction]]] = []
    for _ in range(horizon + 1):
        q = [
            [
                mdp.costs[x][u]
                + mdp.gamma * sum(mdp.transitions[x][u][y] * value_next[y] for y in range(S))
                for u in range(A)
            ]
            for x in range(S)
        ]
        tables.append(q)
        value_next = [sum(pi[x][u] * q[x][u] for u in range(A)) for x in range(S)]
    return tables[::-1]


def _score(mdp: FiniteMDP, pi: Table, state: int, action: int) -> list[Fraction]:
    flat = [Fraction(0)] * (mdp.states * mdp.actions)
    flat[state * mdp.actions + action] = 1 / pi[state][action]
    return flat


def score_function_estimator(
    mdp: FiniteMDP,
    policy: Any,
    horizon: int,
    form: str,
    baseline: Callable[[int, int], Fraction] | None = None,
) -> Callable[[tuple[Trajectory, ...]], list[Fraction]]:
    """The single-trajectory estimator of ∇C_N of the given ``form`` ("V0", "V1", "V2"), as a
    statistic for :func:`pgverify.mdp.exact_moments` (flattened row-major over (s, a)); needs
    π(a|s) > 0 everywhere.  ``baseline(t, x)`` (a number) is subtracted from the reward-to-go
    in V1."""
    mdp = validation.finite_mdp(mdp)
    pi = validation.policy(mdp, policy)
    horizon = validation.horizon(horizon)
    form = validation.choice(form, "form", FORMS)
    if baseline is not None:
        baseline = validation.function(baseline, "baseline")
        if form != "V1":
            raise InvalidProblemError(
                f"baseline is used by form 'V1' only, got form {form!r} with a baseline; expected "
                "form='V1' or baseline=None"
            )
    zeros = [(s, a) for s, row in enumerate(pi) for a, p in enumerate(row) if p == 0]
    if zeros:
        raise InvalidProblemError(
            f"policy[{zeros[0][0]}][{zeros[0][1]}] = 0: score-function estimators need "
            "pi(a|s) > 0 for every (s, a) (log pi is -inf otherwise)"
        )
    q_tables = _finite_horizon_q(mdp, pi, horizon) if form == "V2" else None
    size = mdp.states * mdp.actions
    gamma = mdp.gamma

    def estimate(batch: tuple[Trajectory, ...]) -> list[Fraction]:
        trajectory = _single_trajectory(mdp, batch, horizon)
        costs = [mdp.costs[x][u] for x, u in trajectory]
        scores = [_score(mdp, pi, x, u) for x, u in trajectory]
        total = [Fraction(0)] * size
        if form == "V0":
            discounted = sum(gamma**t * c for t, c in enumerate(costs))
            summed = [sum(score[i] for score in scores) for i in range(size)]
            return [discounted * s for s in summed]
        for t, (x, u) in enumerate(trajectory):
            if form == "V1":
                weight = sum(gamma ** (k - t) * costs[k] for k in range(t, len(costs)))
                if baseline is not None:
                    weight -= validation.exact_number(baseline(t, x), "baseline(t, x)")
            else:
                weight = q_tables[t][x][u]
            for i in range(size):
                total[i] += gamma**t * weight * scores[t][i]
        return total

    return estimate


def _single_trajectory(mdp: FiniteMDP, batch: Any, horizon: int) -> Trajectory:
    """The trajectory of a batch of one, of horizon ``horizon``."""
    if not isinstance(batch, tuple) or len(batch) != 1:
        raise InvalidProblemError(
            f"a score-function estimator takes a batch of one trajectory (exact_moments with "
            f"batch=1), got {validation.shown(batch)}"
        )
    trajectory = validation.trajectory(mdp, batch[0], "batch[0]")
    if len(trajectory) != horizon + 1:
        raise InvalidProblemError(
            f"batch[0] has {len(trajectory)} steps; expected horizon + 1 = {horizon + 1}"
        )
    return trajectory
