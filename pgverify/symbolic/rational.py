"""An exact zero test for large rational expressions whose denominators are powers of a few
polynomials (the determinants of solved Lyapunov and Bellman systems, 1 − γ, σ).

Tier: **exact**.  Each sub-expression is kept as ``numerator / Π_f f^e``: a polynomial over QQ
and a product of powers of *monic* denominator polynomials, so that a common denominator is a
maximum of exponents — no polynomial gcd, which is what makes ``together`` or sympy's fraction
field slow on the derivative of a solved P_K.  The expression is zero iff its final numerator
is the zero polynomial (the denominators are non-zero polynomials by construction).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy
from sympy.polys.domains import QQ
from sympy.polys.rings import PolyElement, ring


class NotRational(Exception):
    """The expression holds something other than +, ×, integer powers, symbols and rationals."""


Fraction = tuple[PolyElement, dict[PolyElement, int]]


class RationalZeroTest:
    """Converts sympy expressions in ``symbols`` to ``numerator / Π f^e`` (module docstring)."""

    def __init__(self, symbols: Sequence[sympy.Symbol]) -> None:
        self.ring, *generators = ring(list(symbols), QQ)
        self.generators = dict(zip(symbols, generators, strict=True))
        self.memo: dict[Any, Fraction] = {}

    def is_zero(self, expression: Any) -> bool:
        """Is ``expression`` the zero rational function?  Raises :class:`NotRational`."""
        numerator, _ = self.convert(sympy.sympify(expression))
        return numerator == 0

    def convert(self, expression: Any) -> Fraction:
        cached = self.memo.get(expression)
        if cached is None:
            cached = self._convert(expression)
            self.memo[expression] = cached
        return cached

    def _convert(self, expression: Any) -> Fraction:
        if expression.is_Rational:
            return self.ring(expression), {}
        if expression.is_Symbol:
            if expression not in self.generators:
                raise NotRational(f"unknown symbol {expression}")
            return self.generators[expression], {}
        if expression.is_Add:
            terms = [self.convert(term) for term in expression.args]
            common: dict[PolyElement, int] = {}
            for _, denominator in terms:
                for factor, exponent in denominator.items():
                    common[factor] = max(common.get(factor, 0), exponent)
            total = self.ring.zero
            for numerator, denominator in terms:
                for factor, exponent in common.items():
                    missing = exponent - denominator.get(factor, 0)
                    if missing:
                        numerator = numerator * factor**missing
                total += numerator
            return total, common
        if expression.is_Mul:
            numerator, denominator = self.ring.one, {}
            for factor in expression.args:
                top, bottom = self.convert(factor)
                numerator *= top
                denominator = _merge(denominator, bottom)
            return numerator, denominator
        if expression.is_Pow and expression.exp.is_Integer:
            power = int(expression.exp)
            top, bottom = self.convert(expression.base)
            if power >= 0:
                return top**power, {f: e * power for f, e in bottom.items()}
            if top == 0:
                raise ZeroDivisionError("a power of zero with a negative exponent")
            # (top / bottom)^(−k) = Π bottom^k / top^k; top made monic so equal factors match
            numerator = self.ring.one
            for factor, exponent in bottom.items():
                numerator *= factor ** (exponent * -power)
            if top.is_ground:
                return numerator * top.LC**power, {}
            leading = top.LC
            monic = top.quo_ground(leading)
            return numerator * leading**power, {monic: -power}
        raise NotRational(f"cannot convert {type(expression).__name__}")


def _merge(left: dict[PolyElement, int], right: dict[PolyElement, int]) -> dict[PolyElement, int]:
    merged = dict(left)
    for factor, exponent in right.items():
        merged[factor] = merged.get(factor, 0) + exponent
    return merged


def vanishes_rationally(entry: Any, symbols: Sequence[sympy.Symbol]) -> bool | None:
    """True/False when ``entry`` is a rational expression in ``symbols`` (zero or not), None
    when it holds anything else (functions, non-integer powers).  Raises ZeroDivisionError
    when it divides by the zero polynomial."""
    try:
        return RationalZeroTest(symbols).is_zero(entry)
    except NotRational:
        return None


def evaluate_rationally(entry: Any, point: dict[Any, Any]) -> Any:
    """The exact value of a rational expression at a rational ``point`` (a sympy Rational),
    evaluated bottom-up with every shared sub-expression computed once; None at a pole.
    Raises :class:`NotRational` for anything but +, ×, integer powers, symbols and rationals."""
    values = {symbol: QQ.convert(sympy.Rational(value)) for symbol, value in point.items()}
    memo: dict[Any, Any] = {}

    def value_of(expression: Any) -> Any:
        cached = memo.get(expression)
        if cached is not None:
            return cached
        if expression.is_Rational:
            result = QQ.convert(expression)
        elif expression.is_Symbol:
            if expression not in values:
                raise NotRational(f"no value for {expression}")
            result = values[expression]
        elif expression.is_Add:
            result = sum((value_of(term) for term in expression.args), QQ.zero)
        elif expression.is_Mul:
            result = QQ.one
            for factor in expression.args:
                result *= value_of(factor)
        elif expression.is_Pow and expression.exp.is_Integer:
            base = value_of(expression.base)
            power = int(expression.exp)
            if power < 0 and base == 0:
                raise ZeroDivisionError
            result = base**power
        else:
            raise NotRational(f"cannot evaluate {type(expression).__name__}")
        memo[expression] = result
        return result

    try:
        return QQ.to_sympy(value_of(sympy.sympify(entry)))
    except ZeroDivisionError:
        return None


def vanishes_generically(entry: Any, symbols: Sequence[sympy.Symbol]) -> bool:
    """True when ``entry`` is the zero rational function of ``symbols`` *and* of its other
    sub-expressions — tanh(…), exp(…), a generic h(…), non-integer powers — each taken as an
    independent indeterminate t: substituting the actual values t = tanh(…), … into the zero
    function gives 0 wherever ``entry`` is defined, so True proves ``entry`` ≡ 0.  False means
    only *not shown*: the atoms may be related (tanh² + sech² = 1), the caller must try harder.
    Raises ZeroDivisionError when it divides by the zero function."""
    atoms: dict[Any, sympy.Dummy] = {}
    memo: dict[Any, Any] = {}

    def generic(expression: Any) -> Any:
        cached = memo.get(expression)
        if cached is not None:
            return cached
        if expression.is_Rational or expression.is_Symbol:
            result = expression
        elif expression.is_Add or expression.is_Mul:
            result = expression.func(*(generic(argument) for argument in expression.args))
        elif expression.is_Pow and expression.exp.is_Integer:
            result = generic(expression.base) ** expression.exp
        else:  # an opaque atom: equal sub-expressions get the same indeterminate
            result = atoms.setdefault(expression, sympy.Dummy("t"))
        memo[expression] = result
        return result

    replaced = generic(sympy.sympify(entry))
    if not atoms:
        return False
    try:
        return RationalZeroTest([*symbols, *atoms.values()]).is_zero(replaced)
    except NotRational:  # a symbol outside ``symbols``: not shown
        return False
