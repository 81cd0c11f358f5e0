"""Rigorous certificates in ball arithmetic: eigenvalue bounds of symmetric matrices and
Lyapunov certificates of (discounted) stability.

Eigenvalue lower bound of a symmetric ball matrix M (every symmetric matrix in the ball):

* Gershgorin: ``λ_min(M) ≥ min_i (M_ii − Σ_{j≠i} |M_ij|)``; cheap and tight when M is diagonally
  dominant;
* otherwise a congruence: with ``Z ≈ chol(mid M)⁻¹`` (any exact matrix), Gershgorin proves
  ``Z M Zᵀ ⪰ ℓ I`` with ℓ > 0, hence Z is non-singular and ``M ⪰ ℓ (ZᵀZ)⁻¹ ⪰ ℓ / ‖Z‖₂² I`` with
  ``‖Z‖₂² ≤ ‖Z‖₁ ‖Z‖_∞`` (Sylvester's law of inertia; Rump, "Verification of positive
  definiteness", BIT 2006, uses the same idea with a floating-point Cholesky).  Z comes from a
  float64 Cholesky factor, or — when that is not accurate enough (an ill-conditioned M) — from
  one computed at the working precision.

Lyapunov certificate of ``√γ·ρ(A) < 1`` (:func:`certify_stability`; γ = 1 is plain stability):
an exact symmetric matrix W with

    W − γ AᵀWA ⪰ d I,   W ⪰ w_min I,   W ⪯ w_max I,   tr W ≤ w_tr,   d, w_min > 0

(all proved in balls, for every A in a ball matrix).  Then ``γ AᵀWA ⪯ (1 − c) W`` with
``c = d / w_max``, so ``‖(√γA)^t‖₂² ≤ κ (1 − c)^t`` with ``κ = w_max / w_min`` and
``√γ·ρ(A) ≤ √(1 − c) < 1``.  The irrational √γ never appears: every inequality is in γ.

Stein error bound (:meth:`StabilityCertificate.stein_error_bound`): the solution of
``E = Res + γ' op(E)`` (``op(E) = AᵀEA`` or ``AEAᵀ``, any γ' ≤ γ) obeys, in the spectral and the
Frobenius norm,

    ‖E‖ ≤ ‖Res‖ · min( κ / (1 − (γ'/γ)(1 − c)),  w_tr / d ).

The first bound sums the geometric series above (``‖AᵀMA‖ ≤ ‖A‖₂²‖M‖`` in both norms).  The
second does not grow with κ: ``W − γ'AᵀWA ⪰ dI`` gives ``W* ⪯ W / d`` for the exact solution
W* of ``W* = I + γ'AᵀW*A`` (their difference is a convergent series of PSD terms), and
``|uᵀEv| ≤ ‖Res‖₂ √(uᵀW*u · vᵀW*v)`` (Cauchy–Schwarz in the series) bounds every entry
``|E_ij| ≤ ‖Res‖₂ √(W*_ii W*_jj)``, so ``‖E‖_F ≤ ‖Res‖₂ tr W*``; the covariance form is the same
with ``V* = Σ γ'^t A^t (Aᵀ)^t``, whose trace equals tr W*.  Residual bounds of this kind turn a
refined approximate solution into a rigorous enclosure (Frommer & Hashemi, LAA 2012; Miyajima,
LAA 2013).

Where W comes from: first the float64 solution of ``W = I + γAᵀWA``; when the float weight is
not accurate enough (a strongly non-normal A: ‖W‖ ≫ 1/u), the same equation is solved at the
working precision by the doubling ("squaring") iteration ``W ← W + γ_k A_kᵀ W A_k``,
``A_k ← A_k²``, ``γ_k ← γ_k²`` (Smith, SIAM J. Appl. Math. 1968), which needs only matrix
products; so more bits prove more matrices stable.  See docs/certified-lqr.md §2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flint import arb, arb_mat, ctx

from pgverify.errors import CertificationError
from pgverify.precision import float_lower, float_upper, frobenius_upper

CERTIFICATE_BITS = 96
"""Working precision of certificates from a float64 weight: they need a few correct digits,
not many."""

MAX_DOUBLINGS = 64
"""The doubling iteration sums 2^k terms of ``Σ γ^t (Aᵀ)^t A^t`` after k steps."""

DOUBLING_TAIL = 2.0**-30
"""The doubling iteration stops when the next term is below this (relative to I)."""


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
    upper bounds of the diagonal entries (each rounded outward; beyond the float range they
    become ±inf, which only weakens the bounds)."""
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
    the magnitudes (the diagonal of ``magnitudes`` is ignored), rounded downward; NaN (from
    infinite bounds) becomes −inf."""
    off_diagonal = magnitudes.copy()
    np.fill_diagonal(off_diagonal, 0.0)
    with np.errstate(all="ignore"):
        rows = np.nextafter(diagonal_lower - _sum_upper(off_diagonal), -np.inf)
    bound = float(np.min(rows))
    return bound if not math.isnan(bound) else -math.inf


def gershgorin_lower(matrix: arb_mat) -> arb:
    """A rigorous lower bound of λ_min of every symmetric matrix in the ball ``matrix``:
    ``min_i (M_ii − Σ_{j≠i} |M_ij|)``, with every float operation rounded outward; when the
    float64 bound proves nothing (entries beyond the float range, or a bound ≤ 0) it is
    recomputed in balls, which have an unbounded exponent."""
    magnitudes, lower, _ = _abs_upper_and_diagonal_lower(matrix)
    bound = _gershgorin_rows_lower(lower, magnitudes)
    if bound > 0 and math.isfinite(bound):
        return arb(bound)
    return _gershgorin_in_balls(matrix, lower=True)


def gershgorin_upper(matrix: arb_mat) -> arb:
    """A rigorous upper bound of λ_max of every symmetric matrix in the ball ``matrix``:
    ``max_i Σ_j |M_ij|`` (float64 with outward rounding, or in balls beyond the float range)."""
    magnitudes, _, _ = _abs_upper_and_diagonal_lower(matrix)
    with np.errstate(all="ignore"):
        largest = float(np.max(_sum_upper(magnitudes)))
    if math.isfinite(largest):
        return arb(largest)
    return _gershgorin_in_balls(matrix, lower=False)


def _gershgorin_in_balls(matrix: arb_mat, *, lower: bool) -> arb:
    """The Gershgorin bound of :func:`gershgorin_lower` (``lower``) or
    :func:`gershgorin_upper` computed in balls: exact endpoints, any exponent."""
    n = matrix.nrows()
    bounds = []
    for i in range(n):
        off = sum((abs(matrix[i, j]) for j in range(n) if j != i), arb(0))
        if lower:
            bounds.append(arb((arb(matrix[i, i].lower()) - arb(off.upper())).lower()))
        else:
            bounds.append(arb((arb(abs(matrix[i, i]).upper()) + arb(off.upper())).upper()))
    # exact endpoints (radius 0): the comparisons are exact
    return min(bounds) if lower else max(bounds)


def _norm_one_times_inf_upper(matrix: arb_mat) -> arb:
    """An upper bound of ‖Z‖₁‖Z‖_∞ ≥ ‖Z‖₂² for an exact matrix Z (sums done in balls)."""
    n_rows, n_cols = matrix.nrows(), matrix.ncols()
    absolute = arb_mat(n_rows, n_cols, [abs(x) for x in matrix.entries()])
    row_sums = absolute * arb_mat(n_cols, 1, [1] * n_cols)
    col_sums = arb_mat(1, n_rows, [1] * n_rows) * absolute
    # the maximum of exact upper endpoints (radius 0: the comparisons are exact)
    inf_norm = max(arb(row_sums[i, 0].upper()) for i in range(n_rows))
    one_norm = max(arb(col_sums[0, j].upper()) for j in range(n_cols))
    return arb((inf_norm * one_norm).upper())


def lambda_min_lower(matrix: arb_mat) -> arb | None:
    """A rigorous positive lower bound of λ_min(M) for a symmetric ball matrix M, or None when
    neither Gershgorin nor a Cholesky congruence can prove M positive definite.

    The congruence factor is tried in float64 first and then at the working precision
    ``ctx.prec`` (for ill-conditioned M, e.g. a Lyapunov weight of a non-normal matrix)."""
    bits = max(ctx.prec, CERTIFICATE_BITS)
    with ctx.workprec(bits):
        direct = gershgorin_lower(matrix)
        if direct > 0:
            return direct
        factor = _float_inverse_cholesky(matrix)
        if factor is not None:
            bound = _congruence_lower(matrix, factor)
            if bound is not None:
                return bound
        if bits <= CERTIFICATE_BITS:
            return None
        factor = _inverse_cholesky_at_precision(matrix.mid())
        if factor is None:
            return None
        return _congruence_lower(matrix, factor)


def _float_inverse_cholesky(matrix: arb_mat) -> arb_mat | None:
    """``chol(mid M)⁻¹`` in float64 (exactly converted), or None if it fails."""
    n = matrix.nrows()
    with np.errstate(all="ignore"):
        middle = np.fromiter((float(x) for x in matrix.mid().entries()), float, n * n)
        middle = middle.reshape(n, n)
        middle = 0.5 * (middle + middle.T)
        if not np.all(np.isfinite(middle)):
            return None
        try:
            factor = np.linalg.cholesky(middle)
        except np.linalg.LinAlgError:
            return None
        # numpy, not scipy (whose own BLAS thread pool costs ~20 ms a call next to numpy's):
        # any Z serves the congruence, which is verified in balls
        inverse = np.linalg.inv(factor)
    if not np.all(np.isfinite(inverse)):
        return None
    return arb_mat(inverse.tolist())


def _inverse_cholesky_at_precision(middle: arb_mat) -> arb_mat | None:
    """An approximation of ``chol(M)⁻¹`` for an exact symmetric M at the current precision
    (no error bound is needed: the congruence is verified afterwards), or None when a pivot is
    not positive.  Right-looking Cholesky on midpoints, then an approximate triangular solve."""
    n = middle.nrows()
    rows = [[middle[i, j] for j in range(n)] for i in range(n)]
    factor = [[arb(0)] * n for _ in range(n)]
    for k in range(n):
        pivot = rows[k][k].mid()
        if not pivot > 0:
            return None
        root = pivot.sqrt().mid()
        factor[k][k] = root
        column = [(rows[i][k] / root).mid() for i in range(k + 1, n)]
        for offset, value in enumerate(column):
            factor[k + 1 + offset][k] = value
        for a, i in enumerate(range(k + 1, n)):
            left = column[a]
            row = rows[i]
            for b in range(a + 1):
                row[k + 1 + b] = (row[k + 1 + b] - left * column[b]).mid()
        # keep the trailing block symmetric: only its lower triangle was updated
        for i in range(k + 1, n):
            for j in range(i + 1, n):
                rows[i][j] = rows[j][i]
    try:
        inverse = arb_mat(factor).solve(_identity(n), algorithm="approx")
    except ZeroDivisionError:
        return None
    return inverse.mid()


def _identity(n: int) -> arb_mat:
    return arb_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])


def _congruence_lower(matrix: arb_mat, factor: arb_mat) -> arb | None:
    """``λ_min(M) ≥ λ_min(Z M Zᵀ) / ‖Z‖₂²`` when Gershgorin proves ``Z M Zᵀ ≻ 0``."""
    congruent = factor * matrix * factor.transpose()
    inner = gershgorin_lower(congruent)
    if not inner > 0:
        return None
    return arb((inner / _norm_one_times_inf_upper(factor)).lower())


SHIFT_GROWTH = 8.0
"""Each further attempt of :func:`smallest_eigenvalue_lower` moves the shift this many times
further below the float λ_min."""

SHIFT_ATTEMPTS = 10


def smallest_eigenvalue_lower(matrix: arb_mat) -> arb:
    """A rigorous lower bound of λ_min of every symmetric matrix in the ball ``matrix``, as an
    exact ball: within about max(1e-9 |λ_min|, n·2^-45 ‖M‖) of λ_min when it can be proved.

    With t a little below the float64 estimate of λ_min, a proof that ``M − tI ⪰ ℓI`` (ℓ > 0,
    :func:`lambda_min_lower`: Gershgorin or a Cholesky congruence) gives ``λ_min(M) ≥ t + ℓ``
    for every M in the ball (Weyl).  A float64 eigenvalue alone is no bound: its absolute error
    is about u‖M‖, which exceeds any fixed relative margin of a small λ_min.  When no shift is
    proved, Gershgorin's bound (always valid, possibly loose or negative) is returned."""
    n = matrix.nrows()
    bits = max(ctx.prec, CERTIFICATE_BITS)
    with ctx.workprec(bits):
        middle = np.array([[float(matrix[i, j].mid()) for j in range(n)] for i in range(n)])
        fallback = _gershgorin_in_balls(matrix, lower=True)
        if not np.all(np.isfinite(middle)):
            return fallback
        estimates = np.linalg.eigvalsh(0.5 * (middle + middle.T))
        scale = float(np.max(np.abs(estimates), initial=0.0))
        # the float eigenvalue errs by about n·u·‖M‖ (absolute); stay 1e-9 relative below too
        distance = max(1e-9 * abs(float(estimates[0])), 2.0**-45 * n * scale)
        identity = _identity(n)
        for attempt in range(SHIFT_ATTEMPTS):
            shift = float(estimates[0]) - distance * SHIFT_GROWTH**attempt
            if not math.isfinite(shift):
                break
            proved = lambda_min_lower(matrix - identity * arb(shift))
            if proved is not None:
                bound = arb((arb(shift) + proved).lower())
                return bound if bound > fallback else fallback
        return fallback


