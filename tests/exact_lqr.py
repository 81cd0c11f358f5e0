"""Exact rational LQR quantities for tiny problems: an independent reference for the tests.

Every float64 input is a dyadic rational, converted exactly; the Stein equations are solved by
n²×n² Kronecker systems over the rationals (python-flint ``fmpq_mat``); nothing is shared with
pgverify's own code paths (no Schur solver, no refinement, no certificate).  O(n⁶): n ≤ 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from flint import arb_mat, ctx, fmpq, fmpq_mat


def rational(value: float) -> fmpq:
    """A float64 as the exact rational it denotes."""
    exact = Fraction(float(value))
    return fmpq(exact.numerator, exact.denominator)


def rational_matrix(array: np.ndarray) -> fmpq_mat:
    array = np.atleast_2d(np.asarray(array, dtype=float))
    return fmpq_mat([[rational(x) for x in row] for row in array])


def identity(n: int) -> fmpq_mat:
    return fmpq_mat([[1 if i == j else 0 for j in range(n)] for i in range(n)])


def stein(left: fmpq_mat, F: fmpq_mat, gamma: fmpq) -> fmpq_mat:
    """The solution X of ``X = F + γ L X Lᵀ`` (column-major vec: (L ⊗ L) vec X)."""
    n = left.nrows()
    size = n * n
    system = fmpq_mat(size, size)
    for row_out in range(n):
        for col_out in range(n):
            r = col_out * n + row_out
            for row_in in range(n):
                for col_in in range(n):
                    c = col_in * n + row_in
                    # (L X Lᵀ)[i, j] = Σ L[i, k] X[k, l] L[j, l]
                    coefficient = left[row_out, row_in] * left[col_out, col_in]
                    system[r, c] = (1 if r == c else 0) - gamma * coefficient
    rhs = fmpq_mat(size, 1, [F[i, j] for j in range(n) for i in range(n)])
    solution = system.solve(rhs)
    return fmpq_mat(n, n, [solution[j * n + i, 0] for i in range(n) for j in range(n)])


def trace(matrix: fmpq_mat) -> fmpq:
    return sum((matrix[i, i] for i in range(matrix.nrows())), fmpq(0))


@dataclass
class ExactLQR:
    """P_K, Σ_K, E_K, ∇C, the natural gradient and the cost, exactly, for a float problem."""

    value_matrix: fmpq_mat
    state_covariance: fmpq_mat
    E: fmpq_mat
    gradient: fmpq_mat
    natural_gradient: fmpq_mat
    cost: fmpq


def exact_lqr(problem, K: np.ndarray) -> ExactLQR:
    A, B, Q, R, S0 = (
        rational_matrix(x) for x in (problem.A, problem.B, problem.Q, problem.R, problem.Sigma0)
    )
    Kq = rational_matrix(K)
    gamma, noise = rational(problem.gamma), rational(problem.noise)
    closed = A - B * Kq
    P = stein(closed.transpose(), Q + Kq.transpose() * R * Kq, gamma)
    effective = S0
    if noise != 0:
        effective = S0 + B * B.transpose() * (gamma * noise / (1 - gamma))
    Sigma = stein(closed, effective, gamma)
    E = (R + B.transpose() * P * B * gamma) * Kq - B.transpose() * P * A * gamma
    cost = trace(P * S0)
    if noise != 0:
        cost += noise * (trace(R) + gamma * trace(B.transpose() * P * B)) / (1 - gamma)
    return ExactLQR(P, Sigma, E, E * Sigma * 2, E * 2, cost)


def to_balls(value: fmpq_mat | fmpq, bits: int) -> arb_mat:
    """Arb balls of radius about 2^-bits relative around exact rationals (for ``contains``)."""
    with ctx.workprec(bits):
        if isinstance(value, fmpq_mat):
            return arb_mat(value)
        return arb_mat(fmpq_mat([[value]]))
