"""Rigorous certificates in ball arithmetic: eigenvalue bounds of symmetric matrices and
Lyapunov certificates of stability.

Eigenvalue lower bound of a symmetric ball matrix M (every symmetric matrix in the ball):

* Gershgorin: ``λ_min(M) ≥ min_i (M_ii − Σ_{j≠i} |M_ij|)``; cheap and tight when M is diagonally
  dominant;
* otherwise a congruence: with ``Z ≈ chol(mid M)⁻¹`` (any float matrix), Gershgorin proves
  ``Z M Zᵀ ⪰ ℓ I`` with ℓ > 0, hence Z is non-singular and ``M ⪰ ℓ (ZᵀZ)⁻¹ ⪰ ℓ / ‖Z‖₂² I`` with
  ``‖Z‖₂² ≤ ‖Z‖₁ ‖Z‖_∞`` (Sylvester's law of inertia; Rump, "Verification of positive
  definiteness", BIT 2006, uses the same idea with a floating-point Cholesky).

Lyapunov certificate of ρ(A) < 1 (:func:`certify_stability`): a float matrix W with

    W ⪰ w_min I,   W ⪯ w_max I,   W − AᵀWA ⪰ d I,   d, w_min > 0   (all proved in balls)

gives ``AᵀWA ⪯ (1 − c) W`` with ``c = d / w_max``; then ``‖A^t‖₂² ≤ κ (1 − c)^t`` with
``κ = w_max / w_min`` and ρ(A) ≤ sqrt(1 − c) < 1.  The solution of ``X = F + γ op(X)`` for
either form then obeys ``‖X‖ ≤ κ ‖F‖ / (1 − γ (1 − c))`` in the spectral and in the Frobenius
norm (``‖AᵀMA‖ ≤ ‖A‖₂²‖M‖`` for both) — the bound that turns a refined
approximate solution and its residual into a rigorous enclosure (Frommer & Hashemi, LAA 2012, and
Miyajima, LAA 2013, use residual bounds of this kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
from flint import arb, arb_mat, ctx

from pgverify.errors import CertificationError
from pgverify.precision import float_lower, float_upper

CERTIFICATE_BITS = 96
"""Working precision of certificates: they need a few correct digits, not many."""


UNIT_ROUNDOFF = 2.0**-53


def _sum_upper(terms: np.ndarray) -> np.ndarray:
    """Upper bounds of the exact row sums of a non-negative float array: any float summation
    order satisfies |ŝ − s| ≤ γ_{k−1} s with γ_k = k u / (1 − k u) (Higham, *Accuracy and
    Stability of Numerical Algorithms*, 2002, §4.2), so s ≤ ŝ / (1 − γ_{k−1})."""
    count = terms.shape[1]
    gamma_k = (count * UNIT_ROUNDOFF) / (1 - count * UNIT_ROUNDOFF)
    total = np.sum(terms, axis=1)
    return np.nextafter(np.nextafter(total / (1 - gamma_k), np.inf), np.inf)


def _abs_upper_and_diagonal_lower(matrix: arb_mat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entrywise float bounds of a square ball matrix: upper bounds of |M_ij|, and lower and
    upper bounds of the diagonal entries (each rounded outward)."""
    n = matrix.nrows()
    entries = matrix.entries()
    magnitudes = np.fromiter((float(x.abs_upper()) for x in entries), float, n * n)
    magnitudes = np.nextafter(magnitudes, np.inf).reshape(n, n)
    diagonal = [entries[i * n + i] for i in range(n)]
    lower = np.nextafter(np.array([float(x.lower()) for x in diagonal]), -np.inf)
    upper = np.nextafter(np.array([float(x.upper()) for x in diagonal]), np.inf)
    return magnitudes, lower, upper


def _gershgorin_rows_lower(diagonal_lower: np.ndarray, magnitudes: np.ndarray) -> float:
    """``min_i (M_ii − Σ_{j≠i} |M_ij|)`` from lower bounds of the diagonal and upper bounds of
    the magnitudes (the diagonal of ``magnitudes`` is ignored), rounded downward."""
    off_diagonal = magnitudes.copy()
    np.fill_diagonal(off_diagonal, 0.0)
    return float(np.min(np.nextafter(diagonal_lower - _sum_upper(off_diagonal), -np.inf)))