def largest_eigenvalue_upper(matrix: arb_mat) -> arb:
    """A rigorous upper bound of λ_max of every symmetric matrix in the ball ``matrix`` (an exact
    ball): ``−`` :func:`smallest_eigenvalue_lower` of ``−M``."""
    return -smallest_eigenvalue_lower(-matrix)


def spectral_norm_upper(matrix: arb_mat) -> arb:
    """A rigorous upper bound of ‖M‖₂ for every M in the ball ``matrix`` (any shape), as an
    exact ball: ``√λ_max(MᵀM)`` bounded by :func:`largest_eigenvalue_upper`, and never above
    the Frobenius bound."""
    bits = max(ctx.prec, CERTIFICATE_BITS)
    with ctx.workprec(bits):
        gram = matrix.transpose() * matrix
        largest = largest_eigenvalue_upper(gram)
        frobenius = frobenius_upper(matrix)
        if not largest > 0:
            return frobenius if not largest < 0 else arb(0)
        root = arb(largest.sqrt().upper())
        return root if root < frobenius else frobenius


# --------------------------------------------------------------------------------------------
# The Lyapunov certificate
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StabilityCertificate:
    """A proof that ``√γ·ρ(A) < 1`` for every A in a ball matrix, by an exact symmetric weight W
    with ``W − γAᵀWA ⪰ d I``, ``w_min I ⪯ W ⪯ w_max I`` and ``tr W ≤ w_tr`` (module docstring).

    The bounds are exact balls (radius 0): ``decrease`` = d and ``weight_lower`` = w_min are
    lower bounds, ``weight_upper`` = w_max and ``weight_trace`` = w_tr upper bounds.  ``weight``
    is W itself (an exact arb_mat, or a float64 array when it came from the float certificate;
    :meth:`weight_ball` converts).
    """

    gamma: float
    decrease: arb
    weight_lower: arb
    weight_upper: arb
    weight_trace: arb
    weight: arb_mat | np.ndarray = field(compare=False, repr=False)

    def weight_ball(self) -> arb_mat:
        """W as an exact arb_mat."""
        if isinstance(self.weight, np.ndarray):
            return arb_mat(self.weight.tolist())
        return self.weight

    @property
    def margin(self) -> float:
        """c = d / w_max, rounded down to a float (0.0 below the float range)."""
        with ctx.workprec(CERTIFICATE_BITS):
            return max(0.0, float_lower(self.decrease / self.weight_upper))

    @property
    def condition(self) -> float:
        """κ = w_max / w_min, rounded up to a float (inf beyond the float range)."""
        with ctx.workprec(CERTIFICATE_BITS):
            return float_upper(self.weight_upper / self.weight_lower)

    @property
    def spectral_radius_upper(self) -> float:
        """A float upper bound of ρ(A): ``√((1 − c)/γ)`` rounded up (it prints as 1.0 when the
        margin c is below the float resolution, and exceeds 1 for γ < 1 when A is unstable but
        ``√γ·ρ(A) < 1``)."""
        with ctx.workprec(CERTIFICATE_BITS):
            margin = arb((self.decrease / self.weight_upper).lower())
            bound = float_upper(((1 - margin) / arb(self.gamma)).sqrt())
        # √γ·ρ < 1 is proved: for γ = 1 the bound is never above 1
        return min(bound, 1.0) if self.gamma == 1.0 else bound

    def stein_error_bound(self, residual_norm: arb, gamma: float) -> arb:
        """A rigorous upper bound of ‖X‖ where ``X = Res + γ' op(X)``, ‖Res‖ ≤ residual_norm,
        γ' = ``gamma`` ≤ the certificate's γ, for ‖·‖ the spectral or the Frobenius norm and
        either form of op (module docstring)."""
        if gamma > self.gamma:
            raise ValueError(
                f"a certificate for discount {self.gamma} cannot bound a Stein equation with "
                f"discount {gamma}"
            )
        with ctx.workprec(CERTIFICATE_BITS):
            d, w_max = self.decrease, self.weight_upper
            trace_factor = arb((self.weight_trace / d).upper())
            margin = arb((d / w_max).lower())
            contraction = arb(((arb(gamma) / arb(self.gamma)) * (1 - margin)).upper())
            factor = trace_factor
            if contraction < 1:
                geometric = arb(((w_max / self.weight_lower) / (1 - contraction)).upper())
                factor = geometric if geometric < trace_factor else trace_factor
            return arb((factor * arb(residual_norm.upper())).upper())


