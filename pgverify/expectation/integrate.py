"""Summing an estimator over the nodes of an exact rule: the mean, the variance, the rounding
tolerance of float evaluations, and the optional check of the claimed polynomial degree."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.expectation.result import Expectation, to_fraction_array
from pgverify.expectation.rules import Key, Rule

ARITHMETICS = ("exact", "float")
DEFAULT_RELATIVE_ERROR = 1e-9
"""The assumed bound of one float64 evaluation's error relative to its largest entry."""


def arithmetic_name(value: Any) -> str:
    if value not in ARITHMETICS:
        raise InvalidProblemError(f"arithmetic = {value!r}; expected one of {ARITHMETICS}")
    return value


def integrate(
    rule: Rule,
    evaluate: Callable[[Key], Any],
    *,
    arithmetic: str,
    variance: bool,
    relative_error: float,
) -> Expectation:
    """``Σ_i w_i f(x_i)`` (and ``Σ_i w_i f(x_i)²``) in exact rational arithmetic.

    ``arithmetic="exact"``: f returned exact values, the result is the exact expectation.
    ``"float"``: f returned float64 values at float64 images of the nodes; the sums are still
    exact, and the rounding tolerance is ``relative_error · Σ_i |w_i| max_entry |f(x_i)|`` (the
    rule amplifies an error of each evaluation by at most Σ|w_i|) — valid when each evaluation,
    including the effect of rounding its inputs to float64, errs by at most ``relative_error``
    times its largest entry: an assumption the caller states, not a proof. The variance is
    offered in the exact tier only."""
    if variance and arithmetic != "exact":
        raise InvalidProblemError(
            "variance=True needs arithmetic='exact' (a float evaluation's rounding in f² has no "
            "stated bound here)"
        )
    first: Any = None
    second: Any = None
    scale = Fraction(0)
    shape: tuple[int, ...] | None = None
    for key, weight in rule.nodes.items():
        raw = evaluate(key)
        if arithmetic == "exact":
            require_exact(raw)
        value = to_fraction_array(raw, "the estimator's value")
        if shape is not None and value.shape != shape:
            raise InvalidProblemError(
                f"the estimator returned shape {value.shape} at one node and {shape} at "
                f"another; expected one shape"
            )
        shape = value.shape
        first = weight * value if first is None else first + weight * value
        if variance:
            second = weight * value * value if second is None else second + weight * value * value
        if arithmetic == "float":
            largest = max((abs(v) for v in value.ravel()), default=Fraction(0))
            scale += abs(weight) * largest
    first = np.asarray(first, dtype=object)  # 0-d for a scalar estimator
    spread = np.asarray(second - first * first, dtype=object) if variance else None
    tolerance = float(relative_error * scale) if arithmetic == "float" else 0.0
    return Expectation(first, spread, rule.size, rule.description, arithmetic, tolerance)


def require_exact(raw: Any) -> None:
    """InvalidProblemError when an estimator fed Fractions returned floats: it rounded somewhere
    (a float64 constant, np.exp, a float array in its arithmetic), so its mean is not exact."""
    array = np.asarray(raw)
    if array.dtype == object:
        rounded = any(isinstance(v, float | np.floating) for v in array.ravel().tolist())
    else:
        rounded = not np.issubdtype(array.dtype, np.integer)
    if rounded:
        raise InvalidProblemError(
            "with arithmetic='exact' the estimator returned floating-point values (dtype "
            f"{array.dtype}): it rounded, so its mean would not be exact; compute with the "
            "Fractions it is given, or pass arithmetic='float' for a rounding tolerance"
        )


def agree(first: Expectation, second: Expectation) -> None:
    """CertificationError unless two rules of different degree gave the same mean (exactly, or
    within both rounding tolerances): the estimator is not a polynomial of the claimed degree."""
    difference = np.asarray(
        np.abs(np.asarray(first.mean - second.mean, dtype=object)), dtype=object
    )
    allowed = Fraction(first.rounding_tolerance) + Fraction(second.rounding_tolerance)
    if any(d > allowed for d in difference.ravel()):
        worst = max(difference.ravel())
        raise CertificationError(
            f"the rules exact for degrees {first.rule.split('degree <= ')[-1]} and "
            f"{second.rule.split('degree <= ')[-1]} disagree by {float(worst):.3g} (allowed "
            f"{float(allowed):.3g}): the estimator is not a polynomial of the claimed degree in "
            f"the Gaussian variables; pass its true degree"
        )
