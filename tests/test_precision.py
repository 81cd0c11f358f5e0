"""The arithmetic interface, the exact conversions to balls and what each tier returns."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb

from pgverify import Certified, Enclosure, InvalidProblemError
from pgverify.precision import (
    BallArithmetic,
    FloatArithmetic,
    MpmathArithmetic,
    arithmetic_for,
    float_lower,
    float_upper,
    to_arb,
)


def test_precision_names_select_the_three_arithmetics():
    assert isinstance(arithmetic_for("float"), FloatArithmetic)
    assert isinstance(arithmetic_for(40), MpmathArithmetic)
    assert arithmetic_for("certified").working_bits == Certified().bits
    assert arithmetic_for(Certified(bits=400)).working_bits == 400


def test_every_float_converts_to_a_ball_exactly():
    value = 0.1  # not 1/10: the double nearest to it
    ball = to_arb(value)
    assert ball.is_exact()
    assert ball == arb(Fraction(value).numerator) / arb(Fraction(value).denominator)


def test_mpmath_numbers_convert_to_balls_exactly():
    with mpmath.workdps(50):
        third = mpmath.mpf(1) / 3
    ball = to_arb(third)
    assert ball.is_exact()
    assert ball.contains(arb(1) / 3) is False  # the 50-digit value is not 1/3 exactly


def test_fractions_convert_to_balls_that_contain_them():
    third = to_arb(Fraction(1, 3))
    assert third.rad() < arb(10) ** -600
    assert (third * 3).contains(1)


def test_non_finite_values_cannot_become_balls():
    with pytest.raises(InvalidProblemError, match="non-finite"):
        to_arb(float("nan"))


def test_rounding_helpers_bracket_the_ball():
    ball = arb(1) / 3
    assert float_lower(ball) < 1 / 3 < float_upper(ball) or float_lower(
        ball
    ) <= 1 / 3 <= float_upper(ball)
    assert arb(float_lower(ball)) < ball < arb(float_upper(ball))


def test_the_same_closed_form_runs_in_all_three_arithmetics():
    A = np.array([[1.0, 2.0], [3.0, 5.0]])
    for ar in (FloatArithmetic(), MpmathArithmetic(30), BallArithmetic(128)):
        with ar.context():
            matrix = ar.matrix(A)
            inverse_times_matrix = ar.solve(matrix, matrix)
            assert np.allclose(ar.to_float(inverse_times_matrix), np.eye(2))
            assert float(ar.to_float(ar.trace(matrix @ matrix.T))) == pytest.approx(39.0)


def test_mpmath_results_carry_the_digits_asked_for():
    ar = MpmathArithmetic(40)
    with ar.context():
        value = ar.scalar(1.0) / 3
        exported = ar.export(value)
    with mpmath.workdps(60):
        assert abs(exported - mpmath.mpf(1) / 3) < mpmath.mpf(10) ** -39


def test_bools_and_non_numbers_do_not_become_balls():
    with pytest.raises(InvalidProblemError, match="bool"):
        to_arb(True)
    with pytest.raises(InvalidProblemError, match=r"expected a real number.*str"):
        to_arb("1.0")


# --------------------------------------------------------------------------------------------
# What each tier returns (the table of docs/user-guide.md)
# --------------------------------------------------------------------------------------------

DEAN_A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])


@pytest.fixture(scope="module")
def dean():
    from pgverify import LQR

    return LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3)), 0.5 * np.eye(3)


def test_the_float_tier_returns_floats_and_float64_arrays(dean):
    problem, K = dean
    assert type(problem.cost(K)) is float
    gradient = problem.gradient(K)
    assert isinstance(gradient, np.ndarray) and gradient.dtype == np.float64
    assert gradient.shape == (3, 3)


def test_the_high_precision_tier_returns_mpf_and_object_arrays_of_mpf(dean):
    problem, K = dean
    assert isinstance(problem.cost(K, 30), mpmath.mpf)
    gradient = problem.gradient(K, 30)
    assert isinstance(gradient, np.ndarray) and gradient.dtype == object
    assert gradient.shape == (3, 3)
    assert all(isinstance(entry, mpmath.mpf) for entry in gradient.flat)


def test_high_precision_matrices_keep_their_shape_in_numpy(dean):
    problem, K = dean
    gradient = problem.gradient(K, 30)
    as_floats = np.array(gradient, dtype=float)
    assert as_floats.shape == (3, 3)
    np.testing.assert_allclose(as_floats, problem.gradient(K), rtol=1e-9)
    assert gradient.T[0, 1] == gradient[1, 0]


def test_high_precision_results_carry_the_digits_asked_for(dean):
    problem, K = dean
    coarse = problem.gradient(K, 30)
    fine = problem.gradient(K, 60)
    with mpmath.workdps(70):
        gaps = [abs(c - f) / abs(f) for c, f in zip(coarse.flat, fine.flat)]
    assert max(gaps) < mpmath.mpf(10) ** -29


def test_the_certified_tier_returns_enclosures_of_the_quantitys_shape(dean):
    problem, K = dean
    cost = problem.cost(K, "certified")
    gradient = problem.gradient(K, "certified")
    assert isinstance(cost, Enclosure) and cost.shape == ()
    assert isinstance(gradient, Enclosure) and gradient.shape == (3, 3)