def gershgorin_lower(matrix: arb_mat) -> arb:
    """A rigorous lower bound of λ_min of every symmetric matrix in the ball ``matrix``:
    ``min_i (M_ii − Σ_{j≠i} |M_ij|)``, with every float operation rounded outward."""
    magnitudes, lower, _ = _abs_upper_and_diagonal_lower(matrix)
    return arb(_gershgorin_rows_lower(lower, magnitudes))


def gershgorin_upper(matrix: arb_mat) -> arb:
    """A rigorous upper bound of λ_max of every symmetric matrix in the ball ``matrix``:
    ``max_i (M_ii + Σ_{j≠i} |M_ij|) ≤ max_i Σ_j |M_ij|``."""
    magnitudes, _, _ = _abs_upper_and_diagonal_lower(matrix)
    return arb(float(np.max(_sum_upper(magnitudes))))


def _norm_one_times_inf_upper(matrix: np.ndarray) -> arb:
    """An upper bound of ‖Z‖₁‖Z‖_∞ ≥ ‖Z‖₂² for a float matrix (sums done in balls)."""
    table = arb_mat(np.abs(matrix).tolist())
    n_rows, n_cols = matrix.shape
    ones_right = arb_mat(n_cols, 1, [1] * n_cols)
    ones_left = arb_mat(1, n_rows, [1] * n_rows)
    row_sums = table * ones_right
    col_sums = ones_left * table
    # float upper bounds, so that taking the maximum cannot pick a smaller ball by rounding
    inf_norm = max(float_upper(row_sums[i, 0]) for i in range(n_rows))
    one_norm = max(float_upper(col_sums[0, j]) for j in range(n_cols))
    return arb((arb(inf_norm) * arb(one_norm)).upper())


def lambda_min_lower(matrix: arb_mat) -> arb | None:
    """A rigorous positive lower bound of λ_min(M) for a symmetric ball matrix M, or None when
    neither Gershgorin nor a Cholesky congruence can prove M positive definite."""
    with ctx.workprec(max(ctx.prec, CERTIFICATE_BITS)):
        direct = gershgorin_lower(matrix)
        if direct > 0:
            return direct
        middle = np.array([[float(x) for x in row] for row in matrix.mid().tolist()])
        middle = 0.5 * (middle + middle.T)
        try:
            factor = np.linalg.cholesky(middle)
        except np.linalg.LinAlgError:
            return None
        inverse_factor = scipy.linalg.solve_triangular(factor, np.eye(len(middle)), lower=True)
        if not np.all(np.isfinite(inverse_factor)):
            return None
        Z = arb_mat(inverse_factor.tolist())
        congruent = Z * matrix * Z.transpose()
        inner = gershgorin_lower(congruent)
        if not inner > 0:
            return None
        return arb((inner / _norm_one_times_inf_upper(inverse_factor)).lower())


@dataclass(frozen=True)
class StabilityCertificate:
    """A proof that ρ(A) < 1 for every A in a ball matrix, with the constants of the bound
    ``‖X‖₂ ≤ κ ‖F‖₂ / (1 − γ (1 − c))`` for ``X = F + γ op(X)`` (see the module docstring).

    ``margin`` is c (a lower bound), ``condition`` is κ (an upper bound) and
    ``spectral_radius_upper`` a rigorous upper bound of ρ(A), all as floats rounded outward.
    """

    margin: float
    condition: float
    spectral_radius_upper: float

    def stein_error_bound(self, residual_norm: arb, gamma: float) -> arb:
        """A rigorous upper bound of ‖X‖ where ``X = Res + γ op(X)`` and ‖Res‖ ≤ residual_norm,
        for ‖·‖ the spectral or the Frobenius norm."""
        with ctx.workprec(CERTIFICATE_BITS):
            shrink = 1 - arb(gamma) * (1 - arb(self.margin))
            bound = arb(self.condition) * arb(residual_norm.upper()) / shrink
            return arb(bound.upper())


