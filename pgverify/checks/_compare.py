"""The comparison core of :mod:`pgverify.checks`: :func:`assert_close` and its tolerance policy.

Tolerance policy (docs/checks.md, "How a result is judged").  An entry ``actual[i]`` of a result
computed in floating point of unit roundoff ``eps`` (``numpy.finfo(dtype).eps``: 2.2e-16 for
float64, 1.2e-7 for float32) is accepted when

    |actual[i] − mid[i]|  ≤  rad[i]  +  eps·|mid[i]|  +  SAFETY · eps · condition · scale

* ``mid ± rad`` is the reference: ``rad`` is its proved radius (certified), the rounding of an
  exact or high-precision value to float64 (exact, high-precision), or 0 for a plain float — a
  float reference is no proof, so its own error is budgeted as a second ``actual``'s;
* ``eps·|mid[i]|`` is the unavoidable rounding of the entry itself to ``dtype``;
* ``condition · scale`` is the absolute error a backward-stable algorithm may commit: ``scale``
  is the size of the terms the result is computed from (by default ``max |mid|``), ``condition``
  the problem's error amplification (1 by default; the checks pass e.g. the condition number of
  the Stein operator, or ‖P_K‖‖Σ_K‖-type factors for a gradient that cancels near the optimum);
* ``SAFETY`` absorbs the dimension-dependent constants of the rounding-error bounds.

``dtype`` defaults to the dtype of ``actual``: a float32 result is judged at float32 precision.
Explicit ``rtol``/``atol`` replace the policy by numpy's ``rad + atol + rtol·|mid|``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from flint import arb, arb_mat, fmpq, fmpz

from pgverify.errors import InvalidProblemError, OracleMismatch

SAFETY = 64.0
"""The constant of the tolerance policy (calibrated in benchmarks/bench_checks.py: correct
float64 and float32 implementations stay well below it on every regression and generated case)."""

TIER_ORDER = ("exact", "certified", "high-precision", "float")
"""From the strongest reference to the weakest: a mixed reference has its weakest entry's tier."""


# --------------------------------------------------------------------------------------------
# The reference: float64 midpoints and rigorous radii
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A reference value as float64 midpoints with radii: the true value of entry i lies in
    ``mid[i] ± rad[i]`` (tiers exact and certified: proved; high-precision: estimated; float:
    ``rad = 0`` and no claim)."""

    mid: np.ndarray
    rad: np.ndarray
    tier: str

    @property
    def max_radius(self) -> float:
        return float(np.max(self.rad, initial=0.0))


def _upward(value: float) -> float:
    return float(np.nextafter(value, np.inf)) if value > 0 else 0.0


def _from_arb(value: arb) -> tuple[float, float]:
    if not value.is_finite():
        raise InvalidProblemError(f"the reference ball {value} is not finite")
    mid = float(value.mid())
    # |true − mid| ≤ rad + |exact midpoint − mid|, bounded above in one ball operation
    distance = (value - arb(mid)).abs_upper()
    return mid, _upward(float(distance))


def _from_rational(numerator: int, denominator: int) -> tuple[float, float]:
    exact = Fraction(numerator, denominator)
    mid = float(exact)  # correctly rounded
    return mid, _upward(float(abs(exact - Fraction(mid))))


def _from_mpf(value: Any) -> tuple[float, float]:
    mid = float(value)
    if not math.isfinite(mid):
        raise InvalidProblemError(f"the reference value {value} is not finite")
    rounding = float(abs(value - mpmath.mpf(mid)))
    # the error of a high-precision value is an estimate at its working precision
    estimate = abs(mid) * 2.0 ** (8 - mpmath.mp.prec)
    return mid, _upward(rounding + estimate)


def _scalar_reference(value: Any) -> tuple[float, float, str]:
    """(mid, rad, tier) of one reference entry."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, bytes)):
        raise InvalidProblemError(
            f"a reference entry must be a number, got {type(value).__name__} {value!r}"
        )
    if isinstance(value, arb):
        mid, rad = _from_arb(value)
        return mid, rad, "certified"
    if isinstance(value, fmpq):
        mid, rad = _from_rational(int(value.p), int(value.q))
        return mid, rad, "exact"
    if isinstance(value, (int, np.integer, fmpz)):
        mid, rad = _from_rational(int(value), 1)
        return mid, rad, "exact"
    if isinstance(value, Fraction):
        mid, rad = _from_rational(value.numerator, value.denominator)
        return mid, rad, "exact"
    if isinstance(value, mpmath.mpf):
        mid, rad = _from_mpf(value)
        return mid, rad, "high-precision"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise InvalidProblemError(f"the reference value {value!r} is not finite")
        return float(value), 0.0, "float"
    numerator = getattr(value, "p", None)
    denominator = getattr(value, "q", None)
    if isinstance(numerator, int) and isinstance(denominator, int) and denominator > 0:
        mid, rad = _from_rational(numerator, denominator)  # sympy Rational and Integer
        return mid, rad, "exact"
    raise InvalidProblemError(
        f"cannot read a reference entry of type {type(value).__name__}: expected a float, int, "
        "Fraction, flint fmpq/arb, mpmath mpf or a sympy Rational"
    )


