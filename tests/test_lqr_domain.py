"""The whole LQR domain: discounted costs on gains with √γ·ρ(A − BK) < 1, γ = 1 with exploration
noise at a finite horizon, and the messages at the domain's boundary.

References are independent of the oracle: exact rationals (scalar systems, Fractions), the
320-bit Kronecker solve of tests/reference.py, sympy derivatives and scipy's DARE (float level)."""

from fractions import Fraction

import numpy as np
import pytest
import scipy.linalg
import sympy

from pgverify import LQR, Certified, InvalidProblemError, NotStabilizingError
from pgverify.lqr.examples import DEAN_2017_A, dean_2017
from tests.reference import closed_loop_and_stage_cost, kronecker_stein

TIERS = ["float", 30, "certified"]
ENGINES = [Certified(engine="arb"), Certified(engine="blas")]

# a scalar system whose open loop is unstable (a = 1.05) but inside the discounted domain:
# sqrt(gamma) = 0.9 exactly, sqrt(gamma) |a| = 0.945 < 1
SCALAR_A, SCALAR_GAMMA = 1.05, 0.81


def scalar_discounted() -> LQR:
    return LQR([[SCALAR_A]], [[1.0]], [[1.0]], [[1.0]], gamma=SCALAR_GAMMA)


def discounted_value(a: Fraction, k: Fraction, gamma: Fraction) -> Fraction:
    """Exact P_K of the scalar system with b = q = r = 1: P = (1 + k²) / (1 − γ(a − k)²)."""
    closed = a - k
    return (1 + k * k) / (1 - gamma * closed * closed)


# --------------------------------------------------------------------------------------------
# The discounted domain
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("precision", TIERS)
def test_discounted_cost_is_finite_at_a_gain_that_does_not_stabilise(precision):
    problem = scalar_discounted()
    assert problem.has_finite_cost([[0.0]], precision) is True
    assert problem.is_stabilizing([[0.0]], precision) is False


@pytest.mark.parametrize("precision", TIERS)
def test_gain_beyond_the_discounted_domain_has_no_finite_cost(precision):
    # sqrt(gamma) |a - k| = 0.9 * 1.2 = 1.08
    problem = LQR([[1.2]], [[1.0]], [[1.0]], [[1.0]], gamma=SCALAR_GAMMA)
    assert problem.has_finite_cost([[0.0]], precision) is False


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
def test_discounted_value_at_an_unstable_gain_contains_the_exact_rational(certified):
    expected = discounted_value(Fraction(SCALAR_A), Fraction(0), Fraction(SCALAR_GAMMA))
    value = scalar_discounted().value_matrix([[0.0]], certified)
    assert value.contains(np.array([[expected]], dtype=object))


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
def test_discounted_gradient_at_an_unstable_gain_contains_the_exact_derivative(certified):
    # C(k) = (1 + k²) / (1 − γ(a − k)²) with Σ0 = 1; differentiated by sympy in exact rationals
    k = sympy.Symbol("k")
    a, gamma = sympy.Rational(Fraction(SCALAR_A)), sympy.Rational(Fraction(SCALAR_GAMMA))
    cost = (1 + k**2) / (1 - gamma * (a - k) ** 2)
    derivative = sympy.diff(cost, k).subs(k, sympy.Rational(1, 16))
    expected = Fraction(int(derivative.p), int(derivative.q))
    gradient = scalar_discounted().gradient([[1 / 16]], certified)
    assert gradient.contains(np.array([[expected]], dtype=object))