def certify_stability(A: arb_mat, float_A: np.ndarray) -> StabilityCertificate:
    """Prove ρ(A) < 1 for every matrix in the ball ``A`` with a Lyapunov certificate.

    W is the float64 solution of ``W = I + AᵀWA`` (so ``W − AᵀWA ≈ I`` is diagonally dominant);
    all inequalities are then proved in ball arithmetic.  Raises :class:`CertificationError`
    when a step cannot be proved (A not stable, or too close to the unit circle for the float64
    Lyapunov solution to be accurate enough).
    """
    from pgverify.lqr.stein import SteinSolver

    try:
        with np.errstate(all="ignore"):
            solver = SteinSolver(float_A)
        W = _lyapunov_weight(solver)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise CertificationError(
            f"could not certify rho(A - BK) < 1: the Lyapunov equation is singular ({exc}); "
            "A - BK has an eigenvalue on or near the unit circle"
        ) from exc
    with ctx.workprec(CERTIFICATE_BITS):
        W_ball = arb_mat(W.tolist())
        decrease = W_ball - A.transpose() * W_ball * A
        decrease = (decrease + decrease.transpose()) * arb(0.5)
        d = lambda_min_lower(decrease)
        w_min = lambda_min_lower(W_ball)
        if d is None or w_min is None:
            which = "W - (A-BK)^T W (A-BK)" if d is None else "W"
            raise CertificationError(
                f"could not certify rho(A - BK) < 1: positive definiteness of the Lyapunov "
                f"certificate {which} was not proved (the gain may not be stabilising, or "
                "rho(A - BK) is too close to 1 for a float64 Lyapunov solution; try a lower tier "
                "or a better conditioned gain)"
            )
        return _certificate_from_bounds(d, w_min, gershgorin_upper(W_ball))


def _lyapunov_weight(solver: Any) -> np.ndarray:
    """W = I + AᵀWA in float64 by ``solver`` (a SteinSolver of A with γ = 1), symmetrised
    exactly; a CertificationError when it is not finite."""
    with np.errstate(all="ignore"):
        W = solver.solve(np.eye(len(solver.eigenvalues)), "value")
    W = 0.5 * (W + W.T)
    if not np.all(np.isfinite(W)):
        raise CertificationError(
            "could not certify rho(A - BK) < 1: the float64 Lyapunov solution is not finite"
        )
    return W


def _certificate_from_bounds(d: arb, w_min: arb, w_max: arb) -> StabilityCertificate:
    """The certificate from ``W − AᵀWA ⪰ d I`` and ``w_min I ⪯ W ⪯ w_max I``: margin
    ``c = d / w_max``, condition ``κ = w_max / w_min``, ``ρ(A) ≤ √(1 − c)`` (module docstring);
    a CertificationError unless c > 0 survives the rounding to floats."""
    margin = arb((d / w_max).lower())
    if not (d > 0 and w_min > 0 and margin > 0):
        raise CertificationError("could not certify rho(A - BK) < 1: zero contraction margin")
    margin_float = float_lower(margin)
    radius_upper = float_upper(arb((1 - margin).upper()).sqrt())
    condition = float_upper(w_max / w_min)
    if margin_float <= 0 or radius_upper >= 1:
        raise CertificationError("could not certify rho(A - BK) < 1: margin lost in rounding")
    return StabilityCertificate(
        margin=margin_float, condition=condition, spectral_radius_upper=radius_upper
    )


# --------------------------------------------------------------------------------------------
# The same certificate in float64 with a-priori rounding-error bounds (no ball products)
# --------------------------------------------------------------------------------------------

UNDERFLOW_UNIT = 2.0**-1074


