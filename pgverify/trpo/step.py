"""TRPO's step: the natural direction, the maximal step on the KL ellipsoid, and the backtracking
line search on the surrogate (Schulman et al. 2015, arXiv:1502.05477, §6 and Appendix C).

Costs are minimised (the project's convention): with g the gradient of the surrogate cost and F
the Fisher matrix, the update is ``θ_{k+1} = θ_k − s`` with

    x = F⁻¹ g,   β = √(2δ / xᵀF x),   s = β x,   so that   ½ sᵀ F s = δ

exactly (δ = ``max_kl``): s is the largest step along the natural direction whose quadratic model
of ``E KL(π_k ‖ π_θ)`` (Hessian F, see :mod:`pgverify.trpo.kl`) reaches δ.  When x = F⁻¹g exactly,
``xᵀFx = gᵀF⁻¹g`` and β is TRPO's ``√(2δ / gᵀF⁻¹g)``; with an inexact (CG) x the reference
implementations (rllab, OpenAI baselines, Spinning Up) use ``xᵀFx``, as here, which keeps
``½ sᵀFs = δ`` exact — some add ε = 1e-8 to xᵀFx (a relative change of ε / xᵀFx).

The line search (``backtracking_line_search``) then tries ``s_j = r^j s`` for j = 0, 1, …,
``max_backtracks`` (r = ``backtrack_ratio``) and accepts the first with
``kl(s_j) <= max_kl`` and ``surrogate(s_j) < surrogate(0)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
from flint import fmpq, fmpq_mat

from pgverify.errors import InvalidProblemError
from pgverify.trpo.conjugate_gradient import conjugate_gradient
from pgverify.trpo.numbers import (
    Field,
    Precision,
    Tier,
    count,
    dot,
    field_for,
    matrix_vector,
    positive_scalar,
    require_positive_semidefinite,
)

FisherOperator = Any
"""A (d, d) symmetric positive definite matrix, or a callable ``v ↦ F v`` on (d,) vectors."""


def natural_direction(
    gradient: Any,
    fisher: FisherOperator,
    *,
    iterations: int | None = None,
    damping: Any = 0,
    precision: Precision = "float",
) -> np.ndarray:
    """``x = (F + damping·I)⁻¹ g``: a direct solve when ``fisher`` is a matrix, conjugate gradient
    (``iterations`` steps, default d = len(g)) when it is a Fisher-vector product.

    Shapes: g (d,), F (d, d).  Tier: that of ``precision`` (a CG run in the exact tier with
    d iterations is the exact solution, by CG's finite termination).
    """
    field = field_for(precision)
    with field.context():
        g = field.array(gradient, "gradient", 1)
        if callable(fisher):
            steps = len(g) if iterations is None else count(iterations, "iterations")
            try:
                return conjugate_gradient(fisher, g, steps, damping=damping, precision=precision)
            except InvalidProblemError as exc:  # CG calls the product matvec: say it is fisher
                raise InvalidProblemError(f"fisher (as the CG's matvec): {exc}") from exc
        if iterations is not None:
            raise InvalidProblemError(
                f"iterations = {iterations!r} applies only to a Fisher-vector product (a "
                "callable); fisher is a matrix and is solved directly"
            )
        matrix = _fisher_matrix(field, fisher, len(g))
        shift = positive_scalar(field, damping, "damping", allow_zero=True)
        for i in range(len(g)):
            matrix[i, i] = matrix[i, i] + shift
        # a Fisher matrix is positive semidefinite; the system solved must be definite
        require_positive_semidefinite(field, matrix, "fisher (+ damping I)", definite=True)
        return field.export(_solve(field, matrix, g))


def maximal_step(
    gradient: Any,
    fisher: FisherOperator,
    max_kl: Any,
    *,
    iterations: int | None = None,
    damping: Any = 0,
    precision: Precision = "float",
) -> np.ndarray:
    """TRPO's full step ``s = β x``, ``x = F⁻¹ g``, ``β = √(2δ / xᵀFx)`` (δ = ``max_kl``), so that
    ``½ sᵀFs = δ``; the update is ``θ − s``.

    ``fisher`` is a (d, d) matrix or a Fisher-vector product (then x comes from ``iterations``
    CG steps, default d, and F includes ``damping``, as in TRPO).  Raises InvalidProblemError when
    g = 0 (β = ∞: no direction to move along) or ``xᵀFx <= 0``.  In the exact tier β must be
    rational (2δ / xᵀFx a square of a rational), otherwise use ``precision=<digits>``.
    """
    return maximal_step_parts(
        gradient, fisher, max_kl, iterations=iterations, damping=damping, precision=precision
    ).step


@dataclass(frozen=True)
class MaximalStep:
    """The pieces of :func:`maximal_step`: ``direction`` x, ``curvature`` xᵀFx, ``beta`` and
    ``step`` = β x, in the tier ``tier``."""

    direction: np.ndarray
    curvature: Any
    beta: Any
    step: np.ndarray
    tier: Tier


def maximal_step_parts(
    gradient: Any,
    fisher: FisherOperator,
    max_kl: Any,
    *,
    iterations: int | None = None,
    damping: Any = 0,
    precision: Precision = "float",
) -> MaximalStep:
    """:func:`maximal_step` with its pieces (same arguments)."""
    field = field_for(precision)
    with field.context():
        delta = positive_scalar(field, max_kl, "max_kl")
        g = field.array(gradient, "gradient", 1)
        if all(entry == 0 for entry in g):
            raise InvalidProblemError(
                "gradient is zero: the maximal step beta = sqrt(2 max_kl / g^T F^-1 g) is "
                "infinite and there is no direction to step along; expected a nonzero gradient"
            )
        x = field.array(
            natural_direction(
                g, fisher, iterations=iterations, damping=damping, precision=precision
            ),
            "direction",
            1,
        )
        curvature = dot(x, _apply(field, fisher, x, damping))
        if not curvature > 0:
            raise InvalidProblemError(
                f"x^T F x = {curvature} <= 0 for the natural direction x; expected fisher to be "
                "positive definite"
            )
        beta = field.sqrt(2 * delta / curvature)
        step = beta * x
        return MaximalStep(
            field.export(x),
            field.export(curvature),
            field.export(beta),
            field.export(step),
            field.tier,
        )


def _apply(field: Field, fisher: FisherOperator, x: np.ndarray, damping: Any) -> np.ndarray:
    shift = positive_scalar(field, damping, "damping", allow_zero=True)
    if callable(fisher):
        product = field.array(fisher(x.copy()), "fisher(x)", 1)
    else:
        product = matrix_vector(_fisher_matrix(field, fisher, len(x)), x)
    return product + shift * x if shift else product


def _fisher_matrix(field: Field, fisher: Any, size: int) -> np.ndarray:
    matrix = field.array(fisher, "fisher", 2)
    if matrix.shape != (size, size):
        raise InvalidProblemError(
            f"fisher has shape {matrix.shape}; expected ({size}, {size}) to match the gradient, "
            "or a callable v -> F v"
        )
    return matrix


def _solve(field: Field, matrix: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    size = len(rhs)
    if field.tier == "float":
        try:
            return np.linalg.solve(matrix, rhs)
        except np.linalg.LinAlgError as exc:
            raise _singular() from exc
    if field.tier == "exact":
        system = fmpq_mat(size, size, [fmpq(e.numerator, e.denominator) for e in matrix.flat])
        column = fmpq_mat(size, 1, [fmpq(e.numerator, e.denominator) for e in rhs])
        try:
            solution = system.solve(column)
        except ZeroDivisionError as exc:
            raise _singular() from exc
        return np.array(
            [field.scalar(_fraction(solution[i, 0]), "solution") for i in range(size)], dtype=object
        )
    try:
        solution = mpmath.lu_solve(mpmath.matrix(matrix.tolist()), mpmath.matrix(rhs.tolist()))
    except ZeroDivisionError as exc:
        raise _singular() from exc
    return np.array([solution[i] for i in range(size)], dtype=object)


def _singular() -> InvalidProblemError:
    return InvalidProblemError("fisher is singular; expected a positive definite matrix")


def _fraction(value: fmpq) -> Any:
    from fractions import Fraction

    return Fraction(int(value.p), int(value.q))


# ------------------------------------------------------------------------------------------------
# the line search


@dataclass(frozen=True)
class Trial:
    """One candidate ``s_j = r^j s``: its exponent j, surrogate and KL values and verdict."""

    exponent: int
    surrogate: Any
    kl: Any
    accepted: bool
    reason: str


@dataclass(frozen=True)
class LineSearchOutcome:
    """``step`` is the accepted ``r^j s`` (None if every candidate failed), ``exponent`` its j,
    ``reason`` a sentence saying why the search ended, ``trials`` every candidate tried and
    ``baseline`` the surrogate at zero step."""

    step: np.ndarray | None
    exponent: int | None
    reason: str
    trials: tuple[Trial, ...]
    baseline: Any


def backtracking_line_search(
    surrogate: Callable[[np.ndarray], Any],
    kl: Callable[[np.ndarray], Any],
    step: Any,
    max_kl: Any,
    backtrack_ratio: Any,
    max_backtracks: int,
    *,
    precision: Precision = "float",
) -> LineSearchOutcome:
    """TRPO's backtracking line search on the surrogate cost.

    ``surrogate(s)`` and ``kl(s)`` are the surrogate cost ``L_{θk}(θ_k − s)`` and the mean KL
    ``E KL(π_{θk} ‖ π_{θk − s})`` at the parameters moved by the step s (d,) — the update
    subtracts s, costs being minimised.  Candidates ``s_j = r^j · step`` for j = 0, 1, …,
    ``max_backtracks`` (so up to ``max_backtracks + 1`` evaluations; rllab's and Spinning Up's
    loops try ``max_backtracks`` candidates, j < max_backtracks) with r = ``backtrack_ratio`` in
    (0, 1).  The first ``s_j`` with ``kl(s_j) <= max_kl`` *and* ``surrogate(s_j) <
    surrogate(0)`` (strict decrease) is accepted; a NaN or infinite value rejects its candidate.
    If none qualifies the outcome's ``step`` is None and ``reason`` says why the last failed.

    Tier: the candidates are formed in the arithmetic of ``precision`` (r^j exactly as a power
    in the field, then times the step); the comparisons are exact on the values the callables
    return.
    """
    field = field_for(precision)
    if not callable(surrogate):
        raise InvalidProblemError(
            f"surrogate must be callable (s -> L(theta - s)), got {surrogate!r}"
        )
    if not callable(kl):
        raise InvalidProblemError(f"kl must be callable (s -> mean KL), got {kl!r}")
    backtracks = count(max_backtracks, "max_backtracks")
    with field.context():
        full = field.array(step, "step", 1)
        bound = positive_scalar(field, max_kl, "max_kl")
        ratio = positive_scalar(field, backtrack_ratio, "backtrack_ratio")
        if not ratio < 1:
            raise InvalidProblemError(
                f"backtrack_ratio must lie in (0, 1), got {backtrack_ratio!r}"
            )
        baseline = _value(field, surrogate(full * 0), "surrogate(0)")
        if baseline is None:
            raise InvalidProblemError(
                "surrogate(0) (the surrogate at the current parameters) is not a finite number; "
                "expected a finite surrogate value"
            )
        trials: list[Trial] = []
        for j in range(backtracks + 1):
            candidate = ratio**j * full
            loss = _value(field, surrogate(candidate.copy()), f"surrogate(s_{j})")
            divergence = _value(field, kl(candidate.copy()), f"kl(s_{j})")
            reason = _verdict(loss, divergence, baseline, bound)
            trials.append(Trial(j, loss, divergence, reason == "", reason or "accepted"))
            if not reason:
                return LineSearchOutcome(
                    field.export(candidate),
                    j,
                    f"accepted s_{j} = {field.export(ratio)}^{j} * step: kl = {divergence} <= "
                    f"{bound} and surrogate {loss} < {baseline}",
                    tuple(trials),
                    baseline,
                )
        return LineSearchOutcome(
            None,
            None,
            f"rejected all {backtracks + 1} candidates; the last (j = {backtracks}): "
            + trials[-1].reason,
            tuple(trials),
            baseline,
        )


def _value(field: Field, value: Any, name: str) -> Any:
    """The callable's value in the field, or None when it is NaN or infinite."""
    try:
        number = float(value) if field.tier == "float" else value
        if field.tier == "float" and not math.isfinite(number):
            return None
        return field.scalar(number, name)
    except (InvalidProblemError, TypeError, ValueError, OverflowError):
        if isinstance(value, (int, float, np.floating, mpmath.mpf)):
            return None
        raise InvalidProblemError(
            f"{name} returned {type(value).__name__} {value!r}; expected a real number"
        ) from None


def _verdict(loss: Any, divergence: Any, baseline: Any, bound: Any) -> str:
    if loss is None:
        return "the surrogate is not finite"
    if divergence is None:
        return "the KL is not finite"
    if divergence > bound:
        return f"kl = {divergence} > max_kl = {bound}"
    if not loss < baseline:
        return f"the surrogate did not decrease: {loss} >= {baseline} (at zero step)"
    return ""
