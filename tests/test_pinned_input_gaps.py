"""The input gaps pinned by the fuzz test (properties/test_fuzz_inputs.py), closed: each refusal
names the argument, and the valid edge cases next to it are still accepted."""

from fractions import Fraction

import numpy as np
import pytest

from pgverify import Enclosure, InvalidProblemError
from pgverify.expectation import batch_mean_baseline_expectation
from pgverify.lqr.examples import dean_2017
from pgverify.trpo import (
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product_from_moment,
    natural_direction,
    softmax_fisher_product,
)

SINGULAR_MOMENT = [[1.0, 1.0], [1.0, 1.0]]  # x = (t, t): semidefinite, not definite
INDEFINITE_MOMENT = [[1.0, 2.0], [2.0, 1.0]]  # eigenvalues 3 and −1


@pytest.mark.parametrize("precision", ["float", "exact", 30])
def test_a_second_moment_with_a_negative_eigenvalue_is_refused_in_every_tier(precision):
    with pytest.raises(InvalidProblemError, match=r"second_moment.*not positive semidefinite"):
        linear_gaussian_fisher(INDEFINITE_MOMENT, 1.0, 1, precision=precision)


@pytest.mark.parametrize("precision", ["float", "exact", 30])
def test_a_singular_second_moment_is_accepted_in_every_tier(precision):
    fisher = linear_gaussian_fisher(SINGULAR_MOMENT, 2.0, 1, precision=precision)
    assert [[float(x) for x in row] for row in fisher] == [[0.5, 0.5], [0.5, 0.5]]


def test_the_exact_tier_refuses_a_moment_negative_by_one_part_in_a_billion():
    # [[1, 1], [1, 1 − 1e-9]] has determinant −1e-9: indefinite, decided exactly
    nearly = [[Fraction(1), Fraction(1)], [Fraction(1), 1 - Fraction(1, 10**9)]]
    with pytest.raises(InvalidProblemError, match="decided exactly"):
        linear_gaussian_fisher(nearly, 1, 1, precision="exact")


def test_the_exact_tier_refuses_a_zero_diagonal_with_an_off_diagonal_entry():
    with pytest.raises(InvalidProblemError, match="second_moment"):
        linear_gaussian_fisher([[0, 1], [1, 0]], 1, 1, precision="exact")


def test_the_fisher_vector_product_from_a_moment_refuses_minus_a_moment():
    with pytest.raises(InvalidProblemError, match="second_moment"):
        linear_gaussian_fisher_vector_product_from_moment(-np.eye(2), 1.0, np.ones(2), 1)


@pytest.mark.parametrize("precision", ["float", "exact", 30])
def test_natural_direction_refuses_a_negative_definite_fisher(precision):
    with pytest.raises(InvalidProblemError, match=r"fisher.*not positive definite"):
        natural_direction([1.0, 1.0], -np.eye(2), precision=precision)


def test_natural_direction_refuses_a_singular_fisher_without_damping():
    with pytest.raises(InvalidProblemError, match="fisher"):
        natural_direction([1.0, 1.0], SINGULAR_MOMENT, precision="exact")


def test_natural_direction_accepts_a_singular_fisher_made_definite_by_damping():
    x = natural_direction([2, 2], SINGULAR_MOMENT, damping=Fraction(1), precision="exact")
    assert list(x) == [Fraction(2, 3), Fraction(2, 3)]  # (F + I) x = g by hand: 3x = 2


@pytest.mark.parametrize("target", ["gradient", None, [[1.0, float("nan")]], [[1.0], [1.0, 2.0]]])
def test_batch_mean_baseline_expectation_refuses_a_junk_target_naming_it(target):
    with pytest.raises(InvalidProblemError, match="target"):
        batch_mean_baseline_expectation(target, 2)


def test_batch_mean_baseline_expectation_scales_an_enclosure_into_an_enclosure():
    problem = dean_2017()
    gradient = problem.gradient(0.5 * np.eye(3), precision="certified")
    scaled = batch_mean_baseline_expectation(gradient, 4)
    assert isinstance(scaled, Enclosure)
    assert scaled.contains(0.75 * gradient.mid)  # 3/4 of a float midpoint: exact in binary


def test_batch_mean_baseline_expectation_keeps_fractions_exact():
    assert list(batch_mean_baseline_expectation([Fraction(1, 3)], 2)) == [Fraction(1, 6)]


@pytest.mark.parametrize(
    ("policy", "visitation", "V", "named"),
    [
        ([[0.5, 0.5]], [1.0], [[1.0, 2.0, 3.0]], "V"),
        ([[0.5, 0.25]], [1.0], [[1.0, 2.0]], "policy"),
        ([[1.5, -0.5]], [1.0], [[1.0, 2.0]], "policy"),
        ([[0.5, 0.5]], [-1.0], [[1.0, 2.0]], "visitation"),
        ([[0.5, 0.5]], [1.0, 0.0], [[1.0, 2.0]], "visitation"),
        ([[0.5, "x"]], [1.0], [[1.0, 2.0]], "policy"),
        ([[0.5, 0.5]], [1.0], [[1.0, float("inf")]], "V"),
    ],
)
def test_softmax_fisher_product_refuses_bad_input_naming_the_argument(policy, visitation, V, named):
    with pytest.raises(InvalidProblemError, match=named):
        softmax_fisher_product(policy, visitation, V)


def test_softmax_fisher_product_computes_exactly_on_fractions():
    half = Fraction(1, 2)
    product = softmax_fisher_product([[half, half]], [Fraction(1)], [[Fraction(1), Fraction(3)]])
    # d π_a (v_a − Σ π_b v_b) = ½ (1 − 2), ½ (3 − 2)
    assert list(product[0]) == [-half, half]


@pytest.mark.parametrize(
    "step", ["policy_gradient_step", "natural_gradient_step", "gauss_newton_step"]
)
def test_an_lqr_step_refuses_a_negative_step_size(step):
    problem = dean_2017()
    with pytest.raises(InvalidProblemError, match="alpha must be >= 0"):
        getattr(problem, step)(0.5 * np.eye(3), -0.1)


@pytest.mark.parametrize(
    "step", ["policy_gradient_step", "natural_gradient_step", "gauss_newton_step"]
)
def test_an_lqr_step_of_size_zero_returns_the_gain(step):
    problem = dean_2017()
    K = 0.5 * np.eye(3)
    assert np.array_equal(getattr(problem, step)(K, 0.0), K)
