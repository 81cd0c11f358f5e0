"""Rigorous certificates: float64 products with a-priori error bounds, and the two Lyapunov
certificates of ρ(A) < 1 (float64 with error bounds; Arb balls)."""

from fractions import Fraction

import numpy as np
import pytest
from flint import arb, arb_mat, ctx
from hypothesis import given
from hypothesis import strategies as st

from pgverify import CertificationError
from pgverify.lqr.certify import (
    certify_stability,
    certify_stability_float,
    product_enclosure,
)
from pgverify.lqr.stein import SteinSolver

EXACT_BITS = 3000


def exact_product(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """The exact product, rounded to float only after subtracting the float64 product."""
    with ctx.workprec(EXACT_BITS):
        product = arb_mat(X.tolist()) * arb_mat(Y.tolist())
        return product


def error_of(middle: np.ndarray, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    with ctx.workprec(EXACT_BITS):
        difference = exact_product(X, Y) - arb_mat(middle.tolist())
        rows, cols = middle.shape
        return np.array([[abs(float(difference[i, j])) for j in range(cols)] for i in range(rows)])


def matrix_with_spectral_radius(n: int, radius: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    return radius * M / np.max(np.abs(np.linalg.eigvals(M)))


@given(st.integers(0, 2**32 - 1), st.integers(-30, 30))
def test_product_enclosure_bounds_the_rounding_error(seed, exponent):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 40)) * 2.0**exponent
    Y = rng.standard_normal((40, 20)) * 2.0 ** rng.integers(-20, 20, (40, 20))
    middle, bound = product_enclosure(X, Y)
    assert np.all(error_of(middle, X, Y) <= bound)


def test_product_enclosure_is_not_vacuous():
    """The float64 product alone is not exact (so a zero bound would be wrong), and the bound
    is within a small factor of γ_k |X||Y|."""
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((50, 50)), rng.standard_normal((50, 50))
    middle, bound = product_enclosure(X, Y)
    assert np.max(error_of(middle, X, Y)) > 0
    assert np.max(bound) < 1e3 * 50 * 2.0**-53 * np.max(np.abs(X) @ np.abs(Y))


def test_product_enclosure_carries_input_errors():
    X, Y = np.eye(3), np.ones((3, 3))
    X_error = np.full((3, 3), 1e-3)
    _, bound = product_enclosure(X, Y, X_error=X_error)
    assert np.all(bound >= 3e-3)


@pytest.mark.parametrize("radius", [0.3, 0.9, 0.99])
def test_float_certificate_proves_stable_matrices(radius):
    A = matrix_with_spectral_radius(12, radius, seed=7)
    certificate = certify_stability_float(A, 0.0, SteinSolver(A))
    assert certificate.margin > 0
    assert radius <= certificate.spectral_radius_upper < 1


@pytest.mark.parametrize("radius", [1.0001, 1.3])
def test_float_certificate_refuses_unstable_matrices(radius):
    A = matrix_with_spectral_radius(12, radius, seed=8)
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.0, SteinSolver(A))


def test_float_certificate_refuses_when_the_uncertainty_reaches_an_unstable_matrix():
    """ρ(A) = 0.95, but the ball ‖A' − A‖_F ≤ 0.1 holds matrices with ρ > 1."""
    A = matrix_with_spectral_radius(6, 0.95, seed=9)
    assert certify_stability_float(A, 0.0, SteinSolver(A)).margin > 0
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.1, SteinSolver(A))


def test_float_and_ball_certificates_agree():
    A = matrix_with_spectral_radius(10, 0.8, seed=10)
    fast = certify_stability_float(A, 0.0, SteinSolver(A))
    with ctx.workprec(212):
        ball = certify_stability(arb_mat(A.tolist()), A)
    assert fast.margin == pytest.approx(ball.margin, rel=1e-6)
    assert fast.condition == pytest.approx(ball.condition, rel=1e-3)


# --------------------------------------------------------------------------------------------
# Discounted certificates, weights at the working precision, the κ-free Stein bound, extremes
# --------------------------------------------------------------------------------------------


def bidiagonal(n: int, diagonal: float, superdiagonal: float) -> np.ndarray:
    return np.diag(np.full(n, diagonal)) + np.diag(np.full(n - 1, superdiagonal), 1)


