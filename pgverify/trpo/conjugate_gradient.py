"""Conjugate gradient as TRPO uses it: ``(A + λI) x = b`` from matrix-vector products alone.

TRPO (Schulman et al. 2015, arXiv:1502.05477, Appendix C) solves ``F x = g`` with a fixed number
of CG iterations and Fisher-vector products; ``damping`` λ adds ``λ p`` to every product (the
``cg_damping`` of the reference implementations).  The iteration (Hestenes & Stiefel 1952), from
``x₀ = 0``, ``r₀ = p₀ = b``::

    α_k = r_kᵀr_k / p_kᵀ(A + λI)p_k
    x_{k+1} = x_k + α_k p_k,   r_{k+1} = r_k − α_k (A + λI) p_k
    p_{k+1} = r_{k+1} + (r_{k+1}ᵀr_{k+1} / r_kᵀr_k) p_k

Stopping: before each step, stop when ``‖r_k‖₂ ≤ tolerance`` (``r_k`` the recursively updated
residual); otherwise after ``iterations`` steps.  rllab and OpenAI baselines test ``r_kᵀr_k <
residual_tol`` *after* each step — the same rule with ``tolerance = √residual_tol`` except on ties.

Tiers (``precision=``): ``"exact"`` (Fractions) — on a symmetric positive definite system CG
reaches ``r = 0`` exactly in at most ``dim`` steps (at most the number of distinct eigenvalues);
an int N — mpmath at N digits (the same, up to rounding at N digits); ``"float"`` — float64, the
fast path whose residual :func:`residual_bound` describes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.trpo.numbers import Field, Precision, Tier, count, dot, field_for, positive_scalar

UNIT_ROUNDOFF = 2.0**-53
ROUNDING_ALLOWANCE_FACTOR = 16
"""The constant of :func:`float_rounding_allowance` (an estimate's safety margin, see there)."""

Stop = Literal["tolerance", "iterations"]


@dataclass(frozen=True)
class ConjugateGradientRun:
    """A CG run: the solution, the recursive residual norms² ``r_kᵀr_k`` for k = 0..steps, the
    number of steps taken, why it stopped and the tier of its arithmetic."""

    solution: np.ndarray
    residual_norms_squared: tuple[Any, ...]
    steps: int
    stopped: Stop
    tier: Tier


def conjugate_gradient(
    matvec: Callable[[np.ndarray], Any],
    b: Any,
    iterations: int,
    *,
    tolerance: Any = 0,
    damping: Any = 0,
    precision: Precision = "float",
) -> np.ndarray:
    """The CG approximation ``x_k`` of ``(A + damping·I)⁻¹ b`` after at most ``iterations`` steps.

    Parameters
    ----------
    matvec : callable
        ``p ↦ A p`` for a symmetric positive definite A (shape (d,) → (d,)); it receives the
        arithmetic's vectors (float64 arrays, or object arrays of mpf / Fraction entries).
    b : (d,) vector
    iterations : int >= 0
    tolerance : float >= 0
        Stop as soon as the recursive residual satisfies ``‖r_k‖₂ <= tolerance``.
    damping : float >= 0
        λ in ``(A + λI) x = b``.
    precision : "float" | int | "exact"
        See :mod:`pgverify.trpo.numbers`.

    Returns the (d,) solution (see :func:`conjugate_gradient_run` for the residual history).
    Raises InvalidProblemError when ``pᵀ(A + λI)p <= 0`` along a search direction (A is not
    positive definite — a proof in the exact tier).  Tier: that of ``precision``.  Reference:
    Hestenes & Stiefel (1952); Schulman et al. (2015), Appendix C.
    """
    return conjugate_gradient_run(
        matvec, b, iterations, tolerance=tolerance, damping=damping, precision=precision
    ).solution


def conjugate_gradient_run(
    matvec: Callable[[np.ndarray], Any],
    b: Any,
    iterations: int,
    *,
    tolerance: Any = 0,
    damping: Any = 0,
    precision: Precision = "float",
) -> ConjugateGradientRun:
    """:func:`conjugate_gradient` with its residual history (same arguments)."""
    field = field_for(precision)
    if not callable(matvec):
        raise InvalidProblemError(f"matvec must be callable (p -> A p), got {matvec!r}")
    steps_allowed = count(iterations, "iterations")
    with field.context():
        rhs = field.array(b, "b", 1)
        threshold = positive_scalar(field, tolerance, "tolerance", allow_zero=True)
        shift = positive_scalar(field, damping, "damping", allow_zero=True)
        threshold_squared = threshold * threshold
        x = rhs * 0
        r = rhs.copy()
        p = rhs.copy()
        rr = dot(r, r)
        history = [rr]
        steps = 0
        stopped: Stop = "iterations"
        while True:
            if rr <= threshold_squared:
                stopped = "tolerance"
                break
            if steps == steps_allowed:
                break
            z = _product(field, matvec, p, steps)
            if shift:
                z = z + shift * p
            curvature = dot(p, z)
            if not curvature > 0:
                raise InvalidProblemError(
                    f"matvec is not positive definite: p^T (A + damping I) p = {curvature} <= 0 "
                    f"along the search direction of step {steps}"
                    + ("" if field.tier == "exact" else " (or too ill-conditioned for this tier)")
                    + "; expected a symmetric positive definite operator"
                )
            step = rr / curvature
            x = x + step * p
            r = r - step * z
            rr_next = dot(r, r)
            p = r + (rr_next / rr) * p
            rr = rr_next
            history.append(rr)
            steps += 1
        return ConjugateGradientRun(
            field.export(x), tuple(field.export(h) for h in history), steps, stopped, field.tier
        )


def _product(field: Field, matvec: Callable[[np.ndarray], Any], p: np.ndarray, step: int) -> Any:
    try:
        value = matvec(p.copy())
    except Exception as exc:
        raise InvalidProblemError(
            f"matvec raised {type(exc).__name__} at step {step}: {exc}"
        ) from exc
    if field.tier == "exact" and any(
        isinstance(entry, (float, np.floating)) for entry in np.asarray(value, dtype=object).flat
    ):
        # a float entry means the product was rounded: the run would not be exact
        raise InvalidProblemError(
            f"matvec(p) at step {step} returned float entries in the exact tier; expected ints "
            "or Fractions (build the operator from Fractions: a float product is rounded)"
        )
    product = field.array(value, f"matvec(p) at step {step}", 1)
    if product.shape != p.shape:
        raise InvalidProblemError(
            f"matvec(p) at step {step} has shape {product.shape}; expected {p.shape} (that of b)"
        )
    return product


def residual_bound(condition_number: float, iterations: int) -> float:
    """``2 √κ ((√κ − 1)/(√κ + 1))^k``: a bound of ``‖b − A x_k‖₂ / ‖b‖₂`` for CG from x₀ = 0 in
    *exact* arithmetic, κ = λ_max/λ_min the condition number of the SPD matrix A (+ λI).

    Proof: ``‖x* − x_k‖_A <= 2 ρ^k ‖x*‖_A`` with ``ρ = (√κ − 1)/(√κ + 1)`` (Greenbaum 1997,
    *Iterative Methods for Solving Linear Systems*, §3.1); ``‖r‖₂ = ‖A e‖₂ <= √λ_max ‖e‖_A``
    and ``‖x*‖_A = √(bᵀA⁻¹b) <= ‖b‖₂ / √λ_min``.  A theorem for the exact and (up to rounding at
    the digits used) the high-precision tiers; for float64 add :func:`float_rounding_allowance`.
    """
    kappa = _condition(condition_number)
    k = count(iterations, "iterations")
    root = math.sqrt(kappa)
    return 2 * root * ((root - 1) / (root + 1)) ** k


def float_rounding_allowance(condition_number: float, iterations: int, dimension: int) -> float:
    """``16 (k + 1)(d + 1) u (1 + κ)``, u = 2⁻⁵³: an *estimate* (not a bound) of how far a float64
    CG run's true relative residual ``‖b − A x_k‖ / ‖b‖`` may sit above :func:`residual_bound`.

    Why this form: the gap between the true and the recursive residual after k steps is ``O(k u
    (‖b‖ + ‖A‖ max_j ‖x_j‖))`` (Greenbaum 1997, SIAM J. Matrix Anal. Appl. 18:535–551), ``‖x_j‖₂``
    grows monotonically to ``‖x*‖ <= ‖b‖/λ_min`` (Hestenes & Stiefel 1952; Steihaug 1983), so ``‖A‖
    max ‖x_j‖ <= κ ‖b‖``; the (d + 1) covers the rounding of each length-d inner product and the
    factor 16 is a safety margin.  Finite-precision CG may also converge *later* than the
    exact-arithmetic bound says (Greenbaum 1989: it behaves like exact CG on a matrix with
    eigenvalues in small clusters around A's), which this allowance does not model: the sum
    ``residual_bound + float_rounding_allowance`` is an estimate, reliable for κ ≪ 1/u.
    """
    kappa = _condition(condition_number)
    k = count(iterations, "iterations")
    d = count(dimension, "dimension", minimum=1)
    return ROUNDING_ALLOWANCE_FACTOR * (k + 1) * (d + 1) * UNIT_ROUNDOFF * (1 + kappa)


def _condition(condition_number: Any) -> float:
    if isinstance(condition_number, bool) or not isinstance(
        condition_number, (int, float, np.integer, np.floating)
    ):
        raise InvalidProblemError(
            f"condition_number must be a real number >= 1, got {condition_number!r}"
        )
    try:
        kappa = float(condition_number)
    except OverflowError:
        kappa = math.inf
    if not (math.isfinite(kappa) and kappa >= 1):
        raise InvalidProblemError(f"condition_number must be finite and >= 1, got {kappa!r}")
    return kappa