def product_enclosure(
    X: np.ndarray,
    Y: np.ndarray,
    X_error: np.ndarray | None = None,
    Y_error: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``fl(XY)`` and an entrywise upper bound of ``|X'Y' − fl(XY)|`` for every X', Y' with
    ``|X' − X| ≤ X_error`` and ``|Y' − Y| ≤ Y_error`` entrywise.

    A float64 matrix product with contraction length k, in any summation order, with or without
    FMA, satisfies ``|fl(XY) − XY| ≤ γ_k |X||Y|``, ``γ_k = ku/(1 − ku)`` (Higham 2002, §3.5),
    plus at most k·2^-1075 per entry from gradual underflow; ``|X||Y| ≤ fl(|X||Y|)/(1 − γ_k)``.
    The input errors add ``(|X| + X_error) Y_error + X_error |Y|``.  Every bound below is a
    product or sum of non-negative floats, so multiplying the computed value by
    ``1 + 2(k + 4)u`` and rounding one float up covers its own rounding (k u ≪ 1).
    """
    k = X.shape[1]
    slack = 2.0 * (k + 4) * UNIT_ROUNDOFF
    middle = X @ Y
    absolute_X, absolute_Y = np.abs(X), np.abs(Y)
    bound = slack * (absolute_X @ absolute_Y)
    if Y_error is not None:
        left = absolute_X if X_error is None else absolute_X + X_error
        bound = bound + left @ Y_error
    if X_error is not None:
        bound = bound + X_error @ absolute_Y
    bound = np.nextafter(bound * (1.0 + slack), np.inf) + 4 * k * UNDERFLOW_UNIT
    return middle, bound


def _gershgorin_lower_float(middle: np.ndarray, error: np.ndarray) -> float:
    """A lower bound of λ_min of every symmetric matrix in ``middle ± error`` (entrywise)."""
    diagonal = np.nextafter(np.diag(middle) - np.diag(error), -np.inf)
    return _gershgorin_rows_lower(diagonal, np.abs(middle) + error)


def _difference_enclosure(
    left: np.ndarray, right: np.ndarray, right_error: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``fl(left − right)`` with its error bound: |fl(a − b) − (a − b)| ≤ u |fl(a − b)|."""
    difference = left - right
    error = np.nextafter(right_error + UNIT_ROUNDOFF * np.abs(difference), np.inf)
    return difference, np.nextafter(error * (1.0 + 4 * UNIT_ROUNDOFF), np.inf)


def certify_stability_float(
    closed_loop: np.ndarray, deviation: float, solver: Any
) -> StabilityCertificate:
    """The Lyapunov certificate of :func:`certify_stability`, checked in float64 with
    rigorous a-priori error bounds instead of ball arithmetic (about ten BLAS products).

    Proves ρ(A) < 1 for every A with ``‖A − closed_loop‖_F ≤ deviation``.  ``solver`` is a
    :class:`pgverify.lqr.stein.SteinSolver` of ``closed_loop`` (its decomposition is reused).
    With A = Â + Δ, ``W − AᵀWA = (W − ÂᵀWÂ) − (ΔᵀWÂ + ÂᵀWΔ + ΔᵀWΔ)``, whose last part has
    spectral norm at most ``2‖WÂ‖₂ δ + ‖W‖₂ δ²`` (Weyl's inequality then bounds λ_min).
    λ_min(W) is bounded through the congruence ``Z W Zᵀ ≈ I``, ``Z = chol(W)⁻¹``.
    Raises :class:`CertificationError` when a bound is not good enough (the caller may then
    fall back to the ball-arithmetic certificate).
    """
    W = _lyapunov_weight(solver.for_gamma(1.0))
    WA, WA_error = product_enclosure(W, closed_loop)
    applied, applied_error = product_enclosure(closed_loop.T, WA, None, WA_error)
    decrease, decrease_error = _difference_enclosure(W, applied, applied_error)
    d_float = _gershgorin_lower_float(decrease, decrease_error)
    try:
        factor = np.linalg.cholesky(W)
    except np.linalg.LinAlgError as exc:
        raise CertificationError("the float64 Lyapunov solution is not positive definite") from exc
    # numpy, not scipy: scipy's own OpenBLAS threads would keep spinning and slow the numpy
    # BLAS products that follow (two thread pools on two cores); any Z serves the congruence
    inverse_factor = np.linalg.inv(factor)
    ZW, ZW_error = product_enclosure(inverse_factor, W)
    congruent, congruent_error = product_enclosure(ZW, inverse_factor.T, ZW_error, None)
    inner = _gershgorin_lower_float(congruent, congruent_error)
    if not (d_float > 0 and inner > 0 and np.all(np.isfinite(inverse_factor))):
        raise CertificationError(
            "the float64 Lyapunov certificate is not accurate enough to prove rho(A - BK) < 1"
        )
    with ctx.workprec(CERTIFICATE_BITS):
        w_max = arb(float(np.max(_sum_upper(np.abs(W)))))
        WA_norm = arb(float(np.sqrt(np.sum((np.abs(WA) + WA_error) ** 2))))
        WA_norm = arb((WA_norm * (1 + arb(2) ** -20)).upper())  # covers n² roundings
        delta = arb(deviation)
        d = arb((arb(d_float) - 2 * WA_norm * delta - w_max * delta * delta).lower())
        w_min = arb((arb(inner) / _norm_one_times_inf_upper(inverse_factor)).lower())
        return _certificate_from_bounds(d, w_min, w_max)


def certify_positive_definite(matrix: np.ndarray, name: str) -> float:
    """A rigorous positive lower bound (as a float) of λ_min of a symmetric float matrix, or a
    :class:`CertificationError` naming the matrix."""
    with ctx.workprec(CERTIFICATE_BITS):
        bound = lambda_min_lower(arb_mat(np.asarray(matrix, dtype=float).tolist()))
        if bound is None:
            raise CertificationError(
                f"could not certify that {name} is positive definite in ball arithmetic"
            )
        return float_lower(bound)