def exact_bidiagonal_lyapunov(n: int, a: float, s: float) -> list[list[Fraction]]:
    """The exact solution of ``P = I + AᵀPA`` for the upper-bidiagonal A (diagonal a,
    superdiagonal s): ``(AᵀPA)_ij = a²P_ij + as(P_{i,j−1} + P_{i−1,j}) + s²P_{i−1,j−1}``, so
    ``P_ij (1 − a²) = δ_ij + as(P_{i,j−1} + P_{i−1,j}) + s²P_{i−1,j−1}`` — a recursion in
    Fractions (the float64 a and s are exact dyadic rationals)."""
    a, s = Fraction(a), Fraction(s)
    P = [[Fraction(0)] * n for _ in range(n)]

    def entry(i: int, j: int) -> Fraction:
        return P[i][j] if i >= 0 and j >= 0 else Fraction(0)

    for i in range(n):
        for j in range(n):
            rest = a * s * (entry(i, j - 1) + entry(i - 1, j)) + s * s * entry(i - 1, j - 1)
            P[i][j] = ((1 if i == j else 0) + rest) / (1 - a * a)
    return P


def rotated_non_normal(seed: int = 0) -> np.ndarray:
    """A 4×4 matrix with ρ = 0.9 and coupling 30, rotated by a seeded orthogonal matrix (so
    that the float64 Schur/eigen solvers see a dense, strongly non-normal matrix): ‖P‖ ≈ 1e15."""
    orthogonal, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((4, 4)))
    return orthogonal @ bidiagonal(4, 0.9, 30.0) @ orthogonal.T


def test_discounted_certificate_proves_an_unstable_matrix_inside_the_discounted_domain():
    A = matrix_with_spectral_radius(8, 1.05, seed=11)  # sqrt(0.81) * 1.05 = 0.945
    certificate = certify_stability_float(A, 0.0, SteinSolver(A, 0.81), gamma=0.81)
    assert certificate.margin > 0
    assert 1.05 <= certificate.spectral_radius_upper < 1 / 0.9


def test_discounted_certificate_refuses_a_matrix_beyond_the_discounted_domain():
    A = matrix_with_spectral_radius(8, 1.15, seed=11)  # 0.9 * 1.15 = 1.035
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.0, SteinSolver(A, 0.81), gamma=0.81)
    with ctx.workprec(212), pytest.raises(CertificationError):
        certify_stability(arb_mat(A.tolist()), A, gamma=0.81)


def test_float_weight_does_not_certify_the_rotated_non_normal_matrix():
    A = rotated_non_normal()
    with pytest.raises(CertificationError):
        certify_stability(arb_mat(A.tolist()), A, bits=96)


def test_weight_at_the_working_precision_certifies_the_rotated_non_normal_matrix():
    A = rotated_non_normal()
    certificate = certify_stability(arb_mat(A.tolist()), A, bits=128)
    assert certificate.margin > 0


def test_more_bits_certify_a_more_non_normal_matrix():
    """n = 12, ρ = 0.95, coupling 10 (‖P‖ ≈ 1e50): refused at 160 bits, proved at 212."""
    A = bidiagonal(12, 0.95, 10.0)
    with pytest.raises(CertificationError, match="more bits may prove it"):
        certify_stability(arb_mat(A.tolist()), A, bits=160)
    assert certify_stability(arb_mat(A.tolist()), A, bits=212).margin > 0


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_rotated_non_normal_value_matrix_contains_the_kronecker_reference(engine, monkeypatch):
    from pgverify import LQR, Certified
    from tests import reference
    from tests.reference import closed_loop_and_stage_cost, kronecker_stein

    # ‖P‖ ≈ 1e15: the Kronecker solve needs more than its default 320 bits to be narrower than
    # the enclosure it is checked against
    monkeypatch.setattr(reference, "REFERENCE_BITS", 640)

    A = rotated_non_normal()
    problem = LQR(A, np.eye(4), np.eye(4), np.eye(4))
    K = np.zeros((4, 4))
    closed, stage = closed_loop_and_stage_cost(problem, K)
    enclosure = problem.value_matrix(K, Certified(engine=engine))
    assert enclosure.contains(kronecker_stein(closed, stage, 1.0, "value"))
    assert enclosure.digits >= 40


@pytest.mark.parametrize("engine", ["arb", "blas"])
def test_non_normal_value_matrix_contains_the_exact_rational(engine):
    from pgverify import LQR, Certified

    A = bidiagonal(12, 0.95, 10.0)
    problem = LQR(A, np.eye(12), np.eye(12), np.eye(12))
    enclosure = problem.value_matrix(np.zeros((12, 12)), Certified(bits=300, engine=engine))
    exact = np.array(exact_bidiagonal_lyapunov(12, 0.95, 10.0), dtype=object)
    assert enclosure.contains(exact)
    # 65 digits on Arb; the BLAS engine's Stein refinement reaches fewer here (12 at 300 bits)
    assert enclosure.digits >= (40 if engine == "arb" else 5)