def _entries(value: Any) -> tuple[list[Any], tuple[int, ...]]:
    """The entries of a reference (row-major) and its shape."""
    ball = getattr(value, "ball", None)
    if ball is not None and getattr(value, "tier", None) == "certified":  # an Enclosure
        shape = tuple(value.shape)
        entries = [ball] if isinstance(ball, arb) else list(ball.entries())
        return entries, shape  # a vector's balls are a column: the row-major order is right
    if isinstance(value, arb_mat):
        return list(value.entries()), (value.nrows(), value.ncols())
    if isinstance(value, mpmath.matrix):
        rows, cols = value.rows, value.cols
        return [value[i, j] for i in range(rows) for j in range(cols)], (rows, cols)
    if isinstance(value, np.ndarray):
        return list(value.reshape(-1).tolist() if value.dtype != object else value.reshape(-1)), (
            value.shape
        )
    if isinstance(value, (list, tuple)):
        parts = [_entries(item) for item in value]
        shapes = {shape for _, shape in parts}
        if len(shapes) > 1:
            raise InvalidProblemError(
                f"the reference is ragged: its items have shapes {sorted(shapes)}"
            )
        inner = shapes.pop() if shapes else ()
        return [entry for items, _ in parts for entry in items], (len(value), *inner)
    return [value], ()


def as_reference(value: Any) -> Reference:
    """A :class:`Reference` from any pgverify result: an Enclosure, python-flint arb / arb_mat /
    fmpq, Fraction, int, mpmath mpf / matrix, sympy Rational, float, a numpy array or nested
    lists of these.  The tier is that of the weakest entry."""
    entries, shape = _entries(value)
    triples = [_scalar_reference(entry) for entry in entries]
    tiers = {tier for _, _, tier in triples} or {"exact"}
    tier = max(tiers, key=TIER_ORDER.index)
    mid = np.array([t[0] for t in triples], dtype=float).reshape(shape)
    rad = np.array([t[1] for t in triples], dtype=float).reshape(shape)
    return Reference(mid, rad, tier)


# --------------------------------------------------------------------------------------------
# The actual value: any array-like
# --------------------------------------------------------------------------------------------


class UnreadableResult(Exception):
    """The implementation's output cannot be read as a real array (internal)."""


