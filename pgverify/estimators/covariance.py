"""The state covariance Σ_K estimated from rollouts, and the data-driven natural gradient.

Fazel, Ge, Kakade & Mesbahi, "Global convergence of policy gradient methods for the linear
quadratic regulator", ICML 2018, Algorithm 1: from N rollouts of ℓ steps, besides the gradient
estimate ∇̂C, the state covariance is estimated by

    Σ̂ = (1/N) Σ_i Σ_{t<ℓ} γ^t x_t^{(i)} x_t^{(i)ᵀ}        (γ = 1: their finite-horizon form)

and the natural-gradient step uses ``∇̂C Σ̂⁻¹`` (their §4, ``K ← K − η ∇̂C Σ̂⁻¹``).

* ``E[Σ̂] = Σ_{t<ℓ} γ^t S_t`` exactly, with ``S_0 = Σ0``, ``S_{t+1} = A_K S_t A_Kᵀ + σBBᵀ`` for
  ``u = −Kx + w``, ``w ~ N(0, σI)`` (:func:`pgverify.expectation.discounted_state_moment`): Σ̂ is
  quadratic in the Gaussian initial state and noises, so the cubature of
  :func:`pgverify.expectation.lqr_expectation` proves it (tier exact). As ℓ → ∞ (inside the
  oracle's domain √γ ρ(A − BK) < 1) it tends to Σ_K of :meth:`pgverify.LQR.state_covariance`.
* ``∇̂C Σ̂⁻¹`` is a ratio of estimates: **biased** (for one step, ``N Σ̂ ~ Wishart(Σ0, N)`` and
  ``E[Σ̂⁻¹] = N Σ0⁻¹ / (N − n − 1)``: the exact gradient times Σ̂⁻¹ overshoots by the factor
  ``N / (N − n − 1)``) but **consistent** (Σ̂ → E[Σ̂] almost surely).

Shapes: ``states`` (N, ℓ, n) — pass ``states[:, :ℓ]`` of (N, T+1, n) rollouts to choose ℓ; Σ̂
(n, n); gradient (m, n). Tier: float for float64 inputs, exact on Fractions.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import discount_factor, is_exact, numeric_array, powers
from pgverify.estimators.critics import (
    CONDITION_LIMIT,
    require_matching_shape,
    solve_exactly,
    solve_float,
)
from pgverify.lqr.validation import symmetric_matrix


def state_covariance_estimate(states: Any, gamma: Any = 1.0) -> np.ndarray:
    """``Σ̂ = (1/N) Σ_i Σ_{t<ℓ} γ^t x_t x_tᵀ`` (n, n) from ``states`` (N, ℓ, n) (Fazel et al.
    2018, Algorithm 1; γ = 1 their finite-horizon form, γ < 1 the discounted weighting)."""
    exact = is_exact(states)
    try:
        shape = np.shape(states)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"states could not be read as an array: {exc}") from exc
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidProblemError(f"states has shape {shape}; expected (N, l, n) with N, l, n >= 1")
    visited = numeric_array(states, "states", shape, exact=exact)
    weights = powers(discount_factor(gamma, exact=exact), shape[1], exact=exact)
    flat = visited.reshape(-1, shape[2])
    weighted = (visited * weights[None, :, None]).reshape(-1, shape[2])
    estimate = weighted.T @ flat / shape[0]
    # float: (γ^t x_i) x_j and x_i (γ^t x_j) round differently; the estimate is symmetric
    return estimate if exact else (estimate + estimate.T) / 2


def natural_gradient_estimate(gradient: Any, covariance: Any) -> np.ndarray:
    """``∇̂C Σ̂⁻¹`` (m, n) from a gradient estimate (m, n) and a covariance estimate Σ̂ (n, n)
    (Fazel et al. 2018, §4). Σ̂ must be symmetric (exactly for Fractions; float64 up to the
    relative tolerance of :class:`pgverify.LQR`'s inputs, then its symmetric part is used); a
    singular Σ̂ (exactly, or float with condition number ≥ 1e12) is refused, naming its rank and
    smallest eigenvalue: the visited states do not span R^n."""
    exact = is_exact(gradient, covariance)
    G = numeric_array(gradient, "gradient", (None, None), exact=exact)
    n = G.shape[1]
    if G.shape[0] < 1 or n < 1:
        raise InvalidProblemError(f"gradient has shape {G.shape}; expected (m, n), m, n >= 1")
    require_matching_shape(
        covariance, "covariance", (n, n), f"gradient of shape {G.shape}", "(n, n)"
    )
    S = numeric_array(covariance, "covariance", (n, n), exact=exact)
    if not exact:  # a float Σ̂ may be asymmetric by rounding: its symmetric part is used
        S = symmetric_matrix(S, "covariance")
    elif np.any(S != S.T):
        raise InvalidProblemError(
            "covariance is not symmetric; expected the symmetric estimate Σ̂ (n, n)"
        )
    _require_spanning_states(S, exact)
    # G Σ̂⁻¹ = (Σ̂⁻¹ Gᵀ)ᵀ for symmetric Σ̂
    if exact:
        return solve_exactly(S, G.T, "covariance estimate Σ̂").T
    return solve_float(S, G.T, "covariance estimate Σ̂").T


_SPANNING_REMEDY = (
    "expected a Σ̂ of rank n: more rollouts (N ≥ n, from random initial states), longer ones, or "
    "exploration noise that moves the state in every direction"
)


def _require_spanning_states(covariance: np.ndarray, exact: bool) -> None:
    """Refuse a singular covariance estimate Σ̂ (n, n) symmetric: its rank below n means the
    visited states lie in a proper subspace of R^n, where Σ̂⁻¹ does not exist (float: condition
    number ≥ :data:`pgverify.estimators.critics.CONDITION_LIMIT`, no correct digit left)."""
    n = covariance.shape[0]
    if exact:
        rank = _rational_rank(covariance)
        if rank < n:
            raise InvalidProblemError(
                f"covariance Σ̂ is singular (exactly): rank {rank} of n = {n}, smallest "
                f"eigenvalue 0; the visited states do not span R^{n}, so Σ̂⁻¹ does not exist; "
                f"{_SPANNING_REMEDY}"
            )
        return
    eigenvalues = np.linalg.eigvalsh(covariance)
    largest = float(np.max(np.abs(eigenvalues)))
    smallest = float(eigenvalues[np.argmin(np.abs(eigenvalues))])
    condition = largest / abs(smallest) if smallest != 0 else float("inf")
    if not condition < CONDITION_LIMIT:
        rank = int(np.sum(np.abs(eigenvalues) > largest / CONDITION_LIMIT))
        raise InvalidProblemError(
            f"covariance Σ̂ is singular to float64 precision: numerical rank {rank} of n = {n}, "
            f"smallest eigenvalue {smallest:.3g} (largest {largest:.3g}, condition number "
            f"{condition:.3g} ≥ {CONDITION_LIMIT:.0e}); the visited states do not span R^{n}, "
            f"so Σ̂⁻¹ is not determined; {_SPANNING_REMEDY}"
        )


def _rational_rank(matrix: np.ndarray) -> int:
    """The exact rank of a matrix of Fractions (python-flint ``fmpq_mat``)."""
    rows, cols = matrix.shape
    entries = [fmpq(v.numerator, v.denominator) for v in map(Fraction, matrix.ravel().tolist())]
    return int(fmpq_mat(rows, cols, entries).rank())
