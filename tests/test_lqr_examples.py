"""Example-based and regression checks of the LQR oracle against exact and published values."""

from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
from flint import arb

from pgverify import (
    LQR,
    CertificationError,
    Certified,
    InvalidProblemError,
    NotStabilizingError,
)
from pgverify.lqr.stein import SchurSteinSolver
from tests.reference import scalar_lqr_value

DEAN_A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])


def exact(value: float) -> Fraction:
    return Fraction(value)


@pytest.fixture
def scalar():
    return LQR([[1.5]], [[1.0]], [[1.0]], [[1.0]])


def test_scalar_value_matrix_contains_the_exact_rational(scalar):
    expected = scalar_lqr_value(exact(1.5), exact(1.0), exact(1.0), exact(1.0), exact(1.0))
    assert expected == Fraction(8, 3)
    assert scalar.value_matrix([[1.0]], "certified").contains(np.array([[expected]], dtype=object))


def test_scalar_gradient_contains_the_exact_rational(scalar):
    # C(k) = (1 + k²)/(1 − (1.5 − k)²); C'(k) = [2k(1 − c²) − (1 + k²)·2c] / (1 − c²)², c = 1.5 − k
    k = Fraction(1)
    c = Fraction(3, 2) - k
    derivative = (2 * k * (1 - c * c) - (1 + k * k) * 2 * c) / (1 - c * c) ** 2
    assert scalar.gradient([[1.0]], "certified").contains(np.array([[derivative]], dtype=object))


def test_scalar_optimal_gain_contains_the_closed_form(scalar):
    # scalar DARE with a = 1.5, b = q = r = 1: x² − (a² − 1 + 1)x ... solved exactly in balls:
    # x = (q + (a² − 1) r ... use the quadratic x² − (a² q... ) — compare with arb sqrt
    a, q = arb(1.5), arb(1)
    # x = q + a² x − a² x² / (1 + x)  ⇔  x² − (a² + q − 1) x − q = 0 (b = r = 1)
    s = a * a + q - 1
    x = (s + (s * s + 4 * q).sqrt()) / 2
    k = a * x / (1 + x)
    assert scalar.optimal_value_matrix("certified").ball[0, 0].overlaps(x)
    assert scalar.optimal_gain("certified").ball[0, 0].overlaps(k)


def test_dean_optimal_gain_contains_scipy_dare_solution_within_its_accuracy():
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    certified = problem.optimal_gain("certified")
    X = scipy.linalg.solve_discrete_are(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    K = np.linalg.solve(np.eye(3) + X, X @ DEAN_A)
    assert certified.digits >= 50
    assert np.max(np.abs(K - certified.mid)) <= 1e-12


def test_more_bits_give_more_certified_digits():
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    K = 0.5 * np.eye(3)
    default = problem.gradient(K, "certified")
    wide = problem.gradient(K, Certified(bits=400))
    assert wide.digits >= default.digits + 50
    assert default.ball.overlaps(wide.ball)


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_certified_stability_is_decided_both_ways(engine):
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    certified = Certified(engine=engine)
    assert problem.is_stabilizing(0.5 * np.eye(3), certified) is True
    assert problem.is_stabilizing(np.zeros((3, 3)), certified) is False  # ρ = 1.024 > 1


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_marginal_gain_cannot_be_decided_and_says_so(engine):
    # A − BK = I exactly: ρ = 1, neither stable nor provably outside the unit disc
    problem = LQR(np.eye(2), np.eye(2), np.eye(2), np.eye(2))
    with pytest.raises(CertificationError, match="could not decide"):
        problem.is_stabilizing(np.zeros((2, 2)), Certified(engine=engine))


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_certified_quantity_at_an_unstable_gain_names_the_spectral_radius(engine):
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    with pytest.raises(NotStabilizingError, match="rho") as raised:
        problem.gradient(np.zeros((3, 3)), Certified(engine=engine))
    assert raised.value.spectral_radius == pytest.approx(1.0241, abs=1e-3)


def test_blas_engine_falls_back_to_the_ball_certificate(monkeypatch):
    """When the float64 Lyapunov certificate is not accurate enough, the Arb one is tried."""
    from pgverify.lqr import problem as problem_module

    def refuse(*arguments):
        raise CertificationError("float certificate refused (test)")

    monkeypatch.setattr(problem_module, "certify_stability_float", refuse)
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    gradient = problem.gradient(0.5 * np.eye(3), Certified(engine="blas"))
    reference = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3)).gradient(
        0.5 * np.eye(3), Certified(engine="arb")
    )
    assert gradient.digits >= 50 and gradient.overlaps(reference)


def test_high_precision_stability_uses_mpmath_eigenvalues():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    assert problem.is_stabilizing(0.5 * np.eye(3), 30)
    assert not problem.is_stabilizing(np.zeros((3, 3)), 30)


def test_finite_horizon_zero_steps_is_the_first_stage_cost():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), 2 * np.eye(3))
    K = 0.5 * np.eye(3)
    # C_0 = tr((Q + KᵀRK) Σ0) = tr(I + 0.5 I) = 4.5 exactly
    assert problem.finite_horizon_cost(K, 0, "certified").contains(4.5)


def test_finite_horizon_is_defined_for_destabilising_gains():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    value = problem.finite_horizon_cost(np.zeros((3, 3)), 5, "certified")
    assert value.digits >= 55


def test_schur_stein_solver_matches_scipy_direct_solver():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    A *= 0.9 / max(abs(np.linalg.eigvals(A)))
    F = np.eye(6)
    ours = SchurSteinSolver(A).solve(F, "value")
    theirs = scipy.linalg.solve_discrete_lyapunov(A.T, F, method="direct")
    assert np.allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    ours_cov = SchurSteinSolver(A, gamma=0.5).solve(F, "covariance")
    theirs_cov = scipy.linalg.solve_discrete_lyapunov(np.sqrt(0.5) * A, F, method="direct")
    assert np.allclose(ours_cov, theirs_cov, rtol=1e-10, atol=1e-12)


