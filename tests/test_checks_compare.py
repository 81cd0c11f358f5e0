"""pgverify.assert_close: every kind of reference and result, the tolerance policy, the report."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, fmpq

import pgverify
from pgverify import InvalidProblemError, OracleMismatch, assert_close
from pgverify.checks._compare import SAFETY, as_reference
from pgverify.lqr.examples import dean_2017

K = 0.5 * np.eye(3)


def test_assert_close_is_exported_at_the_top_level():
    assert pgverify.assert_close is pgverify.checks.assert_close


def test_oracle_mismatch_is_an_assertion_error():
    with pytest.raises(AssertionError):
        assert_close(1.0, Fraction(2))


def test_a_float64_gradient_is_close_to_its_certified_enclosure():
    lqr = dean_2017()
    comparison = assert_close(lqr.gradient(K), lqr.gradient(K, precision="certified"))
    assert comparison.tier == "certified"
    assert comparison.worst_ratio <= 1


def test_a_float32_result_is_judged_at_float32_precision_by_default():
    lqr = dean_2017()
    single = lqr.value_matrix(K).astype(np.float32)
    reference = lqr.value_matrix(K, precision="certified")
    assert_close(single, reference)
    with pytest.raises(OracleMismatch, match="judged at float64"):
        assert_close(single, reference, dtype="float64")


def test_a_result_off_in_one_entry_raises_an_assert_allclose_style_report():
    reference = np.array([[1.0, 2.0], [3.0, 4.0]])
    actual = reference.copy()
    actual[1, 0] = 3.5
    with pytest.raises(OracleMismatch) as failure:
        assert_close(actual, [[Fraction(1), 2], [3, 4]], what="the matrix")
    message = str(failure.value)
    assert "the matrix is NOT close to the reference (tier exact" in message
    assert "shapes:     actual (2, 2), reference (2, 2)" in message
    assert "mismatched: 1 / 4 elements (25%)" in message
    assert "worst absolute error: 0.5 at index (1, 0)" in message
    assert "worst relative error: 0.167 at index (1, 0)" in message
    assert "tolerance:" in message and "max radius" in message


def test_a_shape_mismatch_is_a_mismatch_with_a_transpose_hint_not_a_broadcast_error():
    expected = r"shape mismatch: actual \(3, 2\), reference \(2, 3\)"
    with pytest.raises(OracleMismatch, match=expected):
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(OracleMismatch, match="its transpose has the expected shape"):
        assert_close(np.zeros((3, 2)), np.zeros((2, 3)))
    with pytest.raises(OracleMismatch, match="shape mismatch"):
        assert_close(np.zeros(3), np.zeros((3, 1)))


def test_a_scalar_reference_accepts_a_one_element_array():
    assert_close(np.array([[2.0]]), Fraction(2))
    assert_close(np.array([2.0]), 2.0)


def test_an_exact_fraction_is_compared_after_its_rounding_to_float64():
    assert_close(1 / 3, Fraction(1, 3))
    with pytest.raises(OracleMismatch):
        assert_close(0.333333, Fraction(1, 3))


@pytest.mark.parametrize(
    ("reference", "tier"),
    [
        (fmpq(1, 3), "exact"),
        (arb(1) / 3, "certified"),
        (mpmath.mpf(1) / 3, "high-precision"),
        ([Fraction(1, 3)], "exact"),
        (1 / 3, "float"),
    ],
    ids=["fmpq", "arb", "mpf", "list", "float"],
)
def test_every_kind_of_reference_is_read_with_its_tier(reference, tier):
    comparison = assert_close(np.full(np.shape(as_reference(reference).mid), 1 / 3), reference)
    assert comparison.tier == tier


def test_matrix_references_of_flint_and_mpmath_are_read():
    matrix = [[1, 2], [3, 4]]
    assert assert_close(np.array(matrix, float), arb_mat(matrix)).tier == "certified"
    assert assert_close(np.array(matrix, float), mpmath.matrix(matrix)).tier == "high-precision"


def test_a_mixed_reference_takes_the_tier_of_its_weakest_entry():
    assert as_reference([Fraction(1), arb(2), 3.0]).tier == "float"
    assert as_reference([Fraction(1), arb(2)]).tier == "certified"


def test_the_reference_radius_widens_the_tolerance():
    wide = arb(1, 0.01)  # 1 ± 0.01
    assert_close(1.009, wide)
    with pytest.raises(OracleMismatch):
        assert_close(1.02, wide)


def test_condition_and_scale_widen_the_tolerance():
    with pytest.raises(OracleMismatch):
        assert_close(1.0 + 1e-10, Fraction(1))
    assert_close(1.0 + 1e-10, Fraction(1), condition=1e7)
    assert_close(1.0 + 1e-10, Fraction(1), scale=1e7)


def test_the_tolerance_is_safety_times_eps_times_condition_times_scale():
    eps = np.finfo(float).eps
    allowed = SAFETY * eps * 10.0 * 2.0
    assert_close(0.9 * allowed, Fraction(0), condition=10.0, scale=2.0)
    with pytest.raises(OracleMismatch):
        assert_close(1.1 * allowed, Fraction(0), condition=10.0, scale=2.0)


def test_explicit_rtol_and_atol_replace_the_policy():
    assert_close(1.01, Fraction(1), rtol=0.02)
    assert_close(1.01, Fraction(1), atol=0.02)
    with pytest.raises(OracleMismatch, match="given explicitly"):
        assert_close(1.01, Fraction(1), rtol=0.001)


class TensorLike:
    """Duck type of a torch tensor: detach().cpu().numpy()."""

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float32)

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.values


class ArrayLike:
    """Duck type of a jax array: __array__."""

    def __init__(self, values):
        self.values = np.asarray(values)

    def __array__(self, dtype=None, copy=None):
        return self.values


def test_torch_and_jax_like_results_are_read():
    comparison = assert_close(TensorLike([0.1, 0.2]), [Fraction(1, 10), Fraction(1, 5)])
    assert comparison.tolerance.dtype == "float32"
    assert_close(ArrayLike([0.5, 0.25]), [Fraction(1, 2), Fraction(1, 4)])


def test_an_enclosure_as_the_result_is_read_through_its_midpoints():
    enclosure = dean_2017().cost(K, precision="certified")
    assert_close(enclosure, enclosure)


def test_nan_and_complex_results_are_mismatches():
    with pytest.raises(OracleMismatch, match="non-finite"):
        assert_close(np.array([1.0, np.nan]), [1.0, 2.0])
    with pytest.raises(OracleMismatch, match="complex"):
        assert_close(np.array([1.0 + 0j]), [1.0])
    with pytest.raises(OracleMismatch, match="could not be read"):
        assert_close([[1.0], [1.0, 2.0]], [1.0, 2.0])


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"condition": -1.0}, "condition"),
        ({"scale": float("nan")}, "scale"),
        ({"rtol": "big"}, "rtol"),
        ({"dtype": "int32"}, "floating dtype"),
        ({"dtype": "no such type"}, "dtype"),
    ],
)
def test_bad_options_raise_invalid_problem_error_naming_them(options, named):
    with pytest.raises(InvalidProblemError, match=named):
        assert_close(1.0, 1.0, **options)


def test_an_unreadable_reference_raises_invalid_problem_error():
    with pytest.raises(InvalidProblemError, match="reference entry"):
        assert_close(1.0, "one")
    with pytest.raises(InvalidProblemError, match="not finite"):
        assert_close(1.0, float("inf"))
