"""Certified fixed-point matrices on float64 BLAS (pgverify.fixedpoint).

The reference is Arb at 4000 bits, where every product and sum of these float inputs is exact:
each enclosure must contain it, be narrow, and — the negative controls — stop containing it as
soon as one limb of the midpoint is wrong.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import given
from hypothesis import strategies as st

from pgverify.errors import CertificationError
from pgverify.fixedpoint import (
    FixedPointArithmetic,
    FixedPointMatrix,
    Layout,
    from_arb_mat,
    from_float,
)

EXACT_BITS = 4000


def exact(array: np.ndarray) -> arb_mat:
    with ctx.workprec(EXACT_BITS):
        return arb_mat(np.asarray(array, dtype=float).tolist())


def contains(enclosure: FixedPointMatrix, reference: arb_mat) -> bool:
    with ctx.workprec(EXACT_BITS):
        return bool(enclosure.to_arb_mat().contains(reference))


def relative_radius(enclosure: FixedPointMatrix) -> float:
    return enclosure.radius.to_float_upper() / max(
        float(np.max(np.abs(enclosure.to_float()))), 1e-300
    )


@st.composite
def scaled_matrices(draw, n=6):
    """Gaussian matrices with entries spread over many binades, at a random overall scale."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    spread = draw(st.integers(0, 40))
    scale = 2.0 ** draw(st.integers(-60, 60))

    def one():
        return (
            scale * rng.standard_normal((n, n)) * 2.0 ** rng.integers(-spread, spread + 1, (n, n))
        )

    return one(), one(), one()


@given(scaled_matrices())
def test_products_sums_and_scalings_contain_the_exact_result(matrices):
    X, Y, Z = matrices
    ar = FixedPointArithmetic(212, 6)
    with ctx.workprec(EXACT_BITS):
        x, y, z = exact(X), exact(Y), exact(Z)
        reference = x * y - z.transpose() * arb(0.3) + x * z * y
    with ar.context():
        a, b, c = ar.matrix(X), ar.matrix(Y), ar.matrix(Z)
        result = a @ b - c.T * 0.3 + a @ c @ b
    assert contains(result, reference)
    assert relative_radius(result) < 2.0**-190


def test_a_result_that_fits_the_limbs_is_exact():
    rng = np.random.default_rng(0)
    A, B = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    ar = FixedPointArithmetic(212, 5)
    product = ar.matrix(A) @ ar.matrix(B)
    assert not product.radius
    with ctx.workprec(EXACT_BITS):
        assert product.to_arb_mat() == exact(A) * exact(B)


def test_a_corrupted_limb_is_caught_by_the_containment_check():
    rng = np.random.default_rng(1)
    A, B = rng.standard_normal((5, 5)), rng.standard_normal((5, 5))
    ar = FixedPointArithmetic(212, 5)
    product = ar.matrix(A) @ ar.matrix(B)
    planes = product.planes.copy()
    planes[-1, 2, 3] += 1.0  # one unit in the last limb: about 2^-190 relative
    wrong = FixedPointMatrix(planes, product.top, product.radius, product.floor, product.layout)
    with ctx.workprec(EXACT_BITS):
        reference = exact(A) * exact(B)
    assert contains(product, reference)
    assert not contains(wrong, reference)


def test_power_of_two_scalings_are_exact_shifts():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((4, 4))
    ar = FixedPointArithmetic(212, 4)
    for factor in (1.0, 2.0, 0.5, 2.0**-37, 2.0**53):
        scaled = ar.matrix(A) * factor
        assert not scaled.radius
        np.testing.assert_array_equal(scaled.to_float(), A * factor)


def test_an_uncertain_scalar_widens_the_radius_rigorously():
    ar = FixedPointArithmetic(212, 3)
    A = np.arange(9.0).reshape(3, 3) - 4
    with ar.context():
        third = arb(1) / 3  # a ball, not a float
        result = ar.matrix(A) * third
        with ctx.workprec(EXACT_BITS):
            reference = exact(A) * (arb(1) / 3)
    assert result.radius
    assert contains(result, reference)


def test_conversion_from_balls_keeps_every_point():
    with ctx.workprec(300):
        balls = arb_mat([[arb(1) / 3, arb("2.5 +/- 1e-70")], [arb(-7) / 11, arb(0)]])
    layout = Layout.for_precision(212, 2)
    converted = from_arb_mat(balls, layout)
    with ctx.workprec(300):
        assert converted.to_arb_mat().contains(balls)


