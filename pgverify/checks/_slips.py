"""Diagnosis: recognise a known slip in a wrong result.

Each check keeps a catalogue of :class:`Slip` s — the quantity computed with one known mistake
(the transposed Lyapunov convention, Σ0 where Σ_K belongs, a missing factor 2, ...).  When an
implementation fails, every slip is evaluated (float64) on the failing case; the ones the output
agrees with, under the same tolerance policy as the check itself, are named in the message.  A
slip that coincides with the correct value on the case tells nothing and is skipped.  Two generic
slips follow the catalogue: the transpose and a constant factor.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pgverify.checks._compare import Reference, Tolerance, as_actual, compare

NOTABLE_FACTORS = (2.0, 0.5, -1.0, -2.0, -0.5, 4.0, 0.25)


@dataclass(frozen=True)
class Slip:
    """One known mistake: ``description`` completes "your result equals ...", ``compute``
    returns the slipped value on a case context (float64).  A slip with ``fitted`` set has a
    free parameter (e.g. the number of sweeps of an iteration stopped early): ``compute`` then
    takes ``(context, output)`` and returns ``(value, parameter)``, the member of its family
    nearest the output and its parameter, which fills the ``{}`` of ``description``."""

    description: str
    compute: Callable[..., Any]
    applies: Callable[[Any], bool] = lambda context: True
    fitted: bool = False

    def value(self, context: Any, output: np.ndarray) -> Any:
        return self.compute(context, output) if self.fitted else self.compute(context)


def _matches(output: np.ndarray, value: Any, tolerance: Tolerance, dtype: Any) -> bool:
    comparison = compare(
        output,
        np.asarray(value, dtype=float),
        dtype=dtype,
        condition=tolerance.condition,
        scale=tolerance.scale,
    )
    return comparison.passed


def _as_float_array(value: Any) -> np.ndarray:
    return as_actual(value).astype(float)


@dataclass
class SlipEvidence:
    """What one failing case says about the catalogue: the slips the output equals there, and
    the slips it rules out (evaluable, distinguishable from the right answer there, and not
    equal to the output)."""

    matched: list[str]
    ruled_out: set[str]
    templates: list[str] = field(default_factory=list)
    """The catalogue descriptions of ``matched`` (a fitted slip's before its parameter is
    filled in); ``ruled_out`` holds catalogue descriptions too."""

    def consistent(self, ruled_out: set[str]) -> list[str]:
        """The matched slips that ``ruled_out`` does not name."""
        return [m for m, t in zip(self.matched, self.templates, strict=True) if t not in ruled_out]


def slip_evidence(
    slips: Sequence[Slip],
    context: Any,
    output: Any,
    reference: Reference,
    tolerance: Tolerance,
    dtype: Any = None,
    view: Callable[[Any], np.ndarray] = _as_float_array,
) -> SlipEvidence | None:
    """Evaluate every slip of the catalogue on one failing case (None: the output is
    unreadable).  ``view`` reads a result (the output or a slip's value) as a float array, in a
    canonical form when several results are equally right (e.g. modulo a null space);
    ``reference`` is then the right result in that form."""
    try:
        array = view(output)
    except Exception:  # an unreadable output matches no slip
        return None
    evidence = SlipEvidence([], set())
    for slip in slips:
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")  # a slip's own numerical warnings are noise
                if not slip.applies(context):
                    continue
                value = slip.value(context, array)
                description = slip.description
                if slip.fitted:  # (nearest member, its parameter) -> named in the description
                    value, parameter = value
                    description = description.format(parameter)
                value = view(value)
        except Exception:  # a slip that cannot be evaluated here (singular, unstable) is silent
            continue
        if value.shape != array.shape and not (value.size == array.size == 1):
            continue
        if not np.all(np.isfinite(value)):
            continue
        if _matches(reference.mid, value, tolerance, dtype):
            continue  # indistinguishable from the right answer on this case
        if _matches(array, value, tolerance, dtype):
            evidence.matched.append(description)
            evidence.templates.append(slip.description)
        elif slip.fitted or _clearly_apart(array, value, reference.mid):
            # (a fitted slip is already the member of its family nearest the output)
            evidence.ruled_out.add(slip.description)
    return evidence


RULED_OUT_DISTANCE = 0.05
"""A slip is ruled out on a case when the output lies farther from the slip's value than this
fraction of the slip's distance from the right value: a different mistake, not the same one
computed with more rounding error (an ill-conditioned slip, e.g. R⁻¹ with cond R = 1e6, can
miss the tolerance of the right value and still be the user's slip)."""


def _clearly_apart(output: np.ndarray, value: np.ndarray, right: np.ndarray) -> bool:
    if output.shape != value.shape:
        output = output.reshape(value.shape)
    if right.shape != value.shape:
        right = right.reshape(value.shape)
    slip_size = float(np.max(np.abs(value - right), initial=0.0))
    return bool(float(np.max(np.abs(output - value), initial=0.0)) > RULED_OUT_DISTANCE * slip_size)


def matching_slips(
    slips: Sequence[Slip],
    context: Any,
    output: Any,
    reference: Reference,
    tolerance: Tolerance,
    dtype: Any = None,
    view: Callable[[Any], np.ndarray] = _as_float_array,
) -> list[str]:
    """The descriptions of the catalogue's slips that ``output`` agrees with on ``context``."""
    evidence = slip_evidence(slips, context, output, reference, tolerance, dtype, view)
    return evidence.matched if evidence is not None else []


def generic_slips(
    output: Any, reference: Reference, tolerance: Tolerance, dtype: Any = None
) -> list[str]:
    """The transpose of the right value, or a constant multiple of it."""
    try:
        array = as_actual(output).astype(float)
    except Exception:
        return []
    mid = reference.mid
    found = []
    transposable = mid.ndim == 2 and mid.size > 1 and array.shape == mid.T.shape
    if (
        transposable
        and _matches(array, mid.T, tolerance, dtype)
        and not _matches(mid.T, mid, tolerance, dtype)
    ):
        found.append("the transpose of the right value (rows and columns swapped)")
    if array.shape == mid.shape and mid.size > 1 and np.all(np.isfinite(array)):
        # (any scalar is a multiple of any other: no evidence for a 1-element result)
        norm = float(np.vdot(mid, mid))
        if norm > 0:
            factor = float(np.vdot(mid, array)) / norm
            if (
                abs(factor - 1.0) > 1e-6
                and factor != 0.0
                and _matches(array, factor * mid, tolerance, dtype)
            ):
                named = next((f for f in NOTABLE_FACTORS if abs(factor - f) < 1e-6), None)
                shown = f"{named:g}" if named is not None else f"{factor:.6g}"
                found.append(f"{shown} × the right value (a constant factor is missing or extra)")
    if array.shape == mid.shape and tolerance.dtype == "float64" and tolerance.rtol is None:
        single = compare(
            array,
            reference,
            dtype="float32",
            condition=tolerance.condition,
            scale=tolerance.scale,
        )
        if single.passed and float32_values(array):
            found.append(
                "the right value to float32 accuracy, and every entry is a float32 number: a "
                "float32 computation returned as float64 (return the float32 array, or pass "
                "dtype='float32' to judge it at float32 precision)"
            )
        elif single.passed:
            # near the truth but not float32 numbers: no evidence of float32 arithmetic
            found.append(
                "the right value up to a small error (within float32's tolerance, but its "
                "entries are not float32 numbers, so not a float32 result): an iteration "
                "stopped before convergence, a loose solver tolerance, or an intermediate "
                "quantity rounded"
            )
    return found


def float32_values(array: np.ndarray) -> bool:
    """Is every entry exactly a float32 number (what a float32 result cast to float64 is)?"""
    with np.errstate(over="ignore"):
        return bool(np.all(array.astype(np.float32).astype(np.float64) == array))
