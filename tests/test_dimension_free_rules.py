"""Every rule of the dimension-free layer (pgverify/symbolic/dimension_free) proved at small
sizes: sympy matrices of independent symbols, n, m in {1, 2, 3}, the identity expanded to 0.

A Lyapunov solution is taken generic (independent symbols) and its data defined from it
(Σ generic, Y := Σ − γAΣAᵀ, so Σ = L(Y)): the map Y ↦ L(Y) is a bijection when √γ A is
stable, so an identity proved for generic Σ holds for every Y.  Each test also shows the layer
applies exactly that rule: its output, evaluated at the same generic entries (or, where a
Lyapunov operator is evaluated, at an exact stable problem), equals the rule's side."""

import itertools
import random

import pytest
import sympy

from pgverify.symbolic.core import _vanishes as vanishes
from pgverify.symbolic.dimension_free.algebra import Letter, Lyapunov, Matrix, MatrixSymbol, trace
from pgverify.symbolic.dimension_free.evaluate import Evaluator
from pgverify.symbolic.dimension_free.rules import (
    Context,
    differential,
    duality,
    expectation,
    gradient,
    product_of_numbers,
)
from pgverify.symbolic.domain import contraction, positive_definite, random_matrix
from pgverify.symbolic.matrices import (
    directional_derivative,
    generic,
    gradient_matrix,
    kron,
    second_moment_expectation,
    standard_gaussian_expectation,
    symmetric,
    vec,
    vector,
)
from pgverify.symbolic.polynomial import PolynomialAlgebra

SIZES = list(itertools.product((1, 2, 3), repeat=2))
GAMMA = sympy.Symbol("gamma")


def is_zero(matrix) -> bool:
    """Every entry the zero rational function (the core's exact zero test)."""
    entries = matrix if isinstance(matrix, sympy.MatrixBase) else [matrix]
    return all(
        vanishes(sympy.sympify(entry), sorted(sympy.sympify(entry).free_symbols, key=str))
        for entry in entries
    )


def symbols_nm():
    """The layer's symbols for the rule tests: A n×n, B n×m, X, Y m×n, S symmetric n×n."""
    return {
        "A": MatrixSymbol("A", "n", "n"),
        "B": MatrixSymbol("B", "n", "m"),
        "X": MatrixSymbol("X", "m", "n"),
        "Y": MatrixSymbol("Y", "m", "n"),
        "S": MatrixSymbol("S", "n", "n", symmetric=True),
    }


def generic_values(n: int, m: int):
    return {
        "A": generic("a", n, n),
        "B": generic("b", n, m),
        "X": generic("x", m, n),
        "Y": generic("y", m, n),
        "S": symmetric("s", n),
    }


def evaluate(expression, n, m, values, context=None):
    evaluator = Evaluator(context or Context(GAMMA, {}), {"n": n, "m": m}, values, {})
    if isinstance(expression, Matrix):
        return evaluator.matrix(expression)
    return evaluator.scalar(expression)


# --- transposition, products, traces, inverses ---------------------------------------------


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_transpose_of_a_product_is_the_reversed_product_of_transposes(n, m):
    s, v = symbols_nm(), generic_values(n, m)
    A, B, X = v["A"], v["B"], v["X"]
    assert is_zero((A * B * X).T - X.T * B.T * A.T)
    layer = (Matrix.of(s["A"]) * Matrix.of(s["B"]) * Matrix.of(s["X"])).T
    assert is_zero(evaluate(layer, n, m, v) - (A * B * X).T)


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_declared_symmetric_symbol_equals_its_transpose(n, m):
    s, v = symbols_nm(), generic_values(n, m)
    assert is_zero(v["S"].T - v["S"])
    assert Matrix.of(s["S"]).T.equals(Matrix.of(s["S"]))


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_trace_is_invariant_under_rotation_and_transposition(n, m):
    s, v = symbols_nm(), generic_values(n, m)
    A, B, X = v["A"], v["B"], v["X"]
    product = A * B * X
    assert is_zero(product.trace() - (B * X * A).trace())
    assert is_zero(product.trace() - product.T.trace())
    layer = trace(Matrix.of(s["A"]) * Matrix.of(s["B"]) * Matrix.of(s["X"]))
    assert is_zero(evaluate(layer, n, m, v) - product.trace())


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_symmetric_matrix_times_its_inverse_is_the_identity(n):
    S = symmetric("s", n)
    assert is_zero(S * S.inv() - sympy.eye(n)) and is_zero(S.inv() * S - sympy.eye(n))
    symbol = MatrixSymbol("S", "n", "n", symmetric=True)
    inverse = MatrixSymbol("S^-1", "n", "n", symmetric=True, inverse_of="S")
    assert (Matrix.of(symbol) * Matrix.of(inverse)).equals(Matrix.identity("n"))


