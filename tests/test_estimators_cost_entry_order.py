"""The test costs of the zeroth-order estimators index K's entries row-major, k = K.ravel()
(k[i·n + j] = K[i, j]), as their docstrings and docs/estimators.md state — not the column-major
vec of docs/mathematics.md. Pinned on a gain K (2, 3) whose two orders differ."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pgverify.estimators import cubic_cost, quadratic_cost
from pgverify.expectation import smoothed_gradient

K = np.array([[1.0, 2.0, 3.0], [5.0, 7.0, 11.0]])  # row-major k = (1, 2, 3, 5, 7, 11)
ROW_MAJOR_INDEX = "k[i·n + j] = K[i, j]"


def unit(index: int, size: int = 6) -> np.ndarray:
    vector = np.zeros(size)
    vector[index] = 1.0
    return vector


def test_a_quadratic_costs_linear_coefficient_k1_reads_the_entry_right_of_the_first():
    # row-major k[1] = K[0, 1] = 2; the column-major vec(K)[1] would be K[1, 0] = 5
    assert quadratic_cost(np.zeros((6, 6)), unit(1))(K) == 2.0


def test_a_quadratic_costs_hessian_pairs_entries_in_row_major_order():
    hessian = np.zeros((6, 6))
    hessian[1, 3] = hessian[3, 1] = 1.0  # C = k[1]·k[3] = K[0, 1]·K[1, 0] = 2·5
    assert quadratic_cost(hessian, np.zeros(6))(K) == 10.0


def test_a_cubic_costs_coefficient_c_012_multiplies_the_first_row():
    coefficients = np.zeros((6, 6, 6))
    coefficients[0, 1, 2] = 1.0  # C = k[0]·k[1]·k[2] = K[0, 0]·K[0, 1]·K[0, 2] = 1·2·3
    assert cubic_cost(coefficients, np.zeros((6, 6)), np.zeros(6))(K) == 6.0


def test_the_gradient_of_the_test_cost_comes_back_in_ks_shape_row_major():
    # C = k[1]: ∇C has a 1 at K[0, 1], nowhere else
    gradient = smoothed_gradient(cubic_cost(np.zeros((6, 6, 6)), np.zeros((6, 6)), unit(1)), K, 0.5)
    assert np.array_equal(np.asarray(gradient, dtype=float), [[0, 1, 0], [0, 0, 0]])


@pytest.mark.parametrize("function", [quadratic_cost, cubic_cost])
def test_the_cost_docstrings_state_the_row_major_entry_order(function):
    assert "row-major" in function.__doc__
    assert ROW_MAJOR_INDEX in function.__doc__


def test_the_docs_state_the_row_major_entry_order_of_the_test_costs():
    docs = Path(__file__).resolve().parents[1] / "docs"
    assert ROW_MAJOR_INDEX in (docs / "estimators.md").read_text(encoding="utf-8")
    conventions = (docs / "mathematics.md").read_text(encoding="utf-8")
    assert "$k_{in + j} = K_{ij}$" in conventions