def unstable_gain_in_the_discounted_domain(seed: int, gamma: float) -> tuple[LQR, np.ndarray]:
    """A 3-state problem and a gain with 1 < ρ(A − BK) < 0.98/√γ: A = M + BK for a random M of
    that spectral radius."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((3, 3))
    M *= rng.uniform(1.02, 0.98 / np.sqrt(gamma)) / np.max(np.abs(np.linalg.eigvals(M)))
    B = rng.standard_normal((3, 2))
    K = rng.standard_normal((2, 3))
    problem = LQR(M + B @ K, B, np.eye(3), np.eye(2), gamma=gamma)
    radius = problem.spectral_radius(K)
    assert 1.0 < radius < 1.0 / np.sqrt(gamma)
    return problem, K


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_discounted_value_matrix_at_an_unstable_gain_contains_the_kronecker_reference(
    certified, seed
):
    problem, K = unstable_gain_in_the_discounted_domain(seed, gamma=0.8)
    closed, stage = closed_loop_and_stage_cost(problem, K)
    reference = kronecker_stein(closed, stage, problem.gamma, "value")
    assert problem.value_matrix(K, certified).contains(reference)


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
def test_discounted_state_covariance_at_an_unstable_gain_contains_the_kronecker_reference(
    certified,
):
    problem, K = unstable_gain_in_the_discounted_domain(3, gamma=0.8)
    closed, _ = closed_loop_and_stage_cost(problem, K)
    reference = kronecker_stein(closed, problem.Sigma0, problem.gamma, "covariance")
    assert problem.state_covariance(K, certified).contains(reference)


@pytest.mark.parametrize("precision", TIERS)
def test_gain_outside_the_discounted_domain_names_sqrt_gamma_rho_and_the_requirement(precision):
    problem = LQR([[1.2]], [[1.0]], [[1.0]], [[1.0]], gamma=SCALAR_GAMMA)
    with pytest.raises(NotStabilizingError) as raised:
        problem.cost([[0.0]], precision)
    message = str(raised.value)
    assert "sqrt(gamma) rho(A - BK) = 1.08" in message
    assert "expected sqrt(gamma) rho(A - BK) < 1" in message
    assert raised.value.spectral_radius == pytest.approx(1.2)


def test_certified_stability_is_proved_separately_from_the_discounted_domain():
    """For γ < 1 a gain can be in the domain and not stabilising, or stabilising; the certified
    answers of the two queries are each proved."""
    problem = scalar_discounted()
    certified = "certified"
    assert problem.has_finite_cost([[0.5]], certified) is True
    assert problem.is_stabilizing([[0.5]], certified) is True  # |1.05 - 0.5| = 0.55
    assert problem.is_stabilizing([[-0.5]], certified) is False  # 1.55 > 1
    assert problem.has_finite_cost([[-0.5]], certified) is False  # 0.9 * 1.55 > 1


# --------------------------------------------------------------------------------------------
# The discounted optimum
# --------------------------------------------------------------------------------------------


def scipy_discounted_optimum(A, B, Q, R, gamma):
    root = np.sqrt(gamma)
    X = scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)
    return gamma * np.linalg.solve(R + gamma * B.T @ X @ B, B.T @ X @ A)


def test_dean_discounted_optimum_is_certified_although_it_does_not_stabilise():
    problem = dean_2017(gamma=0.9)
    gain = problem.optimal_gain("certified")
    reference = scipy_discounted_optimum(DEAN_2017_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3), 0.9)
    assert np.max(np.abs(gain.mid - reference)) <= 1e-12
    assert gain.digits >= 50
    assert problem.spectral_radius(gain.mid) > 1.0  # outside "stabilising", inside the domain


def test_dean_discounted_optimal_gradient_contains_zero():
    """∇C(K*) = 0 at the optimum: the certified gradient at the float optimum is within the
    float gain's rounding of 0, and the cost there is finite."""
    problem = dean_2017(gamma=0.9)
    K = problem.optimal_gain()
    gradient = problem.gradient(K, "certified")
    assert np.max(np.abs(gradient.mid)) <= 1e-13
    assert problem.has_finite_cost(K, "certified")


@pytest.mark.parametrize("q", [1.0, 1e-3])
def test_scalar_discounted_optimal_gain_contains_the_closed_form(q):
    """b = r = 1: X solves γX² + (1 − γa² − γq)X − q = 0 (positive root), K* = γaX/(1 + γX).
    With q = 1e-3 the optimum does not stabilise (a − K* > 1) but 0.9 (a − K*) < 1."""
    from flint import arb, ctx

    problem = LQR([[SCALAR_A]], [[1.0]], [[q]], [[1.0]], gamma=SCALAR_GAMMA)
    with ctx.workprec(400):
        a, g, c = arb(SCALAR_A), arb(SCALAR_GAMMA), arb(q)
        linear = 1 - g * a * a - g * c
        X = (-linear + (linear * linear + 4 * g * c).sqrt()) / (2 * g)
        K = g * a * X / (1 + g * X)
        assert problem.optimal_value_matrix("certified").ball[0, 0].overlaps(X)
        assert problem.optimal_gain("certified").ball[0, 0].overlaps(K)
        closed = float(a - K)
    assert 0.9 * closed < 1.0
    if q < 1e-2:
        assert closed > 1.0


# --------------------------------------------------------------------------------------------
# γ = 1 with exploration noise: finite horizons only
# --------------------------------------------------------------------------------------------


def noisy_undiscounted() -> LQR:
    return LQR([[1.5]], [[1.0]], [[1.0]], [[2.0]], Sigma0=[[0.5]], gamma=1.0, noise=0.25)


