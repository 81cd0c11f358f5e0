"""Certified matrix arithmetic on float64 BLAS: exact multi-limb fixed-point products.

Ball arithmetic in Arb multiplies two 100×100 matrices at 212 bits in 10–20 ms; a float64 BLAS
product takes 0.1 ms.  This module gets high-precision *exact* products out of float64 BLAS, the
idea of Ozaki, Ogita, Oishi & Rump ("Error-free transformations of matrix multiplication by using
fast routines of matrix multiplication", Numer. Algorithms 59, 2012): split every matrix into
slices whose pairwise products cannot round, multiply the slices with ``@`` and add them exactly.

Representation (:class:`FixedPointMatrix`).  With ``s`` bits per limb, a matrix is

    mid = Σ_k planes[k] · 2^(s·(top − 1 − k)),     planes[k] integer-valued, |planes[k]| ≤ 2^(s−1)

(balanced base-2^s digits held in float64 arrays) together with a ``radius`` r: the matrix it
stands for lies in the Frobenius ball ``‖M − mid‖_F ≤ r``.  So every value is an enclosure, as in
ball arithmetic, but with one normwise radius per matrix instead of one per entry.

Exactness of a product.  For a contraction of length k, a slice product has entries bounded by
``k · 2^(2s−2)``; while that is ≤ 2^53 every partial sum is an integer below 2^53 and BLAS computes
it without rounding, in any summation order, with or without FMA.  One BLAS call per limb j of
the operand with fewer limbs multiplies it with all needed limbs i of the other, stacked into one
tall matrix; the results, limb sums for the output limbs ``i + j``, are added in int64 and the
carries propagated.  Only the final truncation to ``limbs`` limbs rounds, and its error goes into
the radius.

Precision is relative to each matrix (like floating point) with an optional absolute *floor*:
a small correction added to a large matrix (iterative refinement) only needs the large matrix's
absolute accuracy, so products skip the limbs below it — the source of most of the speed.  Every
skipped or truncated part is bounded rigorously (``‖XY‖_F ≤ ‖X‖_F ‖Y‖_F`` per pair of limbs).

Radii are propagated with the standard mid-rad rules in the Frobenius norm.  They are
:class:`pgverify.magnitude.Magnitude` upper bounds — a float mantissa with an unbounded integer
exponent, rounded upward — so a radius never underflows to 0 (which would claim an exactness
nobody proved) nor overflows, whatever the scale of the data or the working precision.  The
limbs' norms are computed in float64 *in units of their own limb* (integers below 2^(2s) and
their square roots: no underflow or overflow possible) and combined with their power-of-two
weights in Magnitudes.

Preconditions (checked; :class:`pgverify.CertificationError` otherwise): every contraction length
k satisfies ``k · 2^(2s−2) ≤ 2^53`` for the layout's limb size s, inputs are finite float64
arrays or arb balls.  Nothing else: the midpoints' exponents are Python integers, so any scale
of data and any working precision is handled exactly.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx, fmpz, fmpz_mat

from pgverify.errors import CertificationError
from pgverify.magnitude import ZERO, Magnitude, round_up
from pgverify.precision import (
    Arithmetic,
    BallArithmetic,
    BallMatrix,
    Enclosure,
    Tier,
    mpf_array,
    to_arb,
)

EXACT_INTEGER_LIMIT = 2**53
"""Integers of magnitude up to 2^53 are exact in float64."""

MAX_LIMBS = 512
"""At most this many limbs: an output limb sums at most MAX_LIMBS exact slice products, each
below 2^53, so int64 accumulators stay below 2^62."""

WEIGHT_FLOOR_EXPONENT = -1000
"""Power-of-two weights below 2^-1000 are replaced by 2^-1000 in float sums of limb norms: an
upper bound of the true weight that cannot underflow."""


def _weights(count: int, limb_bits: int) -> np.ndarray:
    """``max(2^(-s·k), 2^-1000)`` for k = 0 .. count−1: upper bounds of the relative weights of
    successive limbs, none of which underflows."""
    exponents = np.maximum(-limb_bits * np.arange(count), WEIGHT_FLOOR_EXPONENT)
    return np.ldexp(1.0, exponents)


def _float_sum_upper(terms: np.ndarray) -> float:
    """An upper bound of the exact sum of the non-negative floats ``terms`` (recursive float
    summation errs by at most (count − 1)·2^-53 relative; Higham, Accuracy and Stability, §4.2)."""
    total = float(np.sum(terms))
    return round_up(total * (1.0 + (terms.size + 2) * 2.0**-52))


@dataclass(frozen=True)
class Layout:
    """Limb size ``limb_bits`` (s) and the number of limbs ``limbs`` (L) kept per matrix.

    s is the largest size for which a BLAS product of two limb slices with contraction length
    ``inner_dimension`` is exact (``inner · 2^(2s−2) ≤ 2^53``); L limbs give ``s·L`` bits, chosen
    as ``bits`` plus one guard limb (the leading limb may hold fewer than s significant bits).
    """

    limb_bits: int
    limbs: int

    @classmethod
    def for_precision(cls, bits: int, inner_dimension: int) -> Layout:
        inner = max(int(inner_dimension), 1)
        limb_bits = (53 - math.ceil(math.log2(inner)) + 2) // 2
        limb_bits = min(limb_bits, 26)
        if limb_bits < 8:
            raise CertificationError(
                f"matrices with inner dimension {inner} are too large for exact float64 limb "
                "products; use Certified(engine='arb')"
            )
        limbs = math.ceil(bits / limb_bits) + 1
        if limbs > MAX_LIMBS:
            raise CertificationError(
                f"{bits} bits need {limbs} limbs of {limb_bits} bits, more than the {MAX_LIMBS} "
                "whose int64 limb sums cannot overflow; use Certified(engine='arb') for this "
                "precision"
            )
        return cls(limb_bits, limbs)

    @staticmethod
    def supports(bits: int, inner_dimension: int) -> bool:
        """Can exact limb products reach ``bits`` with contractions of this length?"""
        try:
            Layout.for_precision(bits, inner_dimension)
        except CertificationError:
            return False
        return True

    @property
    def half(self) -> int:
        return 1 << (self.limb_bits - 1)

    @property
    def largest_inner_dimension(self) -> int:
        """The longest contraction whose limb products are exact: ``k · 2^(2s−2) ≤ 2^53``."""
        return EXACT_INTEGER_LIMIT >> (2 * self.limb_bits - 2)


class FixedPointMatrix:
    """A matrix enclosure: an exact multi-limb midpoint and a Frobenius-norm radius.

    Build them with :meth:`FixedPointArithmetic.matrix`; they support ``@ + - .T``, negation and
    multiplication by a scalar (float, int or arb ball), like the other arithmetics' matrices.
    ``floor`` is None (precision relative to the matrix: ``limbs`` limbs) or an exponent f:
    this matrix's consumers need no accuracy below 2^f (a correction to a larger matrix).
    """

    __slots__ = ("_plane_norms", "floor", "layout", "planes", "radius", "top")

    def __init__(
        self, planes: np.ndarray, top: int, radius: Magnitude, floor: int | None, layout: Layout
    ) -> None:
        self.planes = planes
        self.top = top
        self.radius = radius
        self.floor = floor
        self.layout = layout
        self._plane_norms: np.ndarray | None = None

    # -- shape and views ---------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (self.planes.shape[1], self.planes.shape[2])

    @property
    def T(self) -> FixedPointMatrix:
        return FixedPointMatrix(
            self.planes.transpose(0, 2, 1), self.top, self.radius, self.floor, self.layout
        )

    def __neg__(self) -> FixedPointMatrix:
        return FixedPointMatrix(-self.planes, self.top, self.radius, self.floor, self.layout)

    def __add__(self, other: FixedPointMatrix) -> FixedPointMatrix:
        return _aligned_sum(self, other, 1)

    def __sub__(self, other: FixedPointMatrix) -> FixedPointMatrix:
        return _aligned_sum(self, other, -1)

    def __matmul__(self, other: FixedPointMatrix) -> FixedPointMatrix:
        return _product(self, other)

    def __mul__(self, scalar: Any) -> FixedPointMatrix:
        return _scaled(self, scalar)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return (
            f"FixedPointMatrix(shape={self.shape}, limbs={len(self.planes)}, "
            f"radius={self.radius!r})"
        )

    # -- norms -------------------------------------------------------------------------------

    def plane_norms(self) -> np.ndarray:
        """Upper bounds of ``‖planes[k]‖_F`` in units of limb k itself (so the weighted norm of
        limb k is this times ``2^(s(top−1−k))``): square roots of integers, no under/overflow."""
        if self._plane_norms is None:
            flat = _flat(self.planes)
            squares = np.einsum("ij,ij->i", flat, flat)  # integers < 2^(2s-2) each
            count = flat.shape[1]
            # float sums of count non-negative terms: relative error <= count * 2^-53
            norms = np.sqrt(squares * (1.0 + (count + 2) * 2.0**-52))
            self._plane_norms = np.nextafter(norms * (1.0 + 2.0**-40), np.inf)
        return self._plane_norms

    def mid_norm_upper(self) -> Magnitude:
        """An upper bound of ``‖mid‖_F`` (``Σ_k ‖planes[k]‖_F 2^(s(top−1−k))``)."""
        if len(self.planes) == 0:
            return ZERO
        s = self.layout.limb_bits
        units = _float_sum_upper(self.plane_norms() * _weights(len(self.planes), s))
        return Magnitude(units, s * (self.top - 1))

    def norm_upper(self) -> Magnitude:
        """An upper bound of ``‖M‖_F`` for every M in the enclosure."""
        return self.mid_norm_upper() + self.radius

    def sum_bits(self, axis: int) -> int:
        """An integer b with ``Σ |mid_ij| < 2^b`` along ``axis`` (0: column sums, 1: row sums),
        from the leading limb (the limbs below it add less than one of its units)."""
        if len(self.planes) == 0:
            return -(10**6)
        sums = np.sum(np.abs(self.planes[0]) + 1.0, axis=axis)
        return math.frexp(float(np.max(sums)))[1] + self.layout.limb_bits * (self.top - 1)

    def to_float(self) -> np.ndarray:
        """The midpoint rounded to float64 (within a few ulps; not a rigorous quantity).

        Each limb is scaled to its absolute weight before the sum, so an entry far below the
        largest one (2^-800 next to 2^+800) keeps its own value instead of vanishing below the
        largest entry's resolution (a float64 closed loop that loses such entries has the
        wrong eigenvalues)."""
        array, exponent = self.to_float_scaled()
        with np.errstate(over="ignore"):  # beyond float64's range the nearest float is ±inf
            relative = np.ldexp(array, exponent)
        s = self.layout.limb_bits
        total = np.zeros(self.shape)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(len(self.planes) - 1, -1, -1):  # smallest limbs first
                total += np.ldexp(self.planes[k], s * (self.top - 1 - k))
        # where a limb overflowed (an entry beyond float64's range) keep the ±inf of the
        # relative sum
        return np.where(np.isfinite(total), total, relative)

    def to_float_scaled(self) -> tuple[np.ndarray, int]:
        """``(array, e)`` with ``mid ≈ array · 2^e`` and ``max |array|`` of order 2^s: the
        midpoint in float64 whatever its scale (not a rigorous quantity)."""
        s = self.layout.limb_bits
        total = np.zeros(self.shape)
        for k in range(len(self.planes) - 1, -1, -1):
            total += np.ldexp(self.planes[k], -s * k)
        return total, s * (self.top - 1)

    def exact_integers(self) -> tuple[fmpz_mat, int]:
        """The midpoint as ``(M, e)`` with M an integer matrix and ``mid = M · 2^e`` exactly."""
        s = self.layout.limb_bits
        rows, cols = self.shape
        count = len(self.planes)
        if count == 0:
            return fmpz_mat(rows, cols), 0
        # pairs of limbs fit in int64 (|value| < 2^(2s)), halving the Python-integer work
        digits = self.planes.astype(np.int64)
        if count % 2:
            digits = np.concatenate([digits, np.zeros((1, rows, cols), np.int64)])
        paired = digits[0::2] * (1 << s) + digits[1::2]
        total = fmpz_mat(rows, cols, paired[0].ravel().tolist())
        shift = fmpz(1 << (2 * s))
        for chunk in paired[1:]:
            total = total * shift + fmpz_mat(rows, cols, chunk.ravel().tolist())
        exponent = s * (self.top - len(digits))
        return total, exponent

    def to_arb_mat(self) -> arb_mat:
        """An arb_mat containing the enclosure (each entry of a Frobenius ball of radius r lies
        within r of the midpoint's entry)."""
        integers, exponent = self.exact_integers()
        bits = max(64, self.layout.limb_bits * (len(self.planes) + 2))
        with ctx.workprec(bits):
            middle = arb_mat(integers) * arb(2) ** exponent
            if not self.radius:
                return middle
            widen = arb(0, 1) * self.radius.to_arb()
            rows, cols = self.shape
            return arb_mat(rows, cols, [entry + widen for entry in middle.entries()])


# ------------------------------------------------------------------------------------------------
# Construction and normalisation
# ------------------------------------------------------------------------------------------------


def from_float(
    array: np.ndarray, layout: Layout, floor: int | None = None, exponent: int = 0
) -> FixedPointMatrix:
    """The exact limbs of ``array · 2^exponent`` for a finite float64 matrix (exact unless its
    entries span more than about ``s·L − 53`` bits of exponent range, or ``floor`` cuts limbs
    off; anything cut off goes into the radius).  Subnormal entries are converted exactly."""
    array = np.asarray(array, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-d array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise CertificationError(
            "a non-finite float64 value reached the certified BLAS engine (an overflow in a "
            "float64 step); the problem's scale is outside what that step can represent"
        )
    s, keep = layout.limb_bits, layout.limbs
    largest = float(np.max(np.abs(array), initial=0.0))
    if largest == 0.0:
        return _zero(array.shape, layout, floor)
    # |x| < 2^e with e = frexp exponent; need |x| <= 2^(s·top − 1)
    leading = math.frexp(largest)[1] + exponent
    top = -((-(leading + 1)) // s)  # ceil((e + 1) / s)
    if floor is not None:
        keep = max(0, min(keep, top - floor // s))
    planes = np.zeros((keep, *array.shape))
    remainder = array
    radius = ZERO
    for k in range(keep):
        # limb k's unit is 2^weight in units of `array`; scaling the remainder by 2^-weight is
        # exact or, for an entry too small to reach this limb, underflows towards a value below
        # 1/2 whose rint is 0 either way; subtracting the digit removes the remainder's own
        # leading bits, which is exact.  No entry loses anything, however tiny.
        weight = s * (top - 1 - k) - exponent
        digit = np.rint(np.ldexp(remainder, -weight))
        planes[k] = digit
        remainder = remainder - np.ldexp(digit, weight)
        if not remainder.any():
            break
    nonzero = np.count_nonzero(remainder)
    if nonzero:
        # each entry left is at most half a unit of the last kept limb, 2^(s(top-keep)-1)
        radius += Magnitude.from_float(math.sqrt(nonzero)).scaled(s * (top - keep))
    return _trimmed(planes, top, radius, floor, layout)


def from_integers(
    integers: list[list[int]], exponent: int, radius: Magnitude, layout: Layout
) -> FixedPointMatrix:
    """``integers · 2^exponent`` (Python ints) with a Frobenius radius, truncated to the layout.

    With ``exponent = s·shift + offset`` (0 ≤ offset < s) each value is ``(v << offset) ·
    2^(s·shift)``: balanced base-2^s digits of ``v << offset``, then the usual normalisation."""
    s, half, mask = layout.limb_bits, layout.half, (1 << layout.limb_bits) - 1
    rows, cols = len(integers), len(integers[0]) if integers else 0
    shift, offset = divmod(exponent, s)
    flat = [int(x) << offset for row in integers for x in row]
    largest = max((abs(x) for x in flat), default=0)
    if largest == 0:
        return _zero((rows, cols), layout, None, radius)
    count = (largest.bit_length() + 1) // s + 2  # 2^(s·count) > 2·largest
    digits = np.zeros((count, rows * cols), dtype=np.int64)
    for index, value in enumerate(flat):
        for k in range(count - 1, -1, -1):
            digit = ((value + half) & mask) - half
            digits[k, index] = digit
            value = (value - digit) >> s
    planes, top, dropped = _normalize(digits.reshape(count, rows, cols), count + shift, layout)
    return FixedPointMatrix(planes, top, radius + dropped, None, layout)


def from_arb_mat(matrix: arb_mat, layout: Layout) -> FixedPointMatrix:
    """A fixed-point enclosure of every matrix in the ball matrix ``matrix``."""
    rows, cols = matrix.nrows(), matrix.ncols()
    entries = matrix.entries()
    pairs = [entry.mid().man_exp() for entry in entries]
    exponent = min((int(e) for m, e in pairs if m != 0), default=0)
    integers = [int(m) << (int(e) - exponent) if m != 0 else 0 for m, e in pairs]
    with ctx.workprec(64):
        squares = arb(0)
        for entry in entries:
            squares += arb(entry.rad()) ** 2
        radius = Magnitude.upper_of(squares.sqrt()) if squares != 0 else ZERO
    grid = [integers[i * cols : (i + 1) * cols] for i in range(rows)]
    return from_integers(grid, exponent, radius, layout)


def from_arb(value: Any, layout: Layout) -> FixedPointMatrix:
    """A 1×1 fixed-point enclosure of a float, int or ball scalar."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, bool):
        return from_float(np.array([[float(value)]]), layout)
    ball = to_arb(value)
    return from_arb_mat(arb_mat([[ball]]), layout)


def _flat(planes: np.ndarray) -> np.ndarray:
    """The limbs as rows (``(limbs, rows·cols)``), also for zero limbs."""
    return planes.reshape(planes.shape[0], planes.shape[1] * planes.shape[2])


def _nonzero_limbs(planes: np.ndarray) -> np.ndarray:
    """Indices of the limbs with a nonzero digit somewhere."""
    return np.flatnonzero(np.any(_flat(planes) != 0, axis=1))


def _zero(
    shape: tuple[int, int], layout: Layout, floor: int | None, radius: Magnitude = ZERO
) -> FixedPointMatrix:
    top = floor // layout.limb_bits if floor is not None else 0
    return FixedPointMatrix(np.zeros((0, *tuple(shape))), top, radius, floor, layout)


def _highest(*floors: int | None) -> int | None:
    """The coarsest of the absolute floors given (None: no absolute floor)."""
    present = [floor for floor in floors if floor is not None]
    return max(present) if present else None


def _trimmed(
    planes: np.ndarray, top: int, radius: Magnitude, floor: int | None, layout: Layout
) -> FixedPointMatrix:
    """Drop leading and trailing all-zero limbs (they cost products and carry nothing)."""
    nonzero = _nonzero_limbs(planes)
    if len(nonzero) == 0:
        return _zero(planes.shape[1:], layout, floor, radius)
    first, last = int(nonzero[0]), int(nonzero[-1])
    return FixedPointMatrix(planes[first : last + 1], top - first, radius, floor, layout)


def _normalize(
    digits: np.ndarray, top: int, layout: Layout, floor: int | None = None
) -> tuple[np.ndarray, int, Magnitude]:
    """Carry-propagate int64 limb sums into balanced digits, keep at most ``layout.limbs``
    limbs (none below ``floor``) and return ``(planes, top, dropped)`` with ``dropped`` an upper
    bound of the Frobenius norm of what was cut off."""
    s, half = layout.limb_bits, layout.half
    carry = np.empty(digits.shape[1:], dtype=np.int64)
    shifted = np.empty_like(carry)
    for k in range(len(digits) - 1, 0, -1):
        # carry = round(d_k / 2^s), so that d_k - carry·2^s lies in [-2^(s-1), 2^(s-1))
        np.add(digits[k], half, out=carry)
        np.right_shift(carry, s, out=carry)
        np.left_shift(carry, s, out=shifted)
        np.subtract(digits[k], shifted, out=digits[k])
        np.add(digits[k - 1], carry, out=digits[k - 1])
    head: list[np.ndarray] = []
    leading = digits[0]
    while True:  # the leading limb sum may exceed one limb: split it into new leading limbs
        carry = np.right_shift(leading + half, s)
        if not carry.any():
            break
        leading -= np.left_shift(carry, s)
        head.insert(0, carry)
        leading = carry
    if head:
        digits = np.concatenate([np.stack(head), digits])
        top += len(head)
    nonzero = _nonzero_limbs(digits)
    if len(nonzero) == 0:
        return np.zeros((0, *digits.shape[1:])), top, ZERO
    first = int(nonzero[0])
    top -= first
    digits = digits[first:]
    keep = layout.limbs if floor is None else max(0, min(layout.limbs, top - floor // s))
    dropped = ZERO
    if len(digits) > keep:
        tail = np.count_nonzero(np.any(_flat(digits[keep:]), axis=0))
        if tail:
            # balanced digits below limb `keep` add up to less than one unit of that limb
            dropped = Magnitude.from_float(round_up(math.sqrt(tail))).scaled(s * (top - keep))
        digits = digits[:keep]
    if len(digits) == 0:
        return np.zeros((0, *digits.shape[1:])), top, dropped
    nonzero = _nonzero_limbs(digits)
    digits = digits[: int(nonzero[-1]) + 1] if len(nonzero) else digits[:0]
    return digits.astype(float), top, dropped


# ------------------------------------------------------------------------------------------------
# Arithmetic
# ------------------------------------------------------------------------------------------------


def _aligned_sum(x: FixedPointMatrix, y: FixedPointMatrix, sign: int) -> FixedPointMatrix:
    layout = x.layout
    if x.shape != y.shape:
        raise ValueError(f"cannot add matrices of shapes {x.shape} and {y.shape}")
    floor = _highest(x.floor, y.floor)
    if len(y.planes) == 0:
        return FixedPointMatrix(x.planes, x.top, x.radius + y.radius, floor, layout)
    if len(x.planes) == 0:
        planes = y.planes if sign > 0 else -y.planes
        return FixedPointMatrix(planes, y.top, x.radius + y.radius, floor, layout)
    top = max(x.top, y.top)
    start_x, start_y = top - x.top, top - y.top
    length = max(start_x + len(x.planes), start_y + len(y.planes))
    digits = np.zeros((length, *x.shape), dtype=np.int64)
    digits[start_x : start_x + len(x.planes)] += x.planes.astype(np.int64)
    if sign > 0:
        digits[start_y : start_y + len(y.planes)] += y.planes.astype(np.int64)
    else:
        digits[start_y : start_y + len(y.planes)] -= y.planes.astype(np.int64)
    planes, top, dropped = _normalize(digits, top, layout, floor)
    return FixedPointMatrix(planes, top, x.radius + y.radius + dropped, floor, layout)


def _product(x: FixedPointMatrix, y: FixedPointMatrix) -> FixedPointMatrix:
    """``x @ y``: exact limb products on BLAS, the limbs below the result's precision skipped
    and bounded."""
    layout = x.layout
    rows, inner = x.shape
    if y.shape[0] != inner:
        raise ValueError(f"cannot multiply matrices of shapes {x.shape} and {y.shape}")
    cols = y.shape[1]
    if inner > layout.largest_inner_dimension:
        raise CertificationError(
            f"a contraction of length {inner} is too long for exact {layout.limb_bits}-bit limb "
            f"products (at most {layout.largest_inner_dimension}); build the arithmetic with "
            "inner_dimension >= the longest contraction"
        )
    top = x.top + y.top - 1  # limb p = i + j sits at position top - 1 - p
    # an error of 2^f in each entry of x moves x @ y by at most 2^f times y's largest column sum
    floor = _highest(
        None if x.floor is None else x.floor + y.sum_bits(axis=0),
        None if y.floor is None else y.floor + x.sum_bits(axis=1),
    )
    lowest = top - layout.limbs - 2
    if floor is not None:
        lowest = max(lowest, floor // layout.limb_bits)
    radius = _propagated_radius(x, y)
    count_x, count_y = len(x.planes), len(y.planes)
    if count_x == 0 or count_y == 0:
        return _zero((rows, cols), layout, floor, radius)
    last = min(count_x + count_y - 2, top - lowest)  # one guard limb below the lowest kept
    skipped = _skipped_pairs_bound(x, y, last)
    if last < 0:  # the whole product lies below the floor: it is all radius
        return _zero((rows, cols), layout, floor, radius + skipped)
    digits = np.zeros((last + 1, rows, cols), dtype=np.int64)
    if count_y <= count_x:
        _accumulate(digits, x.planes, y.planes, last)
    else:  # loop over the operand with fewer limbs: (XY)ᵀ = YᵀXᵀ
        _accumulate(
            digits.transpose(0, 2, 1),
            y.planes.transpose(0, 2, 1),
            x.planes.transpose(0, 2, 1),
            last,
        )
    planes, top, dropped = _normalize(digits, top, layout, floor)
    return FixedPointMatrix(planes, top, radius + skipped + dropped, floor, layout)


def _propagated_radius(x: FixedPointMatrix, y: FixedPointMatrix) -> Magnitude:
    """The mid-rad rule for a product in the Frobenius norm: ``‖X·Y − X̂·Ŷ‖_F ≤
    ‖X̂‖_F r_Y + r_X ‖Ŷ‖_F + r_X r_Y`` (a scalar is a 1×1 matrix here)."""
    if not (x.radius or y.radius):
        return ZERO
    norm_x, norm_y = x.mid_norm_upper(), y.mid_norm_upper()
    return norm_x * y.radius + x.radius * norm_y + x.radius * y.radius


def _accumulate(digits: np.ndarray, stacked: np.ndarray, looped: np.ndarray, last: int) -> None:
    """``digits[i + j] += stacked[i] @ looped[j]`` for every ``i + j ≤ last``, exactly.

    One BLAS call per limb j of ``looped`` multiplies all the needed limbs of ``stacked`` at once
    (a tall product runs about twice as fast per flop as separate square ones); every entry of
    a limb product is an integer below 2^53, so the float64 results are exact."""
    count, rows, inner = stacked.shape
    tall = np.ascontiguousarray(stacked).reshape(count * rows, inner)
    for j in range(min(len(looped), last + 1)):
        used = min(count, last - j + 1)
        block = tall[: used * rows] @ looped[j]
        digits[j : j + used] += block.reshape(used, rows, -1).astype(np.int64)


def _skipped_pairs_bound(x: FixedPointMatrix, y: FixedPointMatrix, last: int) -> Magnitude:
    """Upper bound of ``‖Σ_{i+j>last} x_i y_j‖_F`` from the limbs' norms.

    With ``u_i`` the norm of x's limb i in its own units (weight ``2^(s(top_x−1−i))``) and
    ``v_j`` likewise, the bound is ``2^(s(top_x+top_y−2)) Σ_{p>last} 2^(−sp) c_p`` with
    ``c_p = Σ_{i+j=p} u_i v_j`` (a convolution of small floats; the weights are taken relative
    to the first skipped limb, so no term under- or overflows)."""
    norms_x, norms_y = x.plane_norms(), y.plane_norms()
    pair_sums = np.convolve(norms_x, norms_y)  # c_p, p = 0 .. len_x + len_y - 2
    skipped = pair_sums[last + 1 :]
    if skipped.size == 0 or not np.any(skipped):
        return ZERO
    s = x.layout.limb_bits
    # each c_p sums at most min(len) products: relative error <= (len + 1) 2^-53
    inflation = 1.0 + (min(len(norms_x), len(norms_y)) + 2) * 2.0**-52
    units = _float_sum_upper(skipped * _weights(skipped.size, s) * inflation)
    return Magnitude(units, s * (x.top + y.top - 2) - s * (last + 1))


def _power_of_two(scalar: Any) -> int | None:
    """t when ``scalar`` is exactly 2^t (1, 2, 0.5, an exact ball ...), else None."""
    if isinstance(scalar, bool):
        return None
    if isinstance(scalar, (float, int, np.floating, np.integer)):
        mantissa, exponent = math.frexp(float(scalar))
        return exponent - 1 if mantissa == 0.5 else None
    if isinstance(scalar, arb) and scalar.rad() == 0:
        mantissa, exponent = scalar.mid().man_exp()
        return int(exponent) if mantissa == 1 else None
    return None


def _shifted(x: FixedPointMatrix, power: int) -> FixedPointMatrix:
    """``2^power · x`` exactly: a shift of whole limbs and of the digits within a limb."""
    layout = x.layout
    whole, rest = divmod(power, layout.limb_bits)
    floor = None if x.floor is None else x.floor + power
    radius = x.radius.scaled(power)
    if rest == 0 or len(x.planes) == 0:
        return FixedPointMatrix(x.planes, x.top + whole, radius, floor, layout)
    digits = x.planes.astype(np.int64) << rest
    planes, top, dropped = _normalize(digits, x.top + whole, layout, floor)
    return FixedPointMatrix(planes, top, radius + dropped, floor, layout)


def _scaled(x: FixedPointMatrix, scalar: Any) -> FixedPointMatrix:
    """``scalar · x`` for a float, int or arb scalar (exact limb products in int64)."""
    power = _power_of_two(scalar)
    if power is not None:
        return _shifted(x, power)
    factor = from_arb(scalar, x.layout)
    layout = x.layout
    top = factor.top + x.top - 1
    floor = None if x.floor is None else x.floor + factor.sum_bits(axis=0)
    radius = _propagated_radius(factor, x)
    if len(factor.planes) == 0 or len(x.planes) == 0:
        return _zero(x.shape, layout, floor, radius)
    scalar_digits = factor.planes[:, 0, 0].astype(np.int64)
    matrix_digits = x.planes.astype(np.int64)
    digits = np.zeros((len(scalar_digits) + len(x.planes) - 1, *x.shape), dtype=np.int64)
    for i, digit in enumerate(scalar_digits):
        if digit:
            digits[i : i + len(x.planes)] += digit * matrix_digits
    planes, top, dropped = _normalize(digits, top, layout, floor)
    return FixedPointMatrix(planes, top, radius + dropped, floor, layout)


class FixedPointArithmetic(Arithmetic):
    """Certified arithmetic on float64 BLAS (tier *certified*): :class:`FixedPointMatrix`
    enclosures with one Frobenius radius each; scalars are arb balls.

    ``inner_dimension`` is the largest contraction length of the products to come (max(n, m)
    for an LQR problem); it fixes the limb size.  ``solve`` and ``block`` go through Arb.
    """

    tier: Tier = "certified"

    def __init__(self, bits: int, inner_dimension: int) -> None:
        self.working_bits = bits
        self.layout = Layout.for_precision(bits, inner_dimension)
        self._balls = BallArithmetic(bits)  # linear solves and block matrices go through Arb

    def context(self) -> contextlib.AbstractContextManager[Any]:
        return ctx.workprec(self.working_bits)

    def matrix(self, array: np.ndarray) -> FixedPointMatrix:
        return from_float(array, self.layout)

    def scaled_matrix(self, array: np.ndarray, exponent: int) -> FixedPointMatrix:
        return from_float(array, self.layout, exponent=exponent)

    def increment(self, array: np.ndarray, of: Any, exponent: int = 0) -> FixedPointMatrix:
        """A correction ``array · 2^exponent`` to be added to ``of``: kept (and multiplied)
        only down to ``of``'s absolute precision."""
        floor = of.floor
        if floor is None:
            floor = self.layout.limb_bits * (of.top - self.layout.limbs)
        return from_float(array, self.layout, floor=floor, exponent=exponent)

    def scalar(self, value: float) -> arb:
        return to_arb(value)

    def to_ball(self, value: Any) -> BallMatrix:
        return value if isinstance(value, BallMatrix) else BallMatrix(value.to_arb_mat())

    def solve(self, matrix: Any, rhs: Any) -> FixedPointMatrix:
        solution = self._balls.solve(self.to_ball(matrix), self.to_ball(rhs))
        return from_arb_mat(solution.m, self.layout)

    def trace(self, matrix: FixedPointMatrix) -> arb:
        """``tr(mid)`` exactly, widened by ``√n·r`` (``|tr Δ| ≤ √n ‖Δ‖_F``)."""
        integers, exponent = matrix.exact_integers()
        total = sum((integers[i, i] for i in range(matrix.shape[0])), fmpz(0))
        result = arb(total) * arb(2) ** exponent
        if matrix.radius:
            bound = matrix.radius.times(round_up(math.sqrt(matrix.shape[0])))
            result += arb(0, 1) * bound.to_arb()
        return result

    def block(self, rows: list[list[Any]]) -> FixedPointMatrix:
        balls = self._balls.block([[self.to_ball(item) for item in row] for row in rows])
        return from_arb_mat(balls.m, self.layout)

    def to_float(self, value: Any) -> np.ndarray:
        if isinstance(value, FixedPointMatrix):
            return value.to_float()
        return np.asarray(float(value.mid()))

    def to_float_scaled(self, value: Any) -> tuple[np.ndarray, int]:
        if isinstance(value, FixedPointMatrix):
            return value.to_float_scaled()
        return self._balls.to_float_scaled(value)

    def norm_upper(self, value: FixedPointMatrix) -> arb:
        return value.norm_upper().to_arb()

    def settled(self, value: Any) -> Any:
        if isinstance(value, FixedPointMatrix) and value.floor is not None:
            return FixedPointMatrix(value.planes, value.top, value.radius, None, value.layout)
        return value

    def widen(self, value: FixedPointMatrix, radius: arb) -> FixedPointMatrix:
        widened = value.radius + Magnitude.upper_of(radius)
        return FixedPointMatrix(value.planes, value.top, widened, value.floor, value.layout)

    def point(self, value: Any) -> Any:
        if isinstance(value, FixedPointMatrix):
            return FixedPointMatrix(value.planes, value.top, ZERO, value.floor, value.layout)
        return value.mid()

    def export(self, value: Any) -> Enclosure:
        return Enclosure(value)


class FixedPointHighPrecision(FixedPointArithmetic):
    """Tier *high-precision* on the same exact limb products: ``digits`` decimal digits (plus
    guard digits while computing), results exported as mpmath numbers at ``digits`` digits.

    This is what ``precision=N`` runs for quantities at a gain: the closed forms and the Stein
    refinement are those of every tier; products are exact and only truncations round, so the
    answer is at least as accurate as mpmath arithmetic at the same digits — at BLAS speed.  No
    stability certificate and no error bound are computed (that is the certified tier).
    """

    tier: Tier = "high-precision"
    GUARD_DIGITS = 10

    def __init__(self, digits: int, inner_dimension: int) -> None:
        self.digits = digits
        super().__init__(math.ceil((digits + self.GUARD_DIGITS) * math.log2(10)), inner_dimension)

    def export(self, value: Any) -> Any:
        with mpmath.workdps(self.digits):
            if isinstance(value, FixedPointMatrix):
                balls = value.to_arb_mat()
                rows, cols = value.shape
                return mpf_array(
                    [[_mpf_of_midpoint(balls[i, j]) for j in range(cols)] for i in range(rows)]
                )
            return _mpf_of_midpoint(to_arb(value))


def _mpf_of_midpoint(ball: arb) -> mpmath.mpf:
    """The ball's midpoint rounded to the current mpmath precision."""
    mantissa, exponent = ball.mid().man_exp()
    return +mpmath.mpf((int(mantissa), int(exponent)))
