"""Property suite: PG, NPG, Gauss–Newton and policy iteration over many iterations, against the
convergence theorems of Fazel, Ge, Kakade & Mesbahi (2018) and Hewer (1971).

Tier: certified — every cost, gap, stability verdict and comparison below is decided on Arb
balls (a strict ``<`` between balls holds only if it holds for every point in them).  The step
sizes and rates come from :mod:`pgverify.lqr.iterations`, computed from the problem; each
property also has a negative control showing that the comparison can fail.
"""

from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
from flint import arb, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify import LQR
from pgverify.lqr import iterations
from pgverify.lqr.examples import dean_2017
from pgverify.precision import DEFAULT_CERTIFIED_BITS
from pgverify.strategies import lqr_problems_with_gains

SCALAR = LQR([[1.5]], [[1.0]], [[1.0]], [[1.0]])
"""a = 1.5, b = q = r = 1 at K₀ = 1: P = 8/3, Σ = 4/3, E = −1/3 exactly (worked by hand)."""
SCALAR_GAIN = np.array([[1.0]])

DEAN_GAIN = 0.5 * np.eye(3)

DECIDABLE_GAP = 1e-20
"""Strict decrease is asserted while the gap C(K_l) − C* exceeds this (relative to C*): below
it the rounding of the iterates to float64 (~1e-16 in K, ~1e-32 in C near K*) can dominate."""

small_problems = lqr_problems_with_gains(n=st.integers(1, 3), noisy=False)


def certified_run(problem, method, gain, alpha=None, steps=40):
    return iterations.run_iterations(
        problem, method, gain, alpha, steps=steps, precision="certified", gap_tolerance=1e-24
    )


def decidable_steps(run):
    """Indices l whose gap is large enough for the step l -> l+1 to be judged."""
    optimum = float(run.optimal_cost)
    return [
        index
        for index in range(len(run.costs) - 1)
        if run.gaps[index] > DECIDABLE_GAP * max(1.0, abs(optimum))
    ]


def strictly_decreasing(run) -> bool:
    with ctx.workprec(DEFAULT_CERTIFIED_BITS):
        return all(
            run.costs[index + 1].ball < run.costs[index].ball for index in decidable_steps(run)
        )


def within_rates(run, rates=None) -> bool:
    """gap_{l+1} <= rate_l · gap_l, decided on balls."""
    rates = run.rates if rates is None else rates
    gaps = run.certified_gaps()
    with ctx.workprec(DEFAULT_CERTIFIED_BITS):
        return all(
            gaps[index + 1] <= arb(rates[index]) * gaps[index] for index in decidable_steps(run)
        )


# ------------------------------------------------------------------------------------------------
# Within the bounds: stable iterates, monotone costs
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["npg", "gn", "pi"])
@pytest.mark.parametrize(
    "problem, gain", [(SCALAR, SCALAR_GAIN), (dean_2017(), DEAN_GAIN)], ids=["scalar", "dean2017"]
)
def test_iterates_within_the_bound_are_certified_stabilising_with_decreasing_cost(
    problem, gain, method
):
    run = certified_run(problem, method, gain)
    assert all(run.stabilizing)
    assert run.gaps[-1] < 1e-12  # converged, not merely stalled
    assert strictly_decreasing(run)


def test_policy_gradient_within_its_bound_is_stabilising_and_decreases_the_cost():
    run = certified_run(SCALAR, "pg", SCALAR_GAIN, steps=15)
    assert all(run.stabilizing) and len(run.costs) == 16
    assert strictly_decreasing(run)
    assert within_rates(run)


@settings(max_examples=5)
@given(small_problems)
def test_natural_gradient_within_its_bound_decreases_the_cost_on_generated_problems(case):
    problem, gain = case
    run = certified_run(problem, "npg", gain, steps=6)
    assert all(run.stabilizing)
    assert strictly_decreasing(run)
    assert within_rates(run)


def test_gauss_newton_up_to_alpha_one_stays_stabilising_and_decreasing():
    """With Q ≻ 0, P_K is a Lyapunov certificate for A − BK' for every α ≤ 1
    (docs/convergence.md §2): past the rate theorem's α ≤ ½, but still monotone."""
    run = certified_run(dean_2017(), "gn", DEAN_GAIN, alpha=0.9, steps=30)
    assert all(run.stabilizing)
    assert strictly_decreasing(run)


