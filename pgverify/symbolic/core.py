"""The derivation framework: exact zero tests, structured results, and the registry.

Tier: **exact**.  An identity is *proved* when its residual (left side minus right side), a
rational function of generic symbols, simplifies to 0: its numerator over a common denominator
must vanish identically (:func:`_vanishes`).  Before that, the residual is evaluated at a few random
rational points — exact arithmetic, so one non-zero value is a *refutation* with a
counterexample, and a cheap filter before the full simplification.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy.polys.domains import QQ
from sympy.polys.fields import field as fraction_field
from sympy.polys.polyerrors import CoercionFailed
from sympy.polys.rings import ring

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.enclosure import interval_text, nonzero_enclosure
from pgverify.symbolic.rational import vanishes_generically, vanishes_rationally

GENERIC = "every value of the symbolic entries at the sizes shown"

EVERY_SIZE = "every n, m"
"""The size label of a derivation registered without sizes: a dimension-free one."""


def size_label(sizes: dict[str, int], unsized: str = EVERY_SIZE) -> str:
    """``"n = 2, m = 1"``, the sizes a derivation runs at, or ``unsized`` when it takes none —
    one label for the text and LaTeX headers and ``pgverify derive --list``."""
    return ", ".join(f"{key} = {value}" for key, value in sizes.items()) or unsized


@dataclass
class Step:
    """One step of a derivation: what was done and the expression it produced."""

    description: str
    expression: Any = None


@dataclass
class Derivation:
    """The structured result of a derivation.

    ``verdict`` is ``"proved"`` (the residual simplified to 0) or ``"refuted"`` (an exact rational
    substitution, ``counterexample``, makes the residual ``counterexample_value`` ≠ 0).
    ``premises`` are the definitions the derivation starts from (nothing else is assumed);
    ``covers`` says what the proof covers (generic symbolic entries at the sizes shown, or one
    instance); ``domain`` describes where the random points that can refute it are drawn.
    ``derived`` holds derived quantities as sympy expressions (and, under ``"symbols"``, which
    symbolic matrix stands for which problem datum) for ``pgverify derive NAME --check``;
    ``numeric_test`` names the property test that checks the same identity numerically.
    ``unsized`` is the size label printed when ``sizes`` is empty (:func:`size_label`).
    """

    name: str
    title: str
    statement: str
    source: str
    sizes: dict[str, int]
    premises: list[str] = field(default_factory=list)
    covers: str = GENERIC
    domain: str = ""
    steps: list[Step] = field(default_factory=list)
    residuals: list[Any] = field(default_factory=list)
    verdict: str = "proved"
    counterexample: dict[Any, Any] | None = None
    counterexample_value: Any = None
    refuted_residual: int | None = None
    derived: dict[str, Any] = field(default_factory=dict)
    numeric_test: str = ""
    seconds: float = 0.0
    tier: str = "exact"
    unsized: str = EVERY_SIZE

    @property
    def proved(self) -> bool:
        """Whether the verdict is ``"proved"``."""
        return self.verdict == "proved"

    def to_text(self, *, with_time: bool = True) -> str:
        """The derivation as plain text (premises, steps, verdict; the time if ``with_time``)."""
        if not isinstance(with_time, bool):
            raise InvalidProblemError(f"with_time must be True or False, got {with_time!r}")
        label = f"{self.name}; {size_label(self.sizes, self.unsized)}"
        lines = [f"{self.title} [{label}]", f"  statement: {self.statement}"]
        if self.source:
            lines.append(f"  source: {self.source}")
        lines.append(f"  covers: {self.covers}")
        if self.numeric_test:
            lines.append(f"  numeric counterpart: {self.numeric_test}")
        if self.premises:
            lines.append("  premises:")
            lines += [f"    - {premise}" for premise in self.premises]
        for number, step in enumerate(self.steps, start=1):
            shown = "" if step.expression is None else f": {_short(step.expression)}"
            lines.append(f"  {number}. {step.description}{shown}")
        if self.proved:
            lines.append(f"  residual: {len(self.residuals)} expression(s), each simplified to 0")
        else:
            point = ", ".join(f"{k} = {v}" for k, v in (self.counterexample or {}).items())
            lines.append(
                f"  REFUTED: at {point} the residual {_value_text(self.counterexample_value)}"
            )
            if self.domain:
                lines.append(f"  the point lies in the domain: {self.domain}")
        verdict = f"  verdict: {self.verdict} (tier {self.tier})"
        if with_time:
            verdict += f" in {self.seconds:.2f} s"
        lines.append(verdict)
        return "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX fragment: prose in ``\\verb`` (it holds underscores), sympy objects typeset."""
        sizes = _escape(size_label(self.sizes, self.unsized))
        lines = [
            f"\\paragraph{{{_escape(self.title)}}} ({sizes}) \\\\",
            f"Statement: {_verb(self.statement)} \\\\ Source: {_verb(self.source)} \\\\",
            f"Covers: {_verb(self.covers)}",
        ]
        if self.premises:
            lines.append("\\\\ Premises: \\begin{itemize}")
            lines += [f"  \\item {_verb(premise)}" for premise in self.premises]
            lines.append("\\end{itemize}")
        lines.append("\\begin{enumerate}")
        for step in self.steps:
            shown = "" if step.expression is None else f": {_latex(step.expression)}"
            lines.append(f"  \\item {_verb(step.description)}{shown}")
        lines.append("\\end{enumerate}")
        if self.proved:
            lines.append("Residual $\\equiv 0$: \\textbf{proved} (exact).")
        else:
            point = ", ".join(
                f"{sympy.latex(k)} = {sympy.latex(v)}"
                for k, v in (self.counterexample or {}).items()
            )
            lines.append(
                f"\\textbf{{Refuted}}: at ${point}$ the residual is "
                f"${sympy.latex(self.counterexample_value)}$."
            )
            if self.domain:
                lines.append(f"The point lies in the domain: {_verb(self.domain)}.")
        return "\n".join(lines)


