"""TRPO's pieces on finite MDPs: the surrogate, its gradient factor, the expected KL and its
Hessian (= the Fisher matrix), and the natural gradient of the tabular softmax policy.

With ``d_k`` the normalised discounted visitation of π_k (``(1 − γ) Σ_t γ^t Pr(x_t = ·)``):

* surrogate (Schulman, Levine, Moritz, Jordan & Abbeel 2015, with the ratio π_θ/π_θk):
  ``L_{θk}(θ) = E_{x ~ d_k, u ~ π_k}[π_θ(u|x)/π_k(u|x) A^{π_k}(x, u)]``
  ``= Σ_x d_k(x) Σ_u π_θ(u|x) A^{π_k}(x, u)``;
  its gradient at θ_k is ``(1 − γ) ∇C(θ_k)`` — the factor the normalisation of d dictates
  (along every direction tangent to the simplex; "the same as ∇C" holds only for the
  unnormalised visitation);
* expected KL ``E_{x ~ d_k} KL(π_k(·|x) ‖ π_θ(·|x))``; its Hessian at θ_k is the Fisher matrix
  ``F = E_{x ~ d_k, u ~ π_k}[∇log π ∇log πᵀ]`` (Kakade 2002) — for softmax,
  ``F = ⊕_s d_k(s) (diag π_s − π_s π_sᵀ)``;
* natural gradient of the tabular softmax (Kakade 2002; Agarwal et al. 2021, Lemma 15):
  ``x = A^{π}/(1 − γ)`` solves ``F x = ∇C`` (F is singular; x is its minimum-norm solution up to
  per-state shifts), so NPG moves each logit along its advantage: ``θ ← θ − η A^{π}/(1 − γ)``.

Hessians are computed rigorously by Taylor-mode arithmetic (``arb_series``): second derivatives
of ``t ↦ KL(θ_k + t v)``, entries by polarisation — an independent route from the Fisher's
closed form.

Exact results are Fractions; certified ones :class:`pgverify.Enclosure` objects.
"""

from __future__ import annotations

from typing import Any

from flint import arb, arb_mat, arb_series

from pgverify.enclosure import Enclosure
from pgverify.errors import InvalidProblemError
from pgverify.mdp import validation
from pgverify.mdp.evaluation import (
    DEFAULT_BITS,
    BallArithmetic,
    RationalArithmetic,
    arithmetic_for_policies,
    solve_bellman,
)
from pgverify.mdp.gradients import softmax_rows
from pgverify.mdp.model import FiniteMDP


def surrogate(mdp: FiniteMDP, old_policy: Any, policy: Any, *, bits: int = DEFAULT_BITS) -> Any:
    """``L_{θk}(θ) = Σ_x d_k(x) Σ_u π_θ(u|x) A^{π_k}(x, u)``: a Fraction for exact policies, an
    Enclosure when either policy is an Enclosure (e.g. a softmax policy)."""
    mdp = validation.finite_mdp(mdp)
    ar, (old_table, table) = arithmetic_for_policies(
        mdp, {"old_policy": old_policy, "policy": policy}, bits
    )
    old = solve_bellman(mdp, old_table, ar)
    with ar.context():
        d = old.visitation()
        total = ar.scalar(0)
        for s in range(mdp.states):
            for a in range(mdp.actions):
                total += d[s] * ar.scalar(table[s][a]) * old.advantage(s, a)
        return ar.export(total)


def surrogate_gradient_direct(mdp: FiniteMDP, old_policy: Any) -> list[list[Any]]:
    """``∂L/∂π[s, a] = d_k(s) A^{π_k}(s, a)`` at θ = θ_k (direct parametrisation): an (S, A)
    table of Fractions."""
    mdp = validation.finite_mdp(mdp)
    table = validation.policy(mdp, old_policy, "old_policy")
    ar = RationalArithmetic()
    old = solve_bellman(mdp, table, ar)
    d = old.visitation()
    return ar.export_table(
        [[d[s] * old.advantage(s, a) for a in range(mdp.actions)] for s in range(mdp.states)]
    )