def test_q_matrix_has_the_value_matrix_in_its_quadratic_form():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3), gamma=0.9)
    K = 0.5 * np.eye(3)
    H = problem.q_matrix(K)
    P = problem.value_matrix(K)
    # V^K(x) = Q^K(x, −Kx): [I; −K]ᵀ H [I; −K] = P_K
    stacked = np.vstack([np.eye(3), -K])
    assert np.allclose(stacked.T @ H @ stacked, P, rtol=1e-12)


def test_step_updates_are_the_documented_combinations():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    K = 0.5 * np.eye(3)
    assert np.allclose(problem.policy_gradient_step(K, 0.1), K - 0.1 * problem.gradient(K))
    assert np.allclose(problem.natural_gradient_step(K, 0.1), K - 0.1 * problem.natural_gradient(K))
    assert np.allclose(
        problem.gauss_newton_step(K, 0.3), K - 0.3 * problem.gauss_newton_direction(K)
    )


def test_optimal_cost_is_the_cost_of_the_optimal_gain():
    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3), gamma=0.9, noise=0.25)
    assert problem.optimal_cost() == pytest.approx(problem.cost(problem.optimal_gain()), rel=1e-12)


def test_an_exact_rational_is_decided_by_containment(scalar):
    assert scalar.cost([[1.0]], "certified").contains(Fraction(8, 3))
    assert not scalar.cost([[1.0]], "certified").contains(Fraction(8, 3) + Fraction(1, 10**50))


@pytest.mark.parametrize(
    ("A", "digits"),
    [
        # a Jordan-like block with large coupling: eigenvectors (near) parallel, so the Schur inner
        # solver is used
        (np.array([[0.9, 50.0, 0.0], [0.0, 0.9, 50.0], [0.0, 0.0, 0.9]]), 40),
        # ρ = 0.999: slow decay and a large P, including an eigenvalue near −1 (where scipy's
        # bilinear transform inverts a nearly singular A + I)
        (np.diag([0.999, -0.999, 0.5]), 45),
    ],
    ids=["defective-non-normal", "near-the-stability-boundary"],
)
def test_certified_enclosure_is_rigorous_on_hard_closed_loops(A, digits):
    from tests.reference import closed_loop_and_stage_cost, kronecker_stein

    problem = LQR(A, np.eye(3), np.eye(3), np.eye(3))
    K = np.zeros((3, 3))
    closed, stage = closed_loop_and_stage_cost(problem, K)
    reference = kronecker_stein(closed, stage, 1.0, "value")
    enclosure = problem.value_matrix(K, "certified")
    assert enclosure.contains(reference)
    assert enclosure.digits >= digits


def test_high_precision_error_estimate_is_consistent_with_the_certified_enclosure():
    import mpmath

    from pgverify.precision import to_arb

    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    K = 0.5 * np.eye(3)
    value, estimate = problem.with_error_estimate("gradient", K, digits=30)
    assert estimate < mpmath.mpf(10) ** -28
    certified = problem.gradient(K, "certified")
    for i in range(3):
        for j in range(3):
            gap = abs(to_arb(value[i, j]) - certified.ball[i, j])
            assert gap < 1e-28


def test_error_estimate_refuses_unknown_quantities():
    from pgverify import InvalidProblemError

    problem = LQR(DEAN_A, np.eye(3), np.eye(3), np.eye(3))
    with pytest.raises(InvalidProblemError, match="unknown quantity"):
        problem.with_error_estimate("_evaluation", np.eye(3), digits=20)


def test_blas_and_arb_engines_give_overlapping_certified_gradients():
    """The two certified engines are independent computations of the same enclosure."""
    from pgverify.lqr.examples import random_stabilisable_system

    problem, K = random_stabilisable_system(8, 4, 3)
    blas = problem.gradient(K, Certified(engine="blas"))
    balls = problem.gradient(K, Certified(engine="arb"))
    assert blas.overlaps(balls)
    assert blas.digits >= 50 and balls.digits >= 50


def test_unknown_certified_engine_is_refused():
    with pytest.raises(InvalidProblemError, match="engine"):
        Certified(engine="gpu")


@pytest.mark.parametrize(
    "quantity",
    ["cost", "natural_gradient", "gauss_newton_direction", "policy_iteration_step", "q_matrix"],
)
def test_blas_and_arb_engines_agree_on_every_closed_form(quantity):
    """Linear solves and block matrices of the BLAS engine go through Arb and back."""
    from pgverify.lqr.examples import random_stabilisable_system

    problem, K = random_stabilisable_system(5, 2, 4)
    blas = getattr(problem, quantity)(K, Certified(engine="blas"))
    balls = getattr(problem, quantity)(K, Certified(engine="arb"))
    assert blas.overlaps(balls)
    assert blas.digits >= 45


def test_auto_engine_uses_blas_from_dimension_20_and_agrees_with_arb():
    from pgverify.lqr.examples import random_stabilisable_system
    from pgverify.lqr.problem import BLAS_ENGINE_MIN_DIMENSION

    problem, K = random_stabilisable_system(BLAS_ENGINE_MIN_DIMENSION + 4, 6, 5)
    automatic = problem.state_covariance(K, "certified")
    balls = problem.state_covariance(K, Certified(engine="arb"))
    # one Frobenius radius on every entry: the BLAS engine's signature
    assert np.ptp(automatic.rad) == 0 and np.ptp(balls.rad) > 0
    assert automatic.overlaps(balls) and automatic.digits >= 50