def test_monotonicity_check_catches_an_increasing_sequence():
    """Negative control: a PG step far past the bound overshoots and the cost goes up."""
    run = iterations.run_iterations(SCALAR, "pg", SCALAR_GAIN, 1.6, steps=1, precision="certified")
    assert all(run.stabilizing)
    assert not strictly_decreasing(run)


# ------------------------------------------------------------------------------------------------
# GN(1/2) is policy iteration, at every step
# ------------------------------------------------------------------------------------------------


def test_gauss_newton_with_half_step_overlaps_policy_iteration_at_every_step():
    problem = dean_2017()
    run = certified_run(problem, "pi", DEAN_GAIN)
    assert len(run.gains) >= 5
    for gain in run.gains:
        gauss_newton = problem.gauss_newton_step(gain, 0.5, "certified")
        policy_iteration = problem.policy_iteration_step(gain, "certified")
        assert gauss_newton.overlaps(policy_iteration)
        assert gauss_newton.max_radius < 1e-40


def test_gauss_newton_off_half_is_disjoint_from_policy_iteration():
    """Negative control: α = 0.49 is provably not policy iteration."""
    problem = dean_2017()
    gauss_newton = problem.gauss_newton_step(DEAN_GAIN, 0.49, "certified")
    assert not gauss_newton.overlaps(problem.policy_iteration_step(DEAN_GAIN, "certified"))


# ------------------------------------------------------------------------------------------------
# Rates
# ------------------------------------------------------------------------------------------------


def distances_to_optimum(problem, run):
    optimum = problem.optimal_gain("certified")
    assert optimum.max_radius < 1e-40
    return [float(np.linalg.norm(gain - optimum.mid)) for gain in run.gains]


def convergence_orders(distances, floor=1e-13):
    """log(d_{l+2}/d_{l+1}) / log(d_{l+1}/d_l) while the distances are above the float floor."""
    usable = [d for d in distances if d > floor]
    return [
        np.log(c / b) / np.log(b / a)
        for a, b, c in zip(usable, usable[1:], usable[2:], strict=False)
    ]


def test_policy_iteration_converges_quadratically_to_the_certified_optimal_gain():
    problem = dean_2017()
    run = certified_run(problem, "pi", DEAN_GAIN)
    distances = distances_to_optimum(problem, run)
    assert problem.optimal_gain("certified").contains(run.gains[-1]) or distances[-1] < 1e-14
    tail = convergence_orders(distances)[-2:]
    assert len(tail) == 2 and min(tail) > 1.8


def test_linear_rate_is_not_taken_for_quadratic():
    """Negative control: GN with α = 0.4 converges linearly (order ≈ 1), and the order check
    says so."""
    problem = dean_2017()
    run = certified_run(problem, "gn", DEAN_GAIN, alpha=0.4)
    orders = convergence_orders(distances_to_optimum(problem, run))
    assert max(orders[-3:]) < 1.2


@pytest.mark.parametrize("method", ["npg", "gn", "pi"])
def test_natural_gradient_and_gauss_newton_meet_their_proven_linear_rates(method):
    run = certified_run(dean_2017(), method, DEAN_GAIN)
    assert within_rates(run)


def test_rate_check_catches_a_claimed_rate_that_is_too_fast():
    """Negative control: NPG on dean2017 contracts the gap by ~0.3 per step at first; a claimed
    rate of 0.01 per step must be refuted."""
    run = certified_run(dean_2017(), "npg", DEAN_GAIN, steps=5)
    assert not within_rates(run, rates=[0.01] * len(run.rates))