def as_actual(value: Any) -> np.ndarray:
    """A numpy array from an implementation's output: numpy, lists, scalars, torch tensors
    (``.detach().cpu().numpy()``), jax arrays (``__array__``), an Enclosure (its midpoints)."""
    if value is None:
        raise UnreadableResult("the output is None (a missing return statement?)")
    if getattr(value, "tier", None) == "certified" and hasattr(value, "mid"):
        value = value.mid
    if hasattr(value, "detach") and callable(value.detach):  # torch
        value = value.detach()
        if hasattr(value, "cpu"):
            value = value.cpu()
    if hasattr(value, "numpy") and callable(value.numpy) and not isinstance(value, np.ndarray):
        value = value.numpy()
    try:
        array = np.asarray(value)
    except Exception as exc:  # ragged lists and the like: the output itself is at fault
        raise UnreadableResult(f"the output could not be read as an array: {exc}") from exc
    if array.dtype == object:
        try:
            array = np.array([float(x) for x in array.reshape(-1)]).reshape(array.shape)
        except (TypeError, ValueError) as exc:
            raise UnreadableResult(
                f"the output holds non-numbers (object array of {array.shape})"
            ) from exc
    if np.iscomplexobj(array):
        raise UnreadableResult(f"the output is complex (dtype {array.dtype}); expected real")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise UnreadableResult(f"the output has dtype {array.dtype}; expected real numbers")
    return array


JUDGED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
"""The precisions a result can be judged at (``dtype=``); a wider float result is judged at
float64, a float16 one is refused (its rounding and range are outside the calibration)."""


def expected_form(shape: tuple[int, ...]) -> str:
    """What a result of the reference's ``shape`` looks like, for messages."""
    return "a number (or a 1-element array)" if shape == () else f"an array of shape {shape}"


def unit_roundoff(dtype: Any, actual: np.ndarray | None = None) -> tuple[float, str]:
    """(eps, name) of the precision a result is judged at: ``dtype`` when given, else the
    dtype of ``actual`` (integer results count as float64; wider floats as float64)."""
    if dtype is None:
        kind = actual.dtype if actual is not None else np.dtype(np.float64)
    else:
        try:
            kind = np.dtype(dtype)
        except TypeError as exc:
            raise InvalidProblemError(
                f"dtype must be a numpy floating dtype such as 'float32' or 'float64', got "
                f"{dtype!r}"
            ) from exc
        if not np.issubdtype(kind, np.floating):
            raise InvalidProblemError(f"dtype must be a floating dtype, got {kind}")
        if kind not in JUDGED_DTYPES:
            raise InvalidProblemError(
                f"dtype {kind} is not supported: results are judged at float32 or float64 (the "
                "precisions the tolerance policy is calibrated for); got "
                f"{dtype!r}"
            )
    if not np.issubdtype(kind, np.floating) or np.finfo(kind).eps < np.finfo(np.float64).eps:
        kind = np.dtype(np.float64)
    return float(np.finfo(kind).eps), kind.name


# --------------------------------------------------------------------------------------------
# The comparison and its report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tolerance:
    """The tolerance policy applied to one comparison (see the module docstring)."""

    eps: float
    dtype: str
    condition: float = 1.0
    scale: float = 0.0
    safety: float = SAFETY
    rtol: float | None = None
    atol: float | None = None

    @property
    def absolute(self) -> float:
        """The absolute part allowed to every entry (besides the radius and the rounding)."""
        if self.rtol is not None or self.atol is not None:
            return self.atol or 0.0
        return self.safety * self.eps * self.condition * self.scale

    def allowed(self, reference: Reference) -> np.ndarray:
        """The largest accepted |actual − mid| of every entry."""
        relative = self.rtol if self.rtol is not None else self.eps
        float_reference = reference.tier == "float" and self.rtol is None
        extra = 2.0 if float_reference else 1.0  # a float reference has an error budget too
        return reference.rad + extra * (relative * np.abs(reference.mid) + self.absolute)

    def describe(self) -> str:
        if self.rtol is not None or self.atol is not None:
            return f"rtol {self.rtol or 0.0:.3g}, atol {self.atol or 0.0:.3g} (given explicitly)"
        return (
            f"{self.safety:g} × eps({self.dtype}) {self.eps:.3g} × condition "
            f"{self.condition:.3g} × scale {self.scale:.3g} = {self.absolute:.3g} "
            f"(+ eps × |reference| + the reference radius)"
        )


