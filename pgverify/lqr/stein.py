"""Stein (discrete Lyapunov) equations in float64, high precision and certified balls.

Two forms occur in policy optimisation on LQR (docs/mathematics.md #lqr-cost):

* value form       ``X = F + γ Aᵀ X A``   (P_K with A = A − BK, F = Q + KᵀRK),
* covariance form  ``X = F + γ A X Aᵀ``   (Σ_K with F = Σ0, or Σ0_eff with exploration noise).

All tiers share one O(n³) algorithm:

1. a float64 solve via the complex Schur form of A (Bartels–Stewart-type column recursion,
   Barraud 1977), which — unlike scipy's bilinear transform — does not invert ``A + I``;
2. iterative refinement: the residual ``F + γ·op(X̃) − X̃`` is computed in the target arithmetic
   (mpmath or balls) and corrected with the float solver, gaining about 15 digits a step;
3. (certified only) a rigorous residual-based error bound from a Lyapunov certificate of A
   (:mod:`pgverify.lqr.certify`): ``‖X − X̃‖₂ ≤ κ(W) ‖Res‖₂ / (1 − γ(1 − c))``.

No n²×n² Kronecker system is formed; memory is O(n²).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import scipy.linalg

from pgverify.errors import CertificationError
from pgverify.precision import Arithmetic

Form = Literal["value", "covariance"]

MAX_REFINEMENT_STEPS = 40


EIGENVECTOR_CONDITION_LIMIT = 1e6
"""Above this condition number of the eigenvector matrix the Schur solver is used instead."""


class SteinSolver:
    """Float64 solver of ``X = F + γ op(X)`` for one fixed A, chosen once per A.

    When A is diagonalisable with well-conditioned eigenvectors, ``A = V Λ V⁻¹``, the equation is
    diagonal in the eigenbasis: ``Y_ij = G_ij / (1 − γ λ_i λ_j)`` with ``G = V⁻¹ F V⁻ᵀ``
    (covariance form) or ``G = Vᵀ F V`` (value form) — four complex products per solve.
    Otherwise (κ(V) > 1e6, defective or near-defective A) the backward-stable
    :class:`SchurSteinSolver` is used.  Either serves as the inner solver of iterative
    refinement, which only needs each correction to reduce the residual.  The float tier asks for
    ``backward_stable=True`` (always Schur): there the float answer is the result.
    """

    def __init__(
        self, matrix: np.ndarray, gamma: float = 1.0, *, backward_stable: bool = False
    ) -> None:
        matrix = np.asarray(matrix, dtype=float)
        if not np.all(np.isfinite(matrix)):
            raise CertificationError(
                "the closed-loop matrix A - BK overflows float64 (an entry beyond 1.8e308), so "
                "its float64 Stein solver cannot run; rescale the state or the gain"
            )
        self.gamma = gamma
        self._schur: SchurSteinSolver | None = None
        if backward_stable:
            self._schur = SchurSteinSolver(matrix, gamma)
            self.eigenvalues = np.diag(self._schur.triangular) / np.sqrt(gamma)
            return
        eigenvalues, vectors = np.linalg.eig(matrix)
        self.eigenvalues = eigenvalues
        condition, inverse = _condition_and_inverse(vectors)
        denominator = 1.0 - gamma * np.outer(eigenvalues, eigenvalues)
        if condition <= EIGENVECTOR_CONDITION_LIMIT and np.min(np.abs(denominator)) > 0:
            self.vectors = vectors
            self.inverse_vectors = inverse
            self.denominator = denominator
        else:
            self._schur = SchurSteinSolver(matrix, gamma)

    @property
    def spectral_radius(self) -> float:
        """ρ(A) from the float64 eigenvalues (tier float)."""
        return float(np.max(np.abs(self.eigenvalues), initial=0.0))

    def for_gamma(self, gamma: float) -> SteinSolver:
        """The solver of ``X = F + γ' op(X)`` for the same A, reusing the decomposition."""
        if gamma == self.gamma:
            return self
        other = object.__new__(SteinSolver)
        other.gamma = gamma
        other.eigenvalues = self.eigenvalues
        other._schur = None
        if self._schur is not None:
            other._schur = self._schur.rescaled(gamma / self.gamma)
            return other
        other.vectors, other.inverse_vectors = self.vectors, self.inverse_vectors
        other.denominator = 1.0 - gamma * np.outer(self.eigenvalues, self.eigenvalues)
        if np.min(np.abs(other.denominator)) == 0:
            raise CertificationError(
                "the Stein equation is singular: 1 - gamma lambda_i lambda_j = 0"
            )
        return other

    def solve(self, rhs: np.ndarray, form: Form) -> np.ndarray:
        if self._schur is not None:
            return self._schur.solve(rhs, form)
        V, W = self.vectors, self.inverse_vectors
        if form == "covariance":
            return (V @ ((W @ rhs @ W.T) / self.denominator) @ V.T).real
        return (W.T @ ((V.T @ rhs @ V) / self.denominator) @ W).real


