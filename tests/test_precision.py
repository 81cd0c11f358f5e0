"""The arithmetic interface and the Enclosure result type."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat

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


def test_enclosure_reports_midpoint_radius_and_digits():
    enclosure = Enclosure(arb(2, 1e-30))
    assert enclosure.mid == 2.0
    assert 1e-30 <= enclosure.rad < 1.0001e-30
    assert enclosure.digits == 30
    assert "certified digits=30" in repr(enclosure)


def test_an_exact_enclosure_has_infinitely_many_digits():
    assert Enclosure(arb_mat([[0.5, 0.0]])).digits == math.inf


def test_matrix_enclosure_contains_floats_mpmath_and_balls_exactly():
    enclosure = Enclosure(arb_mat([[arb(1, 1e-20), arb(0, 1e-20)]]))
    assert enclosure.contains(np.array([[1.0, 0.0]]))
    assert enclosure.contains(mpmath.matrix([[1, 1e-21]]))
    assert enclosure.contains(arb_mat([[1.0, 0.0]]))
    assert not enclosure.contains(np.array([[1.0 + 1e-15, 0.0]]))


def test_contains_refuses_a_wrong_shape():
    with pytest.raises(InvalidProblemError, match=r"expected a matrix of shape \(1, 2\)"):
        Enclosure(arb_mat([[1.0, 2.0]])).contains(np.ones((2, 1)))


def test_disjoint_enclosures_do_not_overlap():
    assert not Enclosure(arb(1, 1e-10)).overlaps(Enclosure(arb(1.1, 1e-10)))
    assert Enclosure(arb(1, 1e-10)).overlaps(Enclosure(arb(1 + 1e-11, 1e-10)))


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