def _value_text(value: Any) -> str:
    """An exact residual as it is; an enclosure as a ball, saying what it proves."""
    if isinstance(value, sympy.Interval):
        return (
            f"lies in {interval_text(value)} (a certified enclosure excluding 0: the value is "
            "not exact, so this refutation's tier is certified)"
        )
    return f"is {value}"


def _escape(text: str) -> str:
    """Plain text safe in a LaTeX argument (where ``\\verb`` is not allowed)."""
    for special, escaped in (
        ("\\", "\\textbackslash{}"),
        ("_", "\\_"),
        ("^", "\\^{}"),
        ("&", "\\&"),
        ("%", "\\%"),
        ("#", "\\#"),
    ):
        text = text.replace(special, escaped)
    return text


def _verb(text: str) -> str:
    delimiter = next(c for c in "!|+@#" if c not in text)
    return f"\\verb{delimiter}{text}{delimiter}"


def _short(expression: Any, limit: int = 160) -> str:
    text = str(expression)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _latex(expression: Any, limit: int = 400) -> str:
    if isinstance(expression, str):
        return _verb(expression)
    text = sympy.latex(expression)
    return f"${text}$" if len(text) <= limit else "(a long expression)"


# --------------------------------------------------------------------------------------------
# Exact zero tests
# --------------------------------------------------------------------------------------------


@dataclass
class ZeroTest:
    """The outcome of :func:`check_zero`: ``is_zero`` or a counterexample."""

    is_zero: bool
    counterexample: dict[Any, Any] | None = None
    value: Any = None


def _entries(expression: Any) -> list[Any]:
    if isinstance(expression, sympy.MatrixBase):
        return list(expression)
    return [expression]


Sampler = Callable[[random.Random], dict[Any, Any]]
"""Draws one point of a derivation's domain: exact values for the symbols it constrains (and
``sympy.Lambda`` values for generic functions such as an activation h)."""