def _condition_and_inverse(vectors: np.ndarray) -> tuple[float, np.ndarray | None]:
    """κ₁(V) = ‖V‖₁‖V⁻¹‖₁ (an SVD-free condition number) and V⁻¹; (inf, None) if V is
    singular or not finite."""
    if not np.all(np.isfinite(vectors)):
        return np.inf, None
    try:
        inverse = np.linalg.inv(vectors)
    except np.linalg.LinAlgError:
        return np.inf, None
    if not np.all(np.isfinite(inverse)):
        return np.inf, None
    return float(np.linalg.norm(vectors, 1) * np.linalg.norm(inverse, 1)), inverse


class SchurSteinSolver:
    """Float64 solver of ``X = F + γ op(X)`` for one fixed A, reusing one Schur decomposition.

    With ``a = √γ A = Z T Zᴴ`` (complex Schur, T upper triangular) and ``Y = Zᴴ X Z``:

    * covariance form ``Y − T Y Tᴴ = G``: column j (last to first) solves
      ``(I − conj(T_jj) T) y_j = g_j + T Σ_{k>j} conj(T_jk) y_k``;
    * value form ``Y − Tᴴ Y T = G``: column j (first to last) solves
      ``(I − T_jj Tᴴ) y_j = g_j + Tᴴ Σ_{k<j} T_kj y_k``.

    Each column is one triangular solve, so the cost is O(n³) in all.
    """

    def __init__(self, matrix: np.ndarray, gamma: float = 1.0) -> None:
        scaled = np.sqrt(gamma) * np.asarray(matrix, dtype=float)
        self.triangular, self.unitary = scipy.linalg.schur(scaled, output="complex")
        self.n = scaled.shape[0]

    def rescaled(self, ratio: float) -> SchurSteinSolver:
        """The solver for γ' = ratio·γ: the Schur form of √γ' A is √ratio times this one."""
        other = object.__new__(SchurSteinSolver)
        other.triangular = np.sqrt(ratio) * self.triangular
        other.unitary, other.n = self.unitary, self.n
        return other

    def solve(self, rhs: np.ndarray, form: Form) -> np.ndarray:
        try:
            return self._solve(rhs, form)
        except np.linalg.LinAlgError as exc:
            # a float64 Schur form of a badly scaled A can put eigenvalues on the unit circle
            # (1 − γλ_iλ_j rounds to 0): no float64 solution, so nothing to refine or certify
            raise CertificationError(
                f"the float64 Stein solver met a singular triangular system ({exc}): the "
                "float64 Schur form of A - BK puts gamma lambda_i lambda_j at 1 (the closed "
                "loop is on the boundary of the domain, or too badly scaled for float64); "
                "rescaling the state may help"
            ) from exc

    def _solve(self, rhs: np.ndarray, form: Form) -> np.ndarray:
        T, Z, n = self.triangular, self.unitary, self.n
        G = Z.conj().T @ rhs @ Z
        Y = np.zeros((n, n), dtype=complex)
        identity = np.eye(n)
        if form == "covariance":
            for j in range(n - 1, -1, -1):
                right = G[:, j] + T @ (Y[:, j + 1 :] @ T[j, j + 1 :].conj())
                Y[:, j] = scipy.linalg.solve_triangular(
                    identity - np.conj(T[j, j]) * T, right, lower=False, check_finite=False
                )
        else:
            TH = T.conj().T
            for j in range(n):
                right = G[:, j] + TH @ (Y[:, :j] @ T[:j, j])
                Y[:, j] = scipy.linalg.solve_triangular(
                    identity - T[j, j] * TH, right, lower=True, check_finite=False
                )
        return (Z @ Y @ Z.conj().T).real


def stein_residual(A: Any, F: Any, X: Any, gamma: Any, form: Form) -> Any:
    """``F + γ op(X) − X`` with ``op(X) = AᵀXA`` (value form) or ``AXAᵀ`` (covariance form)."""
    applied = A.T @ X @ A if form == "value" else A @ X @ A.T
    return F + gamma * applied - X