@pytest.mark.slow
def test_n50_non_normal_value_matrix_with_norm_1e40_contains_the_exact_rational():
    """Issue #8's hard case: upper-bidiagonal, ρ = 0.95, ‖P_K‖ ≈ 5e40, n = 50."""
    from pgverify import LQR, Certified

    A = bidiagonal(50, 0.95, 0.13)
    problem = LQR(A, np.eye(50), np.eye(50), np.eye(50))
    enclosure = problem.value_matrix(np.zeros((50, 50)), Certified(engine="arb"))
    exact = np.array(exact_bidiagonal_lyapunov(50, 0.95, 0.13), dtype=object)
    assert enclosure.contains(exact)
    assert enclosure.digits >= 20


def lyapunov_weight_reference(A: np.ndarray, gamma: float, form: str) -> arb_mat:
    from tests.reference import kronecker_stein

    return kronecker_stein(A, np.eye(len(A)), gamma, form)


@pytest.mark.parametrize("form", ["value", "covariance"])
@pytest.mark.parametrize("gamma", [1.0, 0.81])
@given(seed=st.integers(0, 2**32 - 1), coupling=st.sampled_from([0.0, 3.0, 30.0]))
def test_stein_error_bound_bounds_the_exact_error(form, gamma, seed, coupling):
    """E = Res + γ op(E) solved exactly (320-bit Kronecker), for normal and non-normal A:
    ‖E‖_F never exceeds the certificate's bound for ‖Res‖_F."""
    from tests.reference import kronecker_stein

    rng = np.random.default_rng(seed)
    orthogonal, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    triangular = np.diag(rng.uniform(-0.9, 0.9, 3)) + np.triu(np.full((3, 3), coupling), 1)
    A = orthogonal @ triangular @ orthogonal.T
    residual = rng.standard_normal((3, 3))
    with ctx.workprec(212):
        certificate = certify_stability(arb_mat(A.tolist()), A, gamma=gamma)
        error = kronecker_stein(A, residual, gamma, form)
        with ctx.workprec(320):
            error_norm = sum(error[i, j] ** 2 for i in range(3) for j in range(3)).sqrt()
            residual_norm = arb_mat(residual.tolist())
            residual_norm = sum(x**2 for x in residual_norm.entries()).sqrt()
        bound = certificate.stein_error_bound(residual_norm, gamma)
    assert error_norm < bound


def test_stein_error_bound_refuses_a_larger_discount_than_certified():
    A = matrix_with_spectral_radius(4, 0.5, seed=3)
    certificate = certify_stability_float(A, 0.0, SteinSolver(A, 0.5), gamma=0.5)
    with pytest.raises(ValueError, match="discount"):
        certificate.stein_error_bound(arb(1), 0.9)


@pytest.mark.filterwarnings("error")
def test_float_certificate_of_a_tiny_closed_loop_needs_no_special_care():
    A = 1e-270 * matrix_with_spectral_radius(5, 0.5, seed=4)
    certificate = certify_stability_float(A, 0.0, SteinSolver(A))
    assert certificate.margin > 0.5


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("coupling", [1e155, 1e270])
def test_float_certificate_refuses_an_overflowing_weight_with_a_certification_error(coupling):
    # nilpotent, so stable: but W = I + AᵀWA has the entry 1 + coupling² beyond the float range
    A = np.array([[0.0, coupling], [0.0, 0.0]])
    with np.errstate(all="ignore"):
        solver = SteinSolver(A)
    with pytest.raises(CertificationError):
        certify_stability_float(A, 0.0, solver)


def test_ball_certificate_proves_a_weight_beyond_the_float_range():
    A = np.array([[0.0, 1e200], [0.0, 0.5]])  # W_22 ≈ 1e400: W − AᵀWA needs ~1500 bits
    certificate = certify_stability(arb_mat(A.tolist()), A, bits=1500)
    assert certificate.weight_upper > arb(10) ** 399
    assert certificate.spectral_radius_upper <= 1.0