def certify_stability(
    A: arb_mat, float_A: np.ndarray, gamma: float = 1.0, bits: int | None = None
) -> StabilityCertificate:
    """Prove ``√γ·ρ(A) < 1`` for every matrix in the ball ``A`` with a Lyapunov certificate.

    W is first the float64 solution of ``W = I + γAᵀWA`` (checked at 96 bits); when that does
    not prove it, W is computed and checked at ``bits`` (default: the current ``ctx.prec``) by
    the doubling iteration, so more bits prove more (strongly non-normal) matrices stable.
    Raises :class:`CertificationError` when neither proves it (A not stable, too close to the
    unit circle, or too non-normal for the precision).
    """
    bits = max(ctx.prec if bits is None else bits, CERTIFICATE_BITS)
    try:
        weight = _float_weight(float_A, gamma)
        return _verify_weight(A, weight, gamma, CERTIFICATE_BITS)
    except CertificationError:
        if bits <= CERTIFICATE_BITS:
            raise
    try:
        weight = doubling_weight(A.mid(), gamma, bits)
        return _verify_weight(A, weight, gamma, bits)
    except CertificationError as failure:
        raise CertificationError(
            f"{failure} (with a Lyapunov weight computed at {bits} bits; more bits may prove "
            "it for a strongly non-normal A - BK)"
        ) from failure