def exact_noisy_finite_horizon_cost(k: Fraction, horizon: int) -> Fraction:
    """C_N = Σ_{t=0}^{N} [(q + r k²) s_t + σ r], s_0 = Σ0, s_{t+1} = (a − bk)² s_t + σ b²
    (a = 3/2, b = q = 1, r = 2, Σ0 = 1/2, σ = 1/4)."""
    a, r, sigma = Fraction(3, 2), Fraction(2), Fraction(1, 4)
    second_moment, total = Fraction(1, 2), Fraction(0)
    for _ in range(horizon + 1):
        total += (1 + r * k * k) * second_moment + sigma * r
        second_moment = (a - k) ** 2 * second_moment + sigma
    return total


@pytest.mark.parametrize("horizon", [0, 1, 5])
def test_noisy_undiscounted_finite_horizon_cost_contains_the_exact_rational(horizon):
    expected = exact_noisy_finite_horizon_cost(Fraction(1, 2), horizon)
    assert (
        noisy_undiscounted().finite_horizon_cost([[0.5]], horizon, "certified").contains(expected)
    )


def test_noisy_undiscounted_finite_horizon_gradient_contains_the_exact_derivative():
    k = sympy.Symbol("k")
    a, r, sigma = sympy.Rational(3, 2), 2, sympy.Rational(1, 4)
    second_moment, total = sympy.Rational(1, 2), sympy.Integer(0)
    for _ in range(4):  # horizon 3
        total += (1 + r * k**2) * second_moment + sigma * r
        second_moment = (a - k) ** 2 * second_moment + sigma
    derivative = sympy.diff(total, k).subs(k, sympy.Rational(1, 2))
    expected = Fraction(int(derivative.p), int(derivative.q))
    gradient = noisy_undiscounted().finite_horizon_gradient([[0.5]], 3, "certified")
    assert gradient.contains(np.array([[expected]], dtype=object))


@pytest.mark.parametrize(
    "quantity",
    ["cost", "gradient", "value_matrix", "state_covariance", "natural_gradient", "q_matrix"],
)
def test_noisy_undiscounted_infinite_horizon_quantities_are_refused(quantity):
    with pytest.raises(InvalidProblemError, match="use finite_horizon_cost"):
        getattr(noisy_undiscounted(), quantity)([[0.5]])


@pytest.mark.parametrize("quantity", ["optimal_gain", "optimal_value_matrix", "optimal_cost"])
def test_noisy_undiscounted_optimum_is_refused(quantity):
    with pytest.raises(InvalidProblemError, match="infinite cost for every gain"):
        getattr(noisy_undiscounted(), quantity)()


@pytest.mark.parametrize("precision", TIERS)
def test_noisy_undiscounted_cost_is_never_finite(precision):
    assert noisy_undiscounted().has_finite_cost([[0.5]], precision) is False


def test_noisy_undiscounted_stability_is_still_decided():
    assert noisy_undiscounted().is_stabilizing([[1.0]], "certified") is True


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_gain_on_the_discounted_boundary_cannot_be_decided_and_says_so(engine):
    # sqrt(0.25) * 2 = 1 exactly: neither inside nor provably outside
    from pgverify import CertificationError

    problem = LQR([[2.0]], [[1.0]], [[1.0]], [[1.0]], gamma=0.25)
    with pytest.raises(CertificationError, match="could not decide sqrt"):
        problem.has_finite_cost([[0.0]], Certified(engine=engine))


@pytest.mark.parametrize("certified", ENGINES, ids=["arb", "blas"])
def test_discounted_non_normal_unstable_gain_contains_the_kronecker_reference(
    certified, monkeypatch
):
    """ρ(A − BK) = 1.05, coupling 300 (the float64 Lyapunov weight is not accurate enough, so
    the certificate is built at the working precision), γ = 0.81."""
    from tests import reference

    monkeypatch.setattr(reference, "REFERENCE_BITS", 640)
    orthogonal, _ = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))
    triangular = np.diag([1.05, -1.0, 0.5]) + np.triu(np.full((3, 3), 300.0), 1)
    problem = LQR(
        orthogonal @ triangular @ orthogonal.T, np.eye(3), np.eye(3), np.eye(3), gamma=0.81
    )
    K = np.zeros((3, 3))
    closed, stage = closed_loop_and_stage_cost(problem, K)
    reference_value = kronecker_stein(closed, stage, problem.gamma, "value")
    assert problem.value_matrix(K, certified).contains(reference_value)


def test_noisy_undiscounted_domain_query_still_validates_its_arguments():
    with pytest.raises(InvalidProblemError, match="precision must be"):
        noisy_undiscounted().has_finite_cost([[0.5]], "double")
    with pytest.raises(InvalidProblemError, match="K has shape"):
        noisy_undiscounted().has_finite_cost([[0.5, 0.5]])
