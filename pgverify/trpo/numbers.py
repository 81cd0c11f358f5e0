"""The three arithmetics of the TRPO references and the validation of their inputs.

``precision=`` selects one of them (the same spelling as :class:`pgverify.LQR` where they overlap):

* ``"float"`` — numpy float64 (tier float);
* an ``int`` N ≥ 1 — mpmath at N decimal digits, computed with 10 guard digits and rounded to N
  on output (tier high-precision);
* ``"exact"`` — ``fractions.Fraction`` (tier exact); floats are converted exactly (every float is
  a dyadic rational), so no input is rounded.

Vectors and matrices are numpy arrays: float64 for ``"float"``, ``dtype=object`` holding
``mpmath.mpf`` or ``Fraction`` entries otherwise, so one code path serves all three.  Every bad
input raises :class:`pgverify.InvalidProblemError` naming the argument, the value seen and what
was expected.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np

from pgverify.errors import InvalidProblemError

Precision = Literal["float", "exact"] | int
Tier = Literal["float", "high-precision", "exact"]
GUARD_DIGITS = 10
MAXIMUM_DIGITS = 10**6
"""The most mpmath digits accepted (a typo such as 10**40 digits would never finish)."""


class Field:
    """One arithmetic: conversion of inputs, the scalar functions the references need, output."""

    tier: Tier
    dtype: Any = object

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return contextlib.nullcontext()

    def scalar(self, value: Any, name: str) -> Any:
        raise NotImplementedError

    def sqrt(self, value: Any) -> Any:
        raise NotImplementedError(f"square roots are not available in the {self.tier} tier")

    def log(self, value: Any) -> Any:
        raise InvalidProblemError(
            f"logarithms are irrational: the {self.tier} tier cannot evaluate them; use "
            "precision=<digits> (mpmath)"
        )

    def tanh(self, value: Any) -> Any:
        raise InvalidProblemError(
            f"tanh is irrational: the {self.tier} tier cannot evaluate it; use "
            "precision=<digits> (mpmath)"
        )

    def normalisation_tolerance(self) -> Any:
        """How far from 1 a probability vector's sum may be in this arithmetic."""
        return 0

    def export(self, value: Any) -> Any:
        """The user-facing form of a result (entries rounded to the digits asked for)."""
        return value

    def array(self, value: Any, name: str, ndim: int) -> np.ndarray:
        """A non-empty array of ``ndim`` dimensions with every entry converted (and checked)."""
        array = _read_array(value, name)
        if array.ndim != ndim:
            kind = "vector" if ndim == 1 else "matrix"
            raise InvalidProblemError(
                f"{name} must be a {ndim}-D {kind}, got an array of shape {array.shape}"
            )
        if array.size == 0:
            raise InvalidProblemError(f"{name} is empty (shape {array.shape}); expected entries")
        converted = np.empty(array.shape, dtype=self.dtype)
        for index, entry in np.ndenumerate(array):
            converted[index] = self.scalar(entry, f"{name}{list(index)}")
        return converted


class FloatField(Field):
    tier: Tier = "float"
    dtype = np.float64

    def scalar(self, value: Any, name: str) -> float:
        number = _real(value, name)
        try:
            result = float(number)
        except OverflowError as exc:
            raise InvalidProblemError(f"{name} = {value!r} does not fit in float64") from exc
        if not math.isfinite(result):
            raise InvalidProblemError(f"{name} must be finite, got {value!r}")
        return result

    def array(self, value: Any, name: str, ndim: int) -> np.ndarray:
        raw = _read_array(value, name, dtype=None) if not isinstance(value, mpmath.matrix) else None
        if raw is not None and raw.dtype.kind in "iuf" and raw.ndim == ndim and raw.size:
            # the fast path: a real numeric array (ints must survive float64 unchanged)
            converted = raw.astype(np.float64)
            if not np.all(np.isfinite(converted)):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(converted))[0])
                raise InvalidProblemError(
                    f"{name} has a non-finite entry {converted[bad]} at index {list(bad)}; "
                    "expected finite numbers"
                )
            if raw.dtype.kind in "iu" and np.any(converted.astype(object) != raw.astype(object)):
                raise InvalidProblemError(f"{name} has integers too large for float64")
            return converted
        return super().array(value, name, ndim)

    def sqrt(self, value: Any) -> float:
        return math.sqrt(value)

    def log(self, value: Any) -> float:
        return math.log(value)

    def tanh(self, value: Any) -> float:
        return math.tanh(value)

    def normalisation_tolerance(self) -> float:
        return 1e-12

    def export(self, value: Any) -> Any:
        return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.float64)