@pytest.mark.parametrize("magnitude", [1e-300, 1e-200, 1e-160, 1.0, 1e200, 1e300])
def test_frobenius_bound_of_a_float_matrix_is_an_upper_bound_at_every_magnitude(magnitude):
    from pgverify.lqr.certify import frobenius_upper_of_float

    rng = np.random.default_rng(6)
    matrix = np.abs(rng.standard_normal((7, 5))) * magnitude
    with ctx.workprec(200):
        exact = sum(arb(x) ** 2 for x in matrix.ravel()).sqrt()
        bound = frobenius_upper_of_float(matrix)
        assert exact < bound
        assert bound < exact * (1 + arb(2) ** -40)


def non_normal_matrix(seed: int, coupling: float, radius: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    orthogonal, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    triangular = np.diag(rng.uniform(-radius, radius, 3)) + np.triu(np.full((3, 3), coupling), 1)
    return orthogonal @ triangular @ orthogonal.T


def mpmath_symmetric_eigenvalues(matrix: arb_mat) -> list:
    import mpmath

    with mpmath.workdps(120):
        rows = [
            [mpmath.mpf(entry.mid().str(130, radius=False)) for entry in row]
            for row in matrix.tolist()
        ]
        return sorted(mpmath.eigsy(mpmath.matrix(rows), eigvals_only=True))


@pytest.mark.parametrize("gamma", [1.0, 0.81])
@pytest.mark.parametrize("kind", ["float", "ball"])
@given(seed=st.integers(0, 2**32 - 1), coupling=st.sampled_from([0.0, 3.0, 30.0]))
def test_certificate_bounds_hold_for_its_own_weight(gamma, kind, seed, coupling):
    """An independent check (mpmath eigenvalues at 120 digits) of the inequalities the
    certificate claims for its weight W: λ(W − γAᵀWA) ≥ d, w_min ≤ λ(W) ≤ w_max, tr W ≤ w_tr.
    The matrices are unstable for γ = 1 but in the discounted domain for γ = 0.81."""
    radius = 0.9 if gamma == 1.0 else 1.05
    A = non_normal_matrix(seed, coupling, radius)
    with ctx.workprec(212):
        if kind == "float":
            certificate = certify_stability_float(A, 0.0, SteinSolver(A, gamma), gamma=gamma)
        else:
            certificate = certify_stability(arb_mat(A.tolist()), A, gamma=gamma)
    W = certificate.weight_ball()
    with ctx.workprec(2000):  # exact: W and A are exact, the products need < 2000 bits
        A_ball = arb_mat(A.tolist())
        decrease = W - A_ball.transpose() * W * A_ball * arb(gamma)
        trace = W.trace()
    assert mpmath_symmetric_eigenvalues(decrease)[0] >= certificate.decrease.upper()
    weight_eigenvalues = mpmath_symmetric_eigenvalues(W)
    assert weight_eigenvalues[0] >= certificate.weight_lower.upper()
    assert weight_eigenvalues[-1] <= certificate.weight_upper.lower()
    assert trace <= certificate.weight_trace


def test_stein_error_bound_is_the_documented_formula():
    """‖Res‖ · min(κ / (1 − (γ'/γ)(1 − c)), w_tr / d), c = d / w_max, κ = w_max / w_min, for
    bounds where each branch is the smaller one in turn (exact rationals)."""
    from pgverify.lqr.certify import StabilityCertificate

    def expected(d, w_min, w_max, w_trace, gamma, certified_gamma, residual):
        c = d / w_max
        geometric = (w_max / w_min) / (1 - (gamma / certified_gamma) * (1 - c))
        return residual * min(geometric, w_trace / d)

    cases = [
        (Fraction(1, 2), Fraction(1), Fraction(4), Fraction(12), 1.0, 1.0, Fraction(3)),
        (Fraction(1, 2), Fraction(1), Fraction(4), Fraction(5), 0.5, 1.0, Fraction(3)),
        (Fraction(1, 2), Fraction(1), Fraction(1000), Fraction(1001), 0.75, 0.75, Fraction(1)),
    ]
    for d, w_min, w_max, w_trace, gamma, certified_gamma, residual in cases:
        certificate = StabilityCertificate(
            gamma=certified_gamma,
            decrease=arb(float(d)),
            weight_lower=arb(float(w_min)),
            weight_upper=arb(float(w_max)),
            weight_trace=arb(float(w_trace)),
            weight=np.eye(1),
        )
        bound = certificate.stein_error_bound(arb(float(residual)), gamma)
        value = expected(
            d, w_min, w_max, w_trace, Fraction(gamma), Fraction(certified_gamma), residual
        )
        with ctx.workprec(200):
            exact = arb(value.numerator) / value.denominator
            assert exact <= bound <= exact * (1 + arb(2) ** -60)