@dataclass
class Comparison:
    """The outcome of comparing one result with its reference."""

    what: str
    passed: bool
    actual: np.ndarray | None
    reference: Reference
    tolerance: Tolerance
    worst_ratio: float = 0.0
    """max over entries of |actual − mid| / allowed (≤ 1 passes; inf for a shape mismatch)."""
    mismatched: int = 0
    problem: str = ""
    """Why the result could not be compared entrywise (a shape mismatch, NaN, ...), if so."""
    details: list[str] = field(default_factory=list)
    note: str = ""
    """Which accepted alternative the result matched, when not the main reference."""

    @property
    def tier(self) -> str:
        return self.reference.tier

    def report(self) -> str:
        """An ``assert_allclose``-style report of the comparison."""
        name = self.what or "result"
        verdict = "is close to" if self.passed else "is NOT close to"
        lines = [
            f"{name} {verdict} the reference (tier {self.tier}, judged at {self.tolerance.dtype})"
        ]
        if self.problem:
            lines.append(f"  {self.problem}")
        lines.extend(f"  {line}" for line in self.details)
        lines.append(f"  tolerance:  {self.tolerance.describe()}")
        lines.append(f"  reference:  tier {self.tier}, max radius {self.reference.max_radius:.3g}")
        return "\n".join(lines)


def _index(flat: int, shape: tuple[int, ...]) -> tuple[int, ...] | str:
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else "()"


def _shaped(actual: np.ndarray, reference: Reference) -> np.ndarray | None:
    if actual.shape == reference.mid.shape:
        return actual
    if actual.size == 1 and reference.mid.size == 1:  # a scalar returned as (1,) or (1, 1)
        return actual.reshape(reference.mid.shape)
    return None