def check_zero(
    expression: Any,
    *,
    trials: int = 3,
    seed: int = 0,
    positive: Iterable[sympy.Symbol] = (),
    domain: Sampler | None = None,
) -> ZeroTest:
    """Is a scalar or matrix rational expression identically zero?

    1. exact evaluation at random rational points, *before any symbolic simplification*: a
       non-zero value refutes, with the point returned.  With ``domain`` the points are drawn by
       that sampler (inside the derivation's domain: 0 < γ < 1, P ≻ 0, σ > 0, stabilising K, …);
       symbols it leaves out are free and get random rationals (positive for ``positive``);
    2. the exact zero test of each entry (:func:`_vanishes`): proves it is 0.
    """
    entries = [sympy.sympify(entry) for entry in _entries(expression)]
    symbols = sorted(set().union(*(entry.free_symbols for entry in entries)), key=str)
    positive_set = set(positive)
    rng = random.Random(seed)
    for _ in range(trials):
        point = dict(domain(rng)) if domain is not None else {}
        drawn = set(point)  # the whole domain point is shown: it is one consistent problem
        for symbol in symbols:
            if symbol in point:
                continue
            numerator = rng.randint(1, 9) if symbol in positive_set else rng.randint(-9, 9)
            point[symbol] = sympy.Rational(numerator, rng.randint(2, 11))
        for entry in entries:
            value = _evaluate(entry, point)
            if value is not None and value != 0:
                shown = {
                    key: point[key]
                    for key in sorted(point, key=str)
                    if key in drawn or _occurs(key, entry)
                }
                return ZeroTest(False, shown, value)
    for entry in entries:
        if not _vanishes(entry, symbols):
            simplified = sympy.simplify(entry)
            if simplified != 0:
                return ZeroTest(False, None, simplified)
    return ZeroTest(True)


def _vanishes(entry: Any, symbols: list[sympy.Symbol]) -> bool:
    """Is ``entry`` the zero rational function?  First, and fastest on large shared trees,
    :mod:`pgverify.symbolic.rational`'s exact test by common denominators (a rational entry);
    for other entries its zero test with each function application (tanh, exp, a generic h) as
    an independent indeterminate — zero then proves zero, otherwise
    :func:`_vanishes_in_fraction_field` decides."""
    rational = vanishes_rationally(entry, symbols)
    if rational is not None:
        return rational
    return vanishes_generically(entry, symbols) or _vanishes_in_fraction_field(entry, symbols)


def _vanishes_in_fraction_field(entry: Any, symbols: list[sympy.Symbol]) -> bool:
    """Is ``entry`` the zero rational function?  Built directly in sympy's sparse polynomial
    ring over QQ — much faster than ``expand`` on large products; when the denominators involve
    one symbol only (typically 1 − γ) the coefficients are taken in QQ(that symbol), whose gcds
    are cheap, else in the full fraction field.  Entries with other functions (tanh, a generic
    h) fall back to ``together`` and ``expand``."""
    if symbols:
        denominators = {
            symbol
            for power in entry.atoms(sympy.Pow)
            if power.exp.is_negative
            for symbol in power.base.free_symbols
        }
        constructions = [lambda: ring(symbols, QQ)]
        if len(denominators) == 1:
            (variable,) = denominators
            others = [symbol for symbol in symbols if symbol != variable]
            constructions.append(lambda: ring(others, QQ.frac_field(variable)))
        constructions.append(lambda: fraction_field(symbols, QQ))
        for construct in constructions:
            try:
                return construct()[0].from_expr(entry) == 0
            except (ValueError, CoercionFailed):
                continue
    numerator, _ = sympy.fraction(sympy.together(entry))
    return sympy.expand(numerator) == 0


def _occurs(key: Any, entry: Any) -> bool:
    """Does the symbol or generic function ``key`` occur in ``entry``?"""
    if isinstance(key, sympy.Symbol):
        return key in entry.free_symbols
    return bool(entry.atoms(key))


