"""Regressions from an adversarial review of the certified LQR oracle (≈ 170 000 enclosures
against exact references): each case once leaked a raw exception, refused a well-posed problem
or claimed a false instability.  Every value here is checked against an exact reference."""

from fractions import Fraction

import numpy as np
import pytest
from flint import arb, ctx

from pgverify import LQR, CertificationError, Certified, PgverifyError
from tests.exact_lqr import exact_lqr, to_balls


def test_a_cost_difference_below_the_refinement_floor_is_enclosed_not_a_crash():
    # u2 does not act on x: C(K2) − C(K) = R22 δ² Σ_{K2} = 2^-600 · 4/3 exactly
    problem = LQR([[0.5]], [[1.0, 0.0]], [[1.0]], np.eye(2))
    K, K2 = np.array([[0.0], [0.0]]), np.array([[0.0], [2.0**-300]])
    for bits in (64, 212, 1100):
        difference = problem.cost_difference(K, K2, Certified(bits=bits, engine="blas"))
        assert difference.contains(Fraction(4, 3) / 2**600)


def test_a_float64_curvature_singular_after_rounding_raises_a_certification_error():
    # R + BᵀX*B = I + X* [[1, 1], [1, 1]] with X* ≈ 2^53: rounds to a singular float matrix
    problem = LQR([[0.5]], [[1.0, 1.0]], [[2.0**53]], np.eye(2))
    for precision in ("float", Certified(engine="arb"), Certified(engine="blas")):
        with pytest.raises(CertificationError, match="singular after rounding"):
            problem.optimal_gain(precision)


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_a_closed_loop_that_overflows_float64_raises_a_pgverify_error(engine):
    problem = LQR(0.5 * np.eye(2), [[2.0**600], [0.0]], np.eye(2), [[1.0]])
    with pytest.raises(PgverifyError, match="overflows float64"):
        problem.cost(np.array([[0.0, -(2.0**500)]]), Certified(engine=engine))


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_a_stabilising_gain_whose_float_closed_loop_cancels_is_not_called_unstable(engine):
    # A − BK = 1.2 − 2^60 − 1 + 2^60 = 0.19999999999999996 exactly; float64 computes 1.2
    A, B = np.array([[1.2]]), np.array([[1.0, 1.0, 1.0]])
    K = np.array([[2.0**60], [1.0], [-(2.0**60)]])
    closed = Fraction(1.2) - 1
    exact_cost = (1 + 2 * Fraction(2) ** 120 + 1) / (1 - closed**2)
    cost = LQR(A, B, np.eye(1), np.eye(3)).cost(K, Certified(engine=engine))
    assert cost.contains(exact_cost)


def test_a_riccati_equation_with_a_tiny_state_weight_is_certified():
    # scalar DARE with a = 2, b = r = 1, q = 2^-100: X² − (3 + q)X − q = 0, K* = 2X/(1 + X)
    problem = LQR([[2.0]], [[1.0]], [[2.0**-100]], [[1.0]])
    gain = problem.optimal_gain(Certified(bits=212))
    with ctx.workprec(600):
        q = arb(2) ** -100
        X = ((3 + q) + ((3 + q) ** 2 + 4 * q).sqrt()) / 2
        assert gain.ball[0, 0].overlaps(2 * X / (1 + X))
    assert gain.digits >= 55


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_a_stability_margin_below_float64_resolution_still_certifies(engine):
    # ρ = 0.5 but ‖A‖ = 1e4: the certificate's margin c ≈ 1e-17, √(1 − c) rounds to 1.0
    J = np.diag([0.5] * 3) + np.diag([1e4] * 2, 1)
    problem = LQR(J, np.ones((3, 1)), np.eye(3), np.eye(1))
    K = np.zeros((1, 3))
    value = problem.value_matrix(K, Certified(engine=engine))
    with ctx.workprec(4000):
        assert value.ball.contains(to_balls(exact_lqr(problem, K).value_matrix, 4000))
    assert value.digits >= 10