# --- the Lyapunov operators -----------------------------------------------------------------


def stein_data(n: int, transposed: bool = False):
    """Generic A and solution X; the data Y := X − γ A X Aᵀ (or X − γ Aᵀ X A) it solves."""
    A, X = generic("a", n, n), generic("p", n, n)
    if transposed:
        return A, X, X - GAMMA * A.T * X * A
    return A, X, X - GAMMA * A * X * A.T


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("adjoint", [False, True])
def test_lyapunov_operators_commute_with_transposition(n, adjoint):
    A, X, Y = stein_data(n, adjoint)
    # L(Yᵀ) = Xᵀ: Xᵀ solves the equation with data Yᵀ
    op = (lambda Z: Z - GAMMA * A.T * Z * A) if adjoint else (lambda Z: Z - GAMMA * A * Z * A.T)
    assert is_zero(op(X.T) - Y.T)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_lyapunov_operator_is_linear(n):
    A = generic("a", n, n)
    X1, X2 = generic("p", n, n), generic("q", n, n)
    c1, c2 = sympy.symbols("c1 c2")

    def data(X):
        return X - GAMMA * A * X * A.T

    assert is_zero(data(c1 * X1 + c2 * X2) - (c1 * data(X1) + c2 * data(X2)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_duality_trace_of_x_times_l_of_y_is_trace_of_adjoint_of_x_times_y(n):
    A = generic("a", n, n)
    Sigma, P = generic("s", n, n), generic("p", n, n)  # Σ = L(Y), P = L*(X)
    Y = Sigma - GAMMA * A * Sigma * A.T
    X = P - GAMMA * A.T * P * A
    assert is_zero((X * Sigma).trace() - (P * Y).trace())


def lyapunov_derivative_residual(n: int, m: int, adjoint: bool, sign: int = 1) -> list:
    """Along K + t dK, a path of solutions P(t) = P0 + t P1 (generic) with data
    Y(t) := P(t) − γ A_K(t)ᵀ P(t) A_K(t): the rule says P1 = L*(Y'(0) + γ dA_Kᵀ P0 A_K +
    γ A_Kᵀ P0 dA_K), i.e. P1 − γ A_Kᵀ P1 A_K equals that argument (and likewise for L).
    Computed in the polynomial ring of the entries (fast), Y'(0) by differentiating in t."""
    matrices = [
        generic(name, *shape)
        for name, shape in [
            ("a", (n, n)),
            ("b", (n, m)),
            ("k", (m, n)),
            ("d", (m, n)),
            ("p", (n, n)),
            ("q", (n, n)),
        ]
    ]
    t = sympy.Symbol("t")
    symbols = [*sorted(set().union(*(M.free_symbols for M in matrices)), key=str), GAMMA, t]
    algebra = PolynomialAlgebra(symbols)
    A, B, K, dK, P0, P1 = (algebra.matrix(M) for M in matrices)
    mul, add, T = algebra.mul, algebra.add, algebra.transpose
    g, time = algebra.generator(GAMMA), algebra.generator(t)

    def step(Z, loop):
        product = mul(T(loop), mul(Z, loop)) if adjoint else mul(loop, mul(Z, T(loop)))
        return algebra.scale(product, g)

    loop = add(A, mul(B, K), -1)
    path_loop = add(loop, algebra.scale(mul(B, dK), time), -1)
    path = add(P0, algebra.scale(P1, time))
    data = add(path, step(path, path_loop), -1)
    data_rate = [[entry.diff(time).subs(time, 0) for entry in row] for row in data]
    rate = algebra.scale(mul(B, dK), -1)
    if adjoint:
        moved = add(mul(T(rate), mul(P0, loop)), mul(T(loop), mul(P0, rate)))
    else:
        moved = add(mul(rate, mul(P0, T(loop))), mul(loop, mul(P0, T(rate))))
    argument = add(data_rate, algebra.scale(moved, sign * g))
    # P1 = L*(Z) means P1 − γ A_Kᵀ P1 A_K = Z (the fixed-point equation, unique solution)
    residual = add(add(P1, step(P1, loop), -1), argument, -1)
    return [entry for row in residual for entry in row if entry != 0]


@pytest.mark.parametrize(("n", "m"), SIZES)
@pytest.mark.parametrize("adjoint", [False, True])
def test_derivative_of_a_lyapunov_solution_solves_the_differentiated_equation(n, m, adjoint):
    assert lyapunov_derivative_residual(n, m, adjoint) == []


@pytest.mark.parametrize("adjoint", [False, True])
def test_derivative_rule_with_the_closed_loop_term_negated_is_refuted(adjoint):
    assert lyapunov_derivative_residual(2, 1, adjoint, sign=-1)


def test_layer_lyapunov_derivative_matches_the_rule_at_an_exact_stable_problem():
    """d L*_K(Y) computed by the layer, evaluated at an exact problem, is the derivative of
    t ↦ L*_{K+t dK}(Y) (the solution of the Stein equation differentiated exactly in t)."""
    rng = random.Random(3)
    n, m = 2, 2
    A_K, B = contraction(rng, n, sympy.Rational(1, 2)), random_matrix(rng, n, m)
    K, dK, Y = random_matrix(rng, m, n), random_matrix(rng, m, n), positive_definite(rng, n)
    gamma = sympy.Rational(4, 5)
    symbols = {
        "A": MatrixSymbol("A", "n", "n"),
        "B": MatrixSymbol("B", "n", "m"),
        "K": MatrixSymbol("K", "m", "n"),
        "Y": MatrixSymbol("Y", "n", "n", symmetric=True),
        "dK": MatrixSymbol("dK", "m", "n"),
    }
    closed = MatrixSymbol("A_K", "n", "n")
    a, b, k = (Matrix.of(symbols[name]) for name in "ABK")
    context = Context(
        gamma,
        {"K": closed},
        definitions={"A_K": a - b * k},
        variables={"K": Matrix.of(symbols["dK"])},
    )
    solution = Matrix.factor(Lyapunov(True, "K", (Letter(symbols["Y"]),)))
    layer = differential(solution, context)
    values = {"A": A_K + B * K, "B": B, "K": K, "Y": Y, "dK": dK}
    value = Evaluator(context, {"n": n, "m": m}, values, {}).matrix(layer)
    t = sympy.Symbol("t")
    loop = A_K - t * B * dK
    unknown = generic("u", n, n)
    equations = unknown - Y - gamma * loop.T * unknown * loop
    solved = sympy.solve(list(equations), list(unknown), dict=True)[0]
    path = unknown.xreplace(solved)
    expected = sympy.diff(path, t).subs(t, 0)
    assert is_zero((value - expected).applyfunc(sympy.cancel))


def test_layer_duality_preserves_the_value_at_an_exact_stable_problem():
    rng = random.Random(5)
    n = 3
    closed_value = contraction(rng, n, sympy.Rational(1, 2))
    X, Y = random_matrix(rng, n, n), random_matrix(rng, n, n)
    closed = MatrixSymbol("A_K", "n", "n")
    Xs, Ys = MatrixSymbol("X", "n", "n"), MatrixSymbol("Y", "n", "n")
    context = Context(sympy.Rational(2, 3), {"K": closed})
    before = trace(Matrix.factor(Lyapunov(True, "K", (Letter(Xs),))) * Matrix.of(Ys))
    after = duality(before, "K")
    assert any(isinstance(f, Lyapunov) and not f.adjoint for w in after.terms for f in w)
    evaluator = Evaluator(context, {"n": n}, {"A_K": closed_value, "X": X, "Y": Y}, {})
    assert evaluator.scalar(before) == evaluator.scalar(after) != 0


# --- expectations, 1×1 products, gradients, the Fisher form ---------------------------------


@pytest.mark.parametrize("m", [1, 2, 3])
def test_gaussian_expectation_of_z_z_transpose_is_the_identity_and_of_z_zero(m):
    z = vector("z", m)
    M, w = generic("c", m, m), vector("w", m)
    assert is_zero(standard_gaussian_expectation((M * z * z.T).trace(), list(z)) - M.trace())
    assert standard_gaussian_expectation((w.T * z)[0, 0], list(z)) == 0


@pytest.mark.parametrize("n", [1, 2, 3])
def test_state_expectation_of_x_x_transpose_is_the_second_moment(n):
    x, M, S = vector("x", n), generic("c", n, n), symmetric("s", n)
    assert is_zero(second_moment_expectation((M * x * x.T).trace(), x, S) - (M * S).trace())


def test_layer_expectation_replaces_an_adjacent_pair_and_drops_a_lone_zero_mean_vector():
    z = MatrixSymbol("z", "m", "1")
    M = MatrixSymbol("M", "m", "m")
    w = MatrixSymbol("w", "m", "1")
    pair = trace(Matrix.of(M) * Matrix.of(z) * Matrix.of(z).T)
    single = trace(Matrix.of(w).T * Matrix.of(z))
    result = expectation(pair + single, z, Matrix.identity("m"), zero_mean=True)
    assert result.equals(trace(Matrix.of(M)))


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_product_of_one_by_one_traces_is_the_trace_of_the_product(n, m):
    x, z = vector("x", n), vector("z", m)
    X, Y = generic("p", m, n), generic("q", m, n)
    left, right = (X.T * z * x.T).trace(), (Y.T * z * x.T).trace()
    s = {"x": MatrixSymbol("x", "n", "1"), "z": MatrixSymbol("z", "m", "1")}
    s |= {"X": MatrixSymbol("X", "m", "n"), "Y": MatrixSymbol("Y", "m", "n")}
    xs, zs, Xs, Ys = (Matrix.of(s[name]) for name in ("x", "z", "X", "Y"))
    layer = product_of_numbers(trace(Xs.T * zs * xs.T), trace(Ys.T * zs * xs.T), s["z"])
    values = {"x": x, "z": z, "X": X, "Y": Y}
    assert is_zero(evaluate(layer, n, m, values) - left * right)


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_gradient_of_trace_of_direction_transposed_times_g_is_g(n, m):
    s, v = symbols_nm(), generic_values(n, m)
    G = (v["A"] * v["B"]).T  # tr(A B dK) = tr(dKᵀ (AB)ᵀ)
    dK = generic("d", m, n)
    assert is_zero(gradient_matrix((dK.T * G).trace(), dK) - G)
    direction = MatrixSymbol("dK", "m", "n")
    form = trace(Matrix.of(s["A"]) * Matrix.of(s["B"]) * Matrix.of(direction))
    layer = gradient(form, direction)
    assert is_zero(evaluate(layer, n, m, v) - G)


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_fisher_bilinear_form_is_the_kronecker_matrix_in_vec_coordinates(n, m):
    """vec(X)ᵀ (S ⊗ I_m) vec(Y) = tr(Xᵀ Y S) (column-major vec, S symmetric)."""
    X, Y, S = generic("p", m, n), generic("q", m, n), symmetric("s", n)
    quadratic = (vec(X).T * kron(S, sympy.eye(m)) * vec(Y))[0, 0]
    assert is_zero(quadratic - (X.T * Y * S).trace())


@pytest.mark.parametrize(("n", "m"), SIZES)
def test_leibniz_differential_of_k_transposed_r_k_matches_sympy(n, m):
    K, R, dK = generic("k", m, n), symmetric("r", m), generic("d", m, n)
    expected = directional_derivative(lambda gain: gain.T * R * gain, K, dK)
    symbols = {"K": MatrixSymbol("K", "m", "n"), "R": MatrixSymbol("R", "m", "m", symmetric=True)}
    direction = MatrixSymbol("dK", "m", "n")
    k, r = Matrix.of(symbols["K"]), Matrix.of(symbols["R"])
    context = Context(GAMMA, {}, variables={"K": Matrix.of(direction)})
    layer = differential(k.T * r * k, context)
    assert is_zero(evaluate(layer, n, m, {"K": K, "R": R, "dK": dK}, context) - expected)


def _stable_problem_context():
    """An exact stable problem and the LQR proofs' context (discounted, noisy)."""
    from pgverify.symbolic.dimension_free import problem as lqr
    from pgverify.symbolic.domain import sample_lqr

    point = sample_lqr(random.Random(7), 2, 2, discounted=True, noisy=True)
    values = {"A": point.A, "B": point.B, "K": point.K, "K'": point.K2}
    values |= {"R": point.R, "Q": point.Q, "Sigma0": point.Sigma0}
    context = lqr.context(lqr.Premises())
    evaluator = Evaluator(
        context, {"n": 2, "m": 2}, values, {lqr.GAMMA: point.gamma, lqr.SIGMA: point.sigma}
    )
    return lqr, point, context, evaluator


def test_fixed_point_equations_give_back_the_definitions_arguments():
    lqr, point, context, evaluator = _stable_problem_context()
    effective = evaluator.matrix(lqr.Matrix.of(lqr.SIGMA0_EFF))
    assert evaluator.matrix(context.fixed_point(lqr.SIGMA_K.name)) == effective
    assert evaluator.matrix(context.solve_fixed_point_for(lqr.P.name, lqr.Q)) == point.Q
    # and the solved values are the project's P_K and Sigma_K
    assert evaluator.matrix(lqr.p) == point.P and evaluator.matrix(lqr.s_k) == point.Sigma


def test_folding_a_lyapunov_solution_into_its_symbol_keeps_the_value():
    from pgverify.symbolic.dimension_free.rules import replace_factor

    lqr, _, _, evaluator = _stable_problem_context()
    solution = Lyapunov(False, "K", (Letter(lqr.SIGMA0_EFF),))
    before = trace(lqr.k * Matrix.factor(solution) * lqr.k.T * lqr.r)
    after = replace_factor(before, solution, lqr.s_k)
    assert after.equals(trace(lqr.k * lqr.s_k * lqr.k.T * lqr.r))
    assert evaluator.scalar(before) == evaluator.scalar(after)


def test_an_undefined_name_in_a_context_is_refused_with_the_known_names():
    from pgverify import InvalidProblemError

    context = Context(GAMMA, {"K": MatrixSymbol("A_K", "n", "n")})
    with pytest.raises(InvalidProblemError, match=r"'E_K' is not defined.*expected one of"):
        context.expand(Matrix.of(MatrixSymbol("E_K", "m", "n")), ["E_K"])
    with pytest.raises(InvalidProblemError, match="'K2' is not defined"):
        context.closed_loop("K2")
