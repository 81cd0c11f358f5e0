"""The smoothed-cost gradients of zeroth-order estimators on cubic costs, two ways: the closed
forms of :func:`pgverify.expectation.smoothed_gradient` (∇C + (μ²/2)∇ΔC for Gaussian smoothing,
∇C + r²/(2(mn + 2))∇ΔC for the ball) equal, exactly, the expectation of each estimator computed
in rational arithmetic over the cubature rules (Gaussian, and the degree-5 rule on the sphere)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.estimators import cubic_cost, zeroth_order_estimate
from pgverify.expectation import directions_expectation, smoothed_gradient

exact = np.vectorize(Fraction, otypes=[object])
eighths = st.integers(-12, 12).map(lambda k: k / 8.0)


@st.composite
def cubic_problems(draw):
    m, n = draw(st.sampled_from([(1, 1), (1, 2), (2, 1), (1, 3), (2, 2)]))
    size = m * n

    def array(shape):
        count = int(np.prod(shape))
        return np.array(draw(st.lists(eighths, min_size=count, max_size=count))).reshape(shape)

    half = array((size, size))
    cost = cubic_cost(array((size, size, size)), half + half.T, array((size,)), draw(eighths))
    return cost, array((m, n)), draw(st.sampled_from([0.125, 0.25, 0.5, 1.0, 2.0]))


@settings(max_examples=12, deadline=None)
@given(cubic_problems(), st.sampled_from(["gaussian", "gaussian_shifted", "antithetic", "sphere"]))
def test_every_zeroth_order_form_has_the_smoothed_gradient_as_its_exact_mean(problem, kind):
    cost, K, mu = problem
    gain, smoothing = exact(K), Fraction(mu)
    result = directions_expectation(
        lambda directions: zeroth_order_estimate(cost, gain, directions, smoothing, kind),
        K.shape,
        1,
        4,
        distribution="sphere" if kind == "sphere" else "gaussian",
    )
    target = smoothed_gradient(cost, K, mu, "ball" if kind == "sphere" else "gaussian")
    assert result.tier == "exact"
    assert (result.mean == target).all()


def test_the_ball_and_gaussian_targets_differ_on_a_cubic():
    # the check can only tell the sphere's target from the Gaussian one because these differ
    cost = cubic_cost(np.ones((2, 2, 2)), np.eye(2), np.zeros(2))
    K = [[0.5, -0.25]]
    assert (smoothed_gradient(cost, K, 0.5, "ball") != smoothed_gradient(cost, K, 0.5)).all()


def test_a_quadratic_has_no_smoothing_term():
    cost = cubic_cost(np.zeros((2, 2, 2)), [[2.0, 0.5], [0.5, 1.0]], [1.0, -1.0])
    K = [[0.5, -0.25]]
    # H k + g = (2·½ − ½·¼ + 1, ½·½ − ¼ − 1)
    expected = np.array([[Fraction(15, 8), Fraction(-1)]])
    for distribution in ("gaussian", "ball"):
        assert (smoothed_gradient(cost, K, 0.5, distribution) == expected).all()
