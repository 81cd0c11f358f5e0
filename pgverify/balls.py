"""Exact conversions between numbers and Arb balls, and rigorous rounding of balls to float64.

A float64 number is a dyadic rational, so every float, int, dyadic Fraction and mpmath number
becomes an *exact* (radius-0) ball; a non-dyadic Fraction becomes a ball of radius about
2^-RATIONAL_BITS that contains it.  Both directions are what the certified tier (see
``docs/certified-lqr.md``) needs to stay sound.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import arb, ctx, fmpq, fmpz

from pgverify.errors import InvalidProblemError

RATIONAL_BITS = 2048
"""Precision at which a non-dyadic rational is enclosed for :meth:`Enclosure.contains`: the
answer is exact unless the rational lies within about 2^-2048 of the enclosure's boundary."""


def to_arb(value: Any) -> arb:
    """Convert a float, int, Fraction, mpmath mpf or arb to an arb ball: exactly for every
    number but a non-dyadic Fraction, which becomes a ball of relative radius ~2^-2048.

    Raises InvalidProblemError for a non-finite value, a bool or anything that is not a real
    number."""
    if isinstance(value, arb):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise InvalidProblemError(f"expected a real number, got the bool {value!r}")
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
    raise InvalidProblemError(
        f"expected a real number (float, int, Fraction, mpmath mpf or flint arb), got "
        f"{type(value).__name__} {value!r}"
    )


def float_upper(value: arb) -> float:
    """A float64 number that is provably >= every point of the ball ``value``."""
    nearest = float(value.upper())
    return float(np.nextafter(nearest, np.inf))


def float_lower(value: arb) -> float:
    """A float64 number that is provably <= every point of the ball ``value``."""
    nearest = float(value.lower())
    return float(np.nextafter(nearest, -np.inf))


def binary_exponent(entry: arb) -> int:
    """An e with ``|mid| < 2^e`` for an arb entry (very negative for 0)."""
    mantissa, exponent = (int(part) for part in entry.mid().man_exp())
    return exponent + abs(mantissa).bit_length() if mantissa else -(10**9)
