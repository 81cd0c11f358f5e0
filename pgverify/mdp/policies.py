"""Score functions and Fisher matrices of tabular policies.

* direct (θ = the table π[s, a]): ``∂ log π(u|x)/∂π[s, a] = 1[(x, u) = (s, a)] / π[s, a]``;
  Fisher ``F = E_{x ~ d, u ~ π}[∇log π ∇log πᵀ] = diag(d(s) / π[s, a])`` — exact (Fractions);
* softmax (θ = logits): ``∂ log π(u|x)/∂θ[s, a] = 1[x = s] (1[u = a] − π(a|s))``; Fisher
  ``⊕_s d(s) (diag π_s − π_s π_sᵀ)`` — certified balls
  (see :func:`pgverify.mdp.trpo.softmax_fisher`).

Flattening is row-major over (s, a).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pgverify.errors import InvalidProblemError
from pgverify.mdp.evaluation import evaluate
from pgverify.mdp.gradients import softmax_policy
from pgverify.mdp.model import FiniteMDP, tabular_policy


def direct_score(mdp: FiniteMDP, policy: Any, state: int, action: int) -> list[Fraction]:
    """∇_π log π(action|state), flattened (exact); needs π(action|state) > 0."""
    pi = tabular_policy(mdp, policy)
    if pi[state][action] == 0:
        raise InvalidProblemError(
            f"log pi(a|s) is -inf at (s, a) = ({state}, {action}): pi(a|s) = 0"
        )
    flat = [Fraction(0)] * (mdp.states * mdp.actions)
    flat[state * mdp.actions + action] = 1 / pi[state][action]
    return flat


def direct_fisher(mdp: FiniteMDP, policy: Any) -> list[list[Fraction]]:
    """``E_{x ~ d^π, u ~ π}[∇log π ∇log πᵀ]`` for the direct parametrisation, by summing the
    score outer products exactly (entries with π(a|s) = 0 contribute nothing)."""
    pi = tabular_policy(mdp, policy)
    d = evaluate(mdp, pi).visitation()
    size = mdp.states * mdp.actions
    fisher = [[Fraction(0)] * size for _ in range(size)]
    for s in range(mdp.states):
        for a in range(mdp.actions):
            if pi[s][a] == 0:
                continue
            score = direct_score(mdp, pi, s, a)
            weight = d[s] * pi[s][a]
            for i in range(size):
                if score[i]:
                    for j in range(size):
                        fisher[i][j] += weight * score[i] * score[j]
    return fisher


def softmax_score(logits: Any, state: int, action: int, bits: int = 212) -> list[Any]:
    """∇_θ log π_θ(action|state) of the tabular softmax, flattened (balls)."""
    policy = softmax_policy(logits, bits)
    actions = len(policy[0])
    flat: list[Any] = [0] * (len(policy) * actions)
    for b in range(actions):
        flat[state * actions + b] = (1 if b == action else 0) - policy[state][b]
    return flat
