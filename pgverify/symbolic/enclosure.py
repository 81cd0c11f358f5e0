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
}


class Unsupported(Exception):
    """The expression holds a node with no ball-arithmetic counterpart here."""


def nonzero_enclosure(entry: Any, point: dict[Any, Any]) -> sympy.Interval | None:
    """A closed interval with exact (dyadic) endpoints that contains the value of ``entry`` at
    ``point`` (a dict from symbols to rationals) and excludes 0, or None when no precision in
    :data:`PRECISIONS` separates the value from 0 (it may be 0, a pole, or an unsupported node)."""
    for bits in PRECISIONS:
        saved = flint.ctx.prec
        flint.ctx.prec = bits
        try:
            ball = _Evaluator(point).value(entry)
            if ball.is_finite() and not ball.contains(0):
                # the endpoints are rounded outwards at the working precision: still rigorous
                return sympy.Interval(_exact(ball.lower()), _exact(ball.upper()))
        except (Unsupported, ZeroDivisionError, ValueError):
            return None
        finally:
            flint.ctx.prec = saved
    return None


def interval_text(interval: sympy.Interval, digits: int = 15) -> str:
    """``[m +/- r]``: a decimal ball (python-flint's rigorous printing) containing ``interval``."""
    saved = flint.ctx.prec
    flint.ctx.prec = 1024
    try:
        low, high = (
            flint.arb(flint.fmpq(int(end.p), int(end.q))) for end in (interval.start, interval.end)
        )
        return low.union(high).str(digits)
    finally:
        flint.ctx.prec = saved


def _exact(ball: Any) -> sympy.Rational:
    """The exact value of an exact (radius 0) ball: mantissa · 2^exponent."""
    mantissa, exponent = ball.mid().man_exp()
    return sympy.Integer(int(mantissa)) * sympy.Integer(2) ** int(exponent)


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
            if expression.exp.is_Integer:
                power = int(expression.exp)
                # arb ** negative int of a ball containing 0 is not finite: no refutation then
                return base**power if power >= 0 else 1 / base**-power
            return base ** self.value(expression.exp)
        name = _FUNCTIONS.get(expression.func)
        if name is not None and len(expression.args) == 1:
            return getattr(self.value(expression.args[0]), name)()
        raise Unsupported(f"{expression.func} has no ball evaluation here")
