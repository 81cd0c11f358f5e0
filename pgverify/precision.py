"""Three arithmetics behind one small interface, and the certified result type.

Every closed form of pgverify is written once, against the operators ``@ + - .T`` and scalar
``*``, plus the few methods of :class:`Arithmetic` (``solve``, ``trace``, ``block``, ...).  It then
runs unchanged in

* ``"float"`` — numpy float64 arrays (tier *float*: the fast path, never a reference on its own);
* an ``int`` N — mpmath at N decimal digits (tier *high-precision*);
* ``"certified"`` or :class:`Certified` — python-flint (Arb) ball arithmetic (tier *certified*:
  the true value provably lies inside every returned ball).

Inputs are float64 arrays, which every arithmetic converts *exactly* (a double is a dyadic
rational), so all three tiers answer the same mathematical question.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx, fmpq, fmpz

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
        if self.engine not in ENGINES:
            raise InvalidProblemError(
                f"Certified(engine=...) must be one of {', '.join(ENGINES)}; got {self.engine!r}"
            )


RATIONAL_BITS = 2048
"""Precision at which a non-dyadic rational is enclosed for :meth:`Enclosure.contains`: the
answer is exact unless the rational lies within about 2^-2048 of the enclosure's boundary."""

PrecisionSpec = Literal["float", "certified"] | int | Certified


# --------------------------------------------------------------------------------------------
# Exact conversions and rigorous rounding helpers
# --------------------------------------------------------------------------------------------


def to_arb(value: Any) -> arb:
    """Convert a float, int, Fraction, mpmath mpf or arb to an arb ball: exactly for every
    number but a non-dyadic Fraction, which becomes a ball of relative radius ~2^-2048."""
    if isinstance(value, arb):
        return value
    if isinstance(value, bool):
        raise TypeError("a bool is not a number here")
    if isinstance(value, (int, np.integer)):
        return arb(fmpz(int(value)))
    if isinstance(value, Fraction):
        if value.denominator & (value.denominator - 1) == 0:  # dyadic: exact at enough bits
            bits = max(value.numerator.bit_length(), 1) + 8
            with ctx.workprec(bits):
                return arb(fmpq(value.numerator, value.denominator))
        # A ball of radius about 2^-prec around q: containing it implies containing q.
        with ctx.workprec(max(ctx.prec, RATIONAL_BITS)):
            return arb(fmpq(value.numerator, value.denominator))
    if isinstance(value, mpmath.mpf):
        sign, mantissa, exponent, bitcount = value._mpf_
        if mantissa == 0 and exponent == 0 and bitcount == 0:
            return arb(0)
        if bitcount == 0 or isinstance(exponent, str):
            raise InvalidProblemError(f"cannot convert the non-finite mpf {value} to a ball")
        with ctx.workprec(int(bitcount) + 8):
            ball = arb(fmpz((-1) ** sign * int(mantissa))) * arb(2) ** int(exponent)
        return ball
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise InvalidProblemError(f"cannot convert the non-finite value {value} to a ball")
        return arb(float(value))
    raise TypeError(f"cannot convert {type(value).__name__} to a ball exactly")


def float_upper(value: arb) -> float:
    """A float64 number that is provably >= every point of the ball ``value``."""
    nearest = float(value.upper())
    return float(np.nextafter(nearest, np.inf))


def float_lower(value: arb) -> float:
    """A float64 number that is provably <= every point of the ball ``value``."""
    nearest = float(value.lower())
    return float(np.nextafter(nearest, -np.inf))


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
        return np.linalg.solve(matrix, rhs)

    def trace(self, matrix: np.ndarray) -> float:
        return float(np.trace(matrix))

    def block(self, rows: list[list[np.ndarray]]) -> np.ndarray:
        return np.block(rows)

    def to_float(self, value: Any) -> np.ndarray:
        return np.asarray(value, dtype=float)

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> np.ndarray:
        return np.ldexp(np.asarray(array, dtype=float), exponent)

    def export(self, value: Any) -> Any:
        return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)


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
        return mpmath.inverse(matrix) * rhs

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
        # Round the guard digits away so the result carries the digits asked for.
        with mpmath.workdps(self.digits):
            if isinstance(value, mpmath.matrix):
                return value.apply(lambda entry: +entry)
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
        exponent = max(_binary_exponent(entry) for entry in entries)
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


def _binary_exponent(entry: arb) -> int:
    """An e with ``|mid| < 2^e`` for an arb entry (very negative for 0)."""
    mantissa, exponent = (int(part) for part in entry.mid().man_exp())
    return exponent + abs(mantissa).bit_length() if mantissa else -(10**9)


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


# --------------------------------------------------------------------------------------------
# The certified result type
# --------------------------------------------------------------------------------------------


