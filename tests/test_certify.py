"""Rigorous certificates: float64 products with a-priori error bounds, and the two Lyapunov
certificates of ρ(A) < 1 (float64 with error bounds; Arb balls)."""

import numpy as np
import pytest
from flint import arb_mat, ctx
from hypothesis import given
from hypothesis import strategies as st

from pgverify import CertificationError
from pgverify.lqr.certify import (
    certify_stability,
    certify_stability_float,
    product_enclosure,
)
from pgverify.lqr.stein import SteinSolver

EXACT_BITS = 3000


def exact_product(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The exact product, rounded to float only after subtracting the float64 product."""
    with ctx.workprec(EXACT_BITS):
        product = arb_mat(X.tolist()) * arb_mat(Y.tolist())
        return product


def error_of(middle: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    with ctx.workprec(EXACT_BITS):
        difference = exact_product(X, Y) - arb_mat(middle.tolist())
        rows, cols = middle.shape
        return np.array([[abs(float(difference[i, j])) for j in range(cols)] for i in range(rows)])


def matrix_with_spectral_radius(n: int, radius: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    return radius * M / np.max(np.abs(np.linalg.eigvals(M)))


@given(st.integers(0, 2**32 - 1), st.integers(-30, 30))
def test_product_enclosure_bounds_the_rounding_error(seed, exponent):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 40)) * 2.0**exponent
    Y = rng.standard_normal((40, 20)) * 2.0 ** rng.integers(-20, 20, (40, 20))
    middle, bound = product_enclosure(X, Y)
    assert np.all(error_of(middle, X, Y) <= bound)


def test_product_enclosure_is_not_vacuous():
    """The float64 product alone is not exact (so a zero bound would be wrong), and the bound
    is within a small factor of γ_k |X||Y|."""
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((50, 50)), rng.standard_normal((50, 50))
    middle, bound = product_enclosure(X, Y)
    assert np.max(error_of(middle, X, Y)) > 0
    assert np.max(bound) < 1e3 * 50 * 2.0**-53 * np.max(np.abs(X) @ np.abs(Y))


def test_product_enclosure_carries_input_errors():
    X, Y = np.eye(3), np.ones((3, 3))
    X_error = np.full((3, 3), 1e-3)
    _, bound = product_enclosure(X, Y, X_error=X_error)
    assert np.all(bound >= 3e-3)


@pytest.mark.parametrize("radius", [0.3, 0.9, 0.99])
def test_float_certificate_proves_stable_matrices(radius):
    A = matrix_with_spectral_radius(12, radius, seed=7)
    certificate = certify_stability_float(A, 0.0, SteinSolver(A))
    assert certificate.margin > 0
    assert radius <= certificate.spectral_radius_upper < 1


@pytest.mark.parametrize("radius", [1.0001, 1.3])
def test_float_certificate_refuses_unstable_matrices(radius):
    A = matrix_with_spectral_radius(12, radius, seed=8)
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.0, SteinSolver(A))


def test_float_certificate_refuses_when_the_uncertainty_reaches_an_unstable_matrix():
    """ρ(A) = 0.95, but the ball ‖A' − A‖_F ≤ 0.1 holds matrices with ρ > 1."""
    A = matrix_with_spectral_radius(6, 0.95, seed=9)
    assert certify_stability_float(A, 0.0, SteinSolver(A)).margin > 0
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.1, SteinSolver(A))


def test_float_and_ball_certificates_agree():
    A = matrix_with_spectral_radius(10, 0.8, seed=10)
    fast = certify_stability_float(A, 0.0, SteinSolver(A))
    with ctx.workprec(212):
        ball = certify_stability(arb_mat(A.tolist()), A)
    assert fast.margin == pytest.approx(ball.margin, rel=1e-6)
    assert fast.condition == pytest.approx(ball.condition, rel=1e-3)
