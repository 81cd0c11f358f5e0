"""The callables the TRPO checks hand to an implementation (a matrix-vector product, a quadratic
surrogate, a quadratic KL), printable as Python that rebuilds them exactly, and the reading of
a user case whose arguments include callables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pgverify.checks._format import python_literal
from pgverify.checks._spec import CheckSpec, by_name
from pgverify.errors import InvalidProblemError


class MatrixOperator:
    """``p ↦ A p`` for a fixed float64 matrix A (a copy of ``p`` is taken: the caller may
    reuse its vector)."""

    def __init__(self, matrix: Any) -> None:
        self.matrix = np.array(matrix, dtype=float)

    def __call__(self, p: Any) -> np.ndarray:
        return self.matrix @ np.asarray(p)

    def __repr__(self) -> str:
        return f"pgverify.checks.trpo.MatrixOperator({python_literal(self.matrix)})"


class Quadratic:
    """``s ↦ constant + linᵀs + ½ sᵀ H s`` (float64 on float input; exact on Fractions)."""

    def __init__(self, linear: Any, hessian: Any, constant: float = 0.0) -> None:
        self.linear = np.array(linear, dtype=float)
        self.hessian = np.array(hessian, dtype=float)
        self.constant = float(constant)

    def __call__(self, s: Any) -> Any:
        s = np.asarray(s)
        if s.dtype == object:
            linear = self.linear.astype(object)
            hessian = self.hessian.astype(object)
        else:
            linear, hessian = self.linear, self.hessian
        return self.constant + linear @ s + (s @ (hessian @ s)) / 2

    def __repr__(self) -> str:
        return (
            f"pgverify.checks.trpo.Quadratic({python_literal(self.linear)}, "
            f"{python_literal(self.hessian)}, {self.constant!r})"
        )


def columns_of(operator: Any, size: int, name: str) -> np.ndarray:
    """The matrix of a linear operator on (size,) vectors, column by column, validated
    symmetric (a PgverifyError names ``name`` otherwise)."""
    columns = []
    for i in range(size):
        unit = np.zeros(size)
        unit[i] = 1.0
        try:
            column = np.asarray(operator(unit), dtype=float)
        except Exception as exc:
            raise InvalidProblemError(f"{name}(e_{i}) raised {exc!r}") from exc
        if column.shape != (size,) or not np.all(np.isfinite(column)):
            raise InvalidProblemError(
                f"{name}(e_{i}) returned shape {column.shape}; expected finite ({size},)"
            )
        columns.append(column)
    matrix = np.column_stack(columns)
    if not np.array_equal(matrix, matrix.T):
        raise InvalidProblemError(f"{name} is not symmetric; expected a symmetric operator")
    return matrix


class CallableArgumentsSpec(CheckSpec):
    """A check whose implementation takes some callables: a user case may give them as
    callables (or, for ``matrix_parameters``, as a symmetric matrix, wrapped in a
    :class:`MatrixOperator`); the other arguments are read as float64."""

    callable_parameters: tuple[str, ...] = ()
    matrix_parameters: tuple[str, ...] = ()
    integer_parameters: tuple[str, ...] = ()

    def arguments_from(self, case: Any, index: int) -> dict[str, Any]:
        held: dict[str, Any] = {}
        case = by_name(case)
        if isinstance(case, Mapping):
            case = dict(case)
            for name in self.callable_parameters:
                if name in case:
                    held[name] = case[name]
                    case[name] = 0.0
        elif isinstance(case, Sequence) and not isinstance(case, (str, bytes)):
            case = list(case)
            for position, name in enumerate(self.parameters):
                if name in self.callable_parameters and position < len(case):
                    held[name] = case[position]
                    case[position] = 0.0
        arguments = super().arguments_from(case, index)
        for name, value in held.items():
            if not callable(value):
                if name not in self.matrix_parameters:
                    raise InvalidProblemError(
                        f"cases[{index}][{name!r}] must be a callable, got {type(value).__name__}"
                    )
                value = MatrixOperator(value)
            arguments[name] = value
        for name in self.integer_parameters:
            value = arguments[name]
            if not (float(value).is_integer() and value >= 0):
                raise InvalidProblemError(
                    f"cases[{index}][{name!r}] must be an integer >= 0, got {value!r}"
                )
            arguments[name] = int(value)  # the implementation may pass it to range()
        return arguments