class Enclosure:
    """A rigorous enclosure of a scalar or a matrix: the true value lies inside every ball.

    Attributes
    ----------
    ball : flint.arb or flint.arb_mat
        The underlying balls (exact midpoints, rigorous radii).
    mid : float or ndarray
        The float64 numbers nearest to the ball midpoints.
    rad : float or ndarray
        Rigorous float64 upper bounds of the radii: ``|true - exact midpoint| <= rad`` entrywise.
        (``mid`` is the midpoint rounded to float64, so ``|true - mid|`` may exceed ``rad`` by half
        an ulp of ``mid``; use :meth:`contains` for exact decisions.)  Matrices computed on the
        float64-BLAS engine carry one Frobenius-norm radius, so every entry has the same ``rad``.
    digits : int or math.inf
        Certified significant decimal digits, normwise: ``floor(-log10(max rad / max |mid|))``
        (0 when nothing is certified, ``math.inf`` for an exact result: every radius is 0).
    tier : str
        Always ``"certified"``.
    """

    tier: Tier = "certified"

    def __init__(self, ball: arb | arb_mat | Any) -> None:
        self._ball: arb | arb_mat | None = None
        self._source: Any = None
        if isinstance(ball, (arb, arb_mat)):
            self._ball = ball
        elif hasattr(ball, "to_arb_mat") and hasattr(ball, "shape"):
            # a matrix enclosure in another exact representation (pgverify.fixedpoint): it is
            # converted to Arb balls on first use, so computing it costs no conversion
            self._source = ball
        else:
            raise TypeError(f"an Enclosure holds an arb or arb_mat, got {type(ball).__name__}")

    @property
    def ball(self) -> arb | arb_mat:
        """The balls (exact midpoints, rigorous radii) as python-flint arb / arb_mat."""
        if self._ball is None:
            self._ball = self._source.to_arb_mat()
            self._source = None
        return self._ball

    @property
    def is_matrix(self) -> bool:
        return self._source is not None or isinstance(self._ball, arb_mat)

    @property
    def shape(self) -> tuple[int, ...]:
        if self._source is not None:
            return tuple(self._source.shape)
        return (self.ball.nrows(), self.ball.ncols()) if self.is_matrix else ()

    def _entries(self) -> list[arb]:
        if self.is_matrix:
            return [x for row in self.ball.tolist() for x in row]
        return [self.ball]

    @property
    def mid(self) -> float | np.ndarray:
        values = [float(x.mid()) for x in self._entries()]
        return np.array(values).reshape(self.shape) if self.is_matrix else values[0]

    @property
    def rad(self) -> float | np.ndarray:
        values = [0.0 if x.rad() == 0 else float_upper(x.rad()) for x in self._entries()]
        return np.array(values).reshape(self.shape) if self.is_matrix else values[0]

    @property
    def max_radius(self) -> float:
        return float(np.max(self.rad))

    @property
    def digits(self) -> float:
        # from the balls, not from float64 views (which under/overflow at extreme scales)
        entries = self._entries()
        with ctx.workprec(64):
            radius = max((entry.rad() for entry in entries), default=arb(0))
            largest = max((abs(entry.mid()) for entry in entries), default=arb(0))
            if radius == 0:
                return math.inf
            if largest == 0:
                return 0
            ratio = (largest / radius).log() / arb(10).log()
            return max(0, math.floor(float(ratio.lower())))

    def contains(self, value: Any) -> bool:
        """Exact decision: is ``value`` inside the enclosure (entrywise)?

        ``value`` may be a float, int, Fraction, mpmath number or matrix, numpy array, or a
        python-flint arb / arb_mat (a ball is contained only if it lies wholly inside).
        """
        # a non-exact value (a rational like 1/3) is enclosed at a precision well beyond the
        # enclosure's own, so that the decision is exact unless it lies on the boundary
        with ctx.workprec(max(ctx.prec, RATIONAL_BITS, self._precision_needed())):
            if self.is_matrix:
                other = _to_arb_mat(value, self.shape)
                return bool(self.ball.contains(other))
            if isinstance(value, np.ndarray):
                if value.size != 1:
                    raise InvalidProblemError(
                        f"a scalar enclosure cannot contain an array of shape {value.shape}"
                    )
                value = value.reshape(()).item()
            return bool(self.ball.contains(to_arb(value)))

    def _precision_needed(self) -> int:
        """Bits that resolve every ball's radius relative to its midpoint, plus 64."""
        needed = 0
        for entry in self._entries():
            if entry.rad() != 0 and entry.mid() != 0:
                needed = max(needed, _binary_exponent(entry) - _binary_exponent(entry.rad()))
        return needed + 64

    def overlaps(self, other: Enclosure) -> bool:
        """Do the two enclosures share a point (entrywise)?  Disjoint balls *prove* the two true
        values differ; overlapping balls are consistent with equality."""
        if self.is_matrix != other.is_matrix or self.shape != other.shape:
            raise InvalidProblemError(
                f"cannot compare enclosures of shapes {self.shape} and {other.shape}"
            )
        return bool(self.ball.overlaps(other.ball))

    def __repr__(self) -> str:
        digits = self.digits
        if not self.is_matrix:
            shown = self.ball.str(int(max(3, min(digits, 60))), radius=True)
            return f"Enclosure({shown}, certified digits={digits})"
        mids = np.array2string(np.asarray(self.mid), precision=6, max_line_width=100)
        return (
            f"Enclosure(shape={self.shape}, certified digits={digits} (normwise), "
            f"max radius={self.max_radius:.3g},\n mid=\n{mids})"
        )


def _to_arb_mat(value: Any, shape: tuple[int, ...]) -> arb_mat:
    if isinstance(value, arb_mat):
        matrix = value
    elif isinstance(value, BallMatrix):
        matrix = value.m
    elif isinstance(value, Enclosure):
        matrix = value.ball
    elif isinstance(value, mpmath.matrix):
        matrix = arb_mat(
            [[to_arb(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]
        )
    else:
        array = np.asarray(value)
        if array.dtype == object:
            matrix = arb_mat([[to_arb(x) for x in row] for row in array.tolist()])
        else:
            if not np.isrealobj(array):
                raise InvalidProblemError(
                    "a certified real enclosure cannot contain complex values"
                )
            matrix = arb_mat(np.asarray(array, dtype=float).tolist()) if array.ndim == 2 else None
    if matrix is None or (matrix.nrows(), matrix.ncols()) != shape:
        seen = getattr(value, "shape", None)
        raise InvalidProblemError(f"expected a matrix of shape {shape}, got shape {seen}")
    return matrix
