"""Three arithmetics behind one small interface.

Every closed form of pgverify is written once, against the operators ``@ + - .T`` and scalar
``*``, plus the few methods of :class:`Arithmetic` (``solve``, ``trace``, ``block``, ...).  It then
runs unchanged in

* ``"float"`` — numpy float64 arrays (tier *float*: the fast path, never a reference on its own);
* an ``int`` N — mpmath at N decimal digits (tier *high-precision*);
* ``"certified"`` or :class:`Certified` — python-flint (Arb) ball arithmetic (tier *certified*:
  the true value provably lies inside every returned ball).

Inputs are float64 arrays, which every arithmetic converts *exactly* (a double is a dyadic
rational), so all three tiers answer the same mathematical question.  What each tier returns to
the user (:meth:`Arithmetic.export`): a float or a float64 ndarray; an ``mpmath.mpf`` or a numpy
object ndarray of ``mpmath.mpf``; a :class:`pgverify.Enclosure` (see ``docs/user-guide.md``).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Literal

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx

# re-exported: the certified code imports the conversions from here
from pgverify.balls import (  # noqa: F401
    RATIONAL_BITS,
    binary_exponent,
    float_lower,
    float_upper,
    to_arb,
)
from pgverify.enclosure import Enclosure
from pgverify.errors import CertificationError, InvalidProblemError

Tier = Literal["float", "high-precision", "certified"]

DEFAULT_CERTIFIED_BITS = 212
"""Working precision of ``precision="certified"``: 212 bits is about 64 decimal digits, enough
for enclosures with 50 or more certified digits on reasonably conditioned problems."""


Engine = Literal["auto", "blas", "arb"]
ENGINES: tuple[str, ...] = ("auto", "blas", "arb")


@dataclass(frozen=True)
class Certified:
    """Request certified arithmetic at ``bits`` bits of working precision.

    ``precision="certified"`` is ``Certified(bits=212)``.  The certified digits of a result are
    usually a few fewer than ``bits * log10(2)``: the enclosure's radius also carries the
    problem's conditioning.

    ``engine`` chooses how LQR quantities at a gain are enclosed: ``"blas"`` — exact limb
    products on float64 BLAS (:mod:`pgverify.fixedpoint`; fastest from n ≈ 20 on), ``"arb"`` —
    python-flint ball arithmetic throughout (fastest for small n), ``"auto"`` (default) — by
    size.  Both are rigorous; asking for each is a way to cross-check them.
    """

    bits: int = DEFAULT_CERTIFIED_BITS
    engine: Engine = "auto"

    def __post_init__(self) -> None:
        if not isinstance(self.bits, int) or isinstance(self.bits, bool) or self.bits < 64:
            raise InvalidProblemError(
                f"Certified(bits=...) must be an int >= 64, got {self.bits!r}"
            )
        if not isinstance(self.engine, str) or self.engine not in ENGINES:
            raise InvalidProblemError(
                f"Certified(engine=...) must be one of {', '.join(ENGINES)}; got {self.engine!r}"
            )


PrecisionSpec = Literal["float", "certified"] | int | Certified


# --------------------------------------------------------------------------------------------
# Ball matrices with the operator interface the closed forms use
# --------------------------------------------------------------------------------------------


class BallMatrix:
    """An ``arb_mat`` with numpy-style operators (``@``, ``.T``, scalar ``*``)."""

    __slots__ = ("m",)

    def __init__(self, m: arb_mat) -> None:
        self.m = m

    @property
    def shape(self) -> tuple[int, int]:
        return (self.m.nrows(), self.m.ncols())

    @property
    def T(self) -> BallMatrix:
        return BallMatrix(self.m.transpose())

    def __matmul__(self, other: BallMatrix) -> BallMatrix:
        return BallMatrix(self.m * other.m)

    def __add__(self, other: BallMatrix) -> BallMatrix:
        return BallMatrix(self.m + other.m)

    def __sub__(self, other: BallMatrix) -> BallMatrix:
        return BallMatrix(self.m - other.m)

    def __neg__(self) -> BallMatrix:
        return BallMatrix(-self.m)

    def __mul__(self, scalar: Any) -> BallMatrix:
        return BallMatrix(self.m * to_arb(scalar))

    __rmul__ = __mul__

    def __getitem__(self, index: tuple[int, int]) -> arb:
        return self.m[index]

    def __repr__(self) -> str:
        return f"BallMatrix({self.m})"


# --------------------------------------------------------------------------------------------
# Rigorous helpers on arb matrices (norm bounds and widening)
# --------------------------------------------------------------------------------------------


def frobenius_upper(matrix: arb_mat) -> arb:
    """A ball whose upper end bounds ‖M‖_F = sqrt(tr(MᵀM)) (and so ‖M‖₂)."""
    total = arb(0)
    for row in matrix.tolist():
        for entry in row:
            magnitude = arb(entry.abs_upper())
            total += magnitude * magnitude
    return arb(total.upper()).sqrt()


def add_radius(matrix: arb_mat, radius: arb) -> arb_mat:
    """Every entry of ``matrix`` widened by ``radius`` (a bound on the spectral norm of an error
    matrix bounds each of its entries)."""
    widen = arb(0, radius.upper())
    rows = matrix.nrows()
    cols = matrix.ncols()
    return arb_mat(rows, cols, [matrix[i, j] + widen for i in range(rows) for j in range(cols)])


# --------------------------------------------------------------------------------------------
# The arithmetic interface
# --------------------------------------------------------------------------------------------


class Arithmetic:
    """What a closed form needs beyond the matrix operators.

    Subclasses: :class:`FloatArithmetic`, :class:`MpmathArithmetic`, :class:`BallArithmetic`.
    ``working_bits`` is the precision the iterative solvers aim for.
    """

    tier: Tier
    working_bits: int

    def context(self) -> contextlib.AbstractContextManager[Any]:
        """Enter the working precision (a no-op for float64)."""
        return contextlib.nullcontext()

    def matrix(self, array: np.ndarray) -> Any:
        """Exact conversion of a float64 array."""
        raise NotImplementedError

    def scalar(self, value: float) -> Any:
        raise NotImplementedError

    def solve(self, matrix: Any, rhs: Any) -> Any:
        """``matrix⁻¹ rhs`` (rigorous in balls)."""
        raise NotImplementedError

    def trace(self, matrix: Any) -> Any:
        raise NotImplementedError

    def block(self, rows: list[list[Any]]) -> Any:
        """Assemble a block matrix."""
        raise NotImplementedError

    def to_float(self, value: Any) -> np.ndarray:
        """Nearest float64 array of the (mid)value."""
        raise NotImplementedError

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> Any:
        """Exact conversion of ``array · 2^exponent`` (a float64 array times a power of two that
        float64 itself might not represent)."""
        return self.matrix(array) * self.scalar(2.0**exponent)

    def to_float_scaled(self, value: Any) -> tuple[np.ndarray, int]:
        """``(array, e)`` with ``value ≈ array · 2^e`` in float64 whatever the scale of ``value``
        (iterative refinement must not lose residuals below 2^-1074 or above 2^1024)."""
        return self.to_float(value), 0

    def increment(self, array: np.ndarray, of: Any, exponent: int = 0) -> Any:
        """Exact conversion of a float64 correction ``array · 2^exponent`` that will be added to
        ``of`` (iterative refinement); an arithmetic may then work with it only to ``of``'s
        absolute accuracy."""
        return self.scaled_matrix(array, exponent) if exponent else self.matrix(array)

    def settled(self, value: Any) -> Any:
        """``value`` as a result in its own right: an arithmetic that computed it only to the
        absolute precision of a larger quantity (a refinement correction) drops that limit, so
        that later products keep their relative precision."""
        return value

    def norm_upper(self, value: Any) -> arb:
        """(certified arithmetics) An upper bound of the Frobenius norm of every matrix in
        ``value``."""
        raise NotImplementedError

    def widen(self, value: Any, radius: arb) -> Any:
        """(certified arithmetics) ``value`` enlarged by every matrix of Frobenius norm at most
        ``radius`` (so also of every entry's error)."""
        raise NotImplementedError

    def point(self, value: Any) -> Any:
        """An exact point near ``value`` (the midpoint of a ball; the value itself otherwise)."""
        return value

    def export(self, value: Any) -> Any:
        """The user-facing form of a result."""
        raise NotImplementedError


class FloatArithmetic(Arithmetic):
    tier: Tier = "float"
    working_bits = 53

    def matrix(self, array: np.ndarray) -> np.ndarray:
        return np.array(array, dtype=float)

    def scalar(self, value: float) -> float:
        return float(value)

    def solve(self, matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.solve(matrix, rhs)
        except np.linalg.LinAlgError as exc:
            raise CertificationError(
                f"the {matrix.shape[0]}x{matrix.shape[1]} float64 linear system is singular "
                f"after rounding ({exc}); use a higher tier (precision=N digits or "
                "'certified')"
            ) from exc

    def trace(self, matrix: np.ndarray) -> float:
        return float(np.trace(matrix))

    def block(self, rows: list[list[np.ndarray]]) -> np.ndarray:
        return np.block(rows)

    def to_float(self, value: Any) -> np.ndarray:
        return np.asarray(value, dtype=float)

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> np.ndarray:
        return np.ldexp(np.asarray(array, dtype=float), exponent)

    def export(self, value: Any) -> Any:
        """The result as float64; a non-finite entry (an overflow of float64's range, or
        inf − inf after one) raises CertificationError rather than being returned silently."""
        result = float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)
        if not np.all(np.isfinite(result)):
            raise CertificationError(
                "the float64 computation produced non-finite values (an entry beyond float64's "
                "range, ~1.8e308, or an operation on one): no float answer is returned; use "
                "precision=<decimal digits> (mpmath) or 'certified', whose ranges are unbounded"
            )
        return result


class MpmathArithmetic(Arithmetic):
    """mpmath at ``digits`` decimal digits (plus guard digits while computing)."""

    tier: Tier = "high-precision"
    GUARD_DIGITS = 10

    def __init__(self, digits: int) -> None:
        self.digits = digits
        self.working_bits = math.ceil((digits + self.GUARD_DIGITS) * math.log2(10))

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return mpmath.workdps(self.digits + self.GUARD_DIGITS)

    def matrix(self, array: np.ndarray) -> mpmath.matrix:
        return mpmath.matrix(np.asarray(array, dtype=float).tolist())

    def scalar(self, value: float) -> mpmath.mpf:
        return mpmath.mpf(value)

    def solve(self, matrix: mpmath.matrix, rhs: mpmath.matrix) -> mpmath.matrix:
        try:
            return mpmath.inverse(matrix) * rhs
        except ZeroDivisionError as exc:
            raise CertificationError(
                f"the {matrix.rows}x{matrix.cols} linear system is singular at "
                f"{self.digits} digits; use more digits or precision='certified'"
            ) from exc

    def trace(self, matrix: mpmath.matrix) -> mpmath.mpf:
        return mpmath.fsum(matrix[i, i] for i in range(matrix.rows))

    def block(self, rows: list[list[mpmath.matrix]]) -> mpmath.matrix:
        height = sum(row[0].rows for row in rows)
        width = sum(item.cols for item in rows[0])
        out = mpmath.matrix(height, width)
        top = 0
        for row in rows:
            left = 0
            for item in row:
                for i in range(item.rows):
                    for j in range(item.cols):
                        out[top + i, left + j] = item[i, j]
                left += item.cols
            top += row[0].rows
        return out

    def to_float(self, value: Any) -> np.ndarray:
        if isinstance(value, mpmath.matrix):
            return np.array(value.tolist(), dtype=float)
        return np.asarray(float(value))

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> mpmath.matrix:
        return self.matrix(array) * mpmath.ldexp(mpmath.mpf(1), exponent)  # exact

    def to_float_scaled(self, value: Any) -> tuple[np.ndarray, int]:
        array = self.to_float(value)
        if _float_range_is_safe(array):
            return array, 0
        entries = value.tolist() if isinstance(value, mpmath.matrix) else [[value]]
        largest = max((abs(x) for row in entries for x in row), default=mpmath.mpf(0))
        if largest == 0:
            return array, 0
        exponent = int(mpmath.frexp(largest)[1])
        return self.to_float(value * mpmath.ldexp(mpmath.mpf(1), -exponent)), exponent

    def export(self, value: Any) -> Any:
        """An ``mpmath.mpf`` for a scalar; a numpy object ndarray of ``mpmath.mpf`` of the
        matrix's shape for a matrix (so ``np.asarray(x, dtype=float)`` keeps the shape, and
        indexing, ``@``, ``.T`` and ``.astype(float)`` work as for any numpy array)."""
        # Round the guard digits away so the result carries the digits asked for.
        with mpmath.workdps(self.digits):
            if isinstance(value, mpmath.matrix):
                return mpf_array([[+entry for entry in row] for row in value.tolist()])
            return +value


class BallArithmetic(Arithmetic):
    """python-flint (Arb) balls at ``bits`` bits.  ``engine`` is passed on from
    :class:`Certified` for the code that may hand the work to :mod:`pgverify.fixedpoint`."""

    tier: Tier = "certified"

    def __init__(self, bits: int, engine: Engine = "auto") -> None:
        self.working_bits = bits
        self.engine = engine

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return ctx.workprec(self.working_bits)

    def matrix(self, array: np.ndarray) -> BallMatrix:
        return BallMatrix(arb_mat(np.asarray(array, dtype=float).tolist()))

    def scalar(self, value: float) -> arb:
        return to_arb(value)

    def solve(self, matrix: BallMatrix, rhs: BallMatrix) -> BallMatrix:
        try:
            return BallMatrix(matrix.m.solve(rhs.m))
        except ZeroDivisionError as exc:
            raise CertificationError(
                f"could not certify the solution of a {matrix.shape[0]}x{matrix.shape[1]} "
                f"linear system at {self.working_bits} bits: the matrix is numerically singular "
                "in ball arithmetic; try Certified(bits=...) with more bits"
            ) from exc

    def trace(self, matrix: BallMatrix) -> arb:
        return matrix.m.trace()

    def block(self, rows: list[list[BallMatrix]]) -> BallMatrix:
        entries: list[list[arb]] = []
        for row in rows:
            height = row[0].shape[0]
            for i in range(height):
                line: list[arb] = []
                for item in row:
                    line.extend(item.m[i, j] for j in range(item.shape[1]))
                entries.append(line)
        return BallMatrix(arb_mat(entries))

    def to_float(self, value: Any) -> np.ndarray:
        if isinstance(value, BallMatrix):
            rows, cols = value.shape
            return np.fromiter(map(float, value.m.entries()), float, rows * cols).reshape(
                rows, cols
            )
        return np.asarray(float(value.mid()))

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> BallMatrix:
        return BallMatrix(self.matrix(array).m * arb(2) ** exponent)  # exact

    def to_float_scaled(self, value: Any) -> tuple[np.ndarray, int]:
        array = self.to_float(value)
        if _float_range_is_safe(array):
            return array, 0
        entries = value.m.entries() if isinstance(value, BallMatrix) else [value]
        exponent = max(binary_exponent(entry) for entry in entries)
        if exponent < -(10**8):  # every midpoint is exactly 0
            return array, 0
        scale = arb(2) ** (-exponent)
        scaled = BallMatrix(value.m * scale) if isinstance(value, BallMatrix) else value * scale
        return self.to_float(scaled), exponent

    def point(self, value: Any) -> Any:
        return BallMatrix(value.m.mid()) if isinstance(value, BallMatrix) else value.mid()

    def norm_upper(self, value: BallMatrix) -> arb:
        return frobenius_upper(value.m)

    def widen(self, value: BallMatrix, radius: arb) -> BallMatrix:
        return BallMatrix(add_radius(value.m, radius))

    def export(self, value: Any) -> Enclosure:
        return Enclosure(value.m if isinstance(value, BallMatrix) else value)


def _float_range_is_safe(array: np.ndarray) -> bool:
    """Is float64 conversion of a matrix whose nearest floats are ``array`` free of overflow and
    of underflow that matters (largest entry normal and far from both ends of the range)?"""
    largest = float(np.max(np.abs(array), initial=0.0))
    return bool(2.0**-900 < largest < 2.0**900)


def mpf_array(rows: list[list[mpmath.mpf]]) -> np.ndarray:
    """The user-facing form of a high-precision matrix: a numpy object ndarray of shape
    (rows, cols) holding ``mpmath.mpf`` (unlike an ``mpmath.matrix``, numpy keeps its shape)."""
    array = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            array[i, j] = entry
    return array


def arithmetic_for(precision: PrecisionSpec) -> Arithmetic:
    """The arithmetic named by a ``precision=`` argument.

    ``"float"`` → float64; an ``int`` N >= 1 → mpmath at N decimal digits; ``"certified"`` or
    ``Certified(bits=...)`` → ball arithmetic.
    """
    if isinstance(precision, Certified):
        return BallArithmetic(precision.bits, precision.engine)
    if isinstance(precision, str):
        if precision == "float":
            return FloatArithmetic()
        if precision == "certified":
            return BallArithmetic(DEFAULT_CERTIFIED_BITS)
    elif isinstance(precision, int) and not isinstance(precision, bool) and precision >= 1:
        return MpmathArithmetic(precision)
    raise InvalidProblemError(
        f"precision must be 'float', a positive int (mpmath decimal digits), 'certified' or "
        f"pgverify.Certified(bits=...); got {precision!r}"
    )
