"""The canonical form of the dimension-free algebra is sound: random expressions (products,
sums, transposes, inverses, Lyapunov operators, traces) keep their value when put in canonical
form, checked against a mirror computation with exact matrices of sizes n = 2, m = 3; a
deliberately wrong canonical form (a commutative trace, a lost transpose) is caught by the same
check; malformed expressions are refused with a message naming the sizes."""

import random

import pytest
import sympy

from pgverify import InvalidProblemError
from pgverify.symbolic.dimension_free import algebra
from pgverify.symbolic.dimension_free.algebra import Matrix, MatrixSymbol, lyapunov, trace
from pgverify.symbolic.dimension_free.evaluate import Evaluator
from pgverify.symbolic.dimension_free.rules import Context
from pgverify.symbolic.domain import contraction, positive_definite, random_matrix, solve_stein

N, M = 2, 3
GAMMA = sympy.Rational(3, 5)
SYMBOLS = {
    "A": MatrixSymbol("A", "n", "n"),
    "B": MatrixSymbol("B", "n", "m"),
    "K": MatrixSymbol("K", "m", "n"),
    "R": MatrixSymbol("R", "m", "m", symmetric=True),
    "S": MatrixSymbol("S", "n", "n", symmetric=True),
    "S^-1": MatrixSymbol("S^-1", "n", "n", symmetric=True, inverse_of="S"),
}
CLOSED = MatrixSymbol("A_K", "n", "n")


def problem(rng: random.Random) -> dict[str, sympy.Matrix]:
    values = {
        "A": random_matrix(rng, N, N),
        "B": random_matrix(rng, N, M),
        "K": random_matrix(rng, M, N),
        "R": positive_definite(rng, M),
        "S": positive_definite(rng, N),
        "A_K": contraction(rng, N, sympy.Rational(1, 2)),
    }
    values["S^-1"] = values["S"].inv()
    return values


def leaves(rows: str, cols: str) -> list[tuple[str, bool]]:
    """(symbol name, transposed) of that size."""
    found = []
    for name, symbol in SYMBOLS.items():
        if (symbol.rows, symbol.cols) == (rows, cols):
            found.append((name, False))
        if (symbol.cols, symbol.rows) == (rows, cols) and not symbol.symmetric:
            found.append((name, True))
    return found


def random_expression(rng, values, rows, cols, depth):
    """A random expression and its value computed directly (the mirror)."""
    choice = rng.choice(["leaf", "product", "sum", "transpose", "lyapunov", "inverse"])
    if depth == 0 or choice == "leaf":
        name, transposed = rng.choice(leaves(rows, cols))
        expression, value = Matrix.of(SYMBOLS[name]), values[name]
        return (expression.T, value.T) if transposed else (expression, value)
    if choice == "product":
        inner = rng.choice(["n", "m"])
        left = random_expression(rng, values, rows, inner, depth - 1)
        right = random_expression(rng, values, inner, cols, depth - 1)
        return left[0] * right[0], left[1] * right[1]
    if choice == "sum":
        c1, c2 = sympy.Rational(rng.randint(-5, 5), 3), sympy.Rational(rng.randint(1, 5), 2)
        left = random_expression(rng, values, rows, cols, depth - 1)
        right = random_expression(rng, values, rows, cols, depth - 1)
        return left[0] * c1 + right[0] * c2, c1 * left[1] + c2 * right[1]
    if choice == "transpose":
        inner = random_expression(rng, values, cols, rows, depth - 1)
        return inner[0].T, inner[1].T
    if rows == cols == "n" and choice == "lyapunov":
        adjoint = rng.random() < 0.5
        inner = random_expression(rng, values, "n", "n", depth - 1)
        closed = values["A_K"]
        value = solve_stein(closed.T if adjoint else closed, inner[1], GAMMA)
        return lyapunov(adjoint, "K", inner[0]), value
    if rows == "n" and choice == "inverse":
        inner = random_expression(rng, values, rows, cols, depth - 1)
        pair = Matrix.of(SYMBOLS["S"]) * Matrix.of(SYMBOLS["S^-1"])
        return pair * inner[0], values["S"] * values["S^-1"] * inner[1]
    return random_expression(rng, values, rows, cols, 0)


