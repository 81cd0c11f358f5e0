"""What a check is made of: the canonical signature, its cases, its oracle, its slips
(:class:`CheckSpec`), the oracle's answer on a case (:class:`Expected`) and one run of a case
(:class:`Outcome`, :func:`run_case`)."""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.checks._compare import Comparison, Reference, as_actual, as_reference, compare
from pgverify.checks._format import python_case
from pgverify.checks._slips import Slip
from pgverify.errors import InvalidProblemError

# --------------------------------------------------------------------------------------------
# What a check is made of
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """The oracle's answer on one case: the reference (any value :func:`assert_close` reads),
    the conditioning factor and the scale of the tolerance policy, and other accepted references
    (named alternatives, e.g. another normalisation)."""

    reference: Any
    condition: float = 1.0
    scale: float | None = None
    alternatives: tuple[tuple[str, Any], ...] = ()


class CheckSpec:
    """One check: the canonical signature, its cases, its oracle and its catalogue of slips.

    Subclasses set ``name``, ``quantity`` (what the result is, for messages), ``parameters``
    (the positional arguments of the implementation), ``optional`` (defaults a user case may
    omit) and ``family_options`` (keywords such as ``gamma``), and implement
    :meth:`regression_cases`, :meth:`strategy`, :meth:`prepare`, :meth:`expected` and
    :attr:`slips`."""

    name: str = ""
    quantity: str = ""
    parameters: tuple[str, ...] = ()
    optional: Mapping[str, Any] = MappingProxyType({})
    scalar_parameters: tuple[str, ...] = ()
    slips: Sequence[Slip] = ()

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """Check the family's keyword options (raise InvalidProblemError)."""
        return options

    def keywords(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Extra keyword arguments passed to the implementation (e.g. ``gamma``)."""
        return {}

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        raise NotImplementedError

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        raise NotImplementedError

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        """Validate a case and build its context (the problem the oracle answers)."""
        raise NotImplementedError

    def expected(self, context: Any) -> Expected:
        raise NotImplementedError

    def judge(self, context: Any, expected: Expected, output: Any, dtype: Any) -> Comparison:
        """Compare the output with the reference, then with each accepted alternative."""
        comparison = compare(
            output,
            expected.reference,
            dtype=dtype,
            what=self.quantity,
            condition=expected.condition,
            scale=expected.scale,
        )
        if comparison.passed:
            return comparison
        for label, alternative in expected.alternatives:
            other = compare(
                output,
                alternative,
                dtype=dtype,
                what=self.quantity,
                condition=expected.condition,
                scale=expected.scale,
            )
            if other.passed:
                other.note = label
                return other
        return comparison

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        """Statements for the report (e.g. the accepted normalisations)."""
        return ()

    # running a case ---------------------------------------------------------------------------

    def evaluate(
        self, fn: Any, context: Any, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> Any:
        """The implementation's result on a case: ``fn`` called once with copies of the case's
        arguments (it may modify its inputs) and the family's keywords.  A check whose case is
        a distribution rather than one input (the exact-expectation checks) overrides this to
        call ``fn`` at every node and return what :meth:`judge` compares.  A TypeError of the
        call itself (fn's signature does not take the arguments) is a :class:`CallMismatch`."""
        call = [_copy(arguments[name]) for name in self.parameters]
        try:
            return fn(*call, **self.keywords(options))
        except TypeError as exc:
            if raised_by_the_call(exc):
                raise CallMismatch(call_mismatch(self, fn, options, exc)) from exc
            raise

    def case_text(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        """A failing case as copy-pasteable Python (the arguments, then the call of fn)."""
        return python_case(arguments, self.parameters, self.keywords(options))

    def generated_count(self, profile_count: int) -> int:
        """Generated cases when ``max_examples`` is not given: the profile's count here; a check
        whose case costs a whole expectation takes a share of it."""
        return profile_count

    shrink_budget: int = 80
    """Cases run while hypothesis shrinks a failure.  Each shrink pass after the first few
    rarely helps on these inputs, while hypothesis' own bookkeeping costs ~20 ms per case; a
    count (not a time limit) keeps the minimal case reproducible."""

    reduction_budget: int = 200
    """Cases run while deleting states/inputs of the minimal failure."""

    def failure_kind(self, outcome: Outcome) -> str:
        """How a case failed: ``"wrong value"`` or the exception's type (shrinking and
        reduction keep a failure of the same kind)."""
        if outcome.error is not None:
            return type(outcome.error).__qualname__
        return "wrong value"

    def fallback_diagnosis(self, wrong: Sequence[Outcome], dtype: Any) -> str | None:
        """A diagnosis from all the failing cases that returned wrong values, tried when the
        catalogue and the generic slips name nothing on any single one (None: nothing)."""
        return None

    shrink_the_fixed_failure_kind: bool = False
    """Whether generated failures must fail as the first failing fixed case did (else the
    first generated failure sets the kind): for checks whose fixed cases are the telling ones."""

    def own_diagnosis(self, failures: Sequence[Outcome], dtype: Any) -> str | None:
        """A diagnosis the check makes itself from its failing outcomes (None: the catalogue of
        :attr:`slips` is matched by the driver)."""
        return None

    reference_label: str = ""
    """A name for the main reference when the check accepts alternatives (for the report)."""

    expected_label: str = "expected"
    """How the failure message introduces the reference."""

    def diagnosis_view(self, context: Any, value: Any) -> np.ndarray:
        """A result (output or slip value) as the float array compared with the slips: the
        array itself here; a canonical representative when many results are right."""
        return as_actual(value).astype(float)

    def diagnosis_reference(self, outcome: Outcome) -> Reference:
        """The right result in the form of :meth:`diagnosis_view`."""
        return outcome.reference

    # smaller cases ----------------------------------------------------------------------------

    axes: Mapping[str, tuple[str, ...]] = MappingProxyType({})
    """The dimension each axis of each argument runs over (e.g. ``"K": ("m", "n")``): deleting
    one index of a dimension from every argument gives a smaller case of the same kind."""

    def reductions(self, arguments: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Smaller variants of a failing case, tried after hypothesis' shrinking: one state or
        input deleted (hypothesis cannot lower a dimension without redrawing every entry)."""
        sizes: dict[str, int] = {}
        for name, labels in self.axes.items():
            for axis, label in enumerate(labels):
                sizes[label] = np.shape(arguments[name])[axis]
        for label, size in sizes.items():
            for index in range(size if size > 1 else 0):
                smaller = dict(arguments)
                for name, labels in self.axes.items():
                    value = arguments[name]
                    for axis, axis_label in enumerate(labels):
                        if axis_label == label:
                            value = np.delete(value, index, axis=axis)
                    smaller[name] = value
                yield self.repair(smaller)

    def repair(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Make a reduced case valid again (e.g. renormalise probabilities); identity here."""
        return arguments

    # user cases -------------------------------------------------------------------------------

    def arguments_from(self, case: Any, index: int) -> dict[str, Any]:
        """A user case (a dict of the implementation's arguments or a tuple in signature order)
        as float64 arguments; omitted optional arguments take their defaults."""
        where = f"cases[{index}]"
        case = by_name(case)
        if isinstance(case, Mapping):
            unknown = sorted(set(case) - set(self.parameters))
            if unknown:
                raise InvalidProblemError(
                    f"{where} has unknown argument(s) {unknown}; the implementation takes "
                    f"{', '.join(self.parameters)}"
                )
            given_arguments = dict(case)
        elif isinstance(case, (tuple, list)):
            if len(case) != len(self.parameters):
                # a shorter tuple is ambiguous (which argument was left out?): read it by name only
                omit = (
                    f"; to leave out {' or '.join(self.optional)} (defaults apply), pass a dict "
                    "of the arguments by name"
                    if self.optional
                    else ""
                )
                raise InvalidProblemError(
                    f"{where} is a tuple of {len(case)} values; a tuple case must give all "
                    f"{len(self.parameters)} arguments in order ({', '.join(self.parameters)})"
                    f"{omit}"
                )
            given_arguments = dict(zip(self.parameters, case, strict=True))
        else:
            raise InvalidProblemError(
                f"{where} must be a dict of the arguments ({', '.join(self.parameters)}) or a "
                f"tuple in that order, got {type(case).__name__}"
            )
        arguments = {}
        for name in self.parameters:
            if name in given_arguments:
                value = given_arguments[name]
            elif name in self.optional:
                value = self.optional[name]
                value = value(given_arguments) if callable(value) else value
            else:
                raise InvalidProblemError(f"{where} lacks the argument {name!r}")
            arguments[name] = _as_float(value, f"{where}[{name!r}]", name in self.scalar_parameters)
        return arguments


def by_name(case: Any) -> Any:
    """A case whose fields have names (a namedtuple, a dataclass instance) as a dict, so that it
    is read by name rather than by position; other cases unchanged."""
    if isinstance(case, tuple) and hasattr(case, "_asdict"):
        return dict(case._asdict())
    if dataclasses.is_dataclass(case) and not isinstance(case, type):
        return {f.name: getattr(case, f.name) for f in dataclasses.fields(case)}
    return case


def _as_float(value: Any, where: str, scalar: bool) -> Any:
    if scalar:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidProblemError(f"{where} must be a real number, got {value!r}")
        return float(value)
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(f"{where} could not be read as a float array: {exc}") from exc
    if not np.all(np.isfinite(array)):
        raise InvalidProblemError(f"{where} has non-finite entries; expected finite numbers")
    return array


# --------------------------------------------------------------------------------------------
# Running cases
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One case run: its arguments and context, the implementation's output (or exception)
    and the comparison."""

    label: str
    arguments: dict[str, Any]
    context: Any
    expected: Expected
    reference: Reference
    output: Any = None
    comparison: Comparison | None = None
    error: Exception | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or not (self.comparison and self.comparison.passed)


class CallMismatch(InvalidProblemError):
    """``fn`` cannot be called with the check's canonical arguments (a signature mismatch)."""


def call_text(spec: CheckSpec, options: Mapping[str, Any]) -> str:
    """How the check calls the implementation, e.g. ``fn(A, B, Q, R, Sigma0, K, gamma=0.9)``."""
    keywords = [f"{key}={value!r}" for key, value in spec.keywords(options).items()]
    return f"fn({', '.join([*spec.parameters, *keywords])})"


def describe_callable(fn: Any) -> str:
    """``fn``'s name, where it is defined (file:line) and its signature, as far as known."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    name = name or f"a {type(fn).__name__} instance"
    parts = [f"fn is {name}"]
    for target in (inspect.unwrap(fn), type(fn).__call__):
        try:
            _, line = inspect.getsourcelines(target)
            parts.append(f"defined at {inspect.getsourcefile(target)}:{line}")
            break
        except (TypeError, OSError):
            continue
    with contextlib.suppress(TypeError, ValueError):  # builtins may have no signature
        parts.append(f"with signature {inspect.signature(fn)}")
    return ", ".join(parts)


def call_mismatch(spec: CheckSpec, fn: Any, options: Mapping[str, Any], exc: Exception) -> str:
    """The message of a :class:`CallMismatch`."""
    return (
        f"{spec.name}: fn could not be called as {call_text(spec, options)}: "
        f"{type(exc).__name__}: {exc}.  {describe_callable(fn)}.  The check passes the "
        f"arguments {', '.join(spec.parameters)} positionally"
        + (
            f" and {', '.join(spec.keywords(options))} as keywords"
            if spec.keywords(options)
            else ""
        )
        + " (docs/checks.md lists every signature); adapt fn with a small wrapper if needed."
    )


def require_callable_as(spec: CheckSpec, fn: Any, options: Mapping[str, Any]) -> None:
    """Raise :class:`CallMismatch` when ``fn``'s signature cannot take the check's arguments
    (functions without an inspectable signature are tried on the first case instead)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(*spec.parameters, **spec.keywords(options))
    except TypeError as exc:
        raise CallMismatch(call_mismatch(spec, fn, options, exc)) from exc


def raised_by_the_call(exc: Exception) -> bool:
    """Whether ``exc`` is a TypeError raised by the call of fn itself, before any frame of fn
    ran: the arguments do not fit its signature (a finding about the call, not the answer)."""
    return isinstance(exc, TypeError) and exc.__traceback__.tb_next is None


def _copy(value: Any) -> Any:
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def run_case(
    spec: CheckSpec,
    fn: Any,
    label: str,
    arguments: dict[str, Any],
    options: Mapping[str, Any],
    dtype: Any,
) -> Outcome:
    """Prepare the case, ask the oracle, evaluate the implementation (:meth:`CheckSpec.evaluate`),
    judge.  A PgverifyError from the oracle propagates (an invalid case)."""
    context = spec.prepare(arguments, options)
    expected = spec.expected(context)
    reference = (
        expected.reference
        if isinstance(expected.reference, Reference)
        else as_reference(expected.reference)
    )
    expected = Expected(reference, expected.condition, expected.scale, expected.alternatives)
    outcome = Outcome(label, arguments, context, expected, reference)
    try:
        outcome.output = spec.evaluate(fn, context, arguments, options)
    except CallMismatch:
        raise
    except Exception as exc:  # the implementation's own failure is a finding, not a crash
        outcome.error = exc
        return outcome
    outcome.comparison = spec.judge(context, expected, outcome.output, dtype)
    return outcome
