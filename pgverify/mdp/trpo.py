"""TRPO's pieces on finite MDPs: the surrogate, its gradient factor, the expected KL and its
Hessian (= the Fisher matrix), and the natural gradient of the tabular softmax policy.

With ``d_k`` the normalised discounted visitation of π_k (``(1 − γ) Σ_t γ^t Pr(x_t = ·)``):

* surrogate (Schulman et al. 2015; seed, with the erratum's ratio π_θ/π_θk):
  ``L_{θk}(θ) = E_{x ~ d_k, u ~ π_k}[π_θ(u|x)/π_k(u|x) A^{π_k}(x, u)]``
  ``= Σ_x d_k(x) Σ_u π_θ(u|x) A^{π_k}(x, u)``;
  its gradient at θ_k is ``(1 − γ) ∇C(θ_k)`` — the factor the normalisation of d dictates
  (along every direction tangent to the simplex; the seed's "the same as ∇C" holds for the
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
"""

from __future__ import annotations

from typing import Any

from flint import arb, arb_mat, arb_series, ctx

from pgverify.mdp.evaluation import BallArithmetic, evaluate
from pgverify.mdp.gradients import softmax_gradient, softmax_policy
from pgverify.mdp.model import FiniteMDP

BITS = 212


def surrogate(mdp: FiniteMDP, old_policy: Any, policy: Any, arithmetic: Any = None) -> Any:
    """``L_{θk}(θ) = Σ_x d_k(x) Σ_u π_θ(u|x) A^{π_k}(x, u)`` (exact for rational policies)."""
    old = evaluate(mdp, old_policy, arithmetic)
    ar = old.arithmetic
    d = old.native_visitation()
    total = ar.scalar(0)
    for s in range(mdp.states):
        for a in range(mdp.actions):
            total += d[s] * ar.scalar(policy[s][a]) * old.advantage(s, a)
    return ar.export(total)


def surrogate_gradient_direct(mdp: FiniteMDP, old_policy: Any) -> list[list[Any]]:
    """``∂L/∂π[s, a] = d_k(s) A^{π_k}(s, a)`` at θ = θ_k (direct parametrisation, exact)."""
    old = evaluate(mdp, old_policy)
    d = old.native_visitation()
    return [
        [old.arithmetic.export(d[s] * old.advantage(s, a)) for a in range(mdp.actions)]
        for s in range(mdp.states)
    ]


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


def expected_kl_hessian(
    mdp: FiniteMDP, logits: Any, *, reverse: bool = False, bits: int = BITS
) -> arb_mat:
    """The Hessian of ``E_{x ~ d_k} KL(π_k ‖ π_θ)`` (or of the reversed KL) at θ = θ_k, over the
    logits θ[s, a] flattened row-major; certified, by Taylor-mode second derivatives."""
    S, A = mdp.states, mdp.actions
    with ctx.workprec(bits):
        policy = softmax_policy(logits, bits)
        d = evaluate(mdp, policy, BallArithmetic(bits)).native_visitation()
        size = S * A
        hessian = arb_mat(size, size)
        for s in range(S):
            theta = [BallArithmetic(bits).scalar(v) for v in logits[s]]

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
        return hessian


def expected_kl(
    mdp: FiniteMDP, old_logits: Any, logits: Any, *, reverse: bool = False, bits: int = BITS
) -> arb:
    """``E_{x ~ d_k} KL(π_k(·|x) ‖ π_θ(·|x))`` (``reverse``: ``KL(π_θ ‖ π_k)``), certified.  The
    two directions share their Hessian at θ_k but differ away from it — TRPO constrains the
    first (the expectation is over π_k's data)."""
    with ctx.workprec(bits):
        old = softmax_policy(old_logits, bits)
        new = softmax_policy(logits, bits)
        d = evaluate(mdp, old, BallArithmetic(bits)).native_visitation()
        total = arb(0)
        for s in range(mdp.states):
            p, q = (new[s], old[s]) if reverse else (old[s], new[s])
            total += d[s] * sum(
                (p_a * (p_a.log() - q_a.log()) for p_a, q_a in zip(p, q, strict=True)), arb(0)
            )
        return total


def softmax_fisher(mdp: FiniteMDP, logits: Any, bits: int = BITS) -> arb_mat:
    """``F = E_{x ~ d, u ~ π}[∇log π ∇log πᵀ]`` from score outer products (certified)."""
    S, A = mdp.states, mdp.actions
    with ctx.workprec(bits):
        policy = softmax_policy(logits, bits)
        d = evaluate(mdp, policy, BallArithmetic(bits)).native_visitation()
        fisher = arb_mat(S * A, S * A)
        for s in range(S):
            for u in range(A):
                score = [(1 if b == u else 0) - policy[s][b] for b in range(A)]
                weight = d[s] * policy[s][u]
                for a in range(A):
                    for b in range(A):
                        fisher[s * A + a, s * A + b] += weight * score[a] * score[b]
        return fisher


def softmax_natural_gradient(mdp: FiniteMDP, logits: Any, bits: int = BITS) -> list[list[arb]]:
    """``A^π(s, a) / (1 − γ)``: the softmax natural gradient (a solution of ``F x = ∇C``)."""
    with ctx.workprec(bits):
        policy = softmax_policy(logits, bits)
        ar = BallArithmetic(bits)
        evaluation = evaluate(mdp, policy, ar)
        factor = 1 - ar.scalar(mdp.gamma)
        return [
            [evaluation.advantage(s, a) / factor for a in range(mdp.actions)]
            for s in range(mdp.states)
        ]


def fisher_times(fisher: arb_mat, vector: list[list[arb]]) -> list[arb]:
    flat = [v for row in vector for v in row]
    column = arb_mat(len(flat), 1, flat)
    product = fisher * column
    return [product[i, 0] for i in range(len(flat))]


__all__ = [
    "expected_kl",
    "expected_kl_hessian",
    "fisher_times",
    "softmax_fisher",
    "softmax_gradient",
    "softmax_natural_gradient",
    "surrogate",
    "surrogate_gradient_direct",
]
