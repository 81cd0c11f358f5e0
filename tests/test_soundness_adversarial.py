"""Adversarial soundness cases: certified enclosures must contain the exact value, or refuse.

Each case is one the certified routines find hard — entries of wildly different scales within
one matrix, a closed loop that is a massive cancellation, discounts a hair below 1 with tiny or
huge exploration noise, non-normal closed loops next to the unit circle, stability verdicts at
eigenvalues 1 ± 2^-52, softmax policies with logits ±700 — on both certified engines at the
lowest precision allowed.  The references never come from pgverify: exact rationals
(``tests/exact_lqr.py``), a closed-form scalar Riccati solution evaluated in 4000-bit balls, and
mpmath at 400 digits.  A CertificationError is an acceptable answer where a case is marked so;
a ball that excludes the reference never is.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx

from pgverify import LQR, CertificationError, Certified
from pgverify import mdp as finite
from pgverify.lqr import iterations
from tests.exact_lqr import exact_lqr, to_balls

ENGINES = ["arb", "blas"]
CONTAINMENT_BITS = 8000
QUANTITIES = ("value_matrix", "state_covariance", "gradient", "natural_gradient", "cost")


def contains_exact(enclosure, exact) -> bool:
    balls = enclosure.ball
    if isinstance(balls, arb):
        balls = arb_mat([[balls]])
    with ctx.workprec(CONTAINMENT_BITS):
        return bool(balls.contains(to_balls(exact, CONTAINMENT_BITS)))


def assert_every_quantity_contains_the_exact_value(problem, K, precision, refusable=False):
    exact = exact_lqr(problem, K)
    for name in QUANTITIES:
        try:
            enclosure = getattr(problem, name)(K, precision)
        except CertificationError:
            if refusable:
                continue
            raise
        assert contains_exact(enclosure, getattr(exact, name)), (name, repr(problem), K)


def stable_closed_loop(rng, n, radius, off_diagonal=0.5):
    """An exact-in-float64 upper-triangular closed loop with spectral radius ``radius``."""
    diagonal = rng.uniform(-1.0, 1.0, n)
    diagonal = radius * diagonal / np.max(np.abs(diagonal))
    return np.diag(diagonal) + np.triu(rng.standard_normal((n, n)) * off_diagonal, 1)


# ------------------------------------------------------------------------------------------------
# Gain quantities against exact rationals
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_entries_spanning_2_to_the_plus_minus_300_within_one_matrix_are_enclosed_or_refused(
    engine,
):
    """A diagonal similarity D·(A − BK)·D⁻¹ by powers of two from 2^-150 to 2^+150 (B, K and Q
    transformed alike, an input scale 2^±250 on B and K, R = 2^-500): A, B, K, Q each mix
    entries ~2^300 apart.  (Σ0 and R stay within what validation accepts: a condition number
    near 1e14.)  Badly scaled closed loops may be refused (a gap); never wrongly enclosed."""
    rng = np.random.default_rng(7)
    n, m = 3, 2
    closed = stable_closed_loop(rng, n, 0.8)
    B = rng.standard_normal((n, m))
    K = rng.standard_normal((m, n)) * 0.5
    scale = np.ldexp(1.0, np.array([-150, 17, 150]))
    inputs = np.ldexp(1.0, np.array([-250, 250]))
    A = scale[:, None] * (closed + B @ K) / scale[None, :]
    B = scale[:, None] * B * inputs[None, :]
    K = K / inputs[:, None] / scale[None, :]
    Q = np.eye(n) / scale[:, None] / scale[None, :]
    problem = LQR(A, B, Q, np.ldexp(np.eye(m), -500), np.eye(n) + 0.25)
    assert_every_quantity_contains_the_exact_value(
        problem, K, Certified(bits=64, engine=engine), refusable=True
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_a_badly_scaled_stable_closed_loop_is_never_called_not_stabilising(engine):
    """A − BK = D·[[1.2, 1], [−0.5, 0]]·D⁻¹ with D = diag(2^-500, 2^500): eigenvalues 0.6 ± 0.37i
    exactly (ρ = √0.5), entries 2^-1000 and 2^+1000.  float64 eigenvalue routines return 1.2
    (and the BLAS engine's float64 view dropped the 2^-1000 entry), so certified mode once
    raised NotStabilizingError("ρ(A − BK) = 1.2") for this stabilising gain; it may refuse to
    certify, but only a proof may call K not stabilising."""
    d = np.ldexp(1.0, np.array([-500, 500]))
    A = d[:, None] * np.array([[1.2, 1.0], [-0.5, 0.0]]) / d[None, :]
    problem = LQR(A, np.ones((2, 1)), np.eye(2), np.eye(1))
    K = np.zeros((1, 2))
    try:
        cost = problem.cost(K, Certified(bits=100, engine=engine))
    except CertificationError:
        return
    assert cost.max_radius < np.inf  # certified: a stabilising gain has a finite cost


def exactly_stable_2x2(problem, K) -> bool:
    """ρ(A − BK) < 1 for a 2×2 closed loop, decided exactly (Jury: |det| < 1, |tr| < 1 + det)."""
    A, B, gain = (np.vectorize(Fraction, otypes=[object])(x) for x in (problem.A, problem.B, K))
    closed = A - B.dot(gain)
    trace = closed[0, 0] + closed[1, 1]
    determinant = closed[0, 0] * closed[1, 1] - closed[0, 1] * closed[1, 0]
    return abs(determinant) < 1 and abs(trace) < 1 + determinant


def test_the_blas_engine_never_calls_a_mixed_scale_stable_gain_not_stabilising():
    """Found by a mixed-scale fuzz: A − BK has entries ~1e-36 and ~1e33 and ρ ≈ 0.6, but the BLAS
    engine's float64 view (relative to the largest entry) dropped the small ones and its
    eigenvalue estimate was 1: ``gradient`` raised NotStabilizingError("ρ(A − BK) = 1")."""
    problem = LQR(
        A=[
            [0.6795880041070101, 7.1946756164180125e-37],
            [5.24237298830576e32, -0.6675829074243743],
        ],
        B=[[-4.574894406726977e-19], [1.7835846151677838e16]],
        Q=[
            [1.3572436954875874e151, -6.512022205986515e115],
            [-6.512022205986515e115, 1.8334862114252196e82],
        ],
        R=[[4.465141840661198e109]],
        Sigma0=[[9.313225746154785e-10, 0.0], [0.0, 9.313225746154785e-10]],
    )
    K = np.array([[-1.6697756948421994e17, -6.799644539570113e-18]])
    assert exactly_stable_2x2(problem, K)
    # refusing is allowed (a gap); NotStabilizingError would be a false verdict
    with contextlib.suppress(CertificationError):
        problem.gradient(K, Certified(bits=100, engine="blas"))


def test_the_blas_engines_float64_view_keeps_entries_far_below_the_largest():
    """The float64 midpoint of a fixed-point matrix holding 2^-1000 next to 2^+1000 (at 2200
    bits, so that the small entries are limbs, not radius) is exact."""
    from pgverify.fixedpoint import FixedPointArithmetic

    values = np.array([[1.2, 2.0**-1000], [-(2.0**1000), 0.0]])
    engine = FixedPointArithmetic(2200, 2)
    assert np.array_equal(engine.to_float(engine.matrix(values)), values)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_closed_loop_that_is_a_massive_cancellation_is_enclosed(engine):
    """|BK| ≈ 1e12 while |A − BK| < 1: A − BK must be formed exactly, not from rounded A."""
    rng = np.random.default_rng(11)
    n, m = 3, 2
    B = rng.standard_normal((n, m))
    K = rng.standard_normal((m, n)) * 1e12
    A = stable_closed_loop(rng, n, 0.7) + B @ K  # rounded: the exact A − BK differs from it
    problem = LQR(A, B, np.eye(n), np.eye(m))
    assert problem.has_finite_cost(K)
    assert_every_quantity_contains_the_exact_value(
        problem, K, Certified(bits=64, engine=engine), refusable=True
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("noise", [1e-150, 1e150])
def test_a_discount_a_hair_below_one_with_extreme_noise_is_enclosed(engine, noise):
    """γ = 1 − 2^-40 makes γσ/(1 − γ) ≈ 2^40 σ; σ from 1e-150 to 1e+150."""
    rng = np.random.default_rng(3)
    n, m = 2, 1
    B = rng.standard_normal((n, m))
    K = rng.standard_normal((m, n)) * 0.5
    A = stable_closed_loop(rng, n, 0.9) + B @ K
    problem = LQR(A, B, np.eye(n), np.eye(m), gamma=1.0 - 2.0**-40, noise=noise)
    assert_every_quantity_contains_the_exact_value(problem, K, Certified(bits=64, engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_non_normal_closed_loop_next_to_the_unit_circle_is_enclosed_or_refused(engine):
    """ρ(A − BK) = 1 − 2^-30 with off-diagonal entries of 50: ‖P_K‖ is huge."""
    n = 3
    closed = np.array([[1.0 - 2.0**-30, 50.0, -50.0], [0.0, 0.5, 50.0], [0.0, 0.0, -0.25]])
    B = np.array([[1.0], [0.5], [0.25]])
    K = np.array([[0.125, -0.25, 0.5]])
    A = closed + B @ K
    assert np.array_equal(A - B @ K, closed)  # dyadic data: the closed loop is exact
    problem = LQR(A, B, np.eye(n), np.eye(1))
    assert_every_quantity_contains_the_exact_value(
        problem, K, Certified(bits=100, engine=engine), refusable=True
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_cost_difference_of_nearby_gains_at_extreme_weights_is_enclosed(engine):
    """C(K2) − C(K) for K2 = K(1 + 2^-45), weights 2^±500: the difference is 2^-45 of a cost."""
    rng = np.random.default_rng(5)
    n, m = 2, 2
    B = rng.standard_normal((n, m))
    K = rng.standard_normal((m, n)) * 0.5
    A = stable_closed_loop(rng, n, 0.6) + B @ K
    problem = LQR(A, B, np.ldexp(np.eye(n), 500), np.ldexp(np.eye(m), -500))
    K2 = K * (1.0 + 2.0**-45)
    difference = problem.cost_difference(K, K2, Certified(bits=64, engine=engine))
    first, second = exact_lqr(problem, K).cost, exact_lqr(problem, K2).cost
    assert contains_exact(difference, second - first)


# ------------------------------------------------------------------------------------------------
# Stability verdicts at exactly known eigenvalues
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("top", [1.0 - 2.0**-52, 1.0, 1.0 + 2.0**-52, -(1.0 + 2.0**-40)])
def test_a_stability_verdict_next_to_the_unit_circle_is_right_or_refused(engine, top):
    """A − BK upper triangular with dyadic entries (eigenvalues exactly its diagonal), permuted
    and scaled by powers of two: ``is_stabilizing`` is True iff |top| < 1, or it refuses."""
    closed = np.array([[top, 1000.0, 3.0], [0.0, 0.5, -1000.0], [0.0, 0.0, -0.75]])
    scale = np.ldexp(1.0, np.array([-16, 0, 16]))
    order = [2, 0, 1]
    closed = (scale[:, None] * closed / scale[None, :])[order][:, order]
    B = np.array([[1.0], [-0.5], [0.25]])
    K = np.array([[0.5, 0.25, -1.0]])
    A = closed + B @ K
    assert np.array_equal(A - B @ K, closed)
    problem = LQR(A, B, np.eye(3), np.eye(1))
    truth = abs(Fraction(top)) < 1
    try:
        verdict = problem.is_stabilizing(K, Certified(bits=128, engine=engine))
    except CertificationError:
        return
    assert verdict == truth


# ------------------------------------------------------------------------------------------------
# The Riccati solution against a closed form
# ------------------------------------------------------------------------------------------------


def scalar_riccati(a: float, b: float, q: float, r: float, gamma: float) -> tuple[arb, arb]:
    """(x*, k*) of the scalar discounted DARE in 4000-bit balls: x* is the positive root of
    ``γb²x² + (r(1 − γa²) − γb²q) x − rq = 0``, k* = γabx*/(r + γb²x*)."""
    with ctx.workprec(4000):
        a, b, q, r, g = (arb(v) for v in (a, b, q, r, gamma))
        linear = r * (1 - g * a * a) - g * b * b * q
        root = (-linear + (linear * linear + 4 * g * b * b * r * q).sqrt()) / (2 * g * b * b)
        return root, g * a * b * root / (r + g * b * b * root)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_riccati_solution_of_decoupled_modes_at_scales_2_to_the_300_is_enclosed(engine):
    """Three decoupled modes (diagonal A, B, Q, R) whose B and Q entries differ by up to 2^±300
    within one matrix, one of them unstable (a = 1.5); each mode's x*, k* from the scalar
    formula."""
    a = np.array([1.5, 0.5, -0.9])
    b = np.ldexp(np.array([1.0, 3.0, -1.0]), [-150, 0, 150])
    q = np.ldexp(np.array([1.0, 2.0, 1.0]), [300, 0, -300])
    r = np.array([1.0, 0.5, 5.0]) * 2.0**-20  # validation caps cond(R) near 1e14
    gamma = 0.875
    problem = LQR(np.diag(a), np.diag(b), np.diag(q), np.diag(r), gamma=gamma)
    # at 64 or 212 bits this is refused (a gap: the first certificate's reach around the gain
    # is normwise); at 1000 bits it is certified
    precision = Certified(bits=1000, engine=engine)
    gain = problem.optimal_gain(precision).ball
    value = problem.optimal_value_matrix(precision).ball
    for i in range(3):
        x, k = scalar_riccati(a[i], b[i], q[i], r[i], gamma)
        with ctx.workprec(4000):
            assert value[i, i].contains(x) and gain[i, i].contains(k), i


# ------------------------------------------------------------------------------------------------
# A softmax MDP next to γ = 1 against mpmath
# ------------------------------------------------------------------------------------------------


def test_a_softmax_value_with_logits_700_and_discount_near_one_is_enclosed():
    """One state, three actions, logits ±700, γ = 1 − 2^-52: V = Σ_a π_a c_a / (1 − γ)."""
    gamma = Fraction(2**52 - 1, 2**52)
    logits = [[700, -700, Fraction(1, 3)]]
    costs = [[Fraction(1, 7), Fraction(10**30), Fraction(-5, 3)]]
    mdp = finite.FiniteMDP.create([[[1], [1], [1]]], costs, gamma, [1])
    enclosure = finite.evaluate(mdp, finite.softmax_policy(logits, 64), bits=64).value
    with mpmath.workdps(400):
        theta = [mpmath.mpf(700), mpmath.mpf(-700), mpmath.mpf(1) / 3]
        weights = [mpmath.exp(t - 700) for t in theta]
        total = mpmath.fsum(weights)
        price = [mpmath.mpf(c.numerator) / c.denominator for c in costs[0]]
        value = mpmath.fsum(w * c for w, c in zip(weights, price, strict=True)) / total
        value = value / (1 - mpmath.mpf(gamma.numerator) / gamma.denominator)
        text = mpmath.nstr(value, 390)
    with ctx.workprec(1300):
        reference = arb(text)
        reference = arb(reference.mid(), abs(reference) * arb(2) ** -1200)  # mpmath's error
        assert enclosure.ball[0, 0].contains(reference)


# ------------------------------------------------------------------------------------------------
# The convergence theorems' constants are bounds (regression)
# ------------------------------------------------------------------------------------------------

ILL_CONDITIONED = [
    [0.7701511531639187, 0.42073549198321275],
    [0.42073549198321275, 0.2298488478360813],
]
"""A symmetric positive definite 2×2 matrix with eigenvalues ≈ 1 and ≈ 1e-9: its float64
λ_min errs by ~1e-17 absolute, ~1e-8 relative — far beyond a 1e-9 relative margin."""


def exactly_positive_semidefinite(matrix, shift: float) -> bool:
    """Is ``matrix − shift·I`` ⪰ 0, decided exactly (2×2: diagonal and determinant ≥ 0)?"""
    (a, b), (c, d) = ([Fraction(x) for x in row] for row in matrix)
    s = Fraction(shift)
    return a - s >= 0 and d - s >= 0 and (a - s) * (d - s) - b * c >= 0


@pytest.mark.parametrize("argument", ["Sigma0", "R"])
def test_the_theorem_constants_eigenvalue_bounds_are_below_the_exact_eigenvalue(argument):
    """μ = σ_min(Σ0) and σ_min(R) are documented lower bounds; from a float64 eigenvalue with a
    1e-9 relative margin they were not (μ exceeded the exact λ_min(Σ0) here)."""
    data = {"Sigma0": np.eye(2), "R": np.eye(2), argument: np.array(ILL_CONDITIONED)}
    problem = LQR(np.eye(2) * 0.5, np.eye(2), np.eye(2), data["R"], data["Sigma0"])
    constants = iterations.theorem_constants(problem)
    bound = constants.mu if argument == "Sigma0" else constants.sigma_min_r
    assert bound > 0.0
    assert exactly_positive_semidefinite(ILL_CONDITIONED, bound)


def test_a_run_stopped_by_an_undecided_stability_verdict_does_not_claim_instability(monkeypatch):
    """A CertificationError from the certified stability decision is not a proof that the iterate
    destabilises: the run's ``stopped`` says the verdict could not be decided."""
    problem = LQR([[0.5]], [[1.0]], [[1.0]], [[1.0]])
    decisions = iter([True])

    def undecided_after_the_start(K, precision="float"):
        try:
            return next(decisions)
        except StopIteration:
            raise CertificationError("could not decide (test double)") from None

    monkeypatch.setattr(problem, "is_stabilizing", undecided_after_the_start)
    run = iterations.run_iterations(problem, "pi", [[0.0]], steps=3, precision="certified")
    assert run.stabilizing == [True, False]
    assert "could not be decided" in run.stopped


BADLY_SCALED = LQR(
    A=[[0.4373290525097122, -6.303156334372244e-19], [46946394595764.0, -0.6519789777224351]],
    B=[[-1.8023499962830246e-37], [-5.2089910790477726e-21]],
    Q=[
        [5.1398923073555165e-06, 4.4583850191232664e-23],
        [4.4583850191232664e-23, 7.15334102675075e-39],
    ],
    R=[[9.295870045837682e125]],
    Sigma0=[[137438953472.0, 0.0], [0.0, 0.03125]],
)
"""Found by the mixed-scale fuzz: A − BK ≈ [[0.13, 3e-18], [-8.8e15, -0.54]] (ρ ≈ 0.50), whose
float64 complex Schur form has eigenvalues ±1, so the Schur Stein solver met a singular
triangular system and leaked a raw numpy LinAlgError from every tier."""


@pytest.mark.parametrize(
    "precision", ["float", 30, Certified(engine="arb"), Certified(engine="blas")]
)
def test_a_schur_form_that_puts_eigenvalues_on_the_circle_is_refused_not_a_raw_error(precision):
    K = np.array([[-1.70607331777072e36, 2.0619161043359695e19]])
    assert exactly_stable_2x2(BADLY_SCALED, K)
    with contextlib.suppress(CertificationError):
        cost = BADLY_SCALED.cost(K, precision)
        if isinstance(precision, Certified):
            assert contains_exact(cost, exact_lqr(BADLY_SCALED, K).cost)


def test_a_float64_linear_system_singular_after_rounding_is_a_pgverify_error():
    """The float tier's Gauss–Newton direction solves R + γBᵀP_K B in float64; when it is
    singular after rounding (found by the mixed-scale fuzz) the error is a CertificationError,
    not numpy's raw LinAlgError."""
    from pgverify.precision import FloatArithmetic

    with pytest.raises(CertificationError, match="singular"):
        FloatArithmetic().solve(np.array([[1.0, 1.0], [1.0, 1.0]]), np.eye(2))


def test_a_float64_overflow_is_refused_rather_than_returned_as_inf():
    from pgverify import LQR

    problem = LQR([[0.5]], [[1.0]], [[1e300]], [[1.0]], [[1e300]], gamma=0.9)
    with pytest.warns(RuntimeWarning), pytest.raises(CertificationError, match="non-finite"):
        problem.cost(np.array([[0.1]]))
    assert problem.cost(np.array([[0.1]]), precision=20) > mpmath.mpf("1e599")  # no overflow
