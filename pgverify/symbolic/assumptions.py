"""Domains of symbols: where an identity is claimed, and where its counterexamples are drawn.

Tier: **exact**.  An :class:`Assumption` names the symbols it gives a domain to and draws exact
rational points of that domain (``0 < γ < 1``, ``σ > 0``, ``P ≻ 0``, a stabilising gain K, a
probability row, ...).  :func:`pgverify.symbolic.prove` refutes a wrong identity only at such
points, so its counterexample is a real problem (docs/symbolic-toolkit.md).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.domain import discount, positive_definite, positive_rational, rational

Draw = Callable[[random.Random], dict[Any, Any]]


@dataclass(frozen=True)
class Assumption:
    """A domain for some symbols: ``symbols`` (the sympy symbols — and generic functions such as
    an activation h — it constrains), ``draw(rng)`` (one exact point of the domain: a dict from
    each of them to a rational, or a ``sympy.Lambda`` for a function) and ``description`` (the
    domain in words, printed with a counterexample).  Built by :func:`assume`, or by the
    ``domain()`` methods of the symbolic problems and policies.  ``real``, ``positive``,
    ``discount``: those symbols drawn independently on ℝ, (0, ∞) and (0, 1) (``prove`` may then
    write exp(θ/b) = p and draw θ = b log p for a rational p of the matching interval:
    :mod:`pgverify.symbolic.exponentials`)."""

    symbols: frozenset[Any]
    draw: Draw
    description: str
    real: frozenset[Any] = frozenset()
    positive: frozenset[Any] = frozenset()
    discount: frozenset[Any] = frozenset()


KINDS = ("real", "positive", "discount", "positive definite", "distribution")
"""The domain names :func:`assume` accepts."""

SCALAR_KINDS = ("real", "positive", "discount")
"""The kinds whose symbols are drawn independently on an interval (ℝ, (0, ∞), (0, 1))."""


def _symbols_of(target: Any, argument: str) -> list[sympy.Symbol]:
    """The distinct symbols of a symbol, a matrix of symbols or a list of them (in order)."""
    if isinstance(target, sympy.Symbol):
        return [target]
    if isinstance(target, (sympy.MatrixBase, list, tuple)):
        entries = list(target)
    else:
        raise InvalidProblemError(
            f"{argument}: expected a sympy Symbol, a sympy Matrix of symbols or a list of them, "
            f"got {target!r}"
        )
    symbols: list[sympy.Symbol] = []
    for index, entry in enumerate(entries):
        entry = sympy.sympify(entry)
        if not isinstance(entry, sympy.Symbol):
            raise InvalidProblemError(
                f"{argument}: entry {index} is {entry!r}; expected a sympy Symbol (only "
                f"'positive definite' also takes rational constant entries), in {target!r}"
            )
        if entry not in symbols:
            symbols.append(entry)
    return symbols


def assume(target: Any, kind: str) -> Assumption:
    """The domain ``kind`` for ``target`` (a symbol, a matrix of symbols or a list of symbols).

    ``kind`` is one of :data:`KINDS`: ``"real"`` (any rational), ``"positive"`` (> 0),
    ``"discount"`` (0 < γ < 1), ``"positive definite"`` (a square symmetric matrix of symbols
    and rational constants, e.g. a diagonal ``Matrix([[a, 0], [0, b]])``: the values of its
    symbols that make the whole matrix positive definite; every point drawn is checked by its
    leading principal minors, exactly) or ``"distribution"`` (a list of symbols drawn as a
    probability vector with positive entries).  Tier: exact (rational points)."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidProblemError(
            f"unknown assumption kind {kind!r} for {target!r}; expected one of {list(KINDS)}"
        )
    if kind == "positive definite":
        return _positive_definite(target)
    symbols = _symbols_of(target, f"the target of assumption {kind!r}")
    if kind == "distribution":
        return _distribution(symbols)
    sample = {"real": rational, "positive": positive_rational, "discount": discount}[kind]

    def draw(rng: random.Random) -> dict[Any, Any]:
        return {symbol: sample(rng) for symbol in symbols}

    names = ", ".join(map(str, symbols))
    description = {
        "real": f"{names} any real",
        "positive": f"{names} > 0",
        "discount": f"0 < {names} < 1",
    }[kind]
    by_kind = {name: frozenset(symbols) if kind == name else frozenset() for name in SCALAR_KINDS}
    return Assumption(
        frozenset(symbols),
        draw,
        description,
        by_kind["real"],
        by_kind["positive"],
        by_kind["discount"],
    )


