"""``prove(lhs, rhs, assumptions=...)``: a user's identity proved exactly, or refuted by an
in-domain counterexample.

Tier: **exact**.  The residual ``lhs − rhs`` (a scalar or a matrix of rational expressions) is
first evaluated exactly at random rational points drawn *inside* the declared domain (0 < γ < 1,
σ > 0, P ≻ 0, a stabilising K, ...: :mod:`pgverify.symbolic.assumptions`): one non-zero value
refutes the identity, and that point is the counterexample.  Otherwise the residual must be the
zero rational function (the numerator expands to 0 in a polynomial ring over QQ), as every
shipped derivation is proved.  ``exp(cθ)`` (rational c) of real, positive or discount symbols is
first written as a power of a positive symbol p = exp(θ/b)
(:mod:`pgverify.symbolic.exponentials`: softmax residuals become rational, verdicts stay exact);
other transcendental residuals are refuted only by a ball excluding 0
(:mod:`pgverify.symbolic.enclosure`; such a refutation has tier **certified**).
Guide: docs/symbolic-toolkit.md.
"""

from __future__ import annotations

import random
import time
from typing import Any

import sympy
from sympy.core.function import AppliedUndef

from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.symbolic.assumptions import Assumption, combine
from pgverify.symbolic.core import Derivation, Step, _evaluate, _vanishes
from pgverify.symbolic.enclosure import nonzero_enclosure
from pgverify.symbolic.exponentials import (
    ExponentialForm,
    exponential_form,
    exponential_sample,
)
from pgverify.symbolic.rational import NotRational, evaluate_rationally

NOT_REAL = (sympy.I, sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)
"""Atoms that make an expression other than a real number wherever it is defined."""


SHOWN_NODES = 40
"""An expression with more nodes is described, not printed, in an error message (printing a
large residual takes seconds)."""


def _shown(value: Any, limit: int = 200) -> str:
    """``value`` for an error message: printed (at most ``limit`` characters) when small, else
    its type and size with the first of its arguments that is small enough to print."""
    if isinstance(value, sympy.MatrixBase):
        return f"a {value.rows}x{value.cols} Matrix"
    if not isinstance(value, sympy.Basic):
        text = repr(value)
        return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"
    nodes = 0
    for nodes, _ in enumerate(sympy.preorder_traversal(value), start=1):
        if nodes > SHOWN_NODES:
            break
    if nodes <= SHOWN_NODES:
        text = str(value)
        return text if len(text) <= limit else f"{text[:limit]}..."
    return f"a large {type(value).__name__} (more than {SHOWN_NODES} nodes)"


def _offending(expression: Any) -> str:
    """The smallest sub-expression holding I, nan or oo (its parent node, printed briefly)."""
    seen: set[Any] = set()
    stack = list(expression) if isinstance(expression, sympy.MatrixBase) else [expression]
    while stack:
        node = stack.pop()
        if node in seen or not isinstance(node, sympy.Basic):
            continue
        seen.add(node)
        if any(argument in NOT_REAL for argument in node.args):
            return _shown(node)
        stack.extend(node.args)
    return _shown(expression)


def _as_sympy(value: Any, argument: str) -> Any:
    expression = _sympified(value, argument)
    if expression.has(*NOT_REAL):
        raise InvalidProblemError(
            f"{argument}: expected a real expression, got {_shown(expression)}: it holds I, nan "
            f"or oo, in {_offending(expression)}"
        )
    floats = sorted(expression.atoms(sympy.Float))
    if floats:
        # a float such as 0.1 is not 1/10: an exact verdict on it would be about the wrong number
        raise InvalidProblemError(
            f"{argument}: holds the float {floats[0]}; expected exact numbers "
            "(sympy.Rational(1, 10), not 0.1): prove's verdicts are exact"
        )
    return expression


def _sympified(value: Any, argument: str) -> Any:
    if isinstance(value, sympy.MatrixBase):
        return value
    try:
        expression = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError) as error:
        raise InvalidProblemError(
            f"{argument}: expected a sympy expression or a sympy Matrix, got {_shown(value)}"
        ) from error
    if isinstance(expression, sympy.MatrixBase):
        return expression
    if not isinstance(expression, sympy.Expr):
        raise InvalidProblemError(
            f"{argument}: expected a sympy expression or a sympy Matrix, got {_shown(value)}"
        )
    return expression


