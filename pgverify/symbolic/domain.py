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


def rational(rng: random.Random, dyadic: bool = False) -> sympy.Rational:
    """A small random rational; ``dyadic``: with a power-of-2 denominator (exact in float64)."""
    denominator = 2 ** rng.randint(1, 3) if dyadic else rng.randint(2, 11)
    return sympy.Rational(rng.randint(-9, 9), denominator)


def positive_rational(rng: random.Random, dyadic: bool = False) -> sympy.Rational:
    denominator = 2 ** rng.randint(1, 3) if dyadic else rng.randint(2, 11)
    return sympy.Rational(rng.randint(1, 9), denominator)


def _shrink(norm: sympy.Rational, radius: sympy.Rational, dyadic: bool) -> sympy.Rational:
    """A factor c with c · norm ≤ radius: radius/norm, or the largest power of 2 below it."""
    if norm == 0:
        return sympy.Integer(1)
    if not dyadic:
        return radius / norm
    factor = sympy.Integer(1)
    while factor * norm > radius:
        factor /= 2
    return factor


def discount(rng: random.Random) -> sympy.Rational:
    """γ in (0, 1)."""
    return sympy.Rational(rng.randint(1, 9), 10)


def random_matrix(rng: random.Random, rows: int, cols: int, dyadic: bool = False) -> sympy.Matrix:
    return sympy.Matrix(rows, cols, lambda *_: rational(rng, dyadic))


def positive_definite(rng: random.Random, size: int, dyadic: bool = False) -> sympy.Matrix:
    """L Lᵀ + c I with c > 0: positive definite."""
    lower = sympy.Matrix(size, size, lambda i, j: rational(rng, dyadic) if j <= i else 0)
    return lower * lower.T + positive_rational(rng, dyadic) * sympy.eye(size)


def _row_sum_norm(matrix: sympy.Matrix) -> sympy.Rational:
    return max(sum(abs(entry) for entry in matrix.row(i)) for i in range(matrix.rows))


def contraction(
    rng: random.Random, size: int, radius: sympy.Rational, dyadic: bool = False
) -> sympy.Matrix:
    """A random matrix with ‖M‖_∞ ≤ radius, so ρ(M) ≤ radius (any induced norm bounds ρ)."""
    matrix = random_matrix(rng, size, size, dyadic)
    return matrix * _shrink(_row_sum_norm(matrix), radius, dyadic)


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
    root: sympy.Rational
    P: sympy.Matrix
    Sigma: sympy.Matrix
    Sigma2: sympy.Matrix


def sample_lqr(
    rng: random.Random,
    n: int,
    m: int,
    *,
    discounted: bool = False,
    noisy: bool = False,
    dyadic: bool = False,
    gain: sympy.Matrix | None = None,
) -> LQRPoint:
    """A, B, K with ‖A − BK‖_∞ ≤ 1/2 and K' = K + Δ with ‖A − BK'‖_∞ ≤ 3/4 (both stabilising);
    R, Q, Σ0 ≻ 0; γ ∈ (0, 1) if ``discounted`` else 1; σ > 0 if ``noisy`` (needs
    ``discounted``) else 0.  Then ``P = Q + KᵀRK + γ A_Kᵀ P A_K`` and
    ``Σ = Σ0 + γ A_K Σ A_Kᵀ (+ γσ BBᵀ/(1 − γ))`` exactly.  ``dyadic``: the data (not P, Σ) have
    power-of-2 denominators, so float64 holds them exactly (for comparisons with the numeric
    oracle).  ``gain``: use this (m, n) value for K instead of drawing one."""
    B, K = random_matrix(rng, n, m, dyadic), random_matrix(rng, m, n, dyadic)
    if gain is not None:  # a gain value drawn by the caller: A is built around it
        K = gain
    closed = contraction(rng, n, sympy.Rational(1, 2), dyadic)
    A = closed + B * K
    step = random_matrix(rng, m, n, dyadic)
    K2 = K + step * _shrink(_row_sum_norm(B * step), sympy.Rational(1, 4), dyadic)
    R = positive_definite(rng, m, dyadic)
    Q, Sigma0 = positive_definite(rng, n, dyadic), positive_definite(rng, n, dyadic)
    gamma = (
        (sympy.Rational(rng.randint(1, 15), 16) if dyadic else discount(rng))
        if discounted
        else sympy.Integer(1)
    )
    root = positive_rational(rng, dyadic) if noisy else sympy.Integer(0)
    sigma = root**2  # a square, so that sqrt(sigma) (in the Gaussian samples) is rational
    P = solve_stein(closed.T, Q + K.T * R * K, gamma)
    forcing = Sigma0 + (gamma * sigma / (1 - gamma)) * B * B.T if noisy else Sigma0
    Sigma = solve_stein(closed, forcing, gamma)
    Sigma2 = solve_stein(A - B * K2, forcing, gamma)
    return LQRPoint(A, B, K, K2, R, Q, Sigma0, gamma, sigma, root, P, Sigma, Sigma2)


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
