"""The radius of gain perturbations that keep an LQR closed loop stable: the sphere-radius rule of
zeroth-order smoothing, certified.

For a gain K with ρ(A_K) < 1 (A_K = A − BK), let P solve the Stein equation
``P = I + A_Kᵀ P A_K`` (P ⪰ I). For a perturbed gain K + Δ the closed loop is A_K + E with
E = −BΔ, and

    (A_K + E)ᵀ P (A_K + E) − P = −I + A_KᵀPE + EᵀPA_K + EᵀPE  ≺ 0
    whenever  2‖PA_K‖₂‖E‖₂ + ‖P‖₂‖E‖₂² < 1,

so xᵀPx is a Lyapunov function of A_K + E and ρ(A_K + E) < 1 (Lyapunov's theorem for discrete
time). With ‖E‖₂ ≤ ‖B‖₂‖Δ‖_F this holds for every Δ with

    ‖Δ‖_F < r_K = 1 / (‖B‖₂ (a + √(a² + p))),   a = ‖PA_K‖₂,  p = ‖P‖₂

(the positive root of p e² + 2a e − 1, written without cancellation). Sphere smoothing of radius
r < r_K — every perturbation r·u with ‖u‖_F = 1 (Fazel, Ge, Kakade & Mesbahi 2018, Alg. 1;
Malik et al. 2019 choose the radius so) — never leaves the stable set. Gaussian smoothing K + με
does with positive probability for every μ > 0 when B ≠ 0: a large enough perturbation along
−Bᵀ destabilises (``tr(A_K + tBBᵀ) > n`` for t large forces ρ > 1, since |tr M| ≤ n ρ(M)), the
destabilising set is open, and ε has a positive density everywhere (docs/estimators.md §5).

Tier certified: P is the exact rational solution of the Stein equation for the float64 data,
the norms are bounded above in ball arithmetic (‖M‖₂ ≤ min(‖M‖_F, √(‖M‖₁‖M‖_∞))), and the radius
returned is a rational strictly below the bound.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from flint import arb, fmpq, fmpq_mat

from pgverify.errors import InvalidProblemError, NotStabilizingError
from pgverify.estimators.arrays import numeric_array

MAX_STATES = 12
"""The Stein equation is solved exactly as an n² × n² rational system: n ≤ 12."""


def _rational_matrix(matrix: np.ndarray) -> fmpq_mat:
    rows, cols = matrix.shape
    entries = [fmpq(value.numerator, value.denominator) for value in matrix.reshape(-1)]
    return fmpq_mat(rows, cols, entries)


def _norm2_upper(matrix: fmpq_mat) -> arb:
    """An upper bound of ‖M‖₂: min(‖M‖_F, √(‖M‖₁‖M‖_∞)), as a ball."""
    rows, cols = matrix.nrows(), matrix.ncols()
    frobenius = sum((matrix[i, j] ** 2 for i in range(rows) for j in range(cols)), fmpq(0))
    row_sums = [sum((abs(matrix[i, j]) for j in range(cols)), fmpq(0)) for i in range(rows)]
    col_sums = [sum((abs(matrix[i, j]) for i in range(rows)), fmpq(0)) for j in range(cols)]
    product = max(row_sums) * max(col_sums)
    return arb(min(frobenius, product)).sqrt()


def stein_solution(closed_loop: fmpq_mat) -> fmpq_mat:
    """The exact P = I + A_Kᵀ P A_K (NotStabilizingError when the system is singular)."""
    n = closed_loop.nrows()
    # vec(A_Kᵀ P A_K) = (A_Kᵀ ⊗ A_Kᵀ) vec(P) (column-major vec)
    size = n * n
    system = fmpq_mat(size, size)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                for l in range(n):  # noqa: E741 — the Kronecker indices
                    system[j * n + i, l * n + k] = -closed_loop[k, i] * closed_loop[l, j]
    for index in range(size):
        system[index, index] += 1
    identity = fmpq_mat(size, 1, [1 if index % (n + 1) == 0 else 0 for index in range(size)])
    try:
        solution = system.solve(identity)
    except ZeroDivisionError as exc:
        raise NotStabilizingError(
            "K does not stabilise: A − BK has eigenvalues with λ_i λ_j = 1"
        ) from exc
    return fmpq_mat(n, n, [solution[j * n + i, 0] for i in range(n) for j in range(n)])


def _is_positive_definite(matrix: fmpq_mat) -> bool:
    """Exact: every leading principal minor positive (Sylvester's criterion)."""
    n = matrix.nrows()
    for size in range(1, n + 1):
        minor = fmpq_mat(size, size, [matrix[i, j] for i in range(size) for j in range(size)])
        if minor.det() <= 0:
            return False
    return True


def stability_radius(problem: Any, K: Any) -> Fraction:
    """A certified r_K > 0 such that ``ρ(A − B(K + Δ)) < 1`` for every Δ (m, n) with
    ``‖Δ‖_F ≤ r_K``: the radius below which sphere smoothing cannot destabilise K (module
    docstring: ``r_K = 1/(‖B‖₂(a + √(a² + p)))`` from the exact Lyapunov matrix P of A − BK).
    A Fraction. Raises NotStabilizingError when A − BK is not stable (the exact P of the Stein
    equation is then not positive definite), InvalidProblemError on a bad argument."""
    from pgverify.lqr import LQR  # here: pgverify.lqr imports much of the package

    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    A = numeric_array(problem.A, "A", (None, None), exact=True)
    B = numeric_array(problem.B, "B", (A.shape[0], None), exact=True)
    n, m = B.shape
    if n > MAX_STATES:
        raise InvalidProblemError(
            f"the problem has n = {n} states; stability_radius solves the n² × n² Stein system "
            f"exactly for n <= {MAX_STATES}"
        )
    gain = numeric_array(K, "K", (m, n), exact=True)
    closed_loop = _rational_matrix(A - B @ gain)
    P = stein_solution(closed_loop)
    # P ≻ 0 with P = I + A_KᵀPA_K  ⇔  ρ(A_K) < 1 (Lyapunov): a proof of stability, exactly
    if not _is_positive_definite(P):
        raise NotStabilizingError(
            "K does not stabilise: the solution of P = I + (A − BK)ᵀP(A − BK) is not positive "
            "definite, so ρ(A − BK) >= 1"
        )
    a = _norm2_upper(P * closed_loop)
    p = _norm2_upper(P)
    b = _norm2_upper(_rational_matrix(B))
    if b == 0:  # B = 0: no gain perturbation moves the closed loop
        raise InvalidProblemError("B is zero: every perturbation of K keeps A − BK; no radius")
    bound = 1 / (b * (a + (a * a + p).sqrt()))
    lower = bound.lower()  # a ball's lower endpoint: exactly representable
    radius = _to_fraction(lower)
    return radius * (1 - Fraction(1, 2**30))  # strictly below the bound


def _to_fraction(value: arb) -> Fraction:
    """The exact value of an arb with radius 0 (a dyadic number)."""
    mantissa, exponent = value.man_exp()
    mantissa, exponent = int(mantissa), int(exponent)
    return Fraction(mantissa) * Fraction(2) ** exponent
