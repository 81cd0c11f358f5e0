"""Score functions and Fisher matrices of tabular policies.

* direct (θ = the table π[s, a]): ``∂ log π(u|x)/∂π[s, a] = 1[(x, u) = (s, a)] / π[s, a]``;
  Fisher ``F = E_{x ~ d, u ~ π}[∇log π ∇log πᵀ] = diag(d(s) / π[s, a])`` — exact (Fractions);
* softmax (θ = logits): ``∂ log π(u|x)/∂θ[s, a] = 1[x = s] (1[u = a] − π(a|s))``; Fisher
  ``⊕_s d(s) (diag π_s − π_s π_sᵀ)`` — certified (Enclosures;
  see :func:`pgverify.mdp.trpo.softmax_fisher`).

Flattening is row-major over (s, a).  (Kakade 2002, "A natural policy gradient".)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pgverify.enclosure import Enclosure
from pgverify.errors import InvalidProblemError
from pgverify.mdp import validation
from pgverify.mdp.evaluation import DEFAULT_BITS, BallArithmetic, RationalArithmetic, solve_bellman
from pgverify.mdp.gradients import softmax_rows
from pgverify.mdp.model import FiniteMDP, Table


def _direct_score(mdp: FiniteMDP, pi: Table, state: int, action: int) -> list[Fraction]:
    if pi[state][action] == 0:
        raise InvalidProblemError(
            f"log pi(a|s) is -inf at (state, action) = ({state}, {action}): policy[{state}]"
            f"[{action}] = 0; expected pi(action|state) > 0"
        )
    flat = [Fraction(0)] * (mdp.states * mdp.actions)
    flat[state * mdp.actions + action] = 1 / pi[state][action]
    return flat


def direct_score(mdp: FiniteMDP, policy: Any, state: int, action: int) -> list[Fraction]:
    """∇_π log π(action|state), flattened to S·A Fractions (exact); needs π(action|state) > 0."""
    mdp = validation.finite_mdp(mdp)
    pi = validation.policy(mdp, policy)
    return _direct_score(mdp, pi, validation.state(mdp, state), validation.action(mdp, action))


def direct_fisher(mdp: FiniteMDP, policy: Any) -> list[list[Fraction]]:
    """``E_{x ~ d^π, u ~ π}[∇log π ∇log πᵀ]`` for the direct parametrisation, an (S·A, S·A)
    table of Fractions, by summing the score outer products exactly (entries with π(a|s) = 0
    contribute nothing)."""
    mdp = validation.finite_mdp(mdp)
    pi = validation.policy(mdp, policy)
    evaluation = solve_bellman(mdp, pi, RationalArithmetic())
    d = evaluation.arithmetic.export_vector(evaluation.visitation())
    size = mdp.states * mdp.actions
    fisher = [[Fraction(0)] * size for _ in range(size)]
    for s in range(mdp.states):
        for a in range(mdp.actions):
            if pi[s][a] == 0:
                continue
            score = _direct_score(mdp, pi, s, a)
            weight = d[s] * pi[s][a]
            for i in range(size):
                if score[i]:
                    for j in range(size):
                        fisher[i][j] += weight * score[i] * score[j]
    return fisher


def softmax_score(logits: Any, state: int, action: int, bits: int = DEFAULT_BITS) -> Enclosure:
    """∇_θ log π_θ(action|state) of the tabular softmax for an (S, A) table of logits,
    flattened: an Enclosure of shape (S·A,)."""
    theta = validation.logits(logits)
    states, actions = len(theta), len(theta[0])
    s = validation.integer(state, "state", minimum=0, maximum=states - 1)
    a = validation.integer(action, "action", minimum=0, maximum=actions - 1)
    working_bits = validation.bits(bits)
    policy = softmax_rows(theta, working_bits)
    ar = BallArithmetic(working_bits)
    flat: list[Any] = [0] * (states * actions)
    with ar.context():
        for b in range(actions):
            flat[s * actions + b] = (1 if b == a else 0) - policy[s][b]
        return ar.export_vector(flat)
