"""Dimension-free expressions evaluated at concrete sizes: exact rational matrices for the data,
the defined symbols computed from their definitions (the Lyapunov solutions exactly, by
:func:`pgverify.symbolic.domain.solve_stein`).

Tier: **exact**.  Used to refute a claim that a dimension-free proof cannot establish (the
residual at a point of the domain is the counterexample) and, in the tests, to check that the
canonical form and every rule preserve values.
"""

from __future__ import annotations

from typing import Any

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.dimension_free.algebra import (
    Identity,
    Letter,
    Lyapunov,
    Matrix,
    MatrixSymbol,
    Scalar,
)
from pgverify.symbolic.dimension_free.rules import Context
from pgverify.symbolic.domain import solve_stein


class Evaluator:
    """Values of expressions at concrete ``sizes`` (letter → int, e.g. ``{"n": 2, "m": 1}``) for
    the data ``values`` (symbol name → sympy Matrix) and ``scalars`` (sympy Symbol → number).
    Symbols defined in ``context`` are computed from their definitions (so a wrong definition
    gives the value it implies); an inverse symbol is the inverse of its base's value."""

    def __init__(
        self,
        context: Context,
        sizes: dict[str, int],
        values: dict[str, sympy.Matrix],
        scalars: dict[Any, Any],
    ) -> None:
        self.context, self.sizes = context, {"1": 1, **sizes}
        self.values, self.scalars = dict(values), scalars

    def coefficient(self, value: Any) -> Any:
        return sympy.sympify(value).xreplace(self.scalars)

    def symbol(self, symbol: MatrixSymbol) -> sympy.Matrix:
        name = symbol.name
        if name in self.values:
            return self.values[name]
        context = self.context
        if name in context.definitions:
            value = self.matrix(context.definitions[name])
        elif name in context.lyapunov_definitions:
            definition = context.lyapunov_definitions[name]
            value = self.solve(definition.adjoint, definition.gain, definition.argument)
        elif symbol.inverse_of is not None:
            base = MatrixSymbol(symbol.inverse_of, symbol.rows, symbol.cols, symmetric=True)
            value = self.symbol(base).inv()
        else:
            raise InvalidProblemError(f"no value for the symbol {name!r}")
        self.values[name] = value
        return value

    def solve(self, adjoint: bool, gain: str, argument: Matrix) -> sympy.Matrix:
        closed = self.symbol(self.context.closed_loop(gain))
        weight = self.coefficient(self.context.gamma)
        forcing = self.matrix(argument)
        return solve_stein(closed.T if adjoint else closed, forcing, weight)

    def factor(self, factor: Any) -> sympy.Matrix:
        if isinstance(factor, Identity):
            return sympy.eye(self.sizes[factor.size])
        if isinstance(factor, Lyapunov):
            argument = Matrix(factor.rows, factor.cols, [(factor.argument, 1)])
            return self.solve(factor.adjoint, factor.gain, argument)
        assert isinstance(factor, Letter)
        value = self.symbol(factor.symbol)
        return value.T if factor.transposed else value

    def _word(self, word: tuple) -> sympy.Matrix:
        product = self.factor(word[0])
        for factor in word[1:]:
            product = product * self.factor(factor)
        return product

    def matrix(self, expression: Matrix) -> sympy.Matrix:
        total = sympy.zeros(self.sizes[expression.rows], self.sizes[expression.cols])
        for word, coefficient in expression.terms.items():
            total += self.coefficient(coefficient) * self._word(word)
        return total.applyfunc(sympy.cancel)

    def scalar(self, expression: Scalar) -> Any:
        total = sympy.Integer(0)
        for word, coefficient in expression.terms.items():
            total += self.coefficient(coefficient) * self._word(word).trace()
        return sympy.cancel(total)
