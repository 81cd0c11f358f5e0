"""Exact polynomial matrices over QQ[symbols] (sympy's sparse polynomial rings).

Solving a Lyapunov equation with generic symbolic entries gives rational functions whose common
denominator is d = det of the linear system; ``sympy.together``/``expand`` on such expressions is
slow (a minute for n = 2).  Here the solution is kept as (numerator matrix, d) by Cramer's rule
(adjugate and determinant of a DomainMatrix) and every identity is multiplied through by the
known powers of d, so each check is an identity of sparse polynomials — hundreds of times faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import PolyElement, ring

Matrix = list[list[PolyElement]]


class PolynomialAlgebra:
    """A polynomial ring over QQ in the given symbols, with small dense matrix helpers."""

    def __init__(self, symbols: Sequence[sympy.Symbol]) -> None:
        self.symbols = list(symbols)
        self.ring, *self.generators = ring(self.symbols, QQ)

    def generator(self, symbol: sympy.Symbol) -> PolyElement:
        return self.generators[self.symbols.index(symbol)]

    def matrix(self, matrix: sympy.Matrix) -> Matrix:
        convert = self.ring.from_expr
        return [
            [
                convert(matrix[i, j]) if matrix[i, j] != 0 else self.ring.zero
                for j in range(matrix.cols)
            ]
            for i in range(matrix.rows)
        ]

    def scalar(self, value: Any) -> PolyElement:
        return self.ring.from_expr(sympy.sympify(value)) if value != 0 else self.ring.zero

    @staticmethod
    def mul(left: Matrix, right: Matrix) -> Matrix:
        inner = range(len(right))
        return [
            [
                sum((left[i][k] * right[k][j] for k in inner), left[0][0].ring.zero)
                for j in range(len(right[0]))
            ]
            for i in range(len(left))
        ]

    @staticmethod
    def add(left: Matrix, right: Matrix, weight: Any = 1) -> Matrix:
        return [
            [left[i][j] + weight * right[i][j] for j in range(len(left[0]))]
            for i in range(len(left))
        ]

    @staticmethod
    def scale(matrix: Matrix, weight: Any) -> Matrix:
        return [[weight * entry for entry in row] for row in matrix]

    @staticmethod
    def transpose(matrix: Matrix) -> Matrix:
        return [list(row) for row in zip(*matrix, strict=True)]

    @staticmethod
    def trace(matrix: Matrix) -> PolyElement:
        return sum((matrix[i][i] for i in range(len(matrix))), matrix[0][0].ring.zero)

    def solve_symmetric_stein(
        self, operator: Callable[[Matrix], Matrix], forcing: Matrix
    ) -> tuple[Matrix, PolyElement]:
        """Solve ``X = forcing + operator(X)`` for symmetric X by Cramer's rule.

        Returns ``(N, d)`` with ``X = N / d``: d is the determinant of the linear system in the
        n(n+1)/2 unknowns, N the adjugate applied to the right-hand side (both polynomials)."""
        size = len(forcing)
        pairs = [(i, j) for i in range(size) for j in range(i, size)]
        columns = []
        for i, j in pairs:
            unit = [[self.ring.zero] * size for _ in range(size)]
            unit[i][j] = unit[j][i] = self.ring.one
            image = operator(unit)
            columns.append([unit[a][b] - image[a][b] for a, b in pairs])
        domain = self.ring.to_domain()
        system = DomainMatrix(
            [[columns[c][r] for c in range(len(pairs))] for r in range(len(pairs))],
            (len(pairs), len(pairs)),
            domain,
        )
        rhs = DomainMatrix([[forcing[a][b]] for a, b in pairs], (len(pairs), 1), domain)
        determinant = system.det()
        numerators = (system.adjugate() * rhs).to_list()
        solution = [[self.ring.zero] * size for _ in range(size)]
        for k, (i, j) in enumerate(pairs):
            solution[i][j] = solution[j][i] = numerators[k][0]
        return solution, determinant
