"""The certified stabilising solution of the Riccati equation for Q ⪰ 0 (Q = CᵀC, rank
deficient) under detectability, and discounted.

The reference is value iteration, ``X_{j+1} = Q + γAᵀX_jA − γ²AᵀX_jB(R + γBᵀX_jB)⁻¹BᵀX_jA``
from X_0 = 0, in mpmath at 85 digits: a different algorithm from the oracle's policy iteration
(it converges to the stabilising solution when (√γA, B) is stabilisable and (√γA, Q)
detectable; Bertsekas, *Dynamic Programming and Optimal Control*, Vol. I, §4.1)."""

import mpmath
import numpy as np
import pytest
from flint import arb, arb_mat, ctx

from pgverify import LQR, Certified, InvalidProblemError
from pgverify.precision import to_arb

REFERENCE_DIGITS = 85


def value_iteration(problem: LQR) -> tuple[mpmath.matrix, mpmath.matrix]:
    """(X*, K*) by value iteration in mpmath, until successive iterates agree to 1e-70
    relative (linear convergence at the rate γρ(A − BK*)²)."""
    with mpmath.workdps(REFERENCE_DIGITS):
        A, B, Q, R = (
            mpmath.matrix(x.tolist()) for x in (problem.A, problem.B, problem.Q, problem.R)
        )
        g = mpmath.mpf(problem.gamma)
        X = mpmath.zeros(problem.n)
        for _ in range(5000):
            cross = B.T * X * A
            curvature = R + g * B.T * X * B
            following = Q + g * A.T * X * A - g**2 * cross.T * mpmath.inverse(curvature) * cross
            change = mpmath.mnorm(following - X, 1)
            X = following
            if change <= mpmath.mpf(10) ** -70 * mpmath.mnorm(X, 1):
                break
        else:
            raise AssertionError("value iteration did not converge")
        K = g * mpmath.inverse(R + g * B.T * X * B) * (B.T * X * A)
        return X, K


def contains_within(enclosure, reference: mpmath.matrix, slack: float = 1e-66) -> bool:
    """Every entry of the 85-digit reference lies in the enclosure widened by ``slack`` (the
    reference's own error is about 1e-70 relative; the enclosures' radii are about 1e-62)."""
    rows, cols = enclosure.shape
    with ctx.workprec(400):
        return all(
            enclosure.ball[i, j].overlaps(to_arb(reference[i, j]) + arb(0, slack))
            for i in range(rows)
            for j in range(cols)
        )


# the unstable mode 1.1 (eigenvector e1) is seen by Q = CᵀC with C = [1, 0]
SINGULAR_Q_CASE = dict(
    A=np.array([[1.1, 0.2], [0.0, 0.9]]),
    B=np.array([[1.0], [0.5]]),
    Q=np.diag([1.0, 0.0]),
    R=np.eye(1),
)


@pytest.mark.parametrize(("engine", "gamma"), [("arb", 1.0), ("blas", 0.9)])
def test_certified_optimum_with_rank_one_Q_contains_the_value_iteration_limit(gamma, engine):
    problem = LQR(**SINGULAR_Q_CASE, gamma=gamma)
    X, K = value_iteration(problem)
    certified = Certified(engine=engine)
    value = problem.optimal_value_matrix(certified)
    gain = problem.optimal_gain(certified)
    assert contains_within(value, X)
    assert contains_within(gain, K)
    assert gain.digits >= 50