def _residual_entries(lhs: Any, rhs: Any) -> list[Any]:
    left_is_matrix = isinstance(lhs, sympy.MatrixBase)
    right_is_matrix = isinstance(rhs, sympy.MatrixBase)
    if left_is_matrix != right_is_matrix or (left_is_matrix and lhs.shape != rhs.shape):
        shape_of = {True: lambda v: f"a matrix of shape {v.shape}", False: lambda v: "a scalar"}
        raise InvalidProblemError(
            f"prove: lhs is {shape_of[left_is_matrix](lhs)} but rhs is "
            f"{shape_of[right_is_matrix](rhs)}; expected the same shape on both sides"
        )
    if left_is_matrix:
        return [sympy.sympify(entry) for entry in (lhs - rhs)]
    return [lhs - rhs]


def _undeclared(entries: list[Any], declared: set[Any]) -> list[str]:
    missing = set()
    for entry in entries:
        missing |= {symbol for symbol in entry.free_symbols if symbol not in declared}
        missing |= {
            applied.func for applied in entry.atoms(AppliedUndef) if applied.func not in declared
        }
    return sorted(map(str, missing))


def prove(
    lhs: Any,
    rhs: Any,
    assumptions: Any = (),
    *,
    name: str = "user-identity",
    statement: str | None = None,
    source: str = "",
    trials: int = 8,
    seed: int = 0,
) -> Derivation:
    """Prove ``lhs = rhs`` (two sympy expressions, or two sympy matrices of one shape) on the
    domain ``assumptions`` declares, or refute it with a counterexample inside that domain.

    ``assumptions``: :class:`~pgverify.symbolic.assumptions.Assumption` objects (from
    :func:`assume` or the ``domain()`` of a :class:`SymbolicLQR`, :class:`SymbolicMDP` or a
    symbolic policy), a mapping ``{symbol or matrix: kind}`` (kinds: ``"real"``,
    ``"positive"``, ``"discount"``, ``"positive definite"``, ``"distribution"``), one pair
    ``(symbol or matrix, kind)``, or a list of them; every symbol of ``lhs − rhs`` must get a
    domain.

    0. each ``exp(c₁θ₁ + …)`` of symbols θᵢ declared ``"real"``, ``"positive"`` or
       ``"discount"`` (rational cᵢ) is written as ``Π pᵢ^(bᵢcᵢ)`` with pᵢ = exp(θᵢ/bᵢ) > 0 (bᵢ
       the least common denominator of θᵢ's coefficients), when no θᵢ is left outside an exp:
       the residual is then rational in p, drawn at rational p of the interval θ's domain maps
       to (p > 0, p > 1, 1 < p < 1 + 1/b), i.e. at the real in-domain point θ = b log p;
    1. ``lhs − rhs`` is evaluated exactly at ``trials`` random rational points of the domain,
       before any simplification; the first non-zero value refutes it: the returned
       :class:`Derivation` has verdict ``"refuted"``, the point in ``counterexample`` and the
       value in ``counterexample_value`` (its text prints both, with the domain).  A residual
       still holding exp, log, tanh, ... is evaluated in ball arithmetic instead and refutes
       only when the ball excludes 0: ``counterexample_value`` is then that enclosure (a
       ``sympy.Interval``) and ``tier`` is ``"certified"``; a ball containing 0 never refutes;
    2. otherwise each entry of the residual must be the zero rational function: verdict
       ``"proved"`` (tier exact, every value of the symbols where both sides are defined).

    Raises :class:`InvalidProblemError` for sides of different shapes, a float in a side (0.1
    is not 1/10: write ``sympy.Rational(1, 10)``), an unknown assumption kind, or symbols
    without a domain; :class:`CertificationError` when the residual vanished
    at every point drawn but is not the zero function of independent symbols (it may hold only
    on a relation the domain imposes, such as P = P_K: substitute the solved quantity)."""
    started = time.perf_counter()
    lhs, rhs = _as_sympy(lhs, "lhs"), _as_sympy(rhs, "rhs")
    entries = _residual_entries(lhs, rhs)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise InvalidProblemError(f"trials must be a positive int, got {trials!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidProblemError(f"seed must be an int, got {seed!r}")
    for argument, text in (("name", name), ("source", source)):
        if not isinstance(text, str):
            raise InvalidProblemError(f"{argument} must be a string, got {text!r}")
    if statement is not None and not isinstance(statement, str):
        raise InvalidProblemError(f"statement must be a string or None, got {statement!r}")
    domains = combine(assumptions)
    declared = set().union(*(assumption.symbols for assumption in domains))
    missing = _undeclared(entries, declared)
    if missing:
        raise InvalidProblemError(
            f"prove: the symbols {missing} have no domain; declare one, e.g. "
            f"assumptions={{{missing[0]}: 'real'}}, or pass the domain() of the problem or "
            "policy they come from"
        )
    description = "; ".join(assumption.description for assumption in domains)
    result = Derivation(
        name=name,
        title=name,
        statement=statement or _default_statement(lhs, rhs),
        source=source,
        sizes={},
        premises=[assumption.description for assumption in domains],
        covers="every value of the symbols where both sides are defined",
        domain=description or "no constraint",
        unsized="shapes as given",
    )
    result.residuals = entries
    form = exponential_form(entries, _scalar_kinds(domains))
    rng = random.Random(seed)
    undecided: set[int] = set()  # entries whose value was not decided at some point drawn
    for _ in range(trials):
        point: dict[Any, Any] = {}
        for assumption in domains:
            point.update(assumption.draw(rng))
        if form is not None:
            found = _refute_in_exponentials(form, point, rng, undecided)
        else:
            found = _refute_at(entries, point, undecided)
        if found is not None:
            number, shown, value = found
            result.verdict = "refuted"
            result.refuted_residual = number
            result.counterexample = {key: shown[key] for key in sorted(shown, key=str)}
            result.counterexample_value = value
            if isinstance(value, sympy.Interval):
                result.tier = "certified"
                how = (
                    "evaluate lhs - rhs at random rational points of the domain in ball "
                    "arithmetic; the enclosure excludes 0"
                )
            else:
                how = (
                    "evaluate lhs - rhs exactly at random rational points of the domain "
                    "(before any simplification)"
                )
            if form is not None:
                how += (
                    "; exp(theta/b) = p drawn as a rational of the interval theta's domain maps "
                    "to (p > 0 for a real theta, p > 1 for a positive one, 1 < p < 1 + 1/b for "
                    "a discount), so theta = b log p"
                )
            result.steps.append(Step(how))
            result.seconds = time.perf_counter() - started
            return result
    seen = "was 0 or not separated from 0" if undecided else "vanished"
    result.steps.append(Step(f"lhs - rhs {seen} at {trials} random rational points of the domain"))
    if form is not None:
        result.steps.append(
            Step(
                "exp(theta/b) written as a positive symbol p for "
                f"{_scales(form)}: a zero rational function of p is zero for every theta"
            )
        )
        entries = form.entries
    symbols = sorted(set().union(*(entry.free_symbols for entry in entries)), key=str)
    for number, entry in enumerate(entries):
        try:
            zero = _is_zero(entry, symbols)
        except ZeroDivisionError as error:
            raise InvalidProblemError(
                f"prove: entry {number} of lhs - rhs divides by an expression that is "
                "identically zero; nothing can be proved about it"
            ) from error
        if not zero and number in undecided:
            raise CertificationError(
                f"prove: entry {number} of lhs - rhs was not shown non-zero at the {trials} points "
                "drawn — at some its value could not be evaluated or separated from 0 (a pole, a "
                "value within rounding of 0 or closer to 0 than 2^-4096, or a function with no "
                "ball evaluation here, such as besselj) — and is not shown to be the zero function; nothing is proved"
            )
        if not zero:
            raise CertificationError(
                f"prove: entry {number} of lhs - rhs vanished at {trials} random points of the "
                "domain but is not the zero function of independent symbols: the identity may "
                "hold only on a relation the domain imposes (such as P = P_K; substitute the "
                "solved quantity, e.g. SymbolicLQR.value_matrix(K)), or only at the points "
                "drawn (raise trials); nothing is proved"
            )
    result.steps.append(Step("each entry of lhs - rhs is the zero rational function"))
    result.verdict = "proved"
    result.seconds = time.perf_counter() - started
    return result


def _scalar_kinds(domains: list[Assumption]) -> dict[Any, str]:
    """{symbol: "real" | "positive" | "discount"} for the independently drawn scalars."""
    kinds: dict[Any, str] = {}
    for assumption in domains:
        kinds |= dict.fromkeys(assumption.real, "real")
        kinds |= dict.fromkeys(assumption.positive, "positive")
        kinds |= dict.fromkeys(assumption.discount, "discount")
    return kinds


Refutation = tuple[int, dict[Any, Any], Any]
"""The refuted entry's index, the counterexample point and the residual's value there."""


def _refute_at(entries: list[Any], point: dict[Any, Any], undecided: set[int]) -> Refutation | None:
    """The first entry whose value at ``point`` is provably non-zero, or None; the entries whose
    value is not decided there (None: a pole, not separated from 0) are added to ``undecided``."""
    for number, entry in enumerate(entries):
        value = _value_at(entry, point)
        if value is None:
            undecided.add(number)
        elif value != 0:
            return number, point, value
    return None


def _refute_in_exponentials(
    form: ExponentialForm, point: dict[Any, Any], rng: random.Random, undecided: set[int]
) -> Refutation | None:
    """The rational residual in p = exp(θ/b) at a rational p of the interval θ's domain maps to
    (exact), shown at the real in-domain point θ = b log p
    (:mod:`pgverify.symbolic.exponentials`)."""
    drawn = {
        theta: exponential_sample(form.kind[theta], form.scale[theta], rng)
        for theta in form.positive
    }
    rational_point = {k: v for k, v in point.items() if k not in form.positive}
    rational_point |= {form.positive[theta]: value for theta, value in drawn.items()}
    found = _refute_at(form.entries, rational_point, undecided)
    if found is None:
        return None
    number, _, value = found
    shown = {k: v for k, v in point.items() if k not in form.positive}
    shown |= {theta: form.theta(theta, value) for theta, value in drawn.items()}
    return number, shown, value


def _scales(form: ExponentialForm) -> str:
    """``theta (p = exp(theta/2))``, ... for the step that names the substitution."""
    return ", ".join(
        f"{theta} (p = exp({theta}{'' if form.scale[theta] == 1 else f'/{form.scale[theta]}'}))"
        for theta in sorted(form.positive, key=str)
    )


def _value_at(entry: Any, point: dict[Any, Any]) -> Any:
    """The exact value at a point: bottom-up in QQ for rational expressions (fast on large
    shared trees); else a certified enclosure excluding 0, bottom-up in ball arithmetic
    (:mod:`pgverify.symbolic.enclosure`), or :func:`pgverify.symbolic.core._evaluate` when
    generic functions are drawn; None at a pole or when the value is not separated from 0."""
    if all(isinstance(key, sympy.Symbol) for key in point):
        try:
            return evaluate_rationally(entry, point)
        except NotRational:
            return nonzero_enclosure(entry, point)
    return _evaluate(entry, point)


def _is_zero(entry: Any, symbols: list[sympy.Symbol]) -> bool:
    """The exact zero test of :func:`pgverify.symbolic.core._vanishes` (common denominators by
    exponents — fast on solved P_K, Σ_K and their derivatives —, then function applications as
    indeterminates, then sympy's fraction field), else ``simplify`` (exp, log, tanh, a generic
    h whose relations matter)."""
    return _vanishes(entry, symbols) or sympy.simplify(entry) == 0


def _default_statement(lhs: Any, rhs: Any, limit: int = 40) -> str:
    """``"lhs = rhs"`` printed when both are small (printing a large tree takes seconds)."""

    def small(expression: Any) -> bool:
        nodes = enumerate(sympy.preorder_traversal(expression))
        return all(count <= limit for count, _ in nodes)

    if small(lhs) and small(rhs):
        return f"{lhs} = {rhs}"
    return "lhs = rhs (large expressions: pass statement= to name them)"
