"""Generic symbolic matrices and small exact helpers shared by the derivations."""

from __future__ import annotations

from typing import Any

import sympy


def generic(name: str, rows: int, cols: int) -> sympy.Matrix:
    """A matrix of independent symbols ``name_ij`` (1-based, as in the lecture notes)."""
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}_{i + 1}{j + 1}"))


def symmetric(name: str, size: int) -> sympy.Matrix:
    """A symmetric matrix of independent symbols ``name_ij`` (i <= j)."""

    def entry(i: int, j: int) -> sympy.Symbol:
        low, high = min(i, j), max(i, j)
        return sympy.Symbol(f"{name}_{low + 1}{high + 1}")

    return sympy.Matrix(size, size, entry)


def vector(name: str, size: int) -> sympy.Matrix:
    return sympy.Matrix(size, 1, lambda i, _: sympy.Symbol(f"{name}_{i + 1}"))


def trace(matrix: sympy.Matrix) -> Any:
    return matrix.trace()


def vec(matrix: sympy.Matrix) -> sympy.Matrix:
    """Column-major vectorisation (numpy order "F"), the convention of every vec here."""
    return sympy.Matrix([matrix[i, j] for j in range(matrix.cols) for i in range(matrix.rows)])


def kron(left: sympy.Matrix, right: sympy.Matrix) -> sympy.Matrix:
    from sympy.physics.quantum import TensorProduct

    return TensorProduct(left, right)


def directional_derivative(function: Any, variable: sympy.Matrix, direction: sympy.Matrix) -> Any:
    """d/dt f(variable + t·direction) at t = 0, for f of a matrix argument."""
    t = sympy.Symbol("t_direction")
    return sympy.diff(function(variable + t * direction), t).subs(t, 0)


def gradient_matrix(scalar: Any, variable: sympy.Matrix) -> sympy.Matrix:
    """The matrix of partial derivatives ∂scalar/∂variable_ij (same shape as the variable)."""
    return sympy.Matrix(
        variable.rows, variable.cols, lambda i, j: sympy.diff(scalar, variable[i, j])
    )


def standard_gaussian_expectation(expression: Any, variables: list[sympy.Symbol]) -> Any:
    """E[expression] for independent standard normal ``variables``, exactly, for a polynomial in
    them: E[z^k] = (k − 1)!! for even k, 0 for odd k (Isserlis)."""
    polynomial = sympy.Poly(sympy.expand(expression), *variables)
    total = sympy.Integer(0)
    for powers, coefficient in polynomial.terms():
        moment = sympy.Integer(1)
        for power in powers:
            if power % 2:
                moment = sympy.Integer(0)
                break
            moment *= sympy.factorial2(power - 1) if power else 1
        total += coefficient * moment
    return total


def second_moment_expectation(expression: Any, x: sympy.Matrix, moment: sympy.Matrix) -> Any:
    """E_x[expression] for an expression that is a quadratic form in the state ``x``, knowing only
    the state's second moment ``E[x xᵀ] = moment``: each monomial x_i x_j becomes moment_ij.

    This is all a state distribution contributes to a quadratic quantity (a Fisher matrix of a
    linear policy, a quadratic cost); a monomial of another degree raises ``ValueError``, since
    its expectation is not determined by the second moment."""
    variables = list(x)
    polynomial = sympy.Poly(sympy.expand(expression), *variables)
    total = sympy.Integer(0)
    for powers, coefficient in polynomial.terms():
        if coefficient == 0:
            continue
        if sum(powers) != 2:
            raise ValueError(
                f"E_x of a monomial of degree {sum(powers)} in x is not fixed by E[x x^T]"
            )
        i, j = [index for index, power in enumerate(powers) for _ in range(power)]
        total += coefficient * moment[i, j]
    return total


def solve_by_adjugate(matrix: sympy.Matrix, rhs: sympy.Matrix) -> tuple[sympy.Matrix, Any]:
    """Cramer's rule for a matrix with polynomial entries: ``matrix⁻¹ rhs = numerator / det``.

    Returns ``(adj(matrix) rhs, det(matrix))`` (sympy expressions; the adjugate and determinant
    are computed over the polynomial ring of the entries, which is fast)."""
    from sympy.polys.matrices import DomainMatrix

    system = DomainMatrix.from_Matrix(matrix)
    adjugate = system.adjugate().to_Matrix()
    determinant = system.domain.to_sympy(system.det())
    return adjugate * rhs, determinant