def _substitute(entry: Any, point: dict[Any, Any]) -> Any:
    """``entry`` at ``point``: generic functions replaced (and derivatives of them evaluated),
    then the symbols."""
    functions = {key: value for key, value in point.items() if not isinstance(key, sympy.Basic)}
    for function, value in functions.items():
        entry = entry.replace(function, value).doit()
    symbols = {key: value for key, value in point.items() if isinstance(key, sympy.Basic)}
    return entry.xreplace(symbols)


def _evaluate(entry: Any, point: dict[Any, Any]) -> Any:
    """The exact value at a rational point (a Rational); when transcendental functions remain, a
    certified interval (:func:`pgverify.symbolic.enclosure.nonzero_enclosure`) returned only if
    it excludes 0 — no symbolic ``cancel`` (it hangs on sums of exponentials), and rounding
    noise never counts as non-zero; None when nothing can be said (a pole, an unevaluated
    generic function, a value not separated from 0)."""
    try:
        value = _substitute(entry, point)
    except ZeroDivisionError:
        return None
    if value.has(sympy.zoo, sympy.nan, sympy.oo):
        return None
    if value.is_Rational:
        return value
    if not value.is_number:
        return None
    return nonzero_enclosure(value, {})


# --------------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str
    summary: str
    builder: Callable[..., Derivation]
    defaults: dict[str, int]
    size_options: tuple[str, ...]

    @property
    def expected(self) -> str:
        """``"refuted"`` for the negative controls (named ``refute-…``), ``"proved"`` otherwise."""
        return "refuted" if self.name.startswith("refute-") else "proved"


REGISTRY: dict[str, Entry] = {}


def derivation(
    name: str, summary: str, **defaults: int
) -> Callable[[Callable[..., Derivation]], Callable[..., Derivation]]:
    """Register a derivation builder under ``name`` with its default sizes."""

    def register(builder: Callable[..., Derivation]) -> Callable[..., Derivation]:
        REGISTRY[name] = Entry(name, summary, builder, dict(defaults), tuple(defaults))
        return builder

    return register


def derive(name: str, **sizes: int) -> Derivation:
    """Run the derivation ``name`` at the given sizes (defaults otherwise), timed."""
    _load_all()
    if not isinstance(name, str) or name not in REGISTRY:
        raise InvalidProblemError(
            f"unknown derivation {name!r}; expected one of {sorted(REGISTRY)}"
        )
    entry = REGISTRY[name]
    arguments = dict(entry.defaults)
    for key, value in sizes.items():
        if value is None:
            continue
        if key not in entry.size_options:
            raise InvalidProblemError(
                f"derivation {name!r} takes sizes {list(entry.size_options)}, got {key!r}"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidProblemError(f"size {key} must be a positive int, got {value!r}")
        arguments[key] = value
    start = time.perf_counter()
    result = entry.builder(**arguments)
    result.seconds = time.perf_counter() - start
    return result


def available() -> list[Entry]:
    """Every registered derivation (name, title, default sizes, builder), sorted by name — the
    list ``pgverify derive --list`` prints and docs/derivations.md is generated from."""
    _load_all()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


def _load_all() -> None:
    # The modules register their derivations on import.
    from pgverify.symbolic import baselines, lqr, mdp, policies, zeroth_order  # noqa: F401
    from pgverify.symbolic.dimension_free import lqr as dimension_free_lqr  # noqa: F401


def conclude(result: Derivation, residuals: list[Any], **zero_options: Any) -> Derivation:
    """Test every residual; the first non-zero one refutes the derivation.

    ``zero_options`` go to :func:`check_zero` (``positive``, ``domain``, ``trials``, ``seed``)."""
    result.residuals = residuals
    for number, residual in enumerate(residuals):
        test = check_zero(residual, **zero_options)
        if not test.is_zero:
            result.refuted_residual = number
            result.verdict = "refuted"
            result.counterexample = test.counterexample
            result.counterexample_value = test.value
            if isinstance(test.value, sympy.Interval):  # a ball, not an exact value
                result.tier = "certified"
            return result
    result.verdict = "proved"
    return result