def _kl_series(p: list[arb], logits: list[arb], direction: list[arb], reverse: bool) -> arb_series:
    """``t ↦ KL(p ‖ softmax(θ + t v))`` (or the reverse KL) as a Taylor series to order 2."""
    moved = [arb_series([theta, v], prec=3) for theta, v in zip(logits, direction, strict=True)]
    weights = [m.exp() for m in moved]
    total = weights[0]
    for w in weights[1:]:
        total = total + w
    q = [w / total for w in weights]
    series = arb_series([0], prec=3)
    for p_a, q_a in zip(p, q, strict=True):
        if reverse:
            series = series + q_a * (q_a.log() - arb_series([p_a.log()], prec=3))
        else:
            series = series + arb_series([p_a * p_a.log()], prec=3) - q_a.log() * p_a
    return series


def _softmax_visitation(mdp: FiniteMDP, policy: list[list[arb]], ar: BallArithmetic) -> list[arb]:
    return solve_bellman(mdp, policy, ar).visitation()


def expected_kl_hessian(
    mdp: FiniteMDP, logits: Any, *, reverse: bool = False, bits: int = DEFAULT_BITS
) -> Enclosure:
    """The Hessian of ``E_{x ~ d_k} KL(π_k ‖ π_θ)`` (or of the reversed KL) at θ = θ_k, over the
    logits θ[s, a] flattened row-major: an Enclosure of shape (S·A, S·A), by Taylor-mode second
    derivatives."""
    mdp = validation.finite_mdp(mdp)
    theta_table = validation.logits(logits, mdp=mdp)
    reverse = validation.flag(reverse, "reverse")
    working_bits = validation.bits(bits)
    ar = BallArithmetic(working_bits)
    S, A = mdp.states, mdp.actions
    policy = softmax_rows(theta_table, working_bits)
    d = _softmax_visitation(mdp, policy, ar)
    with ar.context():
        size = S * A
        hessian = arb_mat(size, size)
        for s in range(S):
            # softmax is shift-invariant: shifting by the row maximum keeps exp from overflowing
            top = max(theta_table[s])
            theta = [ar.scalar(v - top) for v in theta_table[s]]

            def second(direction: list[int], s: int = s, theta: list[arb] = theta) -> arb:
                series = _kl_series(policy[s], theta, [arb(v) for v in direction], reverse)
                return 2 * series.coeffs()[2] if len(series.coeffs()) > 2 else arb(0)

            diagonal = [second([1 if b == a else 0 for b in range(A)]) for a in range(A)]
            for a in range(A):
                for b in range(A):
                    if a == b:
                        entry = diagonal[a]
                    else:
                        both = second([1 if c in (a, b) else 0 for c in range(A)])
                        entry = (both - diagonal[a] - diagonal[b]) / 2
                    hessian[s * A + a, s * A + b] = d[s] * entry
        return Enclosure(hessian)


def expected_kl(
    mdp: FiniteMDP, old_logits: Any, logits: Any, *, reverse: bool = False, bits: int = DEFAULT_BITS
) -> Enclosure:
    """``E_{x ~ d_k} KL(π_k(·|x) ‖ π_θ(·|x))`` (``reverse``: ``KL(π_θ ‖ π_k)``), a scalar
    Enclosure.  The two directions share their Hessian at θ_k but differ away from it — TRPO
    constrains the first (the expectation is over π_k's data)."""
    mdp = validation.finite_mdp(mdp)
    old_theta = validation.logits(old_logits, "old_logits", mdp=mdp)
    new_theta = validation.logits(logits, mdp=mdp)
    reverse = validation.flag(reverse, "reverse")
    working_bits = validation.bits(bits)
    ar = BallArithmetic(working_bits)
    old = softmax_rows(old_theta, working_bits)
    new = softmax_rows(new_theta, working_bits)
    d = _softmax_visitation(mdp, old, ar)
    with ar.context():
        total = arb(0)
        for s in range(mdp.states):
            p, q = (new[s], old[s]) if reverse else (old[s], new[s])
            total += d[s] * sum(
                (p_a * (p_a.log() - q_a.log()) for p_a, q_a in zip(p, q, strict=True)), arb(0)
            )
        return ar.export(total)


