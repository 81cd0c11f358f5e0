"""Input validation for trajectory segments: every bad input raises
:class:`~pgverify.InvalidProblemError` naming the argument, the value seen and what was expected."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError

SEGMENT_SHAPES = "shape (T,) or (B, T) (a batch of B segments, time last)"


def _as_array(value: Any, name: str) -> np.ndarray:
    if value is None:
        raise InvalidProblemError(
            f"{name} is required, got None; expected an array of {SEGMENT_SHAPES}"
        )
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"{name} could not be read as an array: {exc}") from exc
    if array.ndim not in (1, 2):
        raise InvalidProblemError(
            f"{name} has shape {array.shape} ({array.ndim}-D); expected {SEGMENT_SHAPES}"
        )
    return array


def _same_shape(array: np.ndarray, name: str, shape: tuple[int, ...] | None) -> None:
    if shape is not None and array.shape != shape:
        raise InvalidProblemError(
            f"{name} has shape {array.shape}; expected {shape}, the shape of costs"
        )


def _first_bad_index(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _inexact_in_float64(array: np.ndarray, converted: np.ndarray) -> np.ndarray | bool:
    """Where the float64 ``converted`` differs from ``array`` (only wide dtypes can differ)."""
    if np.issubdtype(array.dtype, np.floating):
        if array.dtype.itemsize <= 8:
            return False
        return converted.astype(array.dtype) != array
    if array.dtype.itemsize < 8:
        return False
    # only integers beyond 2**53 can round; compare those few exactly, as Python integers
    large = (array > 2**53) | (array < -(2**53))
    inexact = np.zeros(array.shape, dtype=bool)
    inexact[large] = converted[large].astype(object) != array[large].astype(object)
    return inexact


def real_segment(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A finite float64 array of shape (T,) or (B, T) (``shape`` if given), or InvalidProblemError.

    Integers and floats up to float64 are accepted; every conversion to float64 must be exact (a
    reference does not round its input silently)."""
    array = _as_array(value, name)
    _same_shape(array, name, shape)
    if np.iscomplexobj(array):
        raise InvalidProblemError(
            f"{name} has complex entries (dtype {array.dtype}); expected real numbers"
        )
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise InvalidProblemError(
            f"{name} must hold real numbers, got dtype {array.dtype}; expected int or float"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        result = array.astype(np.float64)
    finite = np.isfinite(array) if np.issubdtype(array.dtype, np.floating) else True
    if not np.all(finite):
        index = _first_bad_index(~np.isfinite(array))
        raise InvalidProblemError(
            f"{name} has a non-finite entry {array[index]} at index {index}; "
            f"expected finite numbers"
        )
    inexact = _inexact_in_float64(array, result)
    if np.any(inexact):
        index = _first_bad_index(inexact)
        raise InvalidProblemError(
            f"{name} has the entry {array[index].item()!r} at index {index}, which float64 cannot "
            f"represent exactly; expected numbers exact in float64"
        )
    return result


def flag_segment(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """A bool array of ``shape`` from bools or 0/1 numbers, or InvalidProblemError."""
    array = _as_array(value, name)
    _same_shape(array, name, shape)
    if array.dtype == bool:
        return array.copy()
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise InvalidProblemError(
            f"{name} must hold flags, got dtype {array.dtype}; expected bool or 0/1 integers"
        )
    not_a_flag = (array != 0) & (array != 1)  # NaN is neither
    if np.any(not_a_flag):
        index = _first_bad_index(not_a_flag)
        raise InvalidProblemError(
            f"{name} has the value {array[index].item()!r} at index {index}; expected a flag: "
            f"True/False or 1/0"
        )
    return array == 1


def discount(value: Any, name: str, *, allow_zero: bool) -> float:
    """A real scalar in (0, 1] (``allow_zero=False``, e.g. γ) or [0, 1] (e.g. λ)."""
    interval = "[0, 1]" if allow_zero else "(0, 1]"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise InvalidProblemError(
            f"{name} must be a real number in {interval}, got {value!r} "
            f"(type {type(value).__name__})"
        )
    result = float(value)
    low_ok = result >= 0 if allow_zero else result > 0
    if not (low_ok and result <= 1):  # also refuses NaN
        raise InvalidProblemError(f"{name} = {value!r} is outside {interval}")
    if result != value:
        raise InvalidProblemError(
            f"{name} = {value!r} is not exactly a float64; expected a float in {interval}"
        )
    return result


def finite_result(result: np.ndarray, what: str) -> np.ndarray:
    """``result`` unchanged, or InvalidProblemError when float64 overflowed computing it."""
    if not np.all(np.isfinite(result)):
        index = _first_bad_index(~np.isfinite(result))
        raise InvalidProblemError(
            f"the {what} overflow float64 (entry {result[index]} at index {index}); expected "
            f"inputs whose discounted sums stay below about 1.8e308 in magnitude"
        )
    return result
