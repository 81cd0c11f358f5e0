"""Bad input to the returns and advantage references raises InvalidProblemError naming the
argument, the value seen and what was expected."""

from fractions import Fraction

import numpy as np
import pytest

from pgverify import InvalidProblemError
from pgverify.estimators import discounted_returns, gae, lambda_returns, td_residuals

T = 4
GOOD = dict(
    costs=np.ones(T),
    values=np.zeros(T),
    next_values=np.zeros(T),
    terminated=np.zeros(T, dtype=bool),
    truncated=np.zeros(T, dtype=bool),
    gamma=0.9,
    lam=0.95,
)


def call_gae(**overrides):
    arguments = dict(GOOD)
    arguments.update(overrides)
    return gae(**arguments)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("costs", 1.0, "costs has shape () (0-D); expected shape (T,) or (B, T)"),
        ("costs", np.ones((2, 2, 2)), "costs has shape (2, 2, 2) (3-D); expected shape (T,)"),
        ("values", np.zeros(T + 1), "values has shape (5,); expected (4,), the shape of costs"),
        ("next_values", np.zeros((1, T)), "next_values has shape (1, 4); expected (4,)"),
        ("terminated", np.zeros(T - 1), "terminated has shape (3,); expected (4,)"),
        ("truncated", np.zeros((T, 1)), "truncated has shape (4, 1); expected (4,)"),
        ("values", None, "values is required, got None"),
        ("costs", [[1.0, 2.0], [3.0]], "costs could not be read as an array"),
    ],
)
def test_wrong_shapes_are_refused_with_the_shape_seen(name, value, fragment):
    with pytest.raises(InvalidProblemError) as info:
        call_gae(**{name: value})
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["costs", "values", "next_values"])
def test_non_finite_entries_are_refused_with_their_index(name, bad):
    array = GOOD[name].copy()
    array[2] = bad
    with pytest.raises(
        InvalidProblemError, match=rf"{name} has a non-finite entry .* at index \(2,\)"
    ):
        call_gae(**{name: array})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (np.ones(T, dtype=complex), "costs has complex entries (dtype complex128)"),
        (np.array(["1"] * T), "costs must hold real numbers, got dtype <U1"),
        (np.ones(T, dtype=bool), "costs must hold real numbers, got dtype bool"),
        (np.array([2**53 + 1, 0, 0, 0]), "costs has the entry 9007199254740993 at index (0,)"),
    ],
)
def test_non_real_or_inexact_costs_are_refused(value, fragment):
    with pytest.raises(InvalidProblemError) as info:
        call_gae(costs=value)
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [0.5, 2, -1, np.nan])
@pytest.mark.parametrize("name", ["terminated", "truncated"])
def test_flags_other_than_zero_and_one_are_refused(name, bad):
    flags = np.zeros(T)
    flags[1] = bad
    with pytest.raises(InvalidProblemError) as info:
        call_gae(**{name: flags})
    assert f"{name} has the value" in str(info.value)
    assert "at index (1,); expected a flag: True/False or 1/0" in str(info.value)


def test_non_numeric_flags_are_refused():
    with pytest.raises(InvalidProblemError, match="dones must hold flags, got dtype <U1"):
        discounted_returns(np.ones(2), np.array(["y", "n"]), 0.9)


@pytest.mark.parametrize(
    ("gamma", "fragment"),
    [
        (0.0, "gamma = 0.0 is outside (0, 1]"),
        (1.5, "gamma = 1.5 is outside (0, 1]"),
        (-0.1, "gamma = -0.1 is outside (0, 1]"),
        (np.nan, "gamma = nan is outside (0, 1]"),
        (True, "gamma must be a real number in (0, 1], got True (type bool)"),
        ("0.9", "gamma must be a real number in (0, 1], got '0.9' (type str)"),
        (np.array([0.9]), "gamma must be a real number in (0, 1], got array([0.9])"),
        (Fraction(1, 3), "gamma = Fraction(1, 3) is not exactly a float64"),
    ],
)
def test_discounts_outside_the_half_open_unit_interval_are_refused(gamma, fragment):
    with pytest.raises(InvalidProblemError) as info:
        call_gae(gamma=gamma)
    assert fragment in str(info.value)


@pytest.mark.parametrize("lam", [-0.1, 1.01, np.nan])
def test_lambdas_outside_the_unit_interval_are_refused(lam):
    with pytest.raises(InvalidProblemError, match=r"lam = .* is outside \[0, 1\]"):
        call_gae(lam=lam)


def test_lambda_zero_and_one_and_gamma_one_are_accepted():
    for gamma, lam in [(1, 0), (1.0, 1.0), (Fraction(1, 2), np.float32(0.5))]:
        assert call_gae(gamma=gamma, lam=lam).shape == (T,)


@pytest.mark.parametrize("function", [discounted_returns, td_residuals, gae, lambda_returns])
def test_float64_overflow_is_refused_rather_than_returned_as_infinity(function):
    costs = np.full(3, 1e308)
    zeros, flags = np.zeros(3), np.zeros(3, dtype=bool)
    arguments = {
        discounted_returns: (costs, flags, 1.0),
        td_residuals: (costs, zeros, costs, flags, 1.0),
        gae: (costs, zeros, zeros, flags, flags, 1.0, 1.0),
        lambda_returns: (costs, zeros, zeros, flags, flags, 1.0, 1.0),
    }[function]
    with pytest.raises(InvalidProblemError, match="overflow float64"):
        function(*arguments)


def test_every_function_validates_its_discount():
    with pytest.raises(InvalidProblemError, match="gamma"):
        discounted_returns(np.ones(2), np.zeros(2), 0)
    with pytest.raises(InvalidProblemError, match="gamma"):
        td_residuals(np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), 2)
    with pytest.raises(InvalidProblemError, match="gamma"):
        lambda_returns(np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), 0, 0.5)
