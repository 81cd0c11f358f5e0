"""exp of scalar symbols replaced by positive symbols, so a softmax residual becomes rational.

Tier: **exact**.  Every ``exp(c₁θ₁ + … + c_kθ_k)`` with *rational* cᵢ becomes ``Π p_i^{bᵢcᵢ}``
with ``p_i = exp(θ_i / b_i) > 0``, where b_i is the least common denominator of θ_i's
coefficients over every exp of the residual (so every exponent bᵢcᵢ is an integer).  Each θᵢ
must have an independently drawn interval domain — ``"real"`` (ℝ), ``"positive"`` ((0, ∞)) or
``"discount"`` ((0, 1)) — which maps to p: ℝ ↦ p > 0, (0, ∞) ↦ p > 1, (0, 1) ↦ 1 < p < e^{1/b}.
When no θᵢ is left outside an exp, the residual is a rational function R(p) and:

* R ≡ 0 as a rational function implies the residual is 0 for every θ (substitute
  p = exp(θ/b), which is positive for every real θ);
* R(p) ≠ 0 at a rational p of the mapped interval is a counterexample at the real in-domain
  point θ = b log p, with an exact rational residual (:func:`exponential_sample`).

So both verdicts stay exact and run through the rational fast paths (docs/symbolic-toolkit.md).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy

from pgverify.symbolic.domain import discount, positive_rational

KINDS = ("real", "positive", "discount")
"""The scalar domains whose exp is rewritten (each an interval, drawn independently)."""


class NotSubstitutable(Exception):
    """An exp whose argument is not a rational combination of eligible symbols, or an exp
    inside a function other than +, ×, powers."""


@dataclass(frozen=True)
class ExponentialForm:
    """``entries`` with each ``exp(cθ)`` replaced by ``positive[θ] ** (c · scale[θ])``:
    ``positive[θ]`` is a positive Dummy p = exp(θ / scale[θ]), ``kind[θ]`` the domain of θ."""

    entries: list[Any]
    positive: dict[sympy.Symbol, sympy.Dummy]
    scale: dict[sympy.Symbol, int]
    kind: dict[sympy.Symbol, str]

    def theta(self, symbol: sympy.Symbol, value: sympy.Rational) -> Any:
        """θ = b log p, the real point shown for ``symbol`` when its p is ``value``."""
        return self.scale[symbol] * sympy.log(value)


def exponential_sample(kind: str, scale: int, rng: random.Random) -> sympy.Rational:
    """A rational p with θ = scale · log p in the domain ``kind``: p > 0 for ``"real"``,
    p > 1 for ``"positive"`` (θ > 0), 1 < p < 1 + 1/scale for ``"discount"`` (then
    0 < θ < scale · (1/scale) = 1, as log(1 + x) < x for x > 0)."""
    if kind == "real":
        return positive_rational(rng)
    if kind == "positive":
        return 1 + positive_rational(rng)
    return 1 + discount(rng) / scale


def exponential_form(entries: list[Any], kinds: Mapping[Any, str]) -> ExponentialForm | None:
    """The residual entries in ``p = exp(θ/b)`` for the symbols θ of ``kinds`` (each mapped to
    one of :data:`KINDS`), or None when no entry holds such an exp (nothing to gain) or the
    residual cannot be written this way (module docstring)."""
    scanner = _Scanner(kinds)
    try:
        for entry in entries:
            scanner.scan(entry)
    except NotSubstitutable:
        return None
    if not scanner.exponents:
        return None
    denominators: dict[sympy.Symbol, int] = {}
    for coefficients in scanner.exponents.values():
        for symbol, coefficient in coefficients.items():
            denominators[symbol] = math.lcm(denominators.get(symbol, 1), int(coefficient.q))
    positive = {
        symbol: sympy.Dummy(
            f"exp_{symbol}" if scale == 1 else f"exp_{symbol}/{scale}", positive=True
        )
        for symbol, scale in denominators.items()
    }
    replacements = {
        node: sympy.Mul(
            *(
                positive[symbol] ** int(coefficient * denominators[symbol])
                for symbol, coefficient in coefficients.items()
            )
        )
        for node, coefficients in scanner.exponents.items()
    }
    replaced = [_replace(entry, replacements, {}) for entry in entries]
    left = set().union(*(entry.free_symbols for entry in replaced))
    if left & set(positive):  # a θ outside an exp: not rational in p
        return None
    return ExponentialForm(
        replaced, positive, denominators, {symbol: kinds[symbol] for symbol in positive}
    )


class _Scanner:
    """Finds every exp node and its coefficients, memoised over shared sub-expressions
    (derivatives of solved Bellman systems are trees with heavy sharing)."""

    def __init__(self, kinds: Mapping[Any, str]) -> None:
        self.kinds = kinds
        self.exponents: dict[Any, dict[sympy.Symbol, sympy.Rational]] = {}
        self.memo: dict[Any, bool] = {}

    def scan(self, expression: Any) -> bool:
        """Does ``expression`` hold an exp?  Raises :class:`NotSubstitutable`."""
        cached = self.memo.get(expression)
        if cached is None:
            cached = self._scan(expression)
            self.memo[expression] = cached
        return cached

    def _scan(self, expression: Any) -> bool:
        if isinstance(expression, sympy.exp):
            self.exponents[expression] = self._coefficients(expression.args[0])
            return True
        if not expression.args:
            return False
        inside = [self.scan(argument) for argument in expression.args]
        if any(inside) and not isinstance(expression, (sympy.Add, sympy.Mul, sympy.Pow)):
            raise NotSubstitutable(f"an exp inside {expression.func}")
        return any(inside)

    def _coefficients(self, argument: Any) -> dict[sympy.Symbol, sympy.Rational]:
        coefficients = {}
        for term, coefficient in sympy.expand(argument).as_coefficients_dict().items():
            if self.kinds.get(term) not in KINDS or not coefficient.is_Rational:
                raise NotSubstitutable(f"exp({argument})")
            coefficients[term] = coefficient
        return coefficients


def _replace(expression: Any, replacements: dict[Any, Any], memo: dict[Any, Any]) -> Any:
    """``expression`` with each exp node replaced, rebuilt only where something changed."""
    cached = memo.get(expression)
    if cached is not None:
        return cached
    if expression in replacements:
        result = replacements[expression]
    elif not expression.args:
        result = expression
    else:
        arguments = [_replace(argument, replacements, memo) for argument in expression.args]
        changed = any(new is not old for new, old in zip(arguments, expression.args, strict=True))
        result = expression.func(*arguments) if changed else expression
    memo[expression] = result
    return result