def solve_stein(
    ar: Arithmetic,
    A: Any,
    F: Any,
    gamma: float,
    form: Form,
    *,
    certificate: Any = None,
    solver: SteinSolver | None = None,
    approximate: bool = False,
) -> Any:
    """Solve ``X = F + γ op(X)`` in the arithmetic ``ar``.

    ``A`` and ``F`` are matrices of ``ar``; ``F`` must be symmetric (it is in every use here), and
    so is the result.  In ball arithmetic a ``certificate`` (a
    :class:`pgverify.lqr.certify.StabilityCertificate` of A) is required: the result is then a
    rigorous enclosure.  In float64 and mpmath the caller has already checked ρ(A) < 1.
    ``approximate=True`` (internal: Newton iterations) returns the refined point without a bound.
    """
    if solver is None:
        solver = SteinSolver(ar.to_float(A), gamma, backward_stable=ar.tier == "float")
    if ar.tier == "float":
        estimate = solver.solve(ar.to_float(F), form)
        return 0.5 * (estimate + estimate.T)
    # The equation is linear in F: solve for F·2^-e (a float64-sized matrix) and scale back, so
    # that data far outside float64's range is solved as accurately as data of order 1.
    rhs, exponent = ar.to_float_scaled(F)
    estimate = solver.solve(rhs, form)
    estimate = 0.5 * (estimate + estimate.T)
    g = ar.scalar(gamma)
    X, residual = _refine(ar, A, F, estimate, exponent, g, form, solver)
    X = ar.settled(X)
    if approximate or ar.tier != "certified":
        return X
    if certificate is None:
        raise ValueError("a certified Stein solve needs a stability certificate of A")
    bound = certificate.stein_error_bound(ar.norm_upper(residual), gamma)
    return ar.widen(X, bound)


def _refine(
    ar: Arithmetic,
    A: Any,
    F: Any,
    estimate: np.ndarray,
    exponent: int,
    gamma: Any,
    form: Form,
    solver: SteinSolver,
) -> tuple[Any, Any]:
    """Iterative refinement of the float solution ``estimate · 2^exponent`` in ``ar``.

    Returns X = X₀ + Σ Δ_k and its residual ``F + γ op(X) − X``.  The residual is updated
    incrementally, ``Res ← Res + γ op(Δ) − Δ``, so each step multiplies A only by a float64
    correction (cheap products); in ball arithmetic every update is rigorous, so the final
    residual encloses the exact residual of the exact sum, which X's balls contain.  Each
    residual is handed to the float solver scaled by a power of two (``to_float_scaled``), so
    the corrections keep their relative accuracy below 2^-1074 and above 2^1024 as well.  Stops
    when the correction falls below 2^-bits of the solution, or stops shrinking (the certified
    bound then reflects the accuracy reached).
    """
    X = ar.scaled_matrix(estimate, exponent) if exponent else ar.matrix(estimate)
    residual = stein_residual(A, F, X, gamma, form)
    largest = float(np.max(np.abs(estimate), initial=0.0))
    if largest == 0.0:
        return X, residual
    # logarithms base 2 throughout: the sizes may lie outside float64's range
    target = math.log2(largest) + exponent - ar.working_bits
    previous = math.inf
    for _ in range(MAX_REFINEMENT_STEPS + ar.working_bits // 25):
        float_residual, residual_exponent = ar.to_float_scaled(residual)
        correction = solver.solve(0.5 * (float_residual + float_residual.T), form)
        # The solution is symmetric; an antisymmetric float part would never be refined away.
        correction = 0.5 * (correction + correction.T)
        size = float(np.max(np.abs(correction), initial=0.0))
        if not np.isfinite(size):
            raise CertificationError(
                "iterative refinement of a Stein equation produced non-finite corrections; "
                "the closed-loop matrix is too ill-conditioned for the float64 inner solver"
            )
        if size == 0.0:
            return X, residual
        step = ar.increment(correction, of=X, exponent=residual_exponent)
        X = X + step
        applied = A.T @ step @ A if form == "value" else A @ step @ A.T
        residual = residual + gamma * applied - step
        log_size = math.log2(size) + residual_exponent
        if log_size <= target:
            return X, residual
        if log_size > previous - 1.0:  # the correction shrank by less than half
            relative = log_size - (target + ar.working_bits)
            if ar.tier == "high-precision" and relative > math.log2(1e-6):
                raise CertificationError(
                    f"iterative refinement of a Stein equation stalled at relative correction "
                    f"{2.0**relative:.2e}; the problem is too ill-conditioned for the float64 "
                    "inner solver"
                )
            return X, residual
        previous = log_size
    return X, residual
