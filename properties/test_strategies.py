"""The public hypothesis strategies generate what they promise."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pgverify.strategies import (
    MAX_SPECTRAL_RADIUS,
    lqr_problems,
    lqr_problems_with_gains,
    stabilizing_gains,
)


@given(lqr_problems_with_gains(n=st.integers(1, 5), discounted=None))
def test_generated_gains_are_stabilising_with_margin(case):
    problem, K = case
    assert K.shape == (problem.m, problem.n)
    assert problem.spectral_radius(K) <= MAX_SPECTRAL_RADIUS


@given(lqr_problems_with_gains(noisy=True))
def test_noisy_problems_are_discounted(case):
    problem, _ = case
    assert problem.noise > 0 and problem.gamma < 1


@given(lqr_problems(n=3, m=2))
def test_generated_problems_are_stabilisable_with_positive_definite_weights(problem):
    assert (problem.n, problem.m) == (3, 2)
    assert np.min(np.linalg.eigvalsh(problem.Q)) > 0
    assert np.min(np.linalg.eigvalsh(problem.R)) > 0
    assert problem.spectral_radius(problem.optimal_gain()) < 1


@given(st.data())
def test_stabilizing_gains_of_a_given_problem_stabilise_it(data):
    problem = data.draw(lqr_problems(n=2))
    K = data.draw(stabilizing_gains(problem))
    assert problem.spectral_radius(K) < 1