POSITIVE_DEFINITE = "assumption 'positive definite'"


def _positive_definite(target: Any) -> Assumption:
    """Checks in this order: a square matrix, symmetric, entries symbols or rationals; then one
    point is drawn, so a matrix the constants keep from being positive definite is refused."""
    if not isinstance(target, sympy.MatrixBase) or not target.is_square:
        raise InvalidProblemError(
            f"{POSITIVE_DEFINITE} needs a square sympy Matrix of symbols and rational "
            f"constants, got {target!r}"
        )
    size = target.rows
    for i in range(size):
        for j in range(i + 1, size):
            if target[i, j] != target[j, i]:
                raise InvalidProblemError(
                    f"{POSITIVE_DEFINITE} needs a symmetric matrix: entry ({i}, {j}) is "
                    f"{target[i, j]!r} but entry ({j}, {i}) is {target[j, i]!r}; expected the "
                    f"same symbol or constant, in {target.tolist()}"
                )
    symbols: list[sympy.Symbol] = []
    for i in range(size):
        for j in range(size):
            entry = target[i, j]
            if isinstance(entry, sympy.Symbol):
                symbols += [] if entry in symbols else [entry]
            elif not entry.is_Rational:
                raise InvalidProblemError(
                    f"{POSITIVE_DEFINITE}: entry ({i}, {j}) is {entry!r}; expected a sympy "
                    f"Symbol or a rational constant, in {target.tolist()}"
                )
    constants = any(not isinstance(entry, sympy.Symbol) for entry in target)
    draw = _positive_definite_sampler(target, symbols)
    draw(random.Random(0))  # refuses, now, a matrix no drawn value makes positive definite
    description = f"{target.tolist()} positive definite"
    if constants:
        description += " (its symbols drawn where every leading principal minor is > 0)"
    return Assumption(frozenset(symbols), draw, description)


REDRAWS, SHRINKS = 3, 6
"""Fresh draws, and per draw the adjustments tried (:func:`_positive_definite_sampler`), before
no positive definite point is found."""


def _positive_definite_sampler(target: sympy.Matrix, symbols: list[sympy.Symbol]) -> Draw:
    """Draws the symbols of ``target`` so that the matrix is positive definite, checked exactly
    by Sylvester's criterion (every leading principal minor > 0) before a point is returned.

    A draw starts from L Lᵀ + cI (each symbol takes the value at its first position: a matrix
    of distinct symbols is then positive definite at once).  Constant or repeated entries may
    break that; then the symbols only off the diagonal are halved (at last set to 0) and the
    symbols only on the diagonal raised above their row's off-diagonal absolute sum (doubled at
    each step, so the Schur complement of the constant rows tends to their own block)."""
    size = target.rows
    diagonal = {target[i, i] for i in range(size)}
    off_diagonal = {target[i, j] for i in range(size) for j in range(size) if i != j}
    only_diagonal = [s for s in symbols if s in diagonal and s not in off_diagonal]
    only_off = [s for s in symbols if s in off_diagonal and s not in diagonal]

    def first_values(rng: random.Random) -> dict[Any, Any]:
        value = positive_definite(rng, size)
        point: dict[Any, Any] = {}
        for i in range(size):
            for j in range(size):
                if isinstance(target[i, j], sympy.Symbol):
                    point.setdefault(target[i, j], value[i, j])
        return point

    def adjusted(point: dict[Any, Any], shrink: int) -> dict[Any, Any]:
        factor = sympy.Rational(1, 2 ** (shrink - 1)) if shrink < SHRINKS else 0
        moved = dict(point) | {s: point[s] * factor for s in only_off}
        matrix = target.xreplace(moved)
        for i in range(size):
            if target[i, i] in only_diagonal:  # dominant, and more so at each shrink (Schur)
                row = sum(abs(matrix[i, j]) for j in range(size) if j != i)
                raised = (row + point[target[i, i]]) * 2 ** (shrink - 1)
                moved[target[i, i]] = max(moved[target[i, i]], raised)
                matrix = target.xreplace(moved)
        return moved

    def draw(rng: random.Random) -> dict[Any, Any]:
        for _ in range(REDRAWS):
            point = first_values(rng)
            for shrink in range(SHRINKS + 1):
                candidate = point if shrink == 0 else adjusted(point, shrink)
                if _leading_minors_positive(target.xreplace(candidate)):
                    return candidate
        if not symbols:
            raise InvalidProblemError(
                f"{POSITIVE_DEFINITE}: the constant matrix {target.tolist()} is not positive "
                "definite (a leading principal minor is <= 0); expected a positive definite matrix"
            )
        raise InvalidProblemError(
            f"{POSITIVE_DEFINITE}: no values of {sorted(map(str, symbols))} found that make "
            f"{target.tolist()} positive definite (its constant entries may rule it out); "
            "expected a symmetric matrix that is positive definite for some values of its symbols"
        )

    return draw


