"""Arrays for the score-function and zeroth-order references: float64, or exact rationals.

The references in :mod:`pgverify.estimators.policy_gradient` and
:mod:`pgverify.estimators.zeroth_order` are written once, with numpy operations that work on
float64 arrays and on object arrays of :class:`fractions.Fraction` alike. Given float64 data they
are float references; given Fraction data (as the exact-expectation engine feeds them) every
output is the exact rational value of the formula. Every bad input raises
:class:`~pgverify.InvalidProblemError` naming the argument, the value seen and what was expected.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError


def is_exact(*arrays: Any) -> bool:
    """Whether any of the arrays holds exact rationals (numpy dtype object)."""
    return any(isinstance(a, np.ndarray) and a.dtype == object for a in arrays)


def _exact_entry(value: Any, name: str) -> Fraction:
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, numbers.Rational | float | np.floating
    ):
        raise InvalidProblemError(
            f"{name} has the entry {value!r} (type {type(value).__name__}); expected Fractions, "
            f"ints or finite floats"
        )
    if isinstance(value, float | np.floating):
        if not np.isfinite(value):
            raise InvalidProblemError(f"{name} has a non-finite entry {value!r}; expected finite")
        return Fraction(float(value))  # exact: float32/float64 values are dyadic rationals
    return Fraction(int(value)) if isinstance(value, np.integer) else Fraction(value)


def numeric_array(
    value: Any, name: str, shape: tuple[int | None, ...], *, exact: bool
) -> np.ndarray:
    """``value`` as an array of the given shape (None: any length) — float64, or an object array
    of Fractions when ``exact`` (floats convert exactly: a float64 is a dyadic rational)."""
    if value is None:
        raise InvalidProblemError(f"{name} is required, got None")
    from pgverify.enclosure import Enclosure  # here: pgverify's package init imports this module

    if isinstance(value, Enclosure):  # its float midpoints would be used silently
        raise InvalidProblemError(
            f"{name} is an Enclosure; expected numbers (pass np.asarray(enclosure) to use its "
            f"midpoints)"
        )
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"{name} could not be read as an array: {exc}") from exc
    if not isinstance(value, np.ndarray) and array.dtype != object and array.size:
        # numpy turns True inside a list of floats into 1.0: a bool is no number here
        entries = np.asarray(value, dtype=object).ravel().tolist()
        if any(isinstance(v, bool | np.bool_) for v in entries):
            raise InvalidProblemError(f"{name} has a bool entry; expected real numbers")
    expected = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
    if array.ndim != len(shape) or any(
        s is not None and s != a for s, a in zip(shape, array.shape, strict=True)
    ):
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected shape {expected}")
    if np.iscomplexobj(array):
        raise InvalidProblemError(f"{name} has complex entries; expected real numbers")
    if array.dtype == object or exact:
        flat = [_exact_entry(v, name) for v in array.ravel().tolist()]
        result = np.empty(array.shape, dtype=object)
        result.ravel()[:] = flat if flat else []
        return result
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise InvalidProblemError(f"{name} has dtype {array.dtype}; expected real numbers")
    result = array.astype(np.float64)
    if not np.all(np.isfinite(result)):
        raise InvalidProblemError(f"{name} has a non-finite entry; expected finite numbers")
    return result


def scalar(value: Any, name: str, *, exact: bool, positive: bool = False) -> Any:
    """A real scalar (a Fraction when ``exact``), or InvalidProblemError."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise InvalidProblemError(
            f"{name} must be a real number, got {value!r} (type {type(value).__name__})"
        )
    if not np.isfinite(float(value)):
        raise InvalidProblemError(f"{name} must be finite, got {value!r}")
    if positive and not value > 0:
        raise InvalidProblemError(f"{name} must be > 0, got {value!r}")
    return _exact_entry(value, name) if exact else float(value)


def discount_factor(value: Any, *, exact: bool) -> Any:
    """γ ∈ (0, 1] as a Fraction (exact) or float."""
    gamma = scalar(value, "gamma", exact=exact)
    if not 0 < gamma <= 1:
        raise InvalidProblemError(f"gamma = {value!r} is outside (0, 1]")
    return gamma


def powers(base: Any, count: int, *, exact: bool) -> np.ndarray:
    """``[base⁰, base¹, …, base^{count−1}]`` (Fractions when exact)."""
    values = [base**t for t in range(count)]
    return np.array(values, dtype=object if exact else np.float64)


def index_array(value: Any, name: str, shape: tuple[int, ...], size: int, bound: str) -> np.ndarray:
    """An integer array of ``shape`` with entries in ``range(size)`` (``size`` = the ``bound``,
    e.g. "rows of the policy table"), or InvalidProblemError."""
    try:
        array = np.asarray(value)
    except Exception as exc:
        raise InvalidProblemError(f"{name} could not be read as an array: {exc}") from exc
    if array.shape != shape:
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected shape {shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise InvalidProblemError(f"{name} has dtype {array.dtype}; expected integer indices")
    if array.size and (array.min() < 0 or array.max() >= size):
        raise InvalidProblemError(
            f"{name} has an entry outside range({size}), the {bound} (min {array.min()}, max "
            f"{array.max()})"
        )
    return array.astype(np.int64)