def softmax_fisher(mdp: FiniteMDP, logits: Any, bits: int = DEFAULT_BITS) -> Enclosure:
    """``F = E_{x ~ d, u ~ π}[∇log π ∇log πᵀ]`` from score outer products: an Enclosure of
    shape (S·A, S·A)."""
    mdp = validation.finite_mdp(mdp)
    theta = validation.logits(logits, mdp=mdp)
    working_bits = validation.bits(bits)
    ar = BallArithmetic(working_bits)
    S, A = mdp.states, mdp.actions
    policy = softmax_rows(theta, working_bits)
    d = _softmax_visitation(mdp, policy, ar)
    with ar.context():
        fisher = arb_mat(S * A, S * A)
        for s in range(S):
            for u in range(A):
                score = [(1 if b == u else 0) - policy[s][b] for b in range(A)]
                weight = d[s] * policy[s][u]
                for a in range(A):
                    for b in range(A):
                        fisher[s * A + a, s * A + b] += weight * score[a] * score[b]
        return Enclosure(fisher)


def softmax_natural_gradient(mdp: FiniteMDP, logits: Any, bits: int = DEFAULT_BITS) -> Enclosure:
    """``A^π(s, a) / (1 − γ)``: the softmax natural gradient (a solution of ``F x = ∇C``), an
    Enclosure of shape (S, A)."""
    mdp = validation.finite_mdp(mdp)
    theta = validation.logits(logits, mdp=mdp)
    working_bits = validation.bits(bits)
    ar = BallArithmetic(working_bits)
    evaluation = solve_bellman(mdp, softmax_rows(theta, working_bits), ar)
    with ar.context():
        factor = 1 - ar.scalar(mdp.gamma)
        return ar.export_table(
            [
                [evaluation.advantage(s, a) / factor for a in range(mdp.actions)]
                for s in range(mdp.states)
            ]
        )


def fisher_times(fisher: Enclosure, vector: Enclosure, bits: int = DEFAULT_BITS) -> Enclosure:
    """``F x`` for an (S·A, S·A) Fisher enclosure and an (S, A) table ``x`` (an Enclosure, e.g.
    :func:`softmax_natural_gradient`), flattened row-major and reshaped back: an Enclosure of
    shape (S, A), to compare with :func:`pgverify.mdp.softmax_gradient` (products at ``bits``)."""
    for name, value in (("fisher", fisher), ("vector", vector)):
        if not isinstance(value, Enclosure) or not value.is_matrix:
            raise InvalidProblemError(
                f"{name} must be a matrix Enclosure, got {validation.shown(value)}"
            )
    working_bits = validation.bits(bits)
    states, actions = vector.shape
    size = states * actions
    if fisher.shape != (size, size):
        raise InvalidProblemError(
            f"fisher has shape {fisher.shape}; expected ({size}, {size}) for a vector of shape "
            f"{vector.shape}"
        )
    entries = [x for row in vector.ball.tolist() for x in row]
    with BallArithmetic(working_bits).context():
        product = fisher.ball * arb_mat(size, 1, entries)
    return Enclosure(arb_mat(states, actions, [product[i, 0] for i in range(size)]))


__all__ = [
    "expected_kl",
    "expected_kl_hessian",
    "fisher_times",
    "softmax_fisher",
    "softmax_natural_gradient",
    "surrogate",
    "surrogate_gradient_direct",
]