def _float_weight(float_A: np.ndarray, gamma: float) -> arb_mat:
    """The float64 solution of ``W = I + γAᵀWA``, symmetrised, as an exact ball matrix."""
    from pgverify.lqr.stein import SteinSolver

    try:
        with np.errstate(all="ignore"):
            solver = SteinSolver(float_A, gamma)
        W = lyapunov_weight(solver)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise CertificationError(
            f"could not certify {_domain(gamma)}: the Lyapunov equation is singular ({exc}); "
            "A - BK has an eigenvalue on or near the boundary of the domain"
        ) from exc
    return arb_mat(W.tolist())


def _domain(gamma: float) -> str:
    """The inequality a certificate proves, for messages."""
    return "rho(A - BK) < 1" if gamma == 1.0 else f"sqrt(gamma) rho(A - BK) < 1 (gamma = {gamma})"


def lyapunov_weight(solver: Any) -> np.ndarray:
    """W = I + γAᵀWA in float64 by ``solver`` (a SteinSolver of A with its γ), symmetrised
    exactly; a CertificationError when it is not finite."""
    with np.errstate(all="ignore"):
        W = solver.solve(np.eye(len(solver.eigenvalues)), "value")
        W = 0.5 * (W + W.T)
    if not np.all(np.isfinite(W)):
        raise CertificationError(
            f"could not certify {_domain(solver.gamma)}: the float64 Lyapunov solution is "
            "not finite"
        )
    return W