def compare(
    actual: Any,
    reference: Any,
    *,
    dtype: Any = None,
    what: str = "",
    condition: float = 1.0,
    scale: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Compare ``actual`` with ``reference`` under the tolerance policy (no exception on a
    mismatch: see :func:`assert_close`).  Arguments as for :func:`assert_close`."""
    ref = reference if isinstance(reference, Reference) else as_reference(reference)
    _validate_policy(condition, scale, rtol, atol)
    if scale is None:
        scale = float(np.max(np.abs(ref.mid), initial=0.0))
    try:
        array = as_actual(actual)
    except UnreadableResult as failure:
        eps, name = unit_roundoff(dtype)
        tolerance = Tolerance(eps, name, condition, scale, rtol=rtol, atol=atol)
        problem = f"{failure}; expected {expected_form(ref.mid.shape)}"
        return Comparison(what, False, None, ref, tolerance, math.inf, ref.mid.size, problem)
    if dtype is None and array.dtype == np.float16:
        eps, name = unit_roundoff("float32")
        tolerance = Tolerance(eps, name, float(condition), float(scale), rtol=rtol, atol=atol)
        problem = (
            "the output has dtype float16, which is not judged (supported: float32 and "
            "float64): return float32 or float64"
        )
        return Comparison(what, False, array, ref, tolerance, math.inf, ref.mid.size, problem)
    eps, name = unit_roundoff(dtype, array)
    tolerance = Tolerance(eps, name, float(condition), float(scale), rtol=rtol, atol=atol)
    shaped = _shaped(array, ref)
    if shaped is None:
        hint = ""
        if array.ndim == 2 and array.T.shape == ref.mid.shape:
            hint = " (its transpose has the expected shape)"
        problem = f"shape mismatch: actual {array.shape}, reference {ref.mid.shape}{hint}"
        return Comparison(what, False, array, ref, tolerance, math.inf, ref.mid.size, problem)
    values = shaped.astype(np.float64)
    allowed = tolerance.allowed(ref)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(values - ref.mid)
    error = np.where(np.isfinite(values), error, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(error == 0, 0.0, error / allowed)
    bad = ratio > 1.0
    worst_ratio = float(np.max(ratio, initial=0.0))
    details = [f"shapes:     actual {array.shape}, reference {ref.mid.shape}"]
    total = max(ref.mid.size, 1)
    mismatched = int(np.count_nonzero(bad))
    details.append(
        f"mismatched: {mismatched} / {total} elements ({100.0 * mismatched / total:.3g}%)"
    )
    if ref.mid.size:
        flat_error = error.reshape(-1)
        worst = int(np.argmax(np.where(np.isnan(flat_error), np.inf, flat_error)))
        place = _index(worst, ref.mid.shape)
        details.append(
            f"worst absolute error: {flat_error[worst]:.3g} at index {place}: actual "
            f"{float(values.reshape(-1)[worst])!r}, reference "
            f"{float(ref.mid.reshape(-1)[worst])!r} ± {ref.rad.reshape(-1)[worst]:.3g}; "
            f"allowed {allowed.reshape(-1)[worst]:.3g}"
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(error == 0, 0.0, error / np.abs(ref.mid)).reshape(-1)
        worst_relative = int(np.argmax(np.where(np.isnan(relative), np.inf, relative)))
        details.append(
            f"worst relative error: {relative[worst_relative]:.3g} at index "
            f"{_index(worst_relative, ref.mid.shape)}"
        )
        details.append(f"worst error / allowed: {worst_ratio:.3g}")
    problem = ""
    if not np.all(np.isfinite(values)):
        problem = f"the output has {int(np.count_nonzero(~np.isfinite(values)))} non-finite entries"
    return Comparison(
        what, not np.any(bad), shaped, ref, tolerance, worst_ratio, mismatched, problem, details
    )


def _validate_policy(condition: Any, scale: Any, rtol: Any, atol: Any) -> None:
    for name, value in (("condition", condition), ("scale", scale), ("rtol", rtol), ("atol", atol)):
        if value is None and name != "condition":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidProblemError(f"{name} must be a real number >= 0, got {value!r}")
        if not math.isfinite(float(value)) or float(value) < 0:
            raise InvalidProblemError(f"{name} must be a finite number >= 0, got {value!r}")


def assert_close(
    actual: Any,
    reference: Any,
    *,
    dtype: Any = None,
    what: str = "",
    condition: float = 1.0,
    scale: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Comparison:
    """Assert that an implementation's result agrees with a pgverify reference.

    ``actual``: any array-like (numpy, lists, scalars, torch tensors, jax arrays), float64 or
    float32.  ``reference``: any pgverify result (:class:`pgverify.Enclosure`, mpmath numbers
    and matrices, ``Fraction``, python-flint fmpq / arb / arb_mat, floats, or nested lists of
    these).  Every entry must satisfy the tolerance policy of :mod:`pgverify.checks._compare`
    (docs/checks.md): the reference radius + the rounding of the entry at ``dtype`` (default:
    the dtype of ``actual``) + ``SAFETY · eps · condition · scale`` (``scale`` defaults to
    ``max |reference|``).  Shapes must agree (a scalar may come as a 1-element array).

    Returns the :class:`Comparison` (its ``worst_ratio`` is the largest error relative to what is
    allowed); raises :class:`pgverify.OracleMismatch` with an ``assert_allclose``-style report
    (shapes, mismatched elements, worst absolute and relative error, the tolerance, the tier of
    the reference and its radius) when they disagree, and :class:`pgverify.InvalidProblemError`
    for a reference or an option it cannot read.
    """
    __tracebackhide__ = True
    comparison = compare(
        actual,
        reference,
        dtype=dtype,
        what=what,
        condition=condition,
        scale=scale,
        rtol=rtol,
        atol=atol,
    )
    if not comparison.passed:
        raise OracleMismatch(comparison.report())
    return comparison
