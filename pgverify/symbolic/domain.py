"""Random exact points inside a derivation's domain: where a refutation's counterexample lives.

A wrong identity is refuted by evaluating its residual exactly at a point of the domain the
identity is claimed on — 0 < γ < 1, σ > 0, R, Q, Σ0 ≻ 0, a stabilising gain K (hence P_K ≻ 0 and
Σ_K ≻ 0), probability tables that are distributions — so the counterexample is a real problem, not
an algebraic accident outside it (γ = 9/4, an indefinite P).  Everything is rational and exact:
P_K and Σ_K are solved from the sampled data by exact linear algebra.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

LQR_DOMAIN = (
    "R, Q, Sigma0 positive definite; K (and K') stabilising, ||A - BK||_inf <= 3/4; "
    "P = P_K and Sigma = Sigma_K solved exactly from them; 0 < gamma < 1 and sigma > 0 where "
    "they occur"
)


def rational(rng: random.Random) -> sympy.Rational:
    return sympy.Rational(rng.randint(-9, 9), rng.randint(2, 11))


def positive_rational(rng: random.Random) -> sympy.Rational:
    return sympy.Rational(rng.randint(1, 9), rng.randint(2, 11))


def discount(rng: random.Random) -> sympy.Rational:
    """γ in (0, 1)."""
    return sympy.Rational(rng.randint(1, 9), 10)


def random_matrix(rng: random.Random, rows: int, cols: int) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda *_: rational(rng))


def positive_definite(rng: random.Random, size: int) -> sympy.Matrix:
    """L Lᵀ + c I with c > 0: positive definite."""
    lower = sympy.Matrix(size, size, lambda i, j: rational(rng) if j <= i else 0)
    return lower * lower.T + positive_rational(rng) * sympy.eye(size)


def _row_sum_norm(matrix: sympy.Matrix) -> sympy.Rational:
    return max(sum(abs(entry) for entry in matrix.row(i)) for i in range(matrix.rows))


def contraction(rng: random.Random, size: int, radius: sympy.Rational) -> sympy.Matrix:
    """A random matrix with ‖M‖_∞ ≤ radius, so ρ(M) ≤ radius (any induced norm bounds ρ)."""
    matrix = random_matrix(rng, size, size)
    norm = _row_sum_norm(matrix)
    return matrix if norm == 0 else matrix * radius / norm


def solve_stein(closed: sympy.Matrix, forcing: sympy.Matrix, weight: Any = 1) -> sympy.Matrix:
    """The X with X = forcing + weight · closed X closedᵀ, exactly (ρ(closed)² weight < 1)."""
    size = closed.rows
    vectorised = sympy.Matrix([forcing[i, j] for j in range(size) for i in range(size)])
    # vec(M X Mᵀ) = (M ⊗ M) vec X, column-major
    kron = sympy.Matrix(
        size * size,
        size * size,
        lambda r, c: closed[r % size, c % size] * closed[r // size, c // size],
    )
    solution = (sympy.eye(size * size) - weight * kron).LUsolve(vectorised)
    return sympy.Matrix(size, size, lambda i, j: solution[j * size + i])


@dataclass
class LQRPoint:
    """One LQR problem inside the domain, with its exact P_K, Σ_K (and a second gain K')."""

    A: sympy.Matrix
    B: sympy.Matrix
    K: sympy.Matrix
    K2: sympy.Matrix
    R: sympy.Matrix
    Q: sympy.Matrix
    Sigma0: sympy.Matrix
    gamma: sympy.Rational
    sigma: sympy.Rational
    P: sympy.Matrix
    Sigma: sympy.Matrix


def sample_lqr(
    rng: random.Random, n: int, m: int, *, discounted: bool = False, noisy: bool = False
) -> LQRPoint:
    """A, B, K with ‖A − BK‖_∞ ≤ 1/2 and K' = K + Δ with ‖A − BK'‖_∞ ≤ 3/4 (both stabilising);
    R, Q, Σ0 ≻ 0; γ ∈ (0, 1) if ``discounted`` else 1; σ > 0 if ``noisy`` else 0.  Then
    ``P = Q + KᵀRK + γ A_Kᵀ P A_K`` and ``Σ = Σ0 + γ A_K Σ A_Kᵀ (+ γσ BBᵀ/(1 − γ))`` exactly."""
    B, K = random_matrix(rng, n, m), random_matrix(rng, m, n)
    closed = contraction(rng, n, sympy.Rational(1, 2))
    A = closed + B * K
    step = random_matrix(rng, m, n)
    push = _row_sum_norm(B * step)
    K2 = K if push == 0 else K + step * sympy.Rational(1, 4) / push
    R, Q, Sigma0 = positive_definite(rng, m), positive_definite(rng, n), positive_definite(rng, n)
    gamma = discount(rng) if discounted else sympy.Integer(1)
    sigma = positive_rational(rng) if noisy else sympy.Integer(0)
    P = solve_stein(closed.T, Q + K.T * R * K, gamma)
    forcing = Sigma0 + (gamma * sigma / (1 - gamma)) * B * B.T if noisy else Sigma0
    Sigma = solve_stein(closed, forcing, gamma)
    return LQRPoint(A, B, K, K2, R, Q, Sigma0, gamma, sigma, P, Sigma)


def assign(symbolic: sympy.Matrix, value: sympy.Matrix) -> dict[Any, Any]:
    """{symbol: value} entrywise (a symmetric symbolic matrix gets its symmetric value's entries)."""
    return {
        symbolic[i, j]: value[i, j]
        for i in range(symbolic.rows)
        for j in range(symbolic.cols)
        if isinstance(symbolic[i, j], sympy.Symbol)
    }


def distribution(rng: random.Random, size: int) -> list[sympy.Rational]:
    """A random probability vector with positive rational entries."""
    weights = [rng.randint(1, 9) for _ in range(size)]
    total = sum(weights)
    return [sympy.Rational(weight, total) for weight in weights]


def lqr_sampler(
    n: int,
    m: int,
    symbols: dict[str, sympy.Matrix],
    *,
    discounted: bool = False,
    noisy: bool = False,
) -> Callable[[random.Random], dict[Any, Any]]:
    """A domain sampler for a derivation whose symbolic matrices are ``symbols`` (keyed by the
    :class:`LQRPoint` field they stand for: ``"A"``, ``"P"``, ``"Sigma"``, …): each draw is one
    :func:`sample_lqr` problem, its matrices assigned entrywise."""

    def sample(rng: random.Random) -> dict[Any, Any]:
        point = sample_lqr(rng, n, m, discounted=discounted, noisy=noisy)
        values: dict[Any, Any] = {}
        for field_name, symbolic in symbols.items():
            value = getattr(point, field_name)
            if isinstance(symbolic, sympy.Symbol):
                values[symbolic] = value
            else:
                values.update(assign(symbolic, value))
        return values

    return sample
