"""``repr(LQR)`` is Python that rebuilds the problem bit for bit, so a failing hypothesis case
can be pasted into a regression test."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pgverify import LQR
from pgverify.strategies import lqr_problems

MATRICES = ("A", "B", "Q", "R", "Sigma0")

finite = st.floats(allow_nan=False, allow_infinity=False)  # subnormals, ±0.0, ±1.8e308
signed_zeros = st.sampled_from([0.0, -0.0])


def bits(value: float) -> bytes:
    return np.float64(value).tobytes()


def same_problem(first: LQR, second: LQR) -> bool:
    """Bit-for-bit equality of every datum (so 0.0 and -0.0 differ)."""
    return all(
        getattr(first, name).shape == getattr(second, name).shape
        and getattr(first, name).tobytes() == getattr(second, name).tobytes()
        for name in MATRICES
    ) and (bits(first.gamma), bits(first.noise)) == (bits(second.gamma), bits(second.noise))


@st.composite
def diagonal_weights(draw, size: int, definite: bool) -> np.ndarray:
    """Diagonal weights at any scale (subnormal to near overflow) with signed-zero off-diagonal
    entries: positive definite if ``definite`` (a diagonal within a factor 2), else ⪰ 0.
    (Definite ones stop at 2^-1060: the validation's tolerance, 64·eps·n·(smallest normal
    float), refuses a positive definite diagonal of the smallest subnormals.)"""
    if definite:
        exponent = draw(st.integers(-1060, 1022))
        mantissas = draw(arrays(np.float64, size, elements=st.floats(1.0, 1.99)))
        diagonal = np.ldexp(mantissas, exponent)
    else:
        diagonal = draw(arrays(np.float64, size, elements=st.floats(0.0, 1e308)))
    matrix = np.diag(diagonal)
    for i in range(size):
        for j in range(size):
            if i != j:
                matrix[i, j] = draw(signed_zeros)  # ±0 in mirrored places: still symmetric
    return matrix


@st.composite
def extreme_problems(draw) -> LQR:
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    gamma = draw(st.floats(0.0, 1.0, exclude_min=True))
    noise = draw(st.one_of(signed_zeros, finite.map(abs))) if gamma < 1 else draw(signed_zeros)
    return LQR(
        draw(arrays(np.float64, (n, n), elements=finite)),
        draw(arrays(np.float64, (n, m), elements=finite)),
        draw(diagonal_weights(n, definite=False)),
        draw(diagonal_weights(m, definite=True)),
        Sigma0=draw(diagonal_weights(n, definite=True)),
        gamma=gamma,
        noise=noise,
    )


@given(st.one_of(extreme_problems(), lqr_problems()))
def test_repr_rebuilds_the_problem_bit_for_bit(problem):
    rebuilt = eval(repr(problem), {"LQR": LQR})  # the repr under test, no user input
    assert same_problem(rebuilt, problem)


def test_repr_of_a_large_problem_is_not_abbreviated():
    """numpy abbreviates arrays of more than 1000 entries with '...'; the repr must not."""
    rng = np.random.default_rng(0)
    n = 40
    problem = LQR(rng.standard_normal((n, n)), rng.standard_normal((n, 2)), np.eye(n), np.eye(2))
    text = repr(problem)
    assert "..." not in text
    assert same_problem(eval(text, {"LQR": LQR}), problem)


def test_repr_keeps_the_sign_of_zero_and_subnormals():
    problem = LQR([[-0.0, 5e-324], [2.0**-1074 * 3, 1.0]], [[-0.0], [1.0]], np.eye(2), [[1.0]])
    rebuilt = eval(repr(problem), {"LQR": LQR})
    assert same_problem(rebuilt, problem)
    assert np.signbit(rebuilt.A[0, 0]) and rebuilt.A[0, 1] == 5e-324
