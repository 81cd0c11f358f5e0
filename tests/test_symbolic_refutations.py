"""Refutations that teach: every negative control is refuted at a point *inside* the domain of the
identity (0 < γ < 1, σ > 0, P ≻ 0, Σ ≻ 0, a stabilising K, distributions), found by exact
evaluation at random rational points before any simplification, and the point is printed."""

import numpy as np
import pytest
import sympy

from pgverify.symbolic import available
from pgverify.symbolic.core import check_zero
from pgverify.symbolic.domain import sample_lqr
from tests.test_symbolic import default_result

CONTROLS = [entry.name for entry in available() if entry.name.startswith("refute-")]


@pytest.fixture(scope="module")
def refutations():
    return {name: default_result(name) for name in CONTROLS}


def _matrix(point, prefix, rows, cols, symmetric=False):
    def entry(i, j):
        if symmetric:
            i, j = min(i, j), max(i, j)
        return point[sympy.Symbol(f"{prefix}_{i + 1}{j + 1}")]

    return sympy.Matrix(rows, cols, entry)


def _is_positive_definite(matrix):
    return all(matrix[:k, :k].det() > 0 for k in range(1, matrix.rows + 1))


def _spectral_radius(matrix):
    return max(abs(np.linalg.eigvals(np.array(matrix.evalf(), dtype=float))))


@pytest.mark.parametrize("name", CONTROLS)
def test_control_is_refuted_with_a_printed_point(refutations, name):
    result = refutations[name]
    assert result.verdict == "refuted"
    assert result.counterexample, "found by evaluation at a point, not by simplification"
    assert isinstance(result.counterexample_value, sympy.Number)
    assert result.counterexample_value != 0
    assert result.domain and "the point lies in the domain" in result.to_text()


@pytest.mark.parametrize("name", CONTROLS)
def test_control_counterexample_has_gamma_and_sigma_in_range(refutations, name):
    point = {str(key): value for key, value in refutations[name].counterexample.items()}
    if "gamma" in point:
        assert 0 < point["gamma"] < 1
    for positive in ("sigma", "varsigma"):
        if positive in point:
            assert point[positive] > 0


@pytest.mark.parametrize(
    "name", ["refute-gradient-without-factor-2", "refute-gradient-with-sigma0"]
)
def test_lqr_control_counterexample_is_a_stable_problem_with_positive_definite_p_and_sigma(
    refutations, name
):
    result = refutations[name]
    n, m = result.sizes["n"], result.sizes["m"]
    point = result.counterexample
    A, B, K = _matrix(point, "a", n, n), _matrix(point, "b", n, m), _matrix(point, "k", m, n)
    P, Sigma = _matrix(point, "p", n, n, True), _matrix(point, "s", n, n, True)
    Q, R = _matrix(point, "q", n, n, True), _matrix(point, "r", m, m, True)
    closed = A - B * K
    assert _spectral_radius(closed) < 1
    assert _is_positive_definite(P) and _is_positive_definite(Sigma)
    assert _is_positive_definite(Q) and _is_positive_definite(R)
    # P really is P_K and Sigma really is Sigma_K for these data (exact)
    assert Q + K.T * R * K + closed.T * P * closed == P
    assert _is_positive_definite(Sigma - closed * Sigma * closed.T)


def test_mdp_control_counterexample_is_made_of_positive_distributions(refutations):
    point = refutations["refute-performance-difference-without-normalisation"].counterexample
    heads = {}
    for symbol, value in point.items():
        name = str(symbol)
        if not name.startswith("c_") and name != "gamma":
            heads.setdefault(name.rsplit("_", 1)[0], []).append(value)
    assert heads  # transition rows, both policies and rho
    for values in heads.values():
        assert all(v > 0 for v in values) and sum(values) < 1  # the closing entry is positive


def test_two_layer_control_prints_the_activation_it_used(refutations):
    point = refutations["refute-score-two-layer-without-slope"].counterexample
    activations = [value for key, value in point.items() if str(key) == "h"]
    assert len(activations) == 1 and isinstance(activations[0], sympy.Lambda)


def test_zero_test_draws_its_points_from_the_domain_sampler():
    x, y = sympy.symbols("x y")
    refutation = check_zero(x * y - 1, domain=lambda rng: {x: sympy.Rational(1, 2)})
    assert refutation.counterexample[x] == sympy.Rational(1, 2)
    assert refutation.value == refutation.counterexample[y] / 2 - 1


def test_lqr_sampler_draws_stable_problems_with_exact_p_and_sigma():
    import random

    point = sample_lqr(random.Random(3), 2, 2, discounted=True, noisy=True)
    closed = point.A - point.B * point.K
    assert _spectral_radius(closed) < 1
    assert _spectral_radius(point.A - point.B * point.K2) < 1
    assert 0 < point.gamma < 1 and point.sigma > 0
    g = point.gamma
    assert point.Q + point.K.T * point.R * point.K + g * closed.T * point.P * closed == point.P
    noise = g * point.sigma / (1 - g) * point.B * point.B.T
    assert point.Sigma == point.Sigma0 + noise + g * closed * point.Sigma * closed.T
