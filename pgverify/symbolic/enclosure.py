"""Certified enclosures of an expression's value at a rational point (python-flint ``arb`` balls).

Tier: **certified**.  A residual holding exp, log, sin, ... is evaluated bottom-up in ball
arithmetic (each shared sub-expression once), never through symbolic ``cancel``: the returned ball
contains the true value, so a ball excluding 0 proves the value non-zero.  ``prove`` refutes an
identity with such a value only; rounding noise (a ball containing 0) never refutes
(docs/symbolic-toolkit.md).
"""

from __future__ import annotations

from typing import Any

import flint
import sympy

PRECISIONS = (128, 1024)
"""Working precisions in bits, tried in turn until the ball excludes 0."""

_FUNCTIONS = {
    sympy.exp: "exp",
    sympy.log: "log",
    sympy.sin: "sin",
    sympy.cos: "cos",
    sympy.tan: "tan",
    sympy.sinh: "sinh",
    sympy.cosh: "cosh",
    sympy.tanh: "tanh",
    sympy.atan: "atan",
    sympy.erf: "erf",
}

MAX_EXPONENT = 4096
"""Endpoints are made exact rationals only within 2^-MAX_EXPONENT ≤ |end| ≤ 2^MAX_EXPONENT:
beyond, the exact power of two (cosh(cosh(37.5)) ≈ 2^(1.4·10^16)) cannot be built in time."""


class Unsupported(Exception):
    """The expression holds a node with no ball-arithmetic counterpart here."""


def nonzero_enclosure(entry: Any, point: dict[Any, Any]) -> sympy.Interval | sympy.Rational | None:
    """The value of ``entry`` at ``point`` (a dict from symbols to rationals) when it is proved
    non-zero: a ``sympy.Interval`` with exact (dyadic) endpoints that contains it and excludes 0,
    or the exact value itself (a ``sympy.Rational``) when the ball is exact (radius 0: arb proves
    the value equals its midpoint).  An end beyond 2^MAX_EXPONENT in magnitude becomes ±oo (an
    outward rounding, still containing the value).  None when no precision in
    :data:`PRECISIONS` separates the value from 0 (it may be 0, a pole, an unsupported node, or
    closer to 0 than 2^-MAX_EXPONENT: nothing is claimed)."""
    for bits in PRECISIONS:
        saved = flint.ctx.prec
        flint.ctx.prec = bits
        try:
            ball = _Evaluator(point).value(entry)
            if ball.is_finite() and not ball.contains(0):
                return _enclosure(ball)
        except (Unsupported, ZeroDivisionError, ValueError):
            return None
        finally:
            flint.ctx.prec = saved
    return None


def _enclosure(ball: Any) -> sympy.Interval | sympy.Rational | None:
    """The ball (finite, excluding 0) as exact sympy numbers, rounded outwards (module doc)."""
    huge = flint.arb(2) ** MAX_EXPONENT
    magnitude = abs(ball)
    if (magnitude < 1 / huge) is not False:  # some point of the ball is too close to 0
        return None
    if ball.rad() == 0 and magnitude < huge:
        return _exact(ball.mid())
    bound = sympy.Integer(2) ** MAX_EXPONENT
    lower, upper = ball.lower(), ball.upper()  # exact balls: the comparisons below are exact
    # beyond the bound the ends are rounded outwards: a lower end to +2^MAX or -oo, an upper
    # end to +oo or -2^MAX (the ball excludes 0, so both ends have one sign)
    start = (bound if lower > 0 else -sympy.oo) if abs(lower) > huge else _exact(lower)
    end = (sympy.oo if upper > 0 else -bound) if abs(upper) > huge else _exact(upper)
    return sympy.Interval(start, end)


def interval_text(interval: sympy.Interval, digits: int = 15) -> str:
    """``[m +/- r]``: a decimal ball (python-flint's rigorous printing) containing ``interval``;
    a half-line (an end rounded beyond 2^MAX_EXPONENT) as ``[2^4096, +oo)`` or ``(-oo, e]``."""
    if interval.end is sympy.oo:
        return f"[{_end_text(interval.start, digits)}, +oo)"
    if interval.start is -sympy.oo:
        return f"(-oo, {_end_text(interval.end, digits)}]"
    saved = flint.ctx.prec
    flint.ctx.prec = 1024
    try:
        low, high = (
            flint.arb(flint.fmpq(int(end.p), int(end.q))) for end in (interval.start, interval.end)
        )
        return low.union(high).str(digits)
    finally:
        flint.ctx.prec = saved


def _end_text(end: sympy.Rational, digits: int) -> str:
    """A finite end of a half-line: ``2^4096`` for the rounding bound, else a decimal ball."""
    if abs(end) == sympy.Integer(2) ** MAX_EXPONENT:
        return f"{'-' if end < 0 else ''}2^{MAX_EXPONENT}"
    saved = flint.ctx.prec
    flint.ctx.prec = 1024
    try:
        return flint.arb(flint.fmpq(int(end.p), int(end.q))).str(digits)
    finally:
        flint.ctx.prec = saved


def _exact(ball: Any) -> sympy.Rational:
    """The exact value of an exact (radius 0) ball: mantissa · 2^exponent."""
    mantissa, exponent = ball.mid().man_exp()
    return sympy.Integer(int(mantissa)) * sympy.Rational(2) ** int(exponent)


class _Evaluator:
    """Bottom-up ball evaluation with a memo (the residuals are trees with heavy sharing)."""

    def __init__(self, point: dict[Any, Any]) -> None:
        self.point = point
        self.memo: dict[Any, Any] = {}

    def value(self, expression: Any) -> Any:
        cached = self.memo.get(expression)
        if cached is None:
            cached = self._value(expression)
            self.memo[expression] = cached
        return cached

    def _value(self, expression: Any) -> Any:
        if expression.is_Rational:
            return flint.arb(flint.fmpq(int(expression.p), int(expression.q)))
        if expression.is_Symbol:
            if expression not in self.point:
                raise Unsupported(f"no value for {expression}")
            return self.value(sympy.Rational(self.point[expression]))
        if expression is sympy.pi:
            return flint.arb.pi()
        if expression is sympy.E:
            return flint.arb(1).exp()
        if expression.is_Add:
            total = flint.arb(0)
            for term in expression.args:
                total += self.value(term)
            return total
        if expression.is_Mul:
            product = flint.arb(1)
            for factor in expression.args:
                product *= self.value(factor)
            return product
        if expression.is_Pow:
            base = self.value(expression.base)
            if expression.exp in (sympy.S.Half, -sympy.S.Half):
                # arb's sqrt is nan on a ball reaching below 0 (sympy's sqrt is complex there)
                root = base.sqrt()
                return root if expression.exp > 0 else 1 / root
            if expression.exp.is_Integer:
                power = int(expression.exp)
                # arb ** negative int of a ball containing 0 is not finite: no refutation then
                return base**power if power >= 0 else 1 / base**-power
            return base ** self.value(expression.exp)
        if isinstance(expression, sympy.Abs):
            return abs(self.value(expression.args[0]))
        name = _FUNCTIONS.get(expression.func)
        if name is not None and len(expression.args) == 1:
            return getattr(self.value(expression.args[0]), name)()
        raise Unsupported(f"{expression.func} has no ball evaluation here")
