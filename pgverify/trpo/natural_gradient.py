"""The natural gradient three ways — on LQR and on finite-MDP softmax policies.

LQR (Kakade 2001; Fazel et al. 2018, §4):

1. closed form ``∇C(K) Σ_K⁻¹ = 2 E_K`` (:meth:`pgverify.LQR.natural_gradient`);
2. explicit Fisher solve: for the Gaussian policy ``N(−Kx, σI)`` with state second moment Σ_K,
   ``F = σ⁻¹ (Σ_K ⊗ I_m)`` (:func:`pgverify.trpo.fisher.linear_gaussian_fisher`) and
   ``F⁻¹ vec(∇C) = σ vec(∇C Σ_K⁻¹)``, so the natural gradient is ``σ⁻¹ F⁻¹ vec(∇C)``;
3. conjugate gradient on ``F x = vec(∇C)`` with the Fisher-vector products
   ``v ↦ σ⁻¹ vec(V Σ_K)``, m·n iterations (CG's finite termination), divided by σ.

σ cancels from routes 2 and 3: any positive variance gives the same natural gradient.  All three
run at the same mpmath precision; see ``docs/trpo.md`` for their measured agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx

from pgverify.errors import InvalidProblemError
from pgverify.lqr import LQR
from pgverify.mdp import validation as mdp_validation
from pgverify.mdp.evaluation import evaluate
from pgverify.mdp.gradients import softmax_gradient, softmax_policy
from pgverify.mdp.trpo import softmax_fisher, softmax_natural_gradient
from pgverify.trpo.conjugate_gradient import conjugate_gradient_run
from pgverify.trpo.fisher import (
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product_from_moment,
    softmax_fisher_vector_product,
)
from pgverify.trpo.numbers import MAXIMUM_DIGITS, count, field_for, positive_scalar, unvec, vec
from pgverify.trpo.step import natural_direction


@dataclass(frozen=True)
class NaturalGradientRoutes:
    """The three (m, n) natural gradients (object arrays of mpf) and the CG steps taken."""

    closed_form: np.ndarray
    fisher_solve: np.ndarray
    conjugate_gradient: np.ndarray
    conjugate_gradient_steps: int

    def largest_relative_gap(self) -> Any:
        """``max |route − closed form| / max(max |closed form|, 1)`` over routes 2 and 3."""
        return largest_gap(self.closed_form, (self.fisher_solve, self.conjugate_gradient))


def largest_gap(reference: np.ndarray, routes: tuple[np.ndarray, ...]) -> Any:
    """``max |route − reference| / max(max |reference|, 1)``: relative for a reference of size
    above 1, absolute below (a vanishing natural gradient — at an optimum — is compared
    absolutely, not against its own rounding)."""
    scale = max(max(abs(entry) for entry in reference.flat), mpmath.mpf(1))
    return max(
        max(abs(a - b) for a, b in zip(route.flat, reference.flat, strict=True)) / scale
        for route in routes
    )


def lqr_natural_gradient_three_ways(
    problem: Any, K: Any, *, sigma: Any = 1, digits: int = 50
) -> NaturalGradientRoutes:
    """The natural gradient of ``problem`` (a :class:`pgverify.LQR`) at the stabilising gain K,
    by the closed form, the explicit Fisher solve and CG with Fisher-vector products, each at
    ``digits`` decimal digits (tier high-precision).  ``sigma`` is the policy variance of the
    Fisher matrix (it cancels)."""
    if not isinstance(problem, LQR):
        raise InvalidProblemError(
            f"problem must be a pgverify.LQR, got {type(problem).__name__} {problem!r:.60}"
        )
    field = field_for(count(digits, "digits", minimum=1, maximum=MAXIMUM_DIGITS))
    with field.context():
        variance = positive_scalar(field, sigma, "sigma")
        covariance = field.array(problem.state_covariance(K, precision=digits), "Sigma_K", 2)
        gradient = field.array(problem.gradient(K, precision=digits), "grad C", 2)
        closed = field.array(problem.natural_gradient(K, precision=digits), "natural", 2)
        m, n = gradient.shape
        flat_gradient = vec(gradient)
        fisher = linear_gaussian_fisher(covariance, variance, m, precision=digits)
        solved = natural_direction(flat_gradient, fisher, precision=digits)
        run = conjugate_gradient_run(
            lambda v: linear_gaussian_fisher_vector_product_from_moment(
                covariance, variance, v, m, precision=digits
            ),
            flat_gradient,
            m * n,
            precision=digits,
        )
        return NaturalGradientRoutes(
            field.export(closed),
            field.export(unvec(solved, m, n) / variance),
            field.export(unvec(run.solution, m, n) / variance),
            run.steps,
        )


# ------------------------------------------------------------------------------------------------
# Finite MDPs, tabular softmax


@dataclass(frozen=True)
class SoftmaxNaturalGradientRoutes:
    """The three (S, A) softmax natural gradients (object arrays of mpf), each projected onto
    the range of F (the minimum-norm solution of ``F x = ∇C``), the states with d(s) > 0 and the
    CG steps taken."""

    closed_form: np.ndarray
    fisher_solve: np.ndarray
    conjugate_gradient: np.ndarray
    visited: tuple[bool, ...]
    conjugate_gradient_steps: int

    def largest_relative_gap(self) -> Any:
        """``max |route − closed form| / max(max |closed form|, 1)`` over routes 2 and 3."""
        return largest_gap(self.closed_form, (self.fisher_solve, self.conjugate_gradient))


def softmax_natural_gradient_three_ways(
    mdp: Any, logits: Any, *, digits: int = 50
) -> SoftmaxNaturalGradientRoutes:
    """The natural gradient of the tabular softmax policy on a finite MDP three ways:

    1. closed form ``A^π(s, a) / (1 − γ)`` (Kakade 2001; Agarwal et al. 2021, Lemma 15),
       certified (:func:`pgverify.mdp.trpo.softmax_natural_gradient`);
    2. explicit solve of ``(F + P₀) x = ∇C`` in certified balls, F the certified softmax Fisher
       (:func:`pgverify.mdp.trpo.softmax_fisher`) and P₀ the projector onto its null space
       (per visited state the constant vectors ``11ᵀ/A``; every direction of an unvisited state):
       since ∇C lies in the range of F, x is the minimum-norm solution;
    3. conjugate gradient with the Fisher-vector products of
       :func:`pgverify.trpo.fisher.softmax_fisher_vector_product` at ``digits`` digits (CG from
       0 stays in the range of F).

    F is singular (softmax is invariant to adding a constant to a state's logits), so routes are
    compared after projection onto the range of F: per visited state subtract the mean over
    actions, unvisited states (d(s) = 0, decided exactly from the MDP's graph) are zero.  Values
    are mpf at ``digits`` digits (balls: their midpoints, radii below 2⁻²⁰⁰).
    """
    mdp = mdp_validation.finite_mdp(mdp)
    mdp_validation.logits(logits, mdp=mdp)
    count(digits, "digits", minimum=1, maximum=MAXIMUM_DIGITS)
    bits = max(212, int(digits * 3.33) + 64)
    S, A = mdp.states, mdp.actions
    uniform = [[Fraction(1, A)] * A for _ in range(S)]
    # d(s) > 0 for one full-support policy iff for every one: decide it exactly
    visited = tuple(weight > 0 for weight in evaluate(mdp, uniform).visitation())
    with ctx.workprec(bits):
        flat_gradient = _balls(softmax_gradient(mdp, logits, bits=bits))
        closed = np.array(_balls(softmax_natural_gradient(mdp, logits, bits)), dtype=object)
        fisher = arb_mat(softmax_fisher(mdp, logits, bits).ball)  # a copy: P₀ is added below
        for s in range(S):
            for a in range(A):
                for b in range(A):
                    if visited[s]:
                        fisher[s * A + a, s * A + b] += arb(1) / A
                    elif a == b:
                        fisher[s * A + a, s * A + b] += 1
        solved = fisher.solve(arb_mat(S * A, 1, flat_gradient))
        policy = softmax_policy(logits, bits)
        d = _balls(evaluate(mdp, policy, bits=bits).visitation())
        rows = np.array(_balls(policy), dtype=object).reshape(S, A)
        field = field_for(digits)
        with field.context():
            pi = np.array([[_mpf(p) for p in row] for row in rows], dtype=object)
            weights = np.array([_mpf(w) for w in d], dtype=object)
            # ∇C lies in the range of F; projecting removes the rounding of the ball midpoints
            # off it (a singular CG on an inconsistent right-hand side breaks down)
            raw = np.array([_mpf(g) for g in flat_gradient], dtype=object).reshape(S, A)
            b = _project(raw, visited).reshape(-1)
            norm = mpmath.sqrt(mpmath.fsum(v * v for v in b))
            run = conjugate_gradient_run(
                lambda v: softmax_fisher_vector_product(pi, weights, v, precision=digits),
                b,
                S * A,
                tolerance=max(norm, 1) * mpmath.mpf(10) ** (5 - digits),
                precision=digits,
            )
            routes = [
                np.array([_mpf(x) for x in closed], dtype=object).reshape(S, A),
                np.array([_mpf(solved[i, 0]) for i in range(S * A)], dtype=object).reshape(S, A),
                np.array(list(run.solution), dtype=object).reshape(S, A),
            ]
            projected = [field.export(_project(route, visited)) for route in routes]
    return SoftmaxNaturalGradientRoutes(*projected, visited, run.steps)


def _project(table: np.ndarray, visited: tuple[bool, ...]) -> np.ndarray:
    """Onto the range of the softmax Fisher: visited rows minus their mean, others zero."""
    out = np.empty(table.shape, dtype=object)
    for s, row in enumerate(table):
        mean = mpmath.fsum(row) / len(row)
        out[s] = [(x - mean) if visited[s] else mpmath.mpf(0) for x in row]
    return out


def _balls(enclosure: Any) -> list[Any]:
    """The balls of a pgverify Enclosure, row-major."""
    ball = enclosure.ball
    return list(ball.entries()) if isinstance(ball, arb_mat) else [ball]


def _mpf(ball: Any) -> mpmath.mpf:
    """The midpoint of a ball (or a number) as an mpf, exactly."""
    midpoint = ball.mid() if hasattr(ball, "mid") else ball
    if hasattr(midpoint, "man_exp"):
        mantissa, exponent = (int(part) for part in midpoint.man_exp())
        return mpmath.ldexp(mpmath.mpf(mantissa), exponent)
    return mpmath.mpf(midpoint)
