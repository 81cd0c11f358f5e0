"""The derivation framework: exact zero tests, structured results, and the registry.

Tier: **exact**.  An identity is *proved* when its residual (left side minus right side), a
rational function of generic symbols, simplifies to 0: the numerator is expanded after
``together`` and must vanish identically.  Before that, the residual is evaluated at a few random
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

from pgverify.errors import InvalidProblemError


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
    """

    name: str
    title: str
    statement: str
    source: str
    sizes: dict[str, int]
    steps: list[Step] = field(default_factory=list)
    residuals: list[Any] = field(default_factory=list)
    verdict: str = "proved"
    counterexample: dict[Any, Any] | None = None
    counterexample_value: Any = None
    seconds: float = 0.0
    tier: str = "exact"

    @property
    def proved(self) -> bool:
        return self.verdict == "proved"

    def to_text(self, *, with_time: bool = True) -> str:
        sizes = ", ".join(f"{key} = {value}" for key, value in self.sizes.items())
        lines = [f"{self.title} [{self.name}; {sizes}]", f"  statement: {self.statement}"]
        lines.append(f"  source: {self.source}")
        for number, step in enumerate(self.steps, start=1):
            shown = "" if step.expression is None else f": {_short(step.expression)}"
            lines.append(f"  {number}. {step.description}{shown}")
        if self.proved:
            lines.append(f"  residual: {len(self.residuals)} expression(s), each simplified to 0")
        else:
            point = ", ".join(f"{k} = {v}" for k, v in (self.counterexample or {}).items())
            lines.append(f"  REFUTED: at {point} the residual is {self.counterexample_value}")
        verdict = f"  verdict: {self.verdict} (tier {self.tier})"
        if with_time:
            verdict += f" in {self.seconds:.2f} s"
        lines.append(verdict)
        return "\n".join(lines)

    def to_latex(self) -> str:
        """A LaTeX fragment: prose in ``\\verb`` (it holds underscores), sympy objects typeset."""
        sizes = ", ".join(f"{key} = {value}" for key, value in self.sizes.items())
        lines = [
            f"\\paragraph{{{_escape(self.title)}}} ({sizes}) \\\\",
            f"Statement: {_verb(self.statement)} \\\\ Source: {_verb(self.source)}",
            "\\begin{enumerate}",
        ]
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
        return "\n".join(lines)


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


def check_zero(
    expression: Any,
    *,
    trials: int = 3,
    seed: int = 0,
    positive: Iterable[sympy.Symbol] = (),
) -> ZeroTest:
    """Is a scalar or matrix rational expression identically zero?

    1. random rational substitutions (exact): a non-zero value refutes, with the point returned;
    2. ``together`` then ``expand`` of each numerator: proves it is 0.

    Symbols listed in ``positive`` are given positive values (e.g. variances).
    """
    entries = [sympy.sympify(entry) for entry in _entries(expression)]
    symbols = sorted(set().union(*(entry.free_symbols for entry in entries)), key=str)
    positive_set = set(positive)
    rng = random.Random(seed)
    for _ in range(trials):
        point = {}
        for symbol in symbols:
            numerator = rng.randint(1, 9) if symbol in positive_set else rng.randint(-9, 9)
            point[symbol] = sympy.Rational(numerator, rng.randint(2, 11))
        for entry in entries:
            value = _evaluate(entry, point)
            if value is not None and value != 0:
                return ZeroTest(False, point, value)
    for entry in entries:
        numerator, _ = sympy.fraction(sympy.together(entry))
        if sympy.expand(numerator) != 0:
            simplified = sympy.simplify(entry)
            if simplified != 0:
                return ZeroTest(False, None, simplified)
    return ZeroTest(True)


def _evaluate(entry: Any, point: dict[Any, Any]) -> Any:
    """The exact value at a rational point (a Rational), a 60-digit value when transcendental
    functions remain (returned only if clearly non-zero), or None when nothing can be said
    (a pole, or an unevaluated generic function)."""
    try:
        value = sympy.cancel(entry.xreplace(point))
    except ZeroDivisionError:
        return None
    if value.has(sympy.zoo, sympy.nan, sympy.oo):
        return None
    if value.is_Rational:
        return value
    if not value.is_number:
        return None
    approximation = value.evalf(60)
    return approximation if abs(approximation) > sympy.Float("1e-40") else None


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
    if name not in REGISTRY:
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
        if not isinstance(value, int) or value < 1:
            raise InvalidProblemError(f"size {key} must be a positive int, got {value!r}")
        arguments[key] = value
    start = time.perf_counter()
    result = entry.builder(**arguments)
    result.seconds = time.perf_counter() - start
    return result


def available() -> list[Entry]:
    _load_all()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


def _load_all() -> None:
    # The modules register their derivations on import.
    from pgverify.symbolic import baselines, lqr, mdp, policies, zeroth_order  # noqa: F401


def conclude(result: Derivation, residuals: list[Any], **zero_options: Any) -> Derivation:
    """Test every residual; the first non-zero one refutes the derivation."""
    result.residuals = residuals
    for residual in residuals:
        test = check_zero(residual, **zero_options)
        if not test.is_zero:
            result.verdict = "refuted"
            result.counterexample = test.counterexample
            result.counterexample_value = test.value
            return result
    result.verdict = "proved"
    return result
