"""The exact-expectation engine: its rules are exact to their stated degree and no further, it
refuses what it cannot afford, and the oracle it gives catches wrong estimators."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from pgverify import LQR, CertificationError, InvalidProblemError
from pgverify.estimators.policy_gradient import gaussian_reinforce, gaussian_scores
from pgverify.expectation import (
    CubatureTooLarge,
    cubature,
    lqr_expectation,
    lqr_gradient_target,
    mdp_expectation,
)
from pgverify.expectation.rules import GaussianFactor, SphereFactor
from pgverify.mdp import EnumerationTooLarge, FiniteMDP

VARIANCES = [Fraction(1), Fraction(1, 3), Fraction(5, 2)]


def gaussian_moment(variance: Fraction, power: int) -> Fraction:
    """E z^p for z ~ N(0, v): 0 for odd p, v^{p/2} (p − 1)!! for even p."""
    return 0 if power % 2 else variance ** (power // 2) * math.prod(range(1, power, 2))


def integrate_monomial(rule, factors, powers) -> Fraction:
    total = Fraction(0)
    for key, weight in rule.nodes.items():
        point = [Fraction(0)] * len(factors)
        for index, j in key:
            point[index] = j * factors[index].scale
        total += weight * math.prod(x**p for x, p in zip(point, powers, strict=True))
    return total


@pytest.mark.parametrize("degree", [1, 3, 5, 7])
def test_rule_integrates_every_monomial_up_to_its_degree_exactly(degree):
    factors = [GaussianFactor.of(v) for v in VARIANCES]
    rule = cubature(factors, degree)
    for powers in itertools.product(range(degree + 1), repeat=3):
        if sum(powers) <= degree:
            expected = math.prod(gaussian_moment(v, p) for v, p in zip(VARIANCES, powers))
            assert integrate_monomial(rule, factors, powers) == expected, powers


@pytest.mark.parametrize("degree", [3, 5])
def test_rule_is_not_exact_one_even_degree_beyond(degree):
    factors = [GaussianFactor.of(v) for v in VARIANCES]
    rule = cubature(factors, degree)
    powers = (degree + 1, 0, 0)
    assert integrate_monomial(rule, factors, powers) != gaussian_moment(VARIANCES[0], degree + 1)


@pytest.mark.parametrize("dimension", [4, 10, 20])
def test_degree_five_sparse_grid_has_quadratically_many_nodes(dimension):
    rule = cubature([GaussianFactor.of(Fraction(1))] * dimension, 5)
    assert rule.size == 2 * dimension**2 + 2 * dimension + 1  # 1 + 4d + 4 C(d, 2)


def test_sphere_rule_has_the_uniform_second_moments_and_vanishing_odd_ones():
    factor = SphereFactor(3)
    rule = cubature([factor], 3)
    second = {(i, j): Fraction(0) for i in range(3) for j in range(3)}
    for key, weight in rule.nodes.items():
        ((_, local),) = key
        u = [0, 0, 0]
        u[abs(local) - 1] = 1 if local > 0 else -1
        for i, j in second:
            second[i, j] += weight * u[i] * u[j]
    assert all(value == (Fraction(1, 3) if i == j else 0) for (i, j), value in second.items())


def test_unaffordable_rule_is_refused_with_its_node_count():
    with pytest.raises(CubatureTooLarge, match="node_budget = 100"):
        cubature([GaussianFactor.of(Fraction(1))] * 30, 5, node_budget=100)
    assert issubclass(CubatureTooLarge, InvalidProblemError)


def scalar_problem(gamma=0.5, noise=0.25):
    return LQR([[1.0]], [[0.5]], [[1.0]], [[2.0]], Sigma0=[[3.0]], gamma=gamma, noise=noise)


def test_expected_first_cost_is_the_closed_form():
    # E c_0 = q s0 + r (k² s0 + σ) = 3 + 2 (4·3 + 1/4) = 27.5
    problem = scalar_problem()
    result = lqr_expectation(problem, [[2.0]], 1, lambda s, a, c: c[0, 0], degree=2)
    assert result.mean == Fraction(55, 2) and result.tier == "exact"


def test_gamma_one_with_noise_at_one_step_gives_two_r_k_sigma0():
    # T = 1: ∇C_0 = 2 R K Σ0 whatever the noise (E u'Ru = k² s0 + σ r); LQR refuses γ = 1 with
    # noise, so the noise is passed to the engine directly
    problem = LQR([[1.0]], [[0.5]], [[1.0]], [[2.0]], Sigma0=[[3.0]], gamma=1.0)

    def estimator(states, actions, costs):
        return gaussian_reinforce(states, actions, costs, [[2.0]], Fraction(1, 4), 1)

    result = lqr_expectation(problem, [[2.0]], 1, estimator, degree=4, noise=0.25)
    assert result.mean[0, 0] == 2 * 2 * 2 * 3


def test_reinforce_without_discount_weights_is_caught_at_gamma_nine_tenths():
    # the slip a 200 000-rollout z-test missed at γ = 0.9 (issue 10): Σ_t G_t s_t, no γ^t
    problem = LQR(
        [[1.0, 0.5], [0.0, 0.75]], [[0.0], [1.0]], np.eye(2), [[1.0]], gamma=0.9, noise=0.25
    )
    K = np.array([[0.25, 0.5]])

    def no_discount_weight(states, actions, costs):
        scores = gaussian_scores(states, actions, K, Fraction(1, 4))
        gamma = Fraction(0.9)  # the problem's float64 γ, exactly
        steps = costs.shape[1]
        to_go = [sum(gamma ** (k - t) * costs[:, k] for k in range(t, steps)) for t in range(steps)]
        return sum(to_go[t][:, None, None] * scores[:, t] for t in range(steps)).mean(axis=0)

    def right(states, actions, costs):
        return gaussian_reinforce(states, actions, costs, K, Fraction(1, 4), 0.9)

    target = lqr_gradient_target(problem, K, 3)
    assert target.contains(lqr_expectation(problem, K, 3, right, 4).mean)
    assert not target.contains(lqr_expectation(problem, K, 3, no_discount_weight, 4).mean)


def test_a_baseline_that_sees_the_action_is_biased():
    problem = scalar_problem()

    def action_baseline(states, actions, costs):
        scores = gaussian_scores(states, actions, [[2.0]], Fraction(1, 4))
        return ((costs - actions[..., 0] ** 2)[..., None, None] * scores).sum(axis=1).mean(axis=0)

    mean = lqr_expectation(problem, [[2.0]], 1, action_baseline, degree=4).mean
    assert not lqr_gradient_target(problem, [[2.0]], 1).contains(mean)


def test_understated_degree_is_detected_by_check_degree():
    problem = scalar_problem()

    def sixth_degree(states, actions, costs):  # c_0³
        return costs[0, 0] ** 3

    with pytest.raises(CertificationError, match="not a polynomial of the claimed degree"):
        lqr_expectation(problem, [[2.0]], 1, sixth_degree, degree=4, check_degree=True)
    right = lqr_expectation(problem, [[2.0]], 1, sixth_degree, degree=6, check_degree=True)
    assert right.mean > 0


def test_float_tier_reports_a_positive_tolerance_that_covers_the_exact_value():
    problem = scalar_problem()

    def estimator(states, actions, costs):
        return gaussian_reinforce(states, actions, costs, [[2.0]], 0.25, 0.5)

    exact = lqr_expectation(problem, [[2.0]], 2, estimator, degree=4)
    rounded = lqr_expectation(problem, [[2.0]], 2, estimator, degree=4, arithmetic="float")
    assert rounded.tier == "float" and rounded.rounding_tolerance > 0
    assert abs(rounded.mean[0, 0] - exact.mean[0, 0]) <= rounded.rounding_tolerance


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (dict(steps=0), "steps"),
        (dict(batch=0), "batch"),
        (dict(arithmetic="double"), "arithmetic"),
        (dict(degree=-1), "degree"),
        (dict(arithmetic="float", variance=True), "variance"),
        (dict(noise=-1.0), "noise"),
    ],
)
def test_bad_engine_arguments_are_refused_by_name(arguments, match):
    call = dict(steps=1, degree=2)
    call.update(arguments)
    with pytest.raises(InvalidProblemError, match=match):
        lqr_expectation(scalar_problem(), [[2.0]], estimator=lambda s, a, c: c[0, 0], **call)


def test_mdp_enumeration_past_its_limit_is_refused():
    half = Fraction(1, 2)
    mdp = FiniteMDP.create([[[half, half]] * 2] * 2, [[1, 2], [3, 4]], Fraction(1, 2), [half, half])
    policy = [[half, half], [half, half]]
    with pytest.raises(EnumerationTooLarge):
        mdp_expectation(mdp, policy, 4, lambda s, a, c: c.sum(), batch=2, limit=1000)


def test_sphere_directions_beyond_degree_five_are_refused_not_approximated():
    from pgverify.expectation import directions_expectation

    with pytest.raises(InvalidProblemError, match="degree 5 only"):
        directions_expectation(lambda d: d.sum() ** 6, (1, 2), 1, 6, distribution="sphere")


def uniform_sphere_moment(powers):
    """E Π u_i^{p_i} for u uniform on the unit sphere of R^D: 0 unless every p_i is even, else
    Π (p_i − 1)!! / (D (D + 2) ⋯ (D + |p| − 2)) (Folland, "How to integrate a polynomial over a
    sphere", Amer. Math. Monthly 108, 2001)."""
    if any(p % 2 for p in powers):
        return Fraction(0)
    numerator = math.prod(math.prod(range(1, p, 2)) for p in powers)
    denominator = math.prod(len(powers) + k for k in range(0, sum(powers), 2))
    return Fraction(numerator, denominator)


@pytest.mark.parametrize("dimension", [1, 2, 3, 4, 6])
def test_degree_five_sphere_rule_has_every_uniform_moment_up_to_degree_five(dimension):
    factor = SphereFactor(dimension)
    rule = cubature([factor], 5)
    for powers in itertools.product(range(6), repeat=dimension):
        if sum(powers) > 5:
            continue
        total = Fraction(0)
        for ((_, local),), weight in rule.nodes.items():
            u = factor.point(local)
            total += weight * math.prod((u[i] ** p for i, p in enumerate(powers)), start=1)
        assert total == uniform_sphere_moment(powers), powers


def test_degree_three_sphere_rule_misses_the_fourth_moment():
    """The reason for the degree-5 rule: ±e_i alone give E u_1⁴ = 1/D, not 3/(D(D + 2))."""
    factor = SphereFactor(3)
    rule = cubature([factor], 3)
    fourth = sum(w * factor.point(local)[0] ** 4 for ((_, local),), w in rule.nodes.items())
    assert fourth != uniform_sphere_moment((4, 0, 0))


def test_an_estimator_changing_shape_between_nodes_is_refused():
    calls = []

    def unstable(states, actions, costs):
        calls.append(1)
        return np.zeros(len(calls) % 2 + 1, dtype=object)

    with pytest.raises(InvalidProblemError, match="one shape"):
        lqr_expectation(scalar_problem(), [[2.0]], 1, unstable, degree=2)


def test_float32_data_convert_exactly():
    from pgverify.estimators.arrays import numeric_array

    converted = numeric_array(np.array([0.1], dtype=np.float32), "x", (1,), exact=True)
    assert converted[0] == Fraction(float(np.float32(0.1)))


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (dict(problem="lqr"), "problem"),
        (dict(estimator=3), "estimator"),
        (dict(node_budget=0), "node_budget"),
        (dict(relative_error=-1.0), "relative_error"),
    ],
)
def test_engine_refuses_a_wrong_problem_estimator_or_budget(arguments, match):
    call = dict(problem=scalar_problem(), K=[[2.0]], steps=1, degree=2)
    call["estimator"] = lambda s, a, c: c[0, 0]
    call.update(arguments)
    with pytest.raises(InvalidProblemError, match=match):
        lqr_expectation(**call)


def test_an_estimator_that_rounds_in_exact_arithmetic_is_refused_not_labelled_exact():
    def rounds(states, actions, costs):
        return np.asarray(costs, dtype=float).sum()  # leaves the rationals for float64

    with pytest.raises(InvalidProblemError, match="rounded"):
        lqr_expectation(scalar_problem(), [[2.0]], 1, rounds, degree=2)
    result = lqr_expectation(scalar_problem(), [[2.0]], 1, rounds, degree=2, arithmetic="float")
    assert result.tier == "float"
