"""exp of real symbols replaced by positive symbols, so a softmax residual becomes rational.

Tier: **exact**.  Every ``exp(c₁θ₁ + … + c_kθ_k)`` (integer cᵢ, each θᵢ ranging over all reals)
becomes ``Π p_i^{c_i}`` with ``p_i = exp θ_i > 0``.  When no θᵢ is left outside an exp, the
residual is a rational function R(p) and:

* R ≡ 0 as a rational function implies the residual is 0 for every θ (substitute p = exp θ);
* R(p) ≠ 0 at a positive rational p is a counterexample at the real point θ = log p, with an
  exact rational residual.

So both verdicts stay exact and run through the rational fast paths (docs/symbolic-toolkit.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy


class NotSubstitutable(Exception):
    """An exp whose argument is not an integer combination of real symbols, or a real symbol
    that also occurs outside an exp."""


@dataclass(frozen=True)
class ExponentialForm:
    """``entries`` with each ``exp θ`` replaced by ``positive[θ]`` (a positive Dummy symbol)."""

    entries: list[Any]
    positive: dict[sympy.Symbol, sympy.Dummy]


def exponential_form(entries: list[Any], real: frozenset[Any]) -> ExponentialForm | None:
    """The residual entries in ``p = exp θ`` for the symbols θ in ``real``, or None when some
    entry holds no exp (nothing to gain) or cannot be written this way (module docstring)."""
    replacer = _Replacer(real)
    try:
        replaced = [replacer.replace(entry) for entry in entries]
    except NotSubstitutable:
        return None
    if not replacer.positive:
        return None
    left = set().union(*(entry.free_symbols for entry in replaced))
    if left & set(replacer.positive):
        return None
    return ExponentialForm(replaced, replacer.positive)


class _Replacer:
    """The replacement, memoised over shared sub-expressions (derivatives of solved Bellman
    systems are trees with heavy sharing)."""

    def __init__(self, real: frozenset[Any]) -> None:
        self.real = real
        self.positive: dict[sympy.Symbol, sympy.Dummy] = {}
        self.memo: dict[Any, Any] = {}

    def replace(self, expression: Any) -> Any:
        cached = self.memo.get(expression)
        if cached is None:
            cached = self._replace(expression)
            self.memo[expression] = cached
        return cached

    def _replace(self, expression: Any) -> Any:
        if isinstance(expression, sympy.exp):
            return self._power_product(expression.args[0])
        if not expression.args:
            return expression
        if isinstance(expression, (sympy.Add, sympy.Mul, sympy.Pow)):
            return expression.func(*(self.replace(argument) for argument in expression.args))
        if any(self.replace(argument) != argument for argument in expression.args):
            raise NotSubstitutable(f"an exp inside {expression.func}")
        return expression

    def _power_product(self, argument: Any) -> Any:
        product = sympy.Integer(1)
        for term, coefficient in sympy.expand(argument).as_coefficients_dict().items():
            if term not in self.real or not coefficient.is_Integer:
                raise NotSubstitutable(f"exp({argument})")
            symbol = self.positive.setdefault(term, sympy.Dummy(f"exp_{term}", positive=True))
            product *= symbol ** int(coefficient)
        return product