class MpmathField(Field):
    tier: Tier = "high-precision"

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return mpmath.workdps(self.digits + GUARD_DIGITS)

    def scalar(self, value: Any, name: str) -> mpmath.mpf:
        number = _real(value, name)
        if isinstance(number, Fraction):
            return mpmath.mpf(number.numerator) / number.denominator
        result = mpmath.mpf(number)
        if not mpmath.isfinite(result):
            raise InvalidProblemError(f"{name} must be finite, got {value!r}")
        return result

    def sqrt(self, value: Any) -> mpmath.mpf:
        return mpmath.sqrt(value)

    def log(self, value: Any) -> mpmath.mpf:
        return mpmath.log(value)

    def tanh(self, value: Any) -> mpmath.mpf:
        return mpmath.tanh(value)

    def normalisation_tolerance(self) -> mpmath.mpf:
        return mpmath.mpf(10) ** (-self.digits)

    def export(self, value: Any) -> Any:
        with mpmath.workdps(self.digits):
            if isinstance(value, np.ndarray):
                out = np.empty(value.shape, dtype=object)
                for index, entry in np.ndenumerate(value):
                    out[index] = +mpmath.mpf(entry)
                return out
            return +mpmath.mpf(value)


class ExactField(Field):
    tier: Tier = "exact"

    def scalar(self, value: Any, name: str) -> Fraction:
        number = _real(value, name)
        if isinstance(number, mpmath.mpf):
            if not mpmath.isfinite(number):
                raise InvalidProblemError(f"{name} must be finite, got {value!r}")
            return mpf_to_fraction(number)
        if isinstance(number, float) and not math.isfinite(number):
            raise InvalidProblemError(f"{name} must be finite, got {value!r}")
        return Fraction(number)  # exact for int, Fraction and float (a dyadic rational)

    def sqrt(self, value: Any) -> Fraction:
        """The rational square root of a square rational; otherwise InvalidProblemError."""
        root = rational_square_root(value)
        if root is None:
            raise InvalidProblemError(
                f"the square root of {value} is irrational, so no exact result exists; use "
                "precision=<digits> (mpmath) instead of precision='exact'"
            )
        return root

    def log(self, value: Any) -> Fraction:
        """``log 1 = 0``; any other logarithm of a rational is irrational: InvalidProblemError."""
        if value == 1:
            return Fraction(0)
        return super().log(value)


def mpf_to_fraction(value: mpmath.mpf) -> Fraction:
    """The exact rational value of a finite mpf (a dyadic rational)."""
    mantissa, exponent = value.man_exp  # |mantissa|: the sign is kept apart
    magnitude = Fraction(int(mantissa)) * Fraction(2) ** int(exponent)
    return -magnitude if value < 0 else magnitude


def rational_square_root(value: Fraction) -> Fraction | None:
    """``√value`` when it is rational (numerator and denominator perfect squares), else None."""
    if value < 0:
        return None
    top, bottom = math.isqrt(value.numerator), math.isqrt(value.denominator)
    if top * top == value.numerator and bottom * bottom == value.denominator:
        return Fraction(top, bottom)
    return None


def field_for(precision: Any) -> Field:
    """The arithmetic named by ``precision``: ``"float"``, an int (mpmath digits) or ``"exact"``."""
    if isinstance(precision, str):
        if precision == "float":
            return FloatField()
        if precision == "exact":
            return ExactField()
    elif (
        isinstance(precision, (int, np.integer))
        and not isinstance(precision, bool)
        and 1 <= precision <= MAXIMUM_DIGITS
    ):
        return MpmathField(int(precision))
    raise InvalidProblemError(
        f"precision must be 'float', an int in [1, {MAXIMUM_DIGITS}] (mpmath decimal digits) or "
        f"'exact'; got {precision!r}"
    )