def mismatches(seed: int, count: int) -> list[str]:
    """Random expressions (and traces of them) whose canonical form evaluates differently from
    the mirror computation (or cannot be evaluated)."""
    rng = random.Random(seed)
    context = Context(GAMMA, {"K": CLOSED})
    found = []
    for _ in range(count):
        values = problem(rng)
        rows, cols = rng.choice(["n", "m"]), rng.choice(["n", "m"])
        try:
            expression, value = random_expression(rng, values, rows, cols, 3)
            evaluator = Evaluator(context, {"n": N, "m": M}, values, {})
            if evaluator.matrix(expression) != value:
                found.append(str(expression))
            if rows == cols:
                weight = "A" if rows == "n" else "R"
                scalar = trace(expression * expression.T * Matrix.of(SYMBOLS[weight]))
                mirror = (value * value.T * values[weight]).trace()
                if evaluator.scalar(scalar) != mirror:
                    found.append(f"tr: {scalar}")
        except Exception as failure:  # a broken canonical form may also break the sizes
            found.append(f"raised {failure!r}")
    return found


def test_canonical_form_keeps_the_value_of_random_expressions():
    assert mismatches(seed=1, count=40) == []


def test_a_commutative_trace_canonical_form_is_caught(monkeypatch):
    """Sorting the factors of a trace (wrong: traces are only cyclic) is caught."""
    original = algebra.canonical_cycle

    def commutative(word):
        return tuple(sorted(original(word), key=lambda factor: factor.key))

    monkeypatch.setattr(algebra, "canonical_cycle", commutative)
    assert mismatches(seed=1, count=40)


def test_dropping_the_transpose_of_a_letter_is_caught(monkeypatch):
    monkeypatch.setattr(algebra.Letter, "transpose", lambda self: self)
    assert mismatches(seed=1, count=40)


def test_trace_cyclicity_and_transposition_give_one_canonical_term():
    a, b, k = (Matrix.of(SYMBOLS[name]) for name in "ABK")
    forms = [trace(a * b * k), trace(b * k * a), trace(k.T * b.T * a.T), trace((a * b * k).T)]
    assert all(form.equals(forms[0]) for form in forms)
    assert len(forms[0].terms) == 1


def test_distinct_cyclic_orders_stay_distinct():
    a, s = Matrix.of(SYMBOLS["A"]), Matrix.of(SYMBOLS["S"])
    assert not trace(a * a * s).equals(trace(a * a.T * s))


def test_lyapunov_operator_is_linear_and_commutes_with_transposition():
    a, s = Matrix.of(SYMBOLS["A"]), Matrix.of(SYMBOLS["S"])
    combined = lyapunov(True, "K", a * 2 + s)
    assert combined.equals(lyapunov(True, "K", a) * 2 + lyapunov(True, "K", s))
    assert lyapunov(False, "K", a).T.equals(lyapunov(False, "K", a.T))


def test_product_of_mismatched_sizes_is_refused_naming_the_sizes():
    a, b = Matrix.of(SYMBOLS["A"]), Matrix.of(SYMBOLS["B"])
    with pytest.raises(InvalidProblemError, match="n x m times a n x n"):
        b * a


def test_trace_of_a_non_square_expression_is_refused():
    with pytest.raises(InvalidProblemError, match="expected a square one"):
        trace(Matrix.of(SYMBOLS["B"]))


def test_sum_of_different_sizes_is_refused():
    with pytest.raises(InvalidProblemError, match="expected equal sizes"):
        Matrix.of(SYMBOLS["B"]) + Matrix.of(SYMBOLS["K"])


def test_a_symmetric_symbol_must_be_square():
    with pytest.raises(InvalidProblemError, match="must be square"):
        MatrixSymbol("W", "n", "m", symmetric=True)