def test_gauss_newton_rate_is_the_hand_computed_value_on_the_scalar_system():
    """μ = 1 and Σ_{K*} = 1/(1 − (a − k*)²), with k* from the scalar DARE solved by hand."""
    # scalar DARE: x = q + a²x − a²x²/(r + x)  <=>  x² − 2.25x − 1 = 0 with a = 1.5, q = r = 1
    x = (2.25 + np.sqrt(2.25**2 + 4.0)) / 2.0
    k = 1.5 * x / (1.0 + x)
    sigma_star = 1.0 / (1.0 - (1.5 - k) ** 2)
    constants = iterations.theorem_constants(SCALAR)
    assert constants.optimal_covariance_norm == pytest.approx(sigma_star, rel=1e-8)
    # the factor is rounded up by the safety margin (1e-9 relative on each constant)
    factor = iterations.contraction_factor("pi", None, constants)
    assert 1.0 - 1.0 / sigma_star <= factor <= 1.0 - 1.0 / sigma_star + 1e-8


# ------------------------------------------------------------------------------------------------
# Gradient domination
# ------------------------------------------------------------------------------------------------


def gradient_domination_holds(problem, gain, constant) -> bool:
    gradient = problem.gradient(gain, "certified").ball
    with ctx.workprec(DEFAULT_CERTIFIED_BITS):
        squared_norm = sum((entry * entry for entry in gradient.entries()), arb(0))
        gap = problem.cost(gain, "certified").ball - problem.optimal_cost("certified").ball
        return bool(gap <= arb(constant) * squared_norm)


@settings(max_examples=6)
@given(lqr_problems_with_gains(n=st.integers(1, 3)))
def test_gradient_domination_holds_at_generated_stabilising_gains(case):
    problem, gain = case
    constant = iterations.gradient_domination_constant(iterations.theorem_constants(problem))
    assert gradient_domination_holds(problem, gain, constant)


def test_gradient_domination_holds_along_a_natural_gradient_run():
    problem = dean_2017()
    constant = iterations.gradient_domination_constant(iterations.theorem_constants(problem))
    run = iterations.run_iterations(problem, "npg", DEAN_GAIN, steps=10)
    assert all(gradient_domination_holds(problem, gain, constant) for gain in run.gains)


def test_gradient_domination_check_fails_with_a_constant_far_too_small():
    """Negative control: the lemma's constant divided by 100 is violated at K₀ on dean2017."""
    problem = dean_2017()
    constant = iterations.gradient_domination_constant(iterations.theorem_constants(problem))
    assert not gradient_domination_holds(problem, DEAN_GAIN, constant / 100.0)


# ------------------------------------------------------------------------------------------------
# Past the bound
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, boundary",
    # one step from k = 1: k' = 1 + 2α/3 (NPG), 1 + 8α/9 (PG), 1 + 2α/11 (GN); unstable once
    # |1.5 − k'| >= 1, i.e. k' >= 5/2
    [("npg", Fraction(9, 4)), ("pg", Fraction(27, 16)), ("gn", Fraction(33, 4))],
)
def test_destabilising_step_brackets_the_exact_boundary_on_the_scalar_system(method, boundary):
    found = iterations.find_destabilising_step(SCALAR, method, SCALAR_GAIN)
    assert found.stable_alpha < boundary < found.unstable_alpha
    assert found.unstable_alpha - found.stable_alpha < 1e-6
    assert found.bound < found.stable_alpha and found.tier == "certified"
    assert found.unstable_radius >= 1.0


def test_destabilising_step_is_found_and_reported_on_dean2017():
    found = iterations.find_destabilising_step(dean_2017(), "npg", DEAN_GAIN)
    problem = dean_2017()
    unstable = problem.natural_gradient_step(DEAN_GAIN, found.unstable_alpha)
    stable = problem.natural_gradient_step(DEAN_GAIN, found.stable_alpha)
    assert problem.is_stabilizing(stable, "certified")
    assert not problem.is_stabilizing(unstable, "certified")
    assert found.unstable_alpha > found.bound
    assert "destabilises at alpha" in found.describe()


# ------------------------------------------------------------------------------------------------
# Float and certified runs agree; inputs
# ------------------------------------------------------------------------------------------------


def test_float_and_certified_runs_visit_the_same_iterates():
    problem = dean_2017()
    floats = iterations.run_iterations(problem, "gn", DEAN_GAIN, steps=5)
    balls = iterations.run_iterations(problem, "gn", DEAN_GAIN, steps=5, precision="certified")
    for a, b in pairwise(zip(floats.gains, balls.gains, strict=True)):
        np.testing.assert_allclose(a[0], a[1], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b[0], b[1], rtol=1e-12, atol=1e-14)