def _leading_minors_positive(matrix: sympy.Matrix) -> bool:
    """Sylvester's criterion for a symmetric rational matrix: positive definite iff every
    leading principal minor is > 0 (exact determinants)."""
    return all(matrix[:k, :k].det() > 0 for k in range(1, matrix.rows + 1))


def _distribution(symbols: list[sympy.Symbol]) -> Assumption:
    def draw(rng: random.Random) -> dict[Any, Any]:
        weights = [rng.randint(1, 9) for _ in symbols]
        total = sum(weights)
        return {s: sympy.Rational(w, total) for s, w in zip(symbols, weights, strict=True)}

    names = ", ".join(map(str, symbols))
    return Assumption(frozenset(symbols), draw, f"({names}) a distribution with positive entries")


def combine(assumptions: Any) -> list[Assumption]:
    """The assumptions ``prove`` is given, as a list: an :class:`Assumption`, a mapping
    ``{symbol: kind}`` (each item through :func:`assume`), one pair ``(symbol or matrix, kind)``,
    or an iterable of them and of such pairs (a sympy Matrix is not hashable: pair it, or call
    :func:`assume`).
    Overlapping domains are refused (a symbol drawn twice would make the point inconsistent)."""
    if isinstance(assumptions, Assumption):
        found = [assumptions]
    elif _is_pair(assumptions):
        found = [assume(*assumptions)]
    elif isinstance(assumptions, Mapping):
        found = [assume(target, kind) for target, kind in assumptions.items()]
    elif isinstance(assumptions, Iterable) and not isinstance(assumptions, (str, bytes)):
        found = []
        for item in assumptions:
            if isinstance(item, (Assumption, Mapping)):
                found += combine(item)
            elif isinstance(item, tuple) and len(item) == 2:
                found.append(assume(*item))
            else:
                raise InvalidProblemError(
                    "assumptions: expected Assumption objects (from assume(...) or a problem's "
                    "or policy's domain()), mappings {symbol: kind}, pairs (target, kind) or a "
                    f"list of them, got {item!r} in {assumptions!r}"
                )
    else:
        raise InvalidProblemError(
            "assumptions: expected an Assumption, a mapping {symbol: kind}, a pair "
            "(target, kind) or a list of them, "
            f"got {assumptions!r}"
        )
    seen: set[Any] = set()
    for assumption in found:
        shared = seen & assumption.symbols
        if shared:
            raise InvalidProblemError(
                f"assumptions: {sorted(map(str, shared))} are given a domain twice "
                f"(again by: {assumption.description})"
            )
        seen |= assumption.symbols
    return found


def _is_pair(assumptions: Any) -> bool:
    """A bare ``(target, kind)``: a 2-tuple whose second item is a kind name and whose first is
    a target (a symbol, a matrix of symbols, or a list of symbols), not another assumption."""
    return (
        isinstance(assumptions, tuple)
        and len(assumptions) == 2
        and isinstance(assumptions[1], str)
        and isinstance(assumptions[0], (sympy.Basic, sympy.MatrixBase, list))
    )
