"""Upper bounds with an unbounded exponent: the radius type of the float64-BLAS engine.

A float64 radius silently loses everything below 2^-1074 and overflows above 2^1024, so a ball
whose radius underflows claims an accuracy nobody proved.  A :class:`Magnitude` is a float
mantissa in [0.5, 1) times ``2^exponent`` with a Python-int exponent (like Arb's ``mag_t``): it
neither underflows nor overflows, and every operation rounds upward, so a Magnitude computed from
upper bounds is an upper bound of the exact result.

Upward rounding.  Each operation performs one float operation on mantissas in [0.25, 2) (a
normal range), rounded to nearest: its error is at most half an ulp of the result.  The result is
then multiplied by ``1 + 2^-40`` and moved up one float, which covers that half ulp with a wide
margin.  In an addition the smaller term is first scaled to the larger one's exponent; when that
scaling underflows, the part lost (below 2^-1074 relative to a sum of at least 1/2) is also
covered by the same inflation.
"""

from __future__ import annotations

import math

from flint import arb, arf

INFLATE = 1.0 + 2.0**-40
"""Relative upward inflation applied after each float operation on the mantissas."""

SMALLEST_SUBNORMAL = 5e-324


def round_up(value: float) -> float:
    """A float >= the exact result of the one float operation that produced ``value``."""
    if value == 0.0:
        return 0.0
    return math.nextafter(value * INFLATE, math.inf)


class Magnitude:
    """A non-negative upper bound ``mantissa · 2^exponent`` with an integer exponent.

    ``mantissa`` is 0 (the bound 0) or lies in [0.5, 1).  Instances are immutable; ``+``, ``*``
    and :meth:`sqrt` return upper bounds of the exact results; :meth:`scaled` multiplies by a power
    of two exactly.
    """

    __slots__ = ("exponent", "mantissa")

    def __init__(self, mantissa: float, exponent: int) -> None:
        if not (mantissa >= 0.0 and math.isfinite(mantissa)):
            raise ValueError(f"a Magnitude needs a finite mantissa >= 0, got {mantissa!r}")
        if mantissa == 0.0:
            self.mantissa, self.exponent = 0.0, 0
            return
        normalized, shift = math.frexp(mantissa)  # exact
        self.mantissa = normalized
        self.exponent = int(exponent) + shift

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_float(cls, value: float) -> Magnitude:
        """``value`` itself (exact), for a finite ``value >= 0``."""
        value = float(value)
        if not (value >= 0.0 and math.isfinite(value)):
            raise ValueError(f"a Magnitude bounds a finite value >= 0, got {value!r}")
        return cls(value, 0)

    @classmethod
    def power_of_two(cls, exponent: int) -> Magnitude:
        """``2^exponent`` exactly."""
        return cls(0.5, int(exponent) + 1)

    @classmethod
    def upper_of(cls, ball: arb) -> Magnitude:
        """An upper bound of ``|x|`` for every x in the arb ball."""
        bound = ball.abs_upper()  # an exact arb: rounded upward by Arb
        mantissa, exponent = (int(part) for part in bound.mid().man_exp())
        if mantissa == 0:
            return ZERO
        excess = max(mantissa.bit_length() - 53, 0)
        head = mantissa >> excess
        if head << excess != mantissa:
            head += 1  # round the mantissa upward to 53 bits
        return cls(float(head), exponent + excess)

    # -- arithmetic ---------------------------------------------------------------------------

    def __bool__(self) -> bool:
        return self.mantissa != 0.0

    def __add__(self, other: Magnitude) -> Magnitude:
        if not other:
            return self
        if not self:
            return other
        top = max(self.exponent, other.exponent)
        total = math.ldexp(self.mantissa, self.exponent - top) + math.ldexp(
            other.mantissa, other.exponent - top
        )
        return Magnitude(round_up(total), top)

    def __mul__(self, other: Magnitude) -> Magnitude:
        if not (self and other):
            return ZERO
        return Magnitude(round_up(self.mantissa * other.mantissa), self.exponent + other.exponent)

    def times(self, value: float) -> Magnitude:
        """An upper bound of ``self · value`` for a finite float ``value >= 0``."""
        return self * Magnitude.from_float(value)

    def sqrt(self) -> Magnitude:
        if not self:
            return ZERO
        mantissa, exponent = self.mantissa, self.exponent
        if exponent % 2:
            mantissa, exponent = 2.0 * mantissa, exponent - 1  # exact
        return Magnitude(round_up(math.sqrt(mantissa)), exponent // 2)

    def scaled(self, power: int) -> Magnitude:
        """``self · 2^power``, exactly."""
        if not self:
            return ZERO
        return Magnitude(self.mantissa, self.exponent + int(power))

    # -- comparison and conversion ------------------------------------------------------------

    def log2_upper(self) -> int:
        """An integer b with ``self <= 2^b`` (very negative for the bound 0)."""
        return self.exponent if self else -(10**9)

    def __le__(self, other: Magnitude) -> bool:
        if not self:
            return True
        if not other:
            return False
        if self.exponent != other.exponent:
            return self.exponent < other.exponent
        return self.mantissa <= other.mantissa

    def to_arb(self) -> arb:
        """The bound as an exact arb number."""
        if not self:
            return arb(0)
        integer = int(math.ldexp(self.mantissa, 53))  # exact: a 53-bit integer
        return arb(arf((integer, self.exponent - 53)))

    def to_float_upper(self) -> float:
        """A float64 >= the bound (``inf`` when it exceeds the float range)."""
        if not self:
            return 0.0
        if self.exponent > 1024:
            return math.inf
        if self.exponent < -1073:
            return SMALLEST_SUBNORMAL
        value = math.ldexp(self.mantissa, self.exponent)
        if value < 2.0**-1022:  # subnormal: ldexp may have rounded down
            value = math.nextafter(value, math.inf)
        return value

    def __repr__(self) -> str:
        if not self:
            return "Magnitude(0)"
        log10 = (math.log2(self.mantissa) + self.exponent) * math.log10(2.0)
        return f"Magnitude(~1e{log10:.1f})"


ZERO = Magnitude(0.0, 0)
