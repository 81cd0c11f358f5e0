"""Property suite: certified enclosures contain the exact value at every scale and precision.

Soundness is the one property an oracle cannot lack.  Both certified engines (python-flint balls
and exact limb products on float64 BLAS) are run on small problems whose weights Q, R, Σ0 are
scaled by powers of two from 2^-1000 to 2^+1000 — far outside float64's comfortable range, and
where a float64 radius would underflow or overflow — at working precisions from 64 to 2000 bits.
Every enclosure must contain the exact rational value (``tests/exact_lqr.py``: Kronecker systems
over the rationals, sharing no code with pgverify), and, the problems being well conditioned, it
must not be refused and must be narrow: at least half the requested bits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify import LQR, Certified
from pgverify.fixedpoint import FixedPointArithmetic
from pgverify.strategies import lqr_problems_with_gains
from tests.exact_lqr import exact_lqr, to_balls

BITS = [64, 100, 212, 500, 1100, 2000]
ENGINES = ["arb", "blas"]
SCALE_EXPONENTS = st.integers(-1000, 1000)
EXAMPLES = max(40, settings.default.max_examples)
"""More examples than the default profile's 15: the derandomised first few are mostly n = 1."""
CONTAINMENT_BITS = 8000
"""Exact rationals are enclosed at this precision for ``contains``: far below any radius here."""


@st.composite
def scaled_problems(draw: st.DrawFn) -> tuple[LQR, np.ndarray]:
    """A well-conditioned problem and gain (ρ(A − BK) ≤ 0.95, weights with λ_min ≥ 1/4), its
    Q, R and Σ0 (and exploration noise) multiplied by independent powers of two."""
    problem, K = draw(
        st.one_of(
            lqr_problems_with_gains(n=st.integers(1, 3)),
            lqr_problems_with_gains(n=st.integers(1, 2), discounted=True, noisy=True),
        )
    )
    q, r, s = draw(SCALE_EXPONENTS), draw(SCALE_EXPONENTS), draw(SCALE_EXPONENTS)
    scaled = LQR(
        problem.A,
        problem.B,
        np.ldexp(problem.Q, q),
        np.ldexp(problem.R, r),
        np.ldexp(problem.Sigma0, s),
        gamma=problem.gamma,
        noise=float(np.ldexp(problem.noise, s)),
    )
    return scaled, K


def contains_exact(enclosure, exact) -> bool:
    balls = enclosure.ball
    if isinstance(balls, arb):
        balls = arb_mat([[balls]])
    with ctx.workprec(CONTAINMENT_BITS):
        return bool(balls.contains(to_balls(exact, CONTAINMENT_BITS)))


def relative_accuracy_bits(enclosure) -> float:
    """Normwise: log2(max |midpoint| / max radius), from the balls themselves (no float64);
    infinite for an exact result."""
    balls = enclosure.ball
    entries = balls.entries() if isinstance(balls, arb_mat) else [balls]
    with ctx.workprec(64):
        radius = max(entry.rad() for entry in entries)
        size = max(abs(entry.mid()) for entry in entries)
        if radius == 0:
            return float("inf")
        if size == 0:
            return float("-inf")
        return float((size / radius).log() / arb(2).log())


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=EXAMPLES)
@given(case=scaled_problems(), bits=st.sampled_from(BITS))
def test_enclosures_contain_the_exact_value_at_every_scale_and_precision(engine, case, bits):
    problem, K = case
    precision = Certified(bits=bits, engine=engine)
    exact = exact_lqr(problem, K)
    results = {
        "value_matrix": (problem.value_matrix(K, precision), exact.value_matrix),
        "state_covariance": (problem.state_covariance(K, precision), exact.state_covariance),
        "gradient": (problem.gradient(K, precision), exact.gradient),
        "natural_gradient": (problem.natural_gradient(K, precision), exact.natural_gradient),
        "cost": (problem.cost(K, precision), exact.cost),
    }
    for name, (enclosure, value) in results.items():
        assert contains_exact(enclosure, value), f"{name} excludes the exact value: {problem!r}"


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=EXAMPLES)
@given(case=scaled_problems(), bits=st.sampled_from(BITS))
def test_well_conditioned_problems_are_certified_to_at_least_half_the_bits(engine, case, bits):
    problem, K = case
    precision = Certified(bits=bits, engine=engine)
    for enclosure in (problem.gradient(K, precision), problem.cost(K, precision)):
        assert relative_accuracy_bits(enclosure) >= bits // 2
        # the reported digits come from the balls too (float64 views under/overflow here)
        assert enclosure.digits >= int(0.3 * (bits // 2)) - 1 or enclosure.digits == math.inf


def test_the_automatic_engine_is_sound_for_tiny_weights_at_n_20():
    """The automatic choice picks the BLAS engine at n = 20, where a float64 radius once
    underflowed (Q, R, Σ0 = 1e-130·I).  A diagonal problem decouples into 20 scalar ones, whose
    exact values give the reference (the off-diagonal entries are exactly 0)."""
    n = 20
    a = np.linspace(0.3, 1.2, n)
    k = np.linspace(0.2, 0.9, n)
    tiny = 1e-130
    problem = LQR(np.diag(a), np.eye(n), tiny * np.eye(n), tiny * np.eye(n), tiny * np.eye(n))
    gradient = problem.gradient(np.diag(k), "certified")
    exact = np.zeros((n, n), dtype=object)
    for i in range(n):
        scalar = LQR([[a[i]]], [[1.0]], [[tiny]], [[tiny]], [[tiny]])
        exact[i, i] = exact_lqr(scalar, np.array([[k[i]]])).gradient[0, 0]
    with ctx.workprec(CONTAINMENT_BITS):
        reference = arb_mat([[arb(0) if x == 0 else arb(x) for x in row] for row in exact])
        assert gradient.ball.contains(reference)
    assert relative_accuracy_bits(gradient) >= 150


@given(
    exponent=st.integers(-1060, 1000),
    bits=st.sampled_from(BITS),
    seed=st.integers(0, 2**32 - 1),
)
def test_fixed_point_products_contain_the_exact_product_at_every_scale(exponent, bits, seed):
    rng = np.random.default_rng(seed)
    X = np.ldexp(rng.standard_normal((4, 4)), exponent)
    Y = np.ldexp(rng.standard_normal((4, 4)), -exponent // 2)
    ar = FixedPointArithmetic(bits, 4)
    with ar.context():
        result = (ar.matrix(X) @ ar.matrix(Y)) * (1 / 3) + ar.matrix(X)
    with ctx.workprec(CONTAINMENT_BITS):
        x, y = arb_mat(X.tolist()), arb_mat(Y.tolist())
        reference = x * y * arb(1 / 3) + x  # the float 1/3, exactly
        assert result.to_arb_mat().contains(reference)
