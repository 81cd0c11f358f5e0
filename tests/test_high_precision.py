"""The high-precision tier (``precision=N``) at a gain: exact limb products, mpmath results.

The reference is the certified tier at 400 bits (≈ 120 digits), whose enclosures are far
narrower than the 10^-N asked for here.
"""

import mpmath
import numpy as np
import pytest

from pgverify import LQR, Certified


def midpoint(ball) -> mpmath.mpf:
    """The ball's midpoint at the current mpmath precision."""
    mantissa, exponent = ball.mid().man_exp()
    return mpmath.mpf((int(mantissa), int(exponent)))


def random_problem(n: int, seed: int, **options) -> LQR:
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n))
    A *= 0.9 / max(abs(np.linalg.eigvals(A)))
    return LQR(A, rng.standard_normal((n, 2)), np.eye(n), np.eye(2), **options)


@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("digits", [20, 40])
def test_high_precision_gradient_carries_the_digits_asked(n, digits):
    problem = random_problem(n, seed=n, gamma=0.9, noise=0.25)
    K = np.zeros((2, n))
    value = problem.gradient(K, precision=digits)
    reference = problem.gradient(K, Certified(bits=400)).ball
    assert isinstance(value, np.ndarray) and value.shape == (2, n)
    with mpmath.workdps(digits + 20):
        scale = max(abs(midpoint(reference[i, j])) for i in range(2) for j in range(n))
        error = max(
            abs(value[i, j] - midpoint(reference[i, j])) for i in range(2) for j in range(n)
        )
    assert error <= scale * mpmath.mpf(10) ** (2 - digits)


def test_high_precision_cost_is_an_mpmath_number_with_the_digits_asked():
    problem = random_problem(4, seed=1)
    K = np.zeros((2, 4))
    value = problem.cost(K, precision=35)
    reference_ball = problem.cost(K, Certified(bits=400)).ball
    assert isinstance(value, mpmath.mpf)
    with mpmath.workdps(55):
        reference = midpoint(reference_ball)
        assert abs(value - reference) <= abs(reference) * mpmath.mpf(10) ** -33


def test_digits_beyond_the_limb_engine_fall_back_to_mpmath_arithmetic():
    # 4000 digits need more limbs than exact int64 limb sums allow; the value is still right
    problem = LQR([[0.5]], [[1.0]], [[1.0]], [[1.0]])
    value = problem.cost(np.array([[0.25]]), precision=4000)
    # P = (1 + 1/16) / (1 − 1/16) = 17/15 exactly
    with mpmath.workdps(4000):
        assert abs(value - mpmath.mpf(17) / 15) < mpmath.mpf(10) ** -3990