def doubling_weight(A: arb_mat, gamma: float, bits: int) -> arb_mat:
    """An exact symmetric approximation of ``W = Σ_t γ^t (Aᵀ)^t A^t`` (the solution of
    ``W = I + γAᵀWA``) computed at ``bits`` bits by doubling: ``W_{k+1} = W_k + γ_k A_kᵀ W_k
    A_k``, ``A_{k+1} = A_k²``, ``γ_{k+1} = γ_k²`` (so W_k sums 2^k terms).  Only midpoints are
    kept: the result is a candidate, proved by :func:`certify_stability`.

    Raises CertificationError when the terms do not become small (A not stable enough) or W
    outgrows what ``bits`` bits can verify."""
    n = A.nrows()
    limit = arb(2) ** bits
    with ctx.workprec(bits + 32):
        power = A.mid()
        discount = arb(gamma)
        weight = _identity(n)
        for _ in range(MAX_DOUBLINGS):
            term = ((power.transpose() * weight * power) * discount).mid()
            weight = (weight + term).mid()
            power = (power * power).mid()
            discount = (discount * discount).mid()
            tail = frobenius_upper(power)
            if tail * tail * discount < DOUBLING_TAIL:
                weight = ((weight + weight.transpose()) * arb(0.5)).mid()
                return weight
            if not frobenius_upper(weight) < limit or not tail.is_finite():
                break
    raise CertificationError(
        f"could not certify {_domain(gamma)}: the terms of sum_t gamma^t (A^T)^t A^t do not "
        f"become small at {bits} bits (A - BK is unstable, too close to the boundary of the "
        "domain, or its Lyapunov weight exceeds 2^bits)"
    )


