"""TRPO's machinery (pgverify.trpo) against independent references: exact rational solves
(python-flint), score outer products averaged with exact Gaussian moments (sympy), numerical
quadrature (scipy), high-precision finite differences (mpmath) and the LQR closed forms."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.integrate
import sympy
from flint import arb, ctx, fmpq, fmpq_mat
from hypothesis import given, settings
from hypothesis import strategies as st

from pgverify.mdp import evaluate, softmax_policy
from pgverify.mdp.trpo import softmax_fisher
from pgverify.strategies import (
    finite_mdps,
    lqr_problems_with_gains,
    softmax_logits,
    tabular_policies,
)
from pgverify.symbolic.matrices import standard_gaussian_expectation
from pgverify.trpo import (
    backtracking_line_search,
    conjugate_gradient,
    conjugate_gradient_run,
    float_rounding_allowance,
    gaussian_kl,
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product,
    linear_gaussian_fisher_vector_product_from_moment,
    lqr_natural_gradient_three_ways,
    maximal_step,
    maximal_step_parts,
    residual_bound,
    softmax_fisher_product,
    softmax_fisher_vector_product,
    softmax_natural_gradient_three_ways,
    two_layer_gaussian_fisher_vector_product,
)

# ------------------------------------------------------------------------------------------------
# strategies


def small_ints(size, bound=4):
    return st.lists(st.integers(-bound, bound), min_size=size, max_size=size)


@st.composite
def spd_systems(draw, dims=st.integers(1, 5)):
    """(A, b): A = MᵀM + I with small integer M (exactly SPD), b a nonzero integer vector."""
    d = draw(dims)
    M = np.array(draw(small_ints(d * d)), dtype=object).reshape(d, d)
    A = M.T @ M + np.eye(d, dtype=int).astype(object)
    b = draw(small_ints(d).filter(lambda v: any(v)))
    A = np.vectorize(Fraction, otypes=[object])(A)
    return A, np.array([Fraction(v) for v in b], dtype=object)


def exact_solve(A, b):
    d = len(b)
    system = fmpq_mat(d, d, [fmpq(e.numerator, e.denominator) for e in A.flat])
    column = fmpq_mat(d, 1, [fmpq(e.numerator, e.denominator) for e in b])
    x = system.solve(column)
    return [Fraction(int(x[i, 0].p), int(x[i, 0].q)) for i in range(d)]


def mpf(value):
    """A Fraction (or number) as an mpf at the current precision."""
    if isinstance(value, Fraction):
        return mpmath.mpf(value.numerator) / value.denominator
    return mpmath.mpf(value)


def to_fraction(value):
    """The exact rational value of a float or an mpf (both are dyadic)."""
    if isinstance(value, mpmath.mpf):
        mantissa, exponent = value.man_exp  # man_exp drops the sign
        magnitude = Fraction(int(mantissa)) * Fraction(2) ** int(exponent)
        return -magnitude if value < 0 else magnitude
    return Fraction(value)


def exact_residual_norm(A, b, x):
    """‖b − A x‖₂ / ‖b‖₂ with x converted exactly (rounded once at the end)."""
    xs = [to_fraction(v) for v in x]
    r = [b[i] - sum(A[i][j] * xs[j] for j in range(len(xs))) for i in range(len(b))]
    return float(np.sqrt(float(sum(v * v for v in r)) / float(sum(v * v for v in b))))


def product(A):
    return lambda p: A @ p


# ------------------------------------------------------------------------------------------------
# conjugate gradient


@given(spd_systems())
def test_exact_cg_solves_an_spd_system_in_at_most_dimension_steps(case):
    A, b = case
    run = conjugate_gradient_run(product(A), b, len(b), precision="exact")
    assert run.residual_norms_squared[-1] == 0
    assert run.stopped == "tolerance" and run.steps <= len(b)
    assert list(run.solution) == exact_solve(A, b)


@given(st.lists(st.sampled_from([1, 2, 5, 9]), min_size=1, max_size=7), st.data())
def test_exact_cg_terminates_within_the_number_of_distinct_eigenvalues(eigenvalues, data):
    d = len(eigenvalues)
    b = data.draw(small_ints(d).filter(lambda v: all(v)))
    # a rational orthogonal similarity (a Householder reflection) keeps the spectrum
    u = np.array([Fraction(v) for v in data.draw(small_ints(d).filter(any))], dtype=object)
    H = np.eye(d, dtype=int).astype(object) - np.outer(u, u) * Fraction(2) / (u @ u)
    A = H @ np.diag([Fraction(e) for e in eigenvalues]) @ H
    run = conjugate_gradient_run(product(A), np.array(b, dtype=object), d, precision="exact")
    assert run.stopped == "tolerance"
    assert run.steps <= len(set(eigenvalues))


@given(spd_systems(), st.sampled_from([Fraction(1, 10), Fraction(1), Fraction(7, 2)]))
def test_damped_cg_solves_the_shifted_system_exactly(case, damping):
    A, b = case
    x = conjugate_gradient(product(A), b, len(b), damping=damping, precision="exact")
    shifted = A + np.diag([damping] * len(b))
    assert list(x) == exact_solve(shifted, b)


@given(spd_systems())
def test_high_precision_cg_reaches_the_exact_solution_in_dimension_steps(case):
    A, b = case
    x = conjugate_gradient(product(A), b, len(b), precision=50)
    exact = exact_solve(A, b)
    scale = max(abs(v) for v in exact)
    assert all(abs(to_fraction(a) - e) <= Fraction(1, 10**40) * scale for a, e in zip(x, exact))


def condition_number(A):
    with mpmath.workdps(40):
        eigenvalues = mpmath.eigsy(mpmath.matrix([[mpf(e) for e in r] for r in A]))[0]
        values = [eigenvalues[i] for i in range(len(A))]
        return float(max(values) / min(values))


@given(spd_systems(st.integers(2, 5)))
def test_high_precision_cg_residual_obeys_the_condition_number_bound(case):
    A, b = case
    kappa = condition_number(A)
    for k in range(len(b) + 1):
        x = conjugate_gradient(product(A), b, k, precision=40)
        assert exact_residual_norm(A, b, x) <= residual_bound(kappa, k) * (1 + 1e-12) + 1e-30


@st.composite
def conditioned_float_systems(draw):
    """(A, b, κ): A = Q diag(λ) Qᵀ in float64 with λ spread over [1, κ] (Q orthogonal)."""
    d = draw(st.integers(2, 30))
    kappa = draw(st.sampled_from([1.5, 10.0, 1e3, 1e6]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spectrum = np.geomspace(1.0, kappa, d)
    A = (Q * spectrum) @ Q.T
    A = (A + A.T) / 2
    return A, rng.standard_normal(d), d


def exact_condition(A):
    eigenvalues = np.linalg.eigvalsh(A)
    return float(eigenvalues[-1] / eigenvalues[0])


@given(conditioned_float_systems(), st.integers(0, 40))
def test_float_cg_residual_stays_within_the_bound_plus_the_rounding_allowance(case, k):
    A, b, d = case
    kappa = exact_condition(A) * (1 + 1e-6)  # float eigenvalues: a hair of slack on κ
    x = conjugate_gradient(product(A), b, k)
    rows = [[Fraction(v) for v in row] for row in A]
    residual = exact_residual_norm(rows, [Fraction(v) for v in b], x)
    assert residual <= residual_bound(kappa, k) + float_rounding_allowance(kappa, k, d)


@given(conditioned_float_systems(), st.sampled_from([1e-2, 1e-6, 1e-10]))
def test_float_cg_stops_at_the_first_residual_below_tolerance(case, tolerance):
    A, b, d = case
    run = conjugate_gradient_run(product(A), b, 10 * d, tolerance=tolerance)
    norms = np.sqrt(run.residual_norms_squared)
    if run.stopped == "tolerance":
        assert norms[-1] <= tolerance
    assert all(norm > tolerance for norm in norms[:-1])


# ------------------------------------------------------------------------------------------------
# Fisher-vector products


@st.composite
def linear_policy_cases(draw):
    n, m, samples = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    K = np.array(draw(small_ints(m * n)), dtype=object).reshape(m, n)
    states = np.array(
        [Fraction(v, 4) for v in draw(small_ints(samples * n, 8))], dtype=object
    ).reshape(samples, n)
    sigma = draw(st.sampled_from([Fraction(1, 4), Fraction(1), Fraction(3)]))
    v = np.array([Fraction(x, 2) for x in draw(small_ints(m * n))], dtype=object)
    return K, sigma, states, v


def column_major(matrix):
    return [matrix[i, j] for j in range(matrix.cols) for i in range(matrix.rows)]


@given(linear_policy_cases())
def test_linear_fisher_vector_product_equals_the_explicit_kronecker_fisher(case):
    K, sigma, states, v = case
    m = K.shape[0]
    S = sum(np.outer(x, x) for x in states) / len(states)
    explicit = np.kron(S, np.eye(m, dtype=int).astype(object)) / sigma  # σ⁻¹ (S ⊗ I_m)
    fvp = linear_gaussian_fisher_vector_product(K, sigma, states, v, precision="exact")
    assert list(fvp) == list(explicit @ v)


@given(linear_policy_cases())
@settings(max_examples=8)
def test_linear_fisher_is_the_expected_outer_product_of_scores(case):
    """E[score scoreᵀ] with the score differentiated from the Gaussian log-density and the
    expectation over u = −Kx + √σ z taken with exact Gaussian moments (sympy)."""
    K, sigma, states, v = case
    m, n = K.shape
    gains = sympy.Matrix(m, n, lambda i, j: sympy.Symbol(f"k{i}{j}"))
    z = [sympy.Symbol(f"z{i}") for i in range(m)]
    root = sympy.sqrt(sympy.Rational(sigma.numerator, sigma.denominator))
    total = sympy.zeros(m * n, m * n)
    for x in states:
        state = sympy.Matrix([sympy.Rational(e.numerator, e.denominator) for e in x])
        u = sympy.Matrix(sympy.symbols(f"u0:{m}"))
        gap = u + gains * state
        log_density = -(gap.T * gap)[0, 0] / (2 * root**2)
        score = sympy.Matrix(column_major(gains)).applyfunc(lambda k: sympy.diff(log_density, k))
        sample = {u[i]: (-gains * state)[i] + root * z[i] for i in range(m)}
        score = score.subs(sample)
        outer = (score * score.T).applyfunc(lambda e: standard_gaussian_expectation(e, z))
        total += outer
    fisher = total / len(states)
    fvp = linear_gaussian_fisher_vector_product(K, sigma, states, v, precision="exact")
    expected = fisher * sympy.Matrix([sympy.Rational(e.numerator, e.denominator) for e in v])
    assert [sympy.Rational(e.numerator, e.denominator) for e in fvp] == list(expected)


@st.composite
def two_layer_cases(draw):
    n, m, hidden = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    samples = draw(st.integers(1, 2))

    def matrix(rows, cols):
        return np.array([v / 4 for v in draw(small_ints(rows * cols))]).reshape(rows, cols)

    return (
        matrix(hidden, n),
        matrix(m, hidden),
        draw(st.sampled_from([0.25, 1.0, 2.0])),
        matrix(samples, n),
        np.array([v / 2 for v in draw(small_ints(m * hidden + hidden * n))]),
    )


def two_layer_mean(W0, W1, theta, x):
    """μ(x) = W1 tanh(W0 x) for θ = (vec W1, vec W0) (mpmath)."""
    m, hidden = W1.shape
    n = W0.shape[1]
    V1 = [[theta[j * m + i] for j in range(hidden)] for i in range(m)]
    V0 = [[theta[m * hidden + b * hidden + a] for b in range(n)] for a in range(hidden)]
    h = [mpmath.tanh(mpmath.fsum(V0[a][b] * x[b] for b in range(n))) for a in range(hidden)]
    return [mpmath.fsum(V1[i][a] * h[a] for a in range(hidden)) for i in range(m)]


def parameters(W0, W1):
    return [mpmath.mpf(v) for v in list(W1.flatten("F")) + list(W0.flatten("F"))]


@given(two_layer_cases())
@settings(max_examples=8)
def test_two_layer_fisher_vector_product_equals_the_numerically_differentiated_fisher(case):
    W0, W1, sigma, states, v = case
    with mpmath.workdps(40):
        theta = parameters(W0, W1)
        fisher = mpmath.zeros(len(theta))
        for x in states:
            columns = []
            for p in range(len(theta)):

                def mean(t, p=p, x=x):
                    moved = list(theta)
                    moved[p] = moved[p] + t
                    return two_layer_mean(W0, W1, moved, [mpmath.mpf(e) for e in x])

                columns.append([mpmath.diff(lambda t, i=i: mean(t)[i], 0) for i in range(len(W1))])
            J = mpmath.matrix(columns).T
            fisher += J.T * J
        expected = fisher * mpmath.matrix(list(v)) / (len(states) * sigma)
    fvp = two_layer_gaussian_fisher_vector_product(W0, W1, sigma, states, v, precision=40)
    assert all(abs(a - expected[i]) <= mpmath.mpf(10) ** -25 for i, a in enumerate(fvp))


@st.composite
def mdp_with_rational_policy(draw):
    mdp = draw(finite_mdps(st.integers(1, 3), st.integers(2, 3)))
    return mdp, draw(tabular_policies(mdp)), draw(small_ints(mdp.states * mdp.actions))


@given(mdp_with_rational_policy())
def test_softmax_fisher_vector_product_equals_the_score_outer_products_exactly(case):
    mdp, policy, v = case
    d = evaluate(mdp, policy).visitation()
    S, A = mdp.states, mdp.actions
    fisher = [[Fraction(0)] * (S * A) for _ in range(S * A)]
    for s in range(S):
        for u in range(A):
            score = [(1 if b == u else 0) - policy[s][b] for b in range(A)]  # ∂log π/∂θ[s, ·]
            for a in range(A):
                for b in range(A):
                    fisher[s * A + a][s * A + b] += d[s] * policy[s][u] * score[a] * score[b]
    expected = [sum(f * x for f, x in zip(row, v)) for row in fisher]
    fvp = softmax_fisher_vector_product(policy, d, v, precision="exact")
    assert list(fvp) == expected


@given(
    finite_mdps(st.integers(1, 3), st.integers(2, 3)).flatmap(
        lambda mdp: st.tuples(
            st.just(mdp), softmax_logits(mdp), small_ints(mdp.states * mdp.actions)
        )
    )
)
@settings(max_examples=8)
def test_softmax_fisher_product_matches_pgverify_mdp_certified_fisher(case):
    mdp, logits, v = case
    with ctx.workprec(212):
        policy = softmax_policy(logits, 212)
        d = list(evaluate(mdp, policy, bits=212).visitation().ball.entries())
        rows = np.array(list(policy.ball.entries()), dtype=object).reshape(mdp.states, -1)
        product_balls = softmax_fisher_product(rows, d, np.array(v).reshape(mdp.states, -1))
        fisher = softmax_fisher(mdp, logits).ball
        for i, value in enumerate(product_balls.reshape(-1)):
            reference = sum((fisher[i, j] * v[j] for j in range(len(v))), arb(0))
            assert value.overlaps(reference)
            assert value.rad() < 1e-40


# ------------------------------------------------------------------------------------------------
# Gaussian KL


def dyadics(count, low=1, high=8):
    return st.lists(st.integers(low, high), min_size=count, max_size=count).map(
        lambda values: [Fraction(v, 4) for v in values]
    )


@given(dyadics(1, -8, 8), dyadics(1), dyadics(1, -8, 8), dyadics(1))
def test_gaussian_kl_matches_quadrature_in_one_dimension(mu_p, var_p, mu_q, var_q):
    p = (float(mu_p[0]), float(var_p[0]))
    q = (float(mu_q[0]), float(var_q[0]))

    def integrand(x):
        log_p = -((x - p[0]) ** 2) / (2 * p[1]) - 0.5 * np.log(2 * np.pi * p[1])
        log_q = -((x - q[0]) ** 2) / (2 * q[1]) - 0.5 * np.log(2 * np.pi * q[1])
        return np.exp(log_p) * (log_p - log_q)

    width = 12 * np.sqrt(p[1])
    value, error = scipy.integrate.quad(integrand, p[0] - width, p[0] + width, epsabs=1e-13)
    kl = gaussian_kl([p[0]], [[p[1]]], [q[0]], [[q[1]]])
    assert abs(kl - value) <= 1e-9 * (1 + abs(value)) + 10 * error


@given(dyadics(2, -4, 4), dyadics(2), st.integers(-3, 3), dyadics(2, -4, 4), dyadics(2))
@settings(max_examples=3)
def test_gaussian_kl_matches_quadrature_in_two_dimensions(mu_p, var_p, coupling, mu_q, var_q):
    cov_p = np.diag([float(v) for v in var_p])
    cov_p[0, 1] = cov_p[1, 0] = coupling / 16 * np.sqrt(cov_p[0, 0] * cov_p[1, 1])
    cov_q = np.diag([float(v) for v in var_q])
    mp, mq = np.array(mu_p, float), np.array(mu_q, float)
    inv_p, inv_q = np.linalg.inv(cov_p), np.linalg.inv(cov_q)
    log_norm_p = -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(cov_p))
    log_norm_q = -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(cov_q))

    def integrand(y, x):
        point = np.array([x, y])
        log_p = log_norm_p - 0.5 * (point - mp) @ inv_p @ (point - mp)
        log_q = log_norm_q - 0.5 * (point - mq) @ inv_q @ (point - mq)
        return np.exp(log_p) * (log_p - log_q)

    wx, wy = 10 * np.sqrt(cov_p[0, 0]), 10 * np.sqrt(cov_p[1, 1])
    value, _ = scipy.integrate.dblquad(
        integrand, mp[0] - wx, mp[0] + wx, mp[1] - wy, mp[1] + wy, epsabs=1e-10, epsrel=1e-10
    )
    kl = gaussian_kl(mp, cov_p, mq, cov_q)
    assert abs(kl - value) <= 1e-7 * (1 + abs(value))


@given(st.integers(1, 3).flatmap(lambda k: st.tuples(*(dyadics(k, -8, 8), dyadics(k)) * 2)))
def test_gaussian_kl_of_diagonal_dyadic_covariances_equals_the_exact_value(case):
    mu_p, var_p, mu_q, var_q = case
    # exact: a rational part plus ½ log of a rational, evaluated by sympy
    rational = (
        sum(
            (vp / vq + (mq - mp) ** 2 / vq - 1 for mp, vp, mq, vq in zip(mu_p, var_p, mu_q, var_q)),
            Fraction(0),
        )
        / 2
    )
    ratio = np.prod([vq / vp for vp, vq in zip(var_p, var_q)])
    exact = (
        sympy.Rational(rational.numerator, rational.denominator)
        + sympy.log(sympy.Rational(ratio.numerator, ratio.denominator)) / 2
    )
    high = gaussian_kl(mu_p, np.diag(var_p), mu_q, np.diag(var_q), precision=50)
    low = gaussian_kl(mu_p, np.diag(var_p), mu_q, np.diag(var_q))
    with mpmath.workdps(60):
        reference = mpmath.mpf(str(sympy.N(exact, 70)))
        assert abs(high - reference) <= mpmath.mpf(10) ** -45 * (1 + abs(reference))
    assert abs(low - float(reference)) <= 1e-13 * (1 + abs(float(reference)))
    if ratio == 1:
        assert gaussian_kl(mu_p, np.diag(var_p), mu_q, np.diag(var_q), precision="exact") == (
            rational
        )


def linear_mean(K, x):
    return [-mpmath.fsum(K[i][j] * x[j] for j in range(len(x))) for i in range(len(K))]


@given(linear_policy_cases())
@settings(max_examples=6)
def test_hessian_of_the_expected_kl_is_the_linear_gaussian_fisher(case):
    """Second central differences of θ ↦ E_x KL(π_{θk}(·|x) ‖ π_θ(·|x)), each KL by the closed
    form at 60 digits, give σ⁻¹ (S ⊗ I_m) (the map is quadratic: differences are exact up to
    rounding)."""
    K, sigma, states, _ = case
    m, n = K.shape
    with mpmath.workdps(60):
        base = [mpf(e) for e in K.flatten("F")]
        cov = np.diag([mpf(sigma)] * m)
        xs = [[mpf(e) for e in x] for x in states]

        def expected_kl(theta):
            gain = [[theta[j * m + i] for j in range(n)] for i in range(m)]
            old = [[base[j * m + i] for j in range(n)] for i in range(m)]
            return mpmath.fsum(
                gaussian_kl(linear_mean(old, x), cov, linear_mean(gain, x), cov, precision=60)
                for x in xs
            ) / len(xs)

        hessian = finite_difference_hessian(expected_kl, base, mpmath.mpf(10) ** -12)
        S = sum(np.outer(x, x) for x in states) / len(states)
        fisher = linear_gaussian_fisher(S, sigma, m, precision="exact")
        for i in range(m * n):
            for j in range(m * n):
                assert abs(hessian[i][j] - mpf(fisher[i, j])) < mpmath.mpf(10) ** -25


def finite_difference_hessian(function, point, h):
    size = len(point)

    def at(i, si, j, sj):
        moved = list(point)
        moved[i] += si * h
        moved[j] += sj * h
        return function(moved)

    return [
        [
            (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h)
            for j in range(size)
        ]
        for i in range(size)
    ]


@given(two_layer_cases())
@settings(max_examples=4)
def test_hessian_of_the_expected_kl_is_the_two_layer_fisher(case):
    W0, W1, sigma, states, _ = case
    m = W1.shape[0]
    with mpmath.workdps(70):
        base = parameters(W0, W1)
        cov = np.diag([mpmath.mpf(sigma)] * m)
        xs = [[mpmath.mpf(e) for e in x] for x in states]
        old = [two_layer_mean(W0, W1, base, x) for x in xs]

        def expected_kl(theta):
            return mpmath.fsum(
                gaussian_kl(o, cov, two_layer_mean(W0, W1, theta, x), cov, precision=70)
                for o, x in zip(old, xs)
            ) / len(xs)

        hessian = finite_difference_hessian(expected_kl, base, mpmath.mpf(10) ** -16)
    size = len(base)
    for j in range(size):
        unit = np.zeros(size)
        unit[j] = 1
        column = two_layer_gaussian_fisher_vector_product(W0, W1, sigma, states, unit, precision=40)
        assert all(abs(hessian[i][j] - column[i]) < 1e-20 for i in range(size))


# ------------------------------------------------------------------------------------------------
# maximal step and line search


@given(spd_systems(), st.sampled_from([Fraction(1, 2), Fraction(3, 4), Fraction(2)]))
def test_maximal_step_reaches_the_kl_boundary_exactly(case, beta):
    """With δ = ½ β² gᵀF⁻¹g the step is exactly β F⁻¹g and ½ sᵀFs = δ, in Fractions."""
    F, g = case
    natural = exact_solve(F, g)
    delta = beta * beta * sum(a * b for a, b in zip(g, natural)) / 2
    step = maximal_step(g, F, delta, precision="exact")
    assert list(step) == [beta * x for x in natural]
    assert (step @ (F @ step)) / 2 == delta


@given(spd_systems(), st.sampled_from([Fraction(1, 100), Fraction(1, 10), Fraction(1)]))
def test_maximal_step_with_fisher_vector_products_meets_the_kl_boundary(case, delta):
    F, g = case
    parts = maximal_step_parts(g, product(F), delta, precision=50)
    with mpmath.workdps(60):
        s, size = parts.step, len(g)
        half_form = mpmath.fsum(
            s[i] * mpf(F[i, j]) * s[j] for i in range(size) for j in range(size)
        )
        curvature = mpf(sum(a * b for a, b in zip(g, exact_solve(F, g))))  # gᵀF⁻¹g, exact
        tolerance = mpmath.mpf(10) ** -40
        assert abs(half_form / 2 - mpf(delta)) <= tolerance * mpf(delta)
        assert abs(parts.beta**2 - 2 * mpf(delta) / curvature) <= tolerance * parts.beta**2


@st.composite
def line_search_cases(draw):
    d = draw(st.integers(1, 3))
    target = [Fraction(v, 8) for v in draw(small_ints(d, 8))]
    step = [Fraction(v, 2) for v in draw(small_ints(d, 6).filter(any))]
    max_kl = draw(st.sampled_from([Fraction(1, 8), Fraction(1, 2), Fraction(2)]))
    ratio = draw(st.sampled_from([Fraction(1, 2), Fraction(4, 5)]))
    backtracks = draw(st.integers(0, 6))
    return target, step, max_kl, ratio, backtracks


def quadratic_surrogate(target):
    return lambda s: sum((a - b) ** 2 for a, b in zip(s, target))


def squared_norm(s):
    return sum(v * v for v in s)


@given(line_search_cases())
def test_line_search_accepts_the_first_candidate_that_meets_both_conditions(case):
    target, step, max_kl, ratio, backtracks = case
    surrogate = quadratic_surrogate(target)
    outcome = backtracking_line_search(
        surrogate, squared_norm, step, max_kl, ratio, backtracks, precision="exact"
    )
    baseline = surrogate([0] * len(step))
    candidates = [[ratio**j * v for v in step] for j in range(backtracks + 1)]
    good = [c for c in candidates if squared_norm(c) <= max_kl and surrogate(c) < baseline]
    if good:
        assert list(outcome.step) == good[0]
        assert squared_norm(outcome.step) <= max_kl and surrogate(outcome.step) < baseline
    else:
        assert outcome.step is None and outcome.exponent is None


@given(line_search_cases())
def test_line_search_rejection_is_reported_with_every_candidate(case):
    _, step, max_kl, ratio, backtracks = case
    outcome = backtracking_line_search(
        squared_norm,  # a surrogate never below its value at zero step
        squared_norm,
        step,
        max_kl,
        ratio,
        backtracks,
        precision="exact",
    )
    assert outcome.step is None
    assert len(outcome.trials) == backtracks + 1
    assert "rejected all" in outcome.reason
    assert all(not trial.accepted for trial in outcome.trials)


# ------------------------------------------------------------------------------------------------
# natural gradient three ways


@given(
    st.one_of(
        lqr_problems_with_gains(n=st.integers(1, 3), discounted=None),
        lqr_problems_with_gains(n=st.integers(1, 3), noisy=True),
    ),
    st.sampled_from([0.25, 1.0]),
)
@settings(max_examples=8)
def test_lqr_natural_gradient_three_ways_agree_at_high_precision(case, sigma):
    problem, K = case
    routes = lqr_natural_gradient_three_ways(problem, K, sigma=sigma, digits=50)
    assert routes.largest_relative_gap() <= mpmath.mpf(10) ** -40
    assert routes.conjugate_gradient_steps <= K.size


@given(lqr_problems_with_gains(n=st.integers(1, 3)))
@settings(max_examples=6)
def test_lqr_natural_gradient_routes_lie_within_the_certified_enclosure(case):
    problem, K = case
    routes = lqr_natural_gradient_three_ways(problem, K, digits=50)
    enclosure = problem.natural_gradient(K, precision="certified").ball
    with ctx.workprec(600):
        for route in (routes.fisher_solve, routes.conjugate_gradient):
            for (i, j), value in np.ndenumerate(route):
                exact = to_fraction(value)
                point = arb(fmpq(exact.numerator, exact.denominator))
                distance = (enclosure[i, j] - point).abs_upper()
                scale = abs(enclosure[i, j]).abs_upper() + 1
                assert distance <= scale * arb(10) ** -40


@given(lqr_problems_with_gains(n=st.integers(1, 3), m=st.integers(1, 3)))
@settings(max_examples=8)
def test_cg_on_the_lqr_fisher_terminates_within_n_steps(case):
    """σ⁻¹(Σ_K ⊗ I_m) has at most n distinct eigenvalues (Σ_K's, each m-fold), so CG needs at
    most n — not m·n — steps: after n steps at 50 digits it is the natural gradient."""
    problem, K = case
    m, n = K.shape
    with mpmath.workdps(60):
        covariance = problem.state_covariance(K, precision=50)
        gradient = problem.gradient(K, precision=50)
        closed = problem.natural_gradient(K, precision=50)
        flat = [gradient[i, j] for j in range(n) for i in range(m)]
        x = conjugate_gradient(
            lambda v: linear_gaussian_fisher_vector_product_from_moment(
                covariance, 1, v, m, precision=50
            ),
            flat,
            n,
            precision=50,
        )
        scale = max(abs(closed[i, j]) for i in range(m) for j in range(n))
        gap = max(abs(x[j * m + i] - closed[i, j]) for i in range(m) for j in range(n))
        assert gap <= mpmath.mpf(10) ** -40 * scale


@pytest.mark.parametrize("digits", [30, 60])
def test_three_ways_agreement_tracks_the_digits_asked_for(digits):
    from pgverify.lqr.examples import dean_2017

    problem = dean_2017()
    K = problem.optimal_gain() + 0.01
    routes = lqr_natural_gradient_three_ways(problem, K, digits=digits)
    assert routes.largest_relative_gap() <= mpmath.mpf(10) ** (-(digits - 8))


@given(
    finite_mdps(st.integers(1, 3), st.integers(1, 3)).flatmap(
        lambda mdp: st.tuples(st.just(mdp), softmax_logits(mdp))
    )
)
@settings(max_examples=8)
def test_softmax_natural_gradient_three_ways_agree_in_the_range_of_the_fisher(case):
    mdp, logits = case
    routes = softmax_natural_gradient_three_ways(mdp, logits, digits=50)
    assert routes.largest_relative_gap() <= mpmath.mpf(10) ** -40
    visited_directions = sum(mdp.actions - 1 for seen in routes.visited if seen)
    assert routes.conjugate_gradient_steps <= visited_directions  # the rank of F
