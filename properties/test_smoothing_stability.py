"""Zeroth-order smoothing and stability (issue #10, item 5): sphere smoothing within the
certified radius r_K never destabilises the gain, Gaussian smoothing at the same scale does with
positive probability.

* r_K (:func:`pgverify.expectation.stability_radius`) is a Lyapunov-certified radius: every
  perturbation ‖Δ‖_F ≤ r_K keeps ρ(A − B(K + Δ)) < 1. Checked here on hypothesis-generated
  problems and gains against the spectral radius of sampled sphere perturbations, and shown
  tight on a scalar system (twice the radius destabilises).
* Gaussian ε has a positive density everywhere and the destabilising set is open; it is not
  empty because ``tr(A − BK + tBBᵀ) > n`` for t large (|tr M| ≤ n ρ(M)): checked exactly here.
  At μ = r_K on the Dean et al. system the destabilising probability is estimated (seeded,
  with a Clopper–Pearson interval at confidence 1 − 1e-6)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from pgverify import LQR, NotStabilizingError
from pgverify.expectation import stability_radius
from pgverify.lqr.examples import dean_2017
from pgverify.strategies import lqr_problems_with_gains

DIRECTIONS = 256


def spectral_radii(problem: LQR, K: np.ndarray, perturbations: np.ndarray) -> np.ndarray:
    """ρ(A − B(K + Δ)) for each Δ of a stack (N, m, n), float64."""
    closed = problem.A - problem.B @ (K + perturbations)
    return np.max(np.abs(np.linalg.eigvals(closed)), axis=-1)


def unit_directions(shape: tuple[int, int], count: int, seed: int) -> np.ndarray:
    directions = np.random.default_rng(seed).standard_normal((count, *shape))
    return directions / np.linalg.norm(directions, axis=(1, 2), keepdims=True)


@settings(max_examples=30, deadline=None)
@given(lqr_problems_with_gains(n=st.integers(1, 3)), st.integers(0, 2**16))
def test_no_sphere_perturbation_within_the_certified_radius_destabilises(pair, seed):
    problem, K = pair
    assume(np.any(problem.B != 0))
    radius = float(stability_radius(problem, K))
    assert radius > 0
    directions = unit_directions(K.shape, DIRECTIONS, seed)
    # and the direction that raises the trace fastest, −Bᵀ (normalised)
    steepest = -problem.B.T / np.linalg.norm(problem.B)
    directions = np.concatenate([directions, steepest[None], -steepest[None]])
    assert np.max(spectral_radii(problem, K, radius * directions)) < 1


def test_the_certified_radius_is_tight_on_a_scalar_system():
    # A − B K = 1/2: stable exactly for Δ ∈ (−1/2, 3/2); the radius is 1/2 (less 2⁻³⁰ of it)
    problem = LQR([[1.0]], [[1.0]], [[1.0]], [[1.0]])
    radius = stability_radius(problem, [[0.5]])
    assert Fraction(1, 2) * (1 - Fraction(1, 2**29)) < radius < Fraction(1, 2)
    assert spectral_radii(problem, np.array([[0.5]]), np.array([[[-2 * float(radius)]]]))[0] > 1


def test_a_gain_that_does_not_stabilise_has_no_radius():
    problem = LQR([[1.0]], [[1.0]], [[1.0]], [[1.0]])
    with pytest.raises(NotStabilizingError, match="K does not stabilise"):
        stability_radius(problem, [[-0.5]])


def destabilising_scale(problem: LQR, K: np.ndarray) -> Fraction:
    """An exact t with tr(A − BK + tBBᵀ) > n, so ρ(A − B(K − tBᵀ)) ≥ tr/n > 1."""
    exact = np.vectorize(Fraction, otypes=[object])
    A, B, gain = exact(problem.A), exact(problem.B), exact(np.asarray(K))
    trace = sum((A - B @ gain).diagonal(), Fraction(0))
    weight = sum((b * b for b in B.ravel()), Fraction(0))
    return (problem.n - trace) / weight + 1


@settings(max_examples=30, deadline=None)
@given(lqr_problems_with_gains(n=st.integers(1, 3)))
def test_a_destabilising_perturbation_exists_so_gaussian_smoothing_risks_it(pair):
    problem, K = pair
    assume(np.any(problem.B != 0))
    t = destabilising_scale(problem, K)
    exact = np.vectorize(Fraction, otypes=[object])
    A, B, gain = exact(problem.A), exact(problem.B), exact(np.asarray(K))
    closed = A - B @ (gain - t * B.T)
    assert abs(sum(closed.diagonal(), Fraction(0))) > problem.n  # exactly: ρ > 1
    assert spectral_radii(problem, K, np.array([-float(t) * problem.B.T]))[0] > 1


def clopper_pearson_lower(failures: int, trials: int, confidence: float) -> float:
    """The one-sided Clopper–Pearson lower bound of a binomial proportion."""
    if failures == 0:
        return 0.0
    return float(stats.beta.ppf(1 - confidence, failures, trials - failures + 1))


def test_gaussian_smoothing_at_the_certified_radius_destabilises_dean_2017_often():
    problem = dean_2017()
    K = np.asarray(problem.optimal_gain(), dtype=float)
    radius = float(stability_radius(problem, K))
    samples = 20_000
    rng = np.random.default_rng(0)
    gaussian = spectral_radii(problem, K, radius * rng.standard_normal((samples, *K.shape)))
    sphere = spectral_radii(problem, K, radius * unit_directions(K.shape, samples, 1))
    low = clopper_pearson_lower(int(np.sum(gaussian >= 1)), samples, 1 - 1e-6)
    assert low > 0.3  # about 45 % of the Gaussian perturbations destabilise K*
    assert np.max(sphere) < 1  # none of the sphere perturbations of the same radius does
    assert math.isclose(radius, 0.0303, rel_tol=0.01)