def _verify_weight(A: arb_mat, W: arb_mat, gamma: float, bits: int) -> StabilityCertificate:
    """Prove the certificate's inequalities for the exact weight W at ``bits`` bits."""
    with ctx.workprec(bits):
        decrease = W - (A.transpose() * W * A) * arb(gamma)
        decrease = (decrease + decrease.transpose()) * arb(0.5)
        d = lambda_min_lower(decrease)
        w_min = lambda_min_lower(W)
        if d is None or w_min is None:
            which = "W - gamma (A-BK)^T W (A-BK)" if d is None else "W"
            raise CertificationError(
                f"could not certify {_domain(gamma)}: positive definiteness of the Lyapunov "
                f"certificate {which} was not proved (the gain may be outside the domain, or "
                "too close to its boundary for the Lyapunov weight to be accurate enough)"
            )
        trace = arb(W.trace().upper())
        return _certificate_from_bounds(d, w_min, gershgorin_upper(W), trace, gamma, W)


def _certificate_from_bounds(
    d: arb, w_min: arb, w_max: arb, w_trace: arb, gamma: float, W: arb_mat | np.ndarray
) -> StabilityCertificate:
    """The certificate from proved bounds (module docstring); a CertificationError unless
    d > 0 and w_min > 0 and w_max, tr W are finite."""
    with ctx.workprec(CERTIFICATE_BITS):
        if not (d > 0 and w_min > 0 and w_max.is_finite() and w_trace.is_finite()):
            raise CertificationError(f"could not certify {_domain(gamma)}: zero contraction margin")
        return StabilityCertificate(
            gamma=gamma,
            decrease=arb(d.lower()),
            weight_lower=arb(w_min.lower()),
            weight_upper=arb(w_max.upper()),
            weight_trace=arb(w_trace.upper()),
            weight=W,
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
    ``1 + 2(k + 4)u`` and rounding one float up covers its own rounding (k u ≪ 1).  Overflow
    gives infinite bounds (never a false small one); the caller refuses them.
    """
    k = X.shape[1]
    slack = 2.0 * (k + 4) * UNIT_ROUNDOFF
    with np.errstate(all="ignore"):
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
    with np.errstate(all="ignore"):
        diagonal = np.nextafter(np.diag(middle) - np.diag(error), -np.inf)
        return _gershgorin_rows_lower(diagonal, np.abs(middle) + error)


def _difference_enclosure(
    left: np.ndarray, right: np.ndarray, right_error: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``fl(left − right)`` with its error bound: |fl(a − b) − (a − b)| ≤ u |fl(a − b)| (a
    difference that underflows is exact)."""
    with np.errstate(all="ignore"):
        difference = left - right
        error = np.nextafter(right_error + UNIT_ROUNDOFF * np.abs(difference), np.inf)
        return difference, np.nextafter(error * (1.0 + 4 * UNIT_ROUNDOFF), np.inf)


def _scaled_enclosure(
    factor: float, middle: np.ndarray, error: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``fl(factor · middle)`` (0 < factor ≤ 1) with its error bound: the input error scaled,
    plus ``u |fl(factor·x)|`` for the rounding and 2^-1074 for a product that underflows."""
    if factor == 1.0:
        return middle, error
    with np.errstate(all="ignore"):
        scaled = factor * middle
        bound = factor * error + UNIT_ROUNDOFF * np.abs(scaled)
        bound = np.nextafter(bound * (1.0 + 4 * UNIT_ROUNDOFF), np.inf) + 2 * UNDERFLOW_UNIT
    return scaled, bound


def frobenius_upper_of_float(matrix: np.ndarray) -> arb:
    """A rigorous upper bound of the Frobenius norm of a non-negative float matrix, as an exact
    ball; immune to underflow (entries are scaled by a power of two near the largest, and each
    scaled entry is rounded up before squaring) and to overflow (the scale is applied in
    balls)."""
    with np.errstate(all="ignore"):
        largest = float(np.max(matrix, initial=0.0))
        if largest == 0.0:
            return arb(0)
        if not math.isfinite(largest):
            return arb("inf")
        exponent = math.frexp(largest)[1]
        scaled = np.ldexp(matrix, -exponent)  # in [0, 1); may round tiny entries down
        covered = scaled * (1.0 + 4 * UNIT_ROUNDOFF) + 2.0**-500  # squares stay normal
        squares = covered.ravel()[None, :] ** 2
        total = float(_sum_upper(squares * (1.0 + 4 * UNIT_ROUNDOFF))[0])
    with ctx.workprec(CERTIFICATE_BITS):
        return arb((arb(total).sqrt() * arb(2) ** exponent).upper())


def certify_stability_float(
    closed_loop: np.ndarray, deviation: float, solver: Any, gamma: float = 1.0
) -> StabilityCertificate:
    """The Lyapunov certificate of :func:`certify_stability`, checked in float64 with
    rigorous a-priori error bounds instead of ball arithmetic (about ten BLAS products).

    Proves ``√γ·ρ(A) < 1`` for every A with ``‖A − closed_loop‖_F ≤ deviation``.  ``solver`` is a
    :class:`pgverify.lqr.stein.SteinSolver` of ``closed_loop`` (its decomposition is reused).
    With A = Â + Δ, ``W − γAᵀWA = (W − γÂᵀWÂ) − γ(ΔᵀWÂ + ÂᵀWΔ + ΔᵀWΔ)``, whose last part has
    spectral norm at most ``γ(2‖WÂ‖₂ δ + ‖W‖₂ δ²)`` (Weyl's inequality then bounds λ_min).
    λ_min(W) is bounded through the congruence ``Z W Zᵀ ≈ I``, ``Z = chol(W)⁻¹``.
    Raises :class:`CertificationError` when a bound is not good enough or leaves the float range
    (the caller may then fall back to the ball-arithmetic certificate).
    """
    try:
        return _certify_stability_float(closed_loop, deviation, solver, gamma)
    except (OverflowError, FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        raise CertificationError(
            f"the float64 Lyapunov certificate failed ({type(exc).__name__}: {exc})"
        ) from exc


def _certify_stability_float(
    closed_loop: np.ndarray, deviation: float, solver: Any, gamma: float
) -> StabilityCertificate:
    W = lyapunov_weight(solver.for_gamma(gamma))
    WA, WA_error = product_enclosure(W, closed_loop)
    applied, applied_error = product_enclosure(closed_loop.T, WA, None, WA_error)
    applied, applied_error = _scaled_enclosure(gamma, applied, applied_error)
    decrease, decrease_error = _difference_enclosure(W, applied, applied_error)
    d_float = _gershgorin_lower_float(decrease, decrease_error)
    refused = CertificationError(
        f"the float64 Lyapunov certificate is not accurate enough to prove {_domain(gamma)}"
    )
    if not (d_float > 0 and math.isfinite(d_float)):
        raise refused
    try:
        factor = np.linalg.cholesky(W)
    except np.linalg.LinAlgError as exc:
        raise CertificationError("the float64 Lyapunov solution is not positive definite") from exc
    # numpy, not scipy: scipy's own OpenBLAS threads would keep spinning and slow the numpy
    # BLAS products that follow (two thread pools on two cores); any Z serves the congruence
    with np.errstate(all="ignore"):
        inverse_factor = np.linalg.inv(factor)
    if not np.all(np.isfinite(inverse_factor)):
        raise refused
    ZW, ZW_error = product_enclosure(inverse_factor, W)
    congruent, congruent_error = product_enclosure(ZW, inverse_factor.T, ZW_error, None)
    inner = _gershgorin_lower_float(congruent, congruent_error)
    with np.errstate(all="ignore"):
        w_max_float = float(np.max(_sum_upper(np.abs(W))))
        trace_float = float(_sum_upper(np.diag(W)[None, :])[0])
    if not (inner > 0 and math.isfinite(w_max_float) and math.isfinite(trace_float)):
        raise refused
    with ctx.workprec(CERTIFICATE_BITS):
        w_max = arb(w_max_float)
        WA_norm = frobenius_upper_of_float(np.abs(WA) + WA_error)
        delta = arb(deviation)
        g = arb(gamma)
        d = arb((arb(d_float) - g * (2 * WA_norm * delta + w_max * delta * delta)).lower())
        Z = arb_mat(inverse_factor.tolist())
        w_min = arb((arb(inner) / _norm_one_times_inf_upper(Z)).lower())
        return _certificate_from_bounds(d, w_min, w_max, arb(trace_float), gamma, W)
