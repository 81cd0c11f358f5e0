"""Input validation for LQR problems: every bad input raises a pgverify error that names the
argument, the value seen and what was expected — never a silent NaN or a wrong number."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError

SYMMETRY_TOLERANCE = 1e-10
"""Relative asymmetry ``max|M − Mᵀ| / max|M|`` tolerated in Q, R, Σ0.  Within it the matrix is
replaced by its symmetric part rounded to float64, which is then the exact problem solved."""


def as_real_matrix(value: Any, name: str, shape: tuple[int | None, int | None]) -> np.ndarray:
    """A finite real float64 matrix of the given shape (None = any), or InvalidProblemError.

    A Python or numpy scalar is accepted as a 1×1 matrix; a 1-D array is refused (ambiguous)."""
    if value is None:
        raise InvalidProblemError(f"{name} is required, got None")
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"{name} could not be read as a matrix: {exc}") from exc
    if np.iscomplexobj(array):
        raise InvalidProblemError(
            f"{name} has complex entries (dtype {array.dtype}); expected a real matrix"
        )
    if array.dtype == object or not isinstance(value, np.ndarray):
        # numpy reads [[True, 0.5]] as floats: a bool inside nested lists must not become 1.0
        flat = np.asarray(value, dtype=object).ravel()
        bools = [entry for entry in flat if isinstance(entry, (bool, np.bool_))]
        if bools:
            raise InvalidProblemError(
                f"{name} has the bool entry {bools[0]!r}; expected real numbers (int or float)"
            )
    if array.dtype == bool or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise InvalidProblemError(
            f"{name} must hold real numbers, got dtype {array.dtype}; expected int or float"
        )
    if array.ndim == 0:
        array = array.reshape(1, 1)
    if array.ndim != 2:
        raise InvalidProblemError(
            f"{name} must be a 2-D matrix, got an array of shape {array.shape}"
        )
    expected_rows, expected_cols = shape
    if (expected_rows is not None and array.shape[0] != expected_rows) or (
        expected_cols is not None and array.shape[1] != expected_cols
    ):
        wanted = tuple("any" if s is None else s for s in shape)
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected shape {wanted}")
    if array.size == 0:
        raise InvalidProblemError(
            f"{name} is empty (shape {array.shape}); expected a non-empty matrix"
        )
    with np.errstate(over="raise", invalid="raise"):
        try:
            result = array.astype(np.float64)
        except FloatingPointError as exc:
            raise InvalidProblemError(f"{name} does not fit in float64") from exc
    if not np.all(np.isfinite(result)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(result))[0])
        raise InvalidProblemError(
            f"{name} has a non-finite entry {result[bad]} at index {bad}; expected finite numbers"
        )
    if np.issubdtype(array.dtype, np.integer) and np.any(
        result.astype(object) != array.astype(object)
    ):
        raise InvalidProblemError(
            f"{name} has integers too large to be represented exactly in float64"
        )
    return result


def symmetric_matrix(value: np.ndarray, name: str) -> np.ndarray:
    """The symmetric part of a nearly symmetric matrix, or InvalidProblemError."""
    scale = float(np.max(np.abs(value)))
    asymmetry = float(np.max(np.abs(value - value.T)))
    if asymmetry > SYMMETRY_TOLERANCE * scale:
        raise InvalidProblemError(
            f"{name} is not symmetric: max |{name} - {name}^T| = {asymmetry:.3g} with max "
            f"|{name}| = {scale:.3g}; expected a symmetric matrix (relative asymmetry <= "
            f"{SYMMETRY_TOLERANCE:g})"
        )
    if asymmetry == 0.0:
        return value
    return 0.5 * (value + value.T)


def definite_matrix(value: np.ndarray, name: str, *, strict: bool) -> np.ndarray:
    """Check (float64 eigenvalues, with a relative tolerance) that a symmetric matrix is
    positive definite (``strict``) or positive semidefinite."""
    eigenvalues = np.linalg.eigvalsh(value)
    smallest = float(eigenvalues[0])
    scale = max(float(np.max(np.abs(eigenvalues))), np.finfo(float).tiny)
    tolerance = 64 * np.finfo(float).eps * scale * value.shape[0]
    if strict and smallest <= tolerance:
        raise InvalidProblemError(
            f"{name} is not positive definite: smallest eigenvalue {smallest:.6g} (largest "
            f"{scale:.6g}); expected all eigenvalues > {tolerance:.3g}"
        )
    if not strict and smallest < -tolerance:
        raise InvalidProblemError(
            f"{name} is not positive semidefinite: smallest eigenvalue {smallest:.6g}; "
            "expected all eigenvalues >= 0"
        )
    return value


def discount(gamma: Any) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"gamma must be a real number in (0, 1], got {gamma!r}")
    value = float(gamma)
    if not (0.0 < value <= 1.0):
        raise InvalidProblemError(f"gamma must lie in (0, 1], got {value!r}")
    return value


def noise_variance(noise: Any) -> float:
    """The exploration variance σ ≥ 0 (with γ = 1 only the finite-horizon quantities are then
    finite: :class:`pgverify.LQR` refuses the others)."""
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(
            f"noise (the exploration variance sigma) must be a real number >= 0, got {noise!r}"
        )
    value = float(noise)
    if not (np.isfinite(value) and value >= 0.0):
        raise InvalidProblemError(
            f"noise (the exploration variance sigma) must be finite and >= 0, got {value!r}"
        )
    return value


def step_size(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"the step size alpha must be a real number, got {alpha!r}")
    value = float(alpha)
    if not np.isfinite(value):
        raise InvalidProblemError(f"the step size alpha must be finite, got {value!r}")
    if value < 0.0:  # a negative step climbs the cost: always a caller's slip
        raise InvalidProblemError(
            f"the step size alpha must be >= 0 (a descent step; > 0 to iterate), got {value!r}"
        )
    return value


def horizon_length(horizon: Any) -> int:
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 0:
        raise InvalidProblemError(f"the horizon N must be an int >= 0, got {horizon!r}")
    return int(horizon)


def error_estimate_method(problem: Any, quantity: Any, arguments: tuple) -> Callable[..., Any]:
    """The method of ``problem`` named ``quantity`` that takes ``precision=``, checked to accept
    ``arguments`` (for :meth:`pgverify.LQR.with_error_estimate`)."""
    method = getattr(problem, quantity, None) if isinstance(quantity, str) else None
    if (
        method is None
        or quantity.startswith("_")
        or not callable(method)
        or "precision" not in inspect.signature(method).parameters
    ):
        raise InvalidProblemError(
            f"unknown quantity {quantity!r}; expected the name of an LQR method that takes "
            "precision= (e.g. 'gradient', 'cost')"
        )
    signature = inspect.signature(method)
    try:
        signature.bind(*arguments, precision=None)
    except TypeError as exc:
        parameters = ", ".join(signature.parameters)
        raise InvalidProblemError(
            f"the {len(arguments)} arguments given do not fit quantity {quantity!r}, a method "
            f"({parameters}): {exc}; expected its arguments before precision"
        ) from exc
    return method