def test_trace_contains_the_exact_trace():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    ar = FixedPointArithmetic(212, 6)
    with ar.context():
        square = ar.matrix(A) @ ar.matrix(A)
        trace = ar.trace(square)
    with ctx.workprec(EXACT_BITS):
        assert trace.contains((exact(A) * exact(A)).trace())


def test_an_increment_is_computed_only_to_the_precision_of_its_target():
    rng = np.random.default_rng(4)
    A, X = rng.standard_normal((8, 8)), rng.standard_normal((8, 8))
    correction = 1e-40 * rng.standard_normal((8, 8))
    ar = FixedPointArithmetic(212, 8)
    target = ar.matrix(X)
    step = ar.increment(correction, of=target)
    applied = ar.matrix(A).T @ step @ ar.matrix(A)
    full = ar.matrix(A).T @ ar.matrix(correction) @ ar.matrix(A)
    assert len(applied.planes) < len(full.planes)
    with ctx.workprec(EXACT_BITS):
        reference = exact(A).transpose() * exact(correction) * exact(A)
    assert contains(applied, reference)
    # the skipped limbs lie below the target's own precision
    assert applied.radius.to_float_upper() < 2.0**-200 * float(np.max(np.abs(X)))


def test_huge_exponent_ranges_are_truncated_into_the_radius():
    values = np.array([[1.0, 2.0**-300], [3.0, -(2.0**-500)]])
    layout = Layout.for_precision(212, 2)
    converted = from_float(values, layout)
    assert 0 < converted.radius.to_float_upper() < 2.0**-200
    with ctx.workprec(EXACT_BITS):
        assert converted.to_arb_mat().contains(exact(values))


def test_a_contraction_longer_than_the_layout_allows_is_refused():
    ar = FixedPointArithmetic(212, 4)
    longest = ar.layout.largest_inner_dimension
    wide = ar.matrix(np.ones((2, longest + 1)))
    with pytest.raises(CertificationError, match="too long"):
        wide @ ar.matrix(np.ones((longest + 1, 2)))


def test_limb_size_shrinks_as_contractions_grow():
    small, large = Layout.for_precision(212, 10), Layout.for_precision(212, 1000)
    assert small.limb_bits > large.limb_bits
    for layout, inner in ((small, 10), (large, 1000)):
        # exactness condition of a limb product: inner * 2^(2s-2) <= 2^53
        assert inner * 2 ** (2 * layout.limb_bits - 2) <= 2**53
        assert layout.limb_bits * layout.limbs >= 212
    assert math.isfinite(small.largest_inner_dimension)


def test_a_precision_beyond_the_int64_limb_sums_is_refused():
    with pytest.raises(CertificationError, match="engine='arb'"):
        Layout.for_precision(100_000, 10)


def test_the_automatic_engine_uses_arb_beyond_the_limb_limit():
    from pgverify import LQR, Certified

    n = 20
    problem = LQR(0.5 * np.eye(n), np.eye(n), np.eye(n), np.eye(n))
    value = problem.cost(0.125 * np.eye(n), Certified(bits=14_000))
    # P = (1 + 1/64) / (1 − (3/8)²) I = 13/11 I, so C = tr(P) = 20 · 13/11
    assert value.contains(Fraction(260, 11))


def test_subnormal_entries_beside_large_ones_convert_exactly():
    values = np.array([[1.0, 2.0**-1022], [5e-324, -3.0]])
    layout = Layout.for_precision(2000, 2)
    converted = from_float(values, layout)
    assert not converted.radius
    with ctx.workprec(EXACT_BITS):
        assert converted.to_arb_mat() == exact(values)


def test_a_product_entirely_below_the_floor_is_all_radius_and_contains_the_truth():
    ar = FixedPointArithmetic(64, 2)
    large = ar.matrix(np.array([[1.0, 2.0], [3.0, 4.0]]))
    tiny = ar.increment(np.array([[2.0**-300, 0.0], [0.0, 2.0**-300]]), of=large)
    product = tiny @ tiny  # 2^-600: far below the floor that `tiny` inherits from `large`
    assert len(product.planes) == 0 and product.radius
    with ctx.workprec(EXACT_BITS):
        assert product.to_arb_mat().contains(exact(np.eye(2)) * arb(2) ** -600)
