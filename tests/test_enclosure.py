"""The certified result type: an array-like of rigorous balls that numpy sees as its midpoints."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat

from pgverify import LQR, Certified, Enclosure, InvalidProblemError

DEAN_A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])


def grid(rows: int, cols: int) -> Enclosure:
    """Entry (i, j) is the ball (10 i + j) ± 2^-40 (i + 1): every entry is recognisable."""
    return Enclosure(
        arb_mat(
            rows,
            cols,
            [arb(10 * i + j, 2.0**-40 * (i + 1)) for i in range(rows) for j in range(cols)],
        )
    )


@pytest.fixture(scope="module")
def dean_gradients():
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    K = 0.5 * np.eye(3)
    return problem.gradient(K, "certified"), problem.gradient(K)


# --------------------------------------------------------------------------------------------
# Midpoint, radius, digits
# --------------------------------------------------------------------------------------------


def test_enclosure_reports_midpoint_radius_and_digits():
    enclosure = Enclosure(arb(2, 1e-30))
    assert enclosure.mid == 2.0
    assert 1e-30 <= enclosure.rad < 1.0001e-30
    assert enclosure.digits == 30
    assert "certified digits=30" in repr(enclosure)


def test_an_exact_enclosure_has_infinitely_many_digits():
    assert Enclosure(arb_mat([[0.5, 0.0]])).digits == math.inf


@pytest.mark.parametrize(
    "enclosure",
    [Enclosure(arb(2, 1e-30)), Enclosure([arb(1), arb(2, 0.5)]), grid(2, 3)],
    ids=["scalar", "vector", "matrix"],
)
def test_mid_and_rad_are_always_read_only_float64_arrays_of_the_enclosures_shape(enclosure):
    for array in (enclosure.mid, enclosure.rad):
        assert isinstance(array, np.ndarray)
        assert array.dtype == np.float64
        assert array.shape == enclosure.shape
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 0.0


def test_digits_are_counted_in_balls_when_the_midpoint_overflows_float64():
    # midpoint 2^1400, radius 2^1200: both past float64; 200 bits = 60.2 decimal digits
    huge = Enclosure(arb(2) ** 1400 + arb(0, 1) * arb(2) ** 1200)
    assert huge.mid == np.inf and huge.max_radius == np.inf
    assert huge.digits == 60


# --------------------------------------------------------------------------------------------
# Shape, indexing, iteration
# --------------------------------------------------------------------------------------------


def test_shape_ndim_size_and_len_follow_numpy():
    matrix, vector, scalar = grid(2, 3), Enclosure([arb(1), arb(2)]), Enclosure(arb(1))
    assert (matrix.shape, matrix.ndim, matrix.size, len(matrix)) == ((2, 3), 2, 6, 2)
    assert (vector.shape, vector.ndim, vector.size, len(vector)) == ((2,), 1, 2, 2)
    assert (scalar.shape, scalar.ndim, scalar.size) == ((), 0, 1)


def test_a_scalar_has_no_length_and_cannot_be_iterated():
    with pytest.raises(TypeError, match="scalar Enclosure"):
        len(Enclosure(arb(1)))
    with pytest.raises(TypeError, match="scalar Enclosure"):
        iter(Enclosure(arb(1)))


def test_an_entry_is_a_scalar_enclosure_holding_the_same_ball():
    matrix = grid(2, 3)
    entry = matrix[1, 2]
    assert entry.shape == ()
    assert entry.ball.mid() == 12 and entry.ball.rad() == matrix.ball[1, 2].rad()
    assert matrix[-1, -3].ball.mid() == 10


def test_slices_and_index_arrays_select_like_numpy():
    matrix = grid(3, 4)
    for index in [
        (slice(None), 1),
        1,
        (slice(1, None), slice(None, None, -2)),
        (np.array([2, 0]), slice(None)),
        (np.array([True, False, True]),),
        (Ellipsis, 3),
    ]:
        selected = matrix[index]
        expected = matrix.mid[index]
        assert selected.shape == expected.shape
        np.testing.assert_array_equal(selected.mid, expected)
        np.testing.assert_array_equal(selected.rad, matrix.rad[index])


def test_iteration_yields_the_rows():
    rows = list(grid(2, 3))
    assert [row.shape for row in rows] == [(3,), (3,)]
    np.testing.assert_array_equal(rows[1].mid, [10.0, 11.0, 12.0])


def test_an_out_of_range_index_names_the_index_and_the_shape():
    with pytest.raises(InvalidProblemError, match=r"index 3 is out of range .* shape \(2, 3\)"):
        grid(2, 3)[0, 3]
    with pytest.raises(InvalidProblemError, match="shape"):
        grid(2, 3)[5]


def test_an_index_that_is_not_an_index_is_refused():
    with pytest.raises(InvalidProblemError, match="cannot index"):
        grid(2, 3)["a"]
    with pytest.raises(InvalidProblemError, match="at most 2 dimensions"):
        grid(2, 3)[None]


# --------------------------------------------------------------------------------------------
# numpy and pytest see the midpoint
# --------------------------------------------------------------------------------------------


def test_numpy_sees_the_midpoint_array(dean_gradients):
    certified, _ = dean_gradients
    array = np.asarray(certified)
    assert array.dtype == np.float64 and array.shape == (3, 3)
    np.testing.assert_array_equal(array, certified.mid)


def test_allclose_and_assert_allclose_compare_the_midpoint(dean_gradients):
    certified, float_gradient = dean_gradients
    assert np.allclose(float_gradient, certified, rtol=1e-10, atol=0)
    np.testing.assert_allclose(certified, float_gradient, rtol=1e-10)
    wrong = float_gradient.copy()
    wrong[0, 2] *= 1 + 1e-6
    assert not np.allclose(wrong, certified, rtol=1e-10, atol=0)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(certified, wrong, rtol=1e-10)


def test_pytest_approx_compares_a_scalar_enclosure():
    assert Enclosure(arb(2, 1e-30)) == pytest.approx(2.0)
    assert Enclosure(arb(2, 1e-30)) != pytest.approx(2.1)


def test_np_array_copies_while_asarray_without_copy_shares_the_read_only_midpoint():
    enclosure = grid(2, 2)
    copied = np.array(enclosure)
    copied[0, 0] = -1.0
    assert enclosure.mid[0, 0] == 0.0
    shared = np.asarray(enclosure, copy=False)
    assert np.shares_memory(shared, enclosure.mid)
    assert np.asarray(enclosure, dtype=np.float32).dtype == np.float32


def test_float_of_a_scalar_enclosure_is_its_midpoint():
    assert float(Enclosure(arb(1) / 3)) == 1 / 3


def test_float_of_a_matrix_enclosure_is_refused_with_its_shape():
    with pytest.raises(InvalidProblemError, match=r"shape \(1, 1\)"):
        float(grid(1, 1))


def test_the_truth_value_of_an_enclosure_is_undefined():
    with pytest.raises(InvalidProblemError, match="truth value"):
        bool(Enclosure(arb(1)))


# --------------------------------------------------------------------------------------------
# Exact decisions
# --------------------------------------------------------------------------------------------


def test_matrix_enclosure_contains_floats_mpmath_and_balls_exactly():
    enclosure = Enclosure(arb_mat([[arb(1, 1e-20), arb(0, 1e-20)]]))
    assert enclosure.contains(np.array([[1.0, 0.0]]))
    assert enclosure.contains(mpmath.matrix([[1, 1e-21]]))
    assert enclosure.contains(arb_mat([[1.0, 0.0]]))
    assert not enclosure.contains(np.array([[1.0 + 1e-15, 0.0]]))


def test_an_enclosure_contains_the_high_precision_result_of_its_quantity(dean_gradients):
    certified, float_gradient = dean_gradients
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    assert certified.contains(problem.gradient(0.5 * np.eye(3), 70))
    assert not certified.contains(float_gradient)


def test_contains_refuses_a_wrong_shape():
    with pytest.raises(InvalidProblemError, match=r"shape \(2, 1\); expected shape \(1, 2\)"):
        Enclosure(arb_mat([[1.0, 2.0]])).contains(np.ones((2, 1)))
    with pytest.raises(InvalidProblemError, match=r"expected a scalar"):
        Enclosure(arb(1)).contains(np.ones((1, 1)))


def test_contains_refuses_non_finite_and_non_numeric_values():
    with pytest.raises(InvalidProblemError, match="non-finite"):
        grid(1, 2).contains(np.array([[0.0, np.nan]]))
    with pytest.raises(InvalidProblemError, match="bool"):
        Enclosure([arb(1)]).contains([True])


def test_a_vector_enclosure_contains_vectors_and_mpmath_columns():
    vector = Enclosure([arb(1, 1e-20), Fraction(1, 3)])
    assert vector.contains([1.0, Fraction(1, 3)])
    assert not vector.contains([1.0, 1 / 3])  # the double nearest 1/3 is not 1/3
    with mpmath.workdps(40):
        assert not vector.contains(mpmath.matrix([1, mpmath.mpf(1) / 3]))  # 40 digits of 1/3
        near_one = 1 + mpmath.mpf(10) ** -21
    assert Enclosure([arb(1, 1e-20), 0.5]).contains(mpmath.matrix([near_one, 0.5]))
    assert Enclosure([arb(1, 1e-20), 0.5]).contains(mpmath.matrix([[near_one, 0.5]]))


def test_entries_of_an_enclosure_contain_the_entries_of_the_truth(dean_gradients):
    certified, _ = dean_gradients
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    truth = problem.gradient(0.5 * np.eye(3), 70)
    assert certified[1, 2].contains(truth[1, 2])
    assert certified[:, 0].contains(truth[:, 0])
    assert not certified[1, 2].contains(truth[1, 1])


def test_disjoint_enclosures_do_not_overlap():
    assert not Enclosure(arb(1, 1e-10)).overlaps(Enclosure(arb(1.1, 1e-10)))
    assert Enclosure(arb(1, 1e-10)).overlaps(Enclosure(arb(1 + 1e-11, 1e-10)))


def test_overlaps_refuses_enclosures_of_another_shape():
    with pytest.raises(InvalidProblemError, match=r"shape \(2,\); expected shape \(\)"):
        Enclosure(arb(1)).overlaps(Enclosure([arb(1), arb(2)]))


# --------------------------------------------------------------------------------------------
# Construction
# --------------------------------------------------------------------------------------------


def test_an_enclosure_is_built_from_nested_lists_of_balls_and_exact_numbers():
    matrix = Enclosure([[arb(1, 0.5), 2], [0.25, Fraction(1, 2)]])
    assert matrix.shape == (2, 2)
    np.testing.assert_array_equal(matrix.mid, [[1.0, 2.0], [0.25, 0.5]])
    assert matrix.rad[1, 1] == 0.0  # a dyadic Fraction is exact


def test_construction_refuses_what_is_not_a_ball_or_a_number():
    with pytest.raises(InvalidProblemError, match="str"):
        Enclosure("1.0")
    with pytest.raises(InvalidProblemError, match=r"ball\[1\]"):
        Enclosure([arb(1), "x"])
    with pytest.raises(InvalidProblemError, match="at most 2 dimensions"):
        Enclosure(np.zeros((1, 1, 1)))


class CountingSource:
    """A matrix enclosure in another representation (like pgverify.fixedpoint's), counting its
    conversions to Arb."""

    shape = (2, 2)

    def __init__(self):
        self.conversions = 0

    def to_arb_mat(self):
        self.conversions += 1
        return arb_mat([[arb(1, 0.125), 2], [3, 4]])


def test_a_lazily_converted_enclosure_knows_its_shape_before_converting():
    source = CountingSource()
    enclosure = Enclosure(source)
    assert enclosure.shape == (2, 2) and len(enclosure) == 2
    assert source.conversions == 0


def test_a_lazily_converted_enclosure_converts_once_and_indexes_like_any_other():
    source = CountingSource()
    enclosure = Enclosure(source)
    assert float(enclosure[1, 0]) == 3.0
    np.testing.assert_array_equal(enclosure.mid, [[1.0, 2.0], [3.0, 4.0]])
    assert 0.125 <= enclosure[0, 0].rad < 0.126
    assert source.conversions == 1


def test_blas_engine_results_behave_like_arb_engine_results(dean_gradients):
    certified, _ = dean_gradients
    problem = LQR(DEAN_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3))
    blas = problem.gradient(0.5 * np.eye(3), Certified(engine="blas"))
    assert blas.shape == (3, 3)
    assert blas[2, 1].overlaps(certified[2, 1])
    np.testing.assert_allclose(blas, certified, rtol=1e-50)