def _real(value: Any, name: str) -> Any:
    """A real number of a supported type (bools, strings, complex numbers refused)."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidProblemError(f"{name} must be a real number, got the bool {value!r}")
    if isinstance(value, np.generic):
        if np.iscomplexobj(value):
            raise InvalidProblemError(f"{name} must be real, got the complex number {value!r}")
        value = value.item()
    if isinstance(value, (Fraction, mpmath.mpf, int, float)):
        return value
    if isinstance(value, numbers.Rational):
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, (complex, mpmath.mpc)):
        raise InvalidProblemError(f"{name} must be real, got the complex number {value!r}")
    raise InvalidProblemError(
        f"{name} must be a real number (int, float, Fraction or mpmath.mpf), got "
        f"{type(value).__name__} {value!r}"
    )


def _read_array(value: Any, name: str, dtype: Any = object) -> np.ndarray:
    if value is None:
        raise InvalidProblemError(f"{name} is required, got None")
    if isinstance(value, mpmath.matrix):
        value = value.tolist()
    try:
        array = np.asarray(value, dtype=dtype)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(
            f"{name} could not be read as an array ({exc}); expected a rectangular array of "
            "real numbers"
        ) from exc
    return array


def positive_scalar(field: Field, value: Any, name: str, *, allow_zero: bool = False) -> Any:
    """A finite scalar ``> 0`` (``>= 0`` with ``allow_zero``) in ``field``."""
    number = field.scalar(value, name)
    if number < 0 or (number == 0 and not allow_zero):
        wanted = ">= 0" if allow_zero else "> 0"
        raise InvalidProblemError(f"{name} must be {wanted}, got {value!r}")
    return number


MAXIMUM_COUNT = 2**53
"""Counts (iterations, dimensions) above this are refused: float64 could not even hold them."""


def count(value: Any, name: str, *, minimum: int = 0, maximum: int = MAXIMUM_COUNT) -> int:
    """A Python int in ``[minimum, maximum]`` (bools refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidProblemError(f"{name} must be an int >= {minimum}, got {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidProblemError(f"{name} must be an int in [{minimum}, {maximum}], got {value!r}")
    return int(value)


def dot(left: np.ndarray, right: np.ndarray) -> Any:
    """``leftᵀ right`` summed left to right (the same order in every arithmetic)."""
    if left.dtype == np.float64 and right.dtype == np.float64:
        return float(left @ right)
    total = left[0] * right[0]
    for a, b in zip(left[1:], right[1:], strict=True):
        total += a * b
    return total


def matrix_vector(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``matrix @ vector`` in the arithmetic of the entries."""
    if matrix.dtype == np.float64 and vector.dtype == np.float64:
        return matrix @ vector
    out = np.empty(matrix.shape[0], dtype=object)
    for i in range(matrix.shape[0]):
        out[i] = dot(matrix[i], vector)
    return out


def vec(matrix: np.ndarray) -> np.ndarray:
    """Column-major vectorisation (the project's convention)."""
    return matrix.reshape(-1, order="F")


def unvec(vector: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The inverse of :func:`vec`."""
    return vector.reshape((rows, cols), order="F")


def require_positive_semidefinite(
    field: Field, matrix: np.ndarray, name: str, *, definite: bool = False
) -> None:
    """Refuse a square ``matrix`` whose symmetric part ``(M + Mᵀ)/2`` is not positive
    semidefinite (``definite``: not positive definite), with an InvalidProblemError naming
    ``name``, its smallest eigenvalue and the expectation.

    Exact tier: decided exactly by an LDLᵀ elimination with diagonal pivoting (a zero largest
    pivot leaves a positive semidefinite matrix only if the remaining block is zero).  Float and
    high-precision tiers: the smallest eigenvalue of the symmetric part against the rounding at
    the working precision, ``64 n u max|M|`` — a matrix that is semidefinite up to rounding is
    accepted, one that is not definite beyond rounding is refused when ``definite``."""
    size = matrix.shape[0]
    symmetric = [[(matrix[i, j] + matrix[j, i]) / 2 for j in range(size)] for i in range(size)]
    wanted = "positive definite" if definite else "positive semidefinite"
    if field.tier == "exact":
        if not _exactly_semidefinite(symmetric, definite):
            raise InvalidProblemError(
                f"{name} is not {wanted} (decided exactly); expected {wanted}"
            )
        return
    if field.tier == "float":
        smallest = float(np.min(np.linalg.eigvalsh(np.array(symmetric, dtype=float))))
        roundoff = float(np.finfo(np.float64).eps)
    else:
        eigenvalues, _ = mpmath.eigsy(mpmath.matrix(symmetric))
        smallest = min(eigenvalues[i] for i in range(size))
        roundoff = mpmath.mpf(2) ** (-mpmath.mp.prec)
    largest = max(abs(entry) for row in symmetric for entry in row)
    slack = 64 * size * roundoff * largest
    if smallest < -slack or (definite and smallest <= slack):
        raise InvalidProblemError(
            f"{name} is not {wanted}: its smallest eigenvalue is {float(smallest):.6g} "
            f"(rounding allows {float(slack):.3g}); expected {wanted}"
        )


def _exactly_semidefinite(symmetric: list[list[Fraction]], definite: bool) -> bool:
    remaining = list(range(len(symmetric)))
    while remaining:
        k = max(remaining, key=lambda i: symmetric[i][i])
        pivot = symmetric[k][k]
        if pivot < 0 or (pivot == 0 and definite):
            return False
        if pivot == 0:  # every diagonal entry left is 0: only the zero block is semidefinite
            return all(symmetric[i][j] == 0 for i in remaining for j in remaining)
        remaining.remove(k)
        for i in remaining:
            factor = symmetric[i][k] / pivot
            for j in remaining:
                symmetric[i][j] -= factor * symmetric[k][j]
    return True