def rank_deficient_problem(seed: int, rank: int, gamma: float) -> LQR:
    """n = 3, m = 2, Q = CᵀC with C of the given rank; A with one unstable mode."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((3, 3))
    A *= 1.2 / np.max(np.abs(np.linalg.eigvals(A)))
    C = rng.standard_normal((rank, 3))
    return LQR(A, rng.standard_normal((3, 2)), C.T @ C, np.eye(2), gamma=gamma)


@pytest.mark.parametrize(
    ("seed", "rank", "gamma"), [(0, 1, 1.0), (2, 2, 0.95), (3, 1, 0.95), (3, 2, 1.0)]
)
def test_certified_optimum_with_rank_deficient_Q_contains_the_value_iteration_limit(
    seed, rank, gamma
):
    problem = rank_deficient_problem(seed, rank, gamma)
    X, _ = value_iteration(problem)
    assert contains_within(problem.optimal_value_matrix("certified"), X)


def test_zero_Q_with_a_stable_A_has_the_zero_optimum():
    """Q = 0, ρ(A) < 1: X* = 0 and K* = 0 exactly (the interval's lower end is not PSD here)."""
    problem = LQR(np.array([[0.5, 0.3], [0.0, -0.4]]), np.eye(2), np.zeros((2, 2)), np.eye(2))
    zero = np.zeros((2, 2))
    assert problem.optimal_value_matrix("certified").contains(zero)
    assert problem.optimal_gain("certified").contains(zero)


def test_certified_optimal_gain_stabilises_and_the_dare_residual_contains_zero():
    problem = LQR(**SINGULAR_Q_CASE)
    value = problem.optimal_value_matrix("certified")
    with ctx.workprec(400):
        A, B, Q, R = (arb_mat(x.tolist()) for x in (problem.A, problem.B, problem.Q, problem.R))
        X = value.ball
        cross = B.transpose() * X * A
        residual = (
            Q
            + A.transpose() * X * A
            - cross.transpose() * (R + B.transpose() * X * B).solve(cross)
            - X
        )
    assert residual.contains(arb_mat(2, 2))
    assert problem.spectral_radius(problem.optimal_gain("certified").mid) < 1


@pytest.mark.parametrize("precision", ["float", 30, "certified"])
def test_zero_Q_with_an_unstable_mode_is_not_detectable(precision):
    problem = LQR(np.array([[1.5, 0.0], [0.0, 0.5]]), np.eye(2), np.zeros((2, 2)), np.eye(2))
    with pytest.raises(InvalidProblemError, match=r"not detectable: the mode with eigenvalue 1.5"):
        problem.optimal_gain(precision)


def test_discount_makes_an_unseen_mode_harmless():
    """The unseen mode 1.05 is inside the discounted domain for γ = 0.81 (0.9 · 1.05 < 1):
    detectable there, and the optimum is certified."""
    A = np.array([[1.05, 0.0], [0.0, 1.3]])
    Q = np.diag([0.0, 1.0])
    with pytest.raises(InvalidProblemError, match="not detectable"):
        LQR(A, np.eye(2), Q, np.eye(2)).optimal_gain()
    problem = LQR(A, np.eye(2), Q, np.eye(2), gamma=0.81)
    X, _ = value_iteration(problem)
    assert contains_within(problem.optimal_value_matrix("certified"), X)


def test_rank_tests_are_scale_invariant():
    """B and Q scaled by 1e-150 do not look rank deficient (stabilisable and detectable)."""
    from pgverify.lqr.riccati import check_detectable, check_stabilisable

    A = np.array([[1.2, 0.1], [0.0, 0.7]])
    check_stabilisable(A, 1e-150 * np.eye(2))
    check_detectable(A, 1e-150 * np.eye(2))
    with pytest.raises(InvalidProblemError, match="not detectable"):
        check_detectable(A, 1e-150 * np.diag([0.0, 1.0]))


def test_blas_engine_optimum_at_n_24_agrees_with_scipy_and_carries_50_digits():
    """n = 24 (the automatic choice is the BLAS engine): K*, X* and C(K*) against scipy's
    float solution (float-level agreement is all scipy offers)."""
    import scipy.linalg

    from pgverify.lqr.examples import random_stabilisable_system

    problem, _ = random_stabilisable_system(24, 12, seed=1)
    X = scipy.linalg.solve_discrete_are(problem.A, problem.B, problem.Q, problem.R)
    K = np.linalg.solve(problem.R + problem.B.T @ X @ problem.B, problem.B.T @ X @ problem.A)
    gain = problem.optimal_gain("certified")
    value = problem.optimal_value_matrix("certified")
    cost = problem.optimal_cost("certified")
    assert np.max(np.abs(gain.mid - K)) <= 1e-12 * np.max(np.abs(K))
    assert np.max(np.abs(value.mid - X)) <= 1e-12 * np.max(np.abs(X))
    assert abs(cost.mid - np.trace(X)) <= 1e-12 * np.trace(X)
    assert min(gain.digits, value.digits, cost.digits) >= 50


@pytest.mark.parametrize("gamma", [1.0, 0.9])
def test_both_engines_give_overlapping_optima(gamma):
    from pgverify.lqr.examples import random_stabilisable_system

    base, _ = random_stabilisable_system(4, 2, seed=3)
    problem = LQR(base.A, base.B, base.Q, base.R, gamma=gamma)
    for quantity in ("optimal_gain", "optimal_value_matrix", "optimal_cost"):
        arb_engine = getattr(problem, quantity)(Certified(engine="arb"))
        blas_engine = getattr(problem, quantity)(Certified(engine="blas"))
        assert arb_engine.overlaps(blas_engine)


def test_the_optimum_is_computed_once_per_precision(monkeypatch):
    from pgverify.lqr import riccati

    calls = []
    solve = riccati.optimal_solution
    monkeypatch.setattr(riccati, "optimal_solution", lambda *a: calls.append(1) or solve(*a))
    problem = LQR(**SINGULAR_Q_CASE)
    problem.optimal_gain("certified")
    problem.optimal_value_matrix("certified")
    problem.optimal_cost("certified")
    assert len(calls) == 1
    problem.optimal_gain(Certified(bits=300))
    assert len(calls) == 2


@pytest.mark.parametrize("bits", [128, 400])
def test_certified_optimum_precision_follows_the_bits(bits):
    problem = LQR(**SINGULAR_Q_CASE)
    gain = problem.optimal_gain(Certified(bits=bits))
    assert gain.digits >= bits * 0.30103 - 8


@pytest.mark.parametrize("exponent", [-1000, -900, 900])
@pytest.mark.parametrize("precision", ["float", 30, "certified"])
def test_optimum_is_exactly_covariant_under_extreme_weight_scales(exponent, precision):
    """Q, R → 2^e Q, 2^e R leaves K* unchanged and multiplies X* by 2^e (scipy alone fails
    near 1e±270); the certified enclosures of the scaled problem contain the scaled exact
    values, here checked against the enclosures of the unscaled problem."""
    scale = 2.0**exponent
    problem = LQR(**SINGULAR_Q_CASE)
    weights = dict(SINGULAR_Q_CASE, Q=scale * SINGULAR_Q_CASE["Q"], R=scale * SINGULAR_Q_CASE["R"])
    scaled = LQR(**weights)
    if precision == "certified":
        with ctx.workprec(400):
            assert scaled.optimal_gain(precision).ball.overlaps(
                problem.optimal_gain(precision).ball
            )
            reference = problem.optimal_value_matrix(precision).ball * arb(2) ** exponent
            assert scaled.optimal_value_matrix(precision).ball.overlaps(reference)
        return
    gain = np.array(scaled.optimal_gain(precision).tolist(), dtype=float)
    value = np.array(scaled.optimal_value_matrix(precision).tolist(), dtype=float)
    reference_value = np.array(problem.optimal_value_matrix(precision).tolist(), dtype=float)
    assert np.allclose(gain, np.array(problem.optimal_gain(precision).tolist(), dtype=float))
    assert np.allclose(np.ldexp(value, -exponent), reference_value)


def test_an_exactly_solved_riccati_equation_gets_an_exact_enclosure():
    """A = 0, B = 0: X* = Q and K* = 0 exactly; the refined point solves the equation exactly,
    so the order interval has width 0 (δ = 0) and the enclosures are points."""
    problem = LQR(np.zeros((2, 2)), np.zeros((2, 1)), np.diag([0.25, 0.5]), np.eye(1))
    value = problem.optimal_value_matrix("certified")
    gain = problem.optimal_gain("certified")
    assert value.contains(np.diag([0.25, 0.5])) and value.max_radius == 0.0
    assert gain.contains(np.zeros((1, 2))) and gain.max_radius == 0.0


@pytest.mark.parametrize("gamma", [1.0, 0.9])
@pytest.mark.parametrize("seed", [0, 1])
def test_doubling_algorithm_agrees_with_scipy(seed, gamma):
    import scipy.linalg

    from pgverify.lqr.examples import random_stabilisable_system
    from pgverify.lqr.riccati import doubling_riccati

    base, _ = random_stabilisable_system(12, 5, seed)
    problem = LQR(base.A, base.B, base.Q, base.R, gamma=gamma)
    root = np.sqrt(gamma)
    expected = scipy.linalg.solve_discrete_are(root * base.A, root * base.B, base.Q, base.R)
    assert np.allclose(doubling_riccati(problem), expected, rtol=1e-11, atol=0)


def test_doubling_algorithm_gives_up_without_a_stabilising_solution():
    """A rotation that B = 0 cannot reach: H_k grows like 2^k and never settles, so None (and
    the optimum names the unreachable mode)."""
    from pgverify.lqr.riccati import doubling_riccati

    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    problem = LQR(rotation, np.zeros((2, 1)), np.eye(2), np.eye(1))
    assert doubling_riccati(problem) is None
    with pytest.raises(InvalidProblemError, match="not stabilisable"):
        problem.optimal_gain("certified")
