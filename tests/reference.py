"""Independent references for the tests: code paths that share nothing with the oracle's."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from flint import arb_mat, ctx

REFERENCE_BITS = 320


def closed_loop_and_stage_cost(problem, K: np.ndarray) -> tuple[arb_mat, arb_mat]:
    """``A − BK`` and ``Q + KᵀRK`` in 320-bit balls (exact: float64 products need < 320 bits;
    a float64 ``K.T @ R @ K`` is not even exactly symmetric)."""
    with ctx.workprec(REFERENCE_BITS):
        A, B, Q, R, Kb = (
            arb_mat(np.asarray(x).tolist()) for x in (problem.A, problem.B, problem.Q, problem.R, K)
        )
        return A - B * Kb, Q + Kb.transpose() * R * Kb


def kronecker_stein(
    A: arb_mat | np.ndarray, F: arb_mat | np.ndarray, gamma: float, form: str
) -> arb_mat:
    """The solution of ``X = F + γ op(X)`` by an n²×n² Kronecker solve in 320-bit balls
    (tiny n only: O(n⁶)).  Column-major vec: vec(AᵀXA) = (Aᵀ ⊗ Aᵀ) vec X."""
    with ctx.workprec(REFERENCE_BITS):
        a = A if isinstance(A, arb_mat) else arb_mat(A.tolist())
        F = F if isinstance(F, arb_mat) else arb_mat(F.tolist())
        n = a.nrows()
        left = a.transpose() if form == "value" else a
        # (M ⊗ M)[(j, i), (l, k)] = M[j, l] M[i, k] with vec index = column * n + row
        size = n * n
        kron = arb_mat(size, size)
        for i in range(n):
            for j in range(n):
                for k in range(n):
                    for column in range(n):
                        kron[j * n + i, column * n + k] = left[i, k] * left[j, column]
        system = arb_mat(size, size)
        for r in range(size):
            for c in range(size):
                system[r, c] = (1 if r == c else 0) - gamma * kron[r, c]
        rhs = arb_mat(size, 1, [F[i, j] for j in range(n) for i in range(n)])
        solution = system.solve(rhs)
        return arb_mat(n, n, [solution[j * n + i, 0] for i in range(n) for j in range(n)])


def scalar_lqr_value(a: Fraction, b: Fraction, q: Fraction, r: Fraction, k: Fraction) -> Fraction:
    """Exact P_K of the scalar LQR: ``P = (q + r k²) / (1 − (a − b k)²)``."""
    closed = a - b * k
    return (q + r * k * k) / (1 - closed * closed)


FINITE_DIFFERENCE_STEP = 2.0**-40


def central_difference_gradient(cost, K: np.ndarray, digits: int = 50):
    """Central differences of ``cost`` (a function of a float64 gain returning an mpmath number)
    at K, entry by entry, with the power-of-two step 2^-40: O(step²) ≈ 1e-24 relative truncation
    error (times the third derivative), 1e-50/step ≈ 1e-38 from the 50-digit cost.  K ± step
    must be exact in float64; that is asserted, not assumed.  Returns an mpmath matrix."""
    import mpmath

    step = FINITE_DIFFERENCE_STEP
    with mpmath.workdps(digits):
        rows, cols = K.shape
        gradient = mpmath.matrix(rows, cols)
        for i in range(rows):
            for j in range(cols):
                plus, minus = K.copy(), K.copy()
                plus[i, j] += step
                minus[i, j] -= step
                assert plus[i, j] - K[i, j] == step == K[i, j] - minus[i, j], "inexact step"
                gradient[i, j] = (cost(plus) - cost(minus)) / (2 * mpmath.mpf(step))
        return gradient
