"""The check driver: run an implementation on fixed and generated cases, judge every result with
the tolerance policy, shrink a failure to a minimal case, diagnose it, report.

Flow of one check (docs/checks.md):

1. options are validated up front (:class:`pgverify.InvalidProblemError` naming the option);
2. the user's ``cases=[...]`` and the check's fixed regression cases run first;
3. hypothesis generates ``max_examples`` more cases from ``seed`` and, on a failure, shrinks it to a
   minimal failing case.  The search runs in a worker thread with its own settings, so a check
   works the same from a plain test and from inside the user's own ``@given`` test (hypothesis
   refuses nested ``@given`` in one thread) and ignores the caller's hypothesis profile;
4. a failure raises :class:`pgverify.OracleMismatch` with the minimal case as copy-pasteable
   Python, expected ± radius, actual, error, tolerance and the diagnosis (:mod:`._slips`);
   success returns a :class:`CheckReport`.
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Flaky, Unsatisfiable

from pgverify.checks._compare import (
    TIER_ORDER,
    Comparison,
    Reference,
    as_actual,
    as_reference,
    compare,
    unit_roundoff,
)
from pgverify.checks._format import python_case, short_array
from pgverify.checks._slips import Slip, generic_slips, matching_slips
from pgverify.errors import InvalidProblemError, OracleMismatch, PgverifyError

PROFILES: dict[str, int] = {"fast": 40, "thorough": 1000}
"""Generated cases per check in each profile (``max_examples=`` overrides)."""


@dataclass
class _Defaults:
    """Process-wide defaults: the profile (``--pgverify-profile`` or ``PGVERIFY_PROFILE``) and the
    hypothesis example database (``--pgverify-database`` or ``PGVERIFY_DATABASE``)."""

    profile: str = "thorough" if os.environ.get("PGVERIFY_PROFILE") == "thorough" else "fast"
    database: Any = os.environ.get("PGVERIFY_DATABASE") or None


DEFAULTS = _Defaults()


def set_profile(name: str) -> None:
    """Choose the number of generated cases of every check: ``"fast"`` or ``"thorough"``."""
    if name not in PROFILES:
        raise InvalidProblemError(
            f"the pgverify profile must be one of {', '.join(PROFILES)}, got {name!r}"
        )
    DEFAULTS.profile = name


def set_database(database: Any) -> None:
    """The hypothesis example database every check uses by default (a directory path, an
    ``ExampleDatabase``, or None for none)."""
    DEFAULTS.database = _database(database)


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
        if isinstance(case, Mapping):
            unknown = sorted(set(case) - set(self.parameters))
            if unknown:
                raise InvalidProblemError(
                    f"{where} has unknown argument(s) {unknown}; the implementation takes "
                    f"{', '.join(self.parameters)}"
                )
            given_arguments = dict(case)
        elif isinstance(case, (tuple, list)):
            if len(case) > len(self.parameters):
                raise InvalidProblemError(
                    f"{where} has {len(case)} values; the implementation takes "
                    f"{len(self.parameters)} ({', '.join(self.parameters)})"
                )
            given_arguments = dict(zip(self.parameters, case, strict=False))
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
    """Prepare the case, ask the oracle, call the implementation (on copies: it may modify its
    inputs), judge.  A PgverifyError from the oracle propagates (an invalid case)."""
    context = spec.prepare(arguments, options)
    expected = spec.expected(context)
    reference = (
        expected.reference
        if isinstance(expected.reference, Reference)
        else as_reference(expected.reference)
    )
    expected = Expected(reference, expected.condition, expected.scale, expected.alternatives)
    outcome = Outcome(label, arguments, context, expected, reference)
    call = [_copy(arguments[name]) for name in spec.parameters]
    try:
        outcome.output = fn(*call, **spec.keywords(options))
    except Exception as exc:  # the implementation's own failure is a finding, not a crash
        outcome.error = exc
        return outcome
    outcome.comparison = spec.judge(context, expected, outcome.output, dtype)
    return outcome


class _CaseFailed(Exception):
    """Raised inside the hypothesis search when a generated case fails (internal)."""


class _ShrinkBudgetSpent(BaseException):
    """Ends hypothesis' shrinking once :data:`SHRINK_BUDGET` cases have been tried (internal; a
    BaseException, so hypothesis lets it through instead of recording a failure)."""


SHRINK_BUDGET = 80
"""Cases run while shrinking a failure.  Each shrink pass after the first few rarely helps on
these inputs, while hypothesis' own bookkeeping costs ~20 ms per case here; a count (not a time
limit) keeps the minimal case reproducible.  State/input deletion follows (:func:`_reduce`)."""


@dataclass
class _Search:
    failures: list[Outcome] = field(default_factory=list)
    generated: int = 0
    worst_ratio: float = 0.0
    tiers: set[str] = field(default_factory=set)
    flaky: bool = False
    unsatisfiable: bool = False
    shrink_runs: int = 0
    matched: Counter[str] = field(default_factory=Counter)


def _search(
    spec: CheckSpec,
    fn: Any,
    options: Mapping[str, Any],
    dtype: Any,
    count: int,
    seed: int,
    database: ExampleDatabase | None,
) -> _Search:
    """Generate ``count`` cases with hypothesis from ``seed`` and shrink the first failure."""
    state = _Search()
    raised: dict[str, BaseException] = {}

    def body() -> None:
        try:
            search()
        except BaseException as exc:  # handed to the calling thread
            raised["exception"] = exc

    def search() -> None:
        # decorating inside the worker thread: hypothesis' nesting check is per thread
        phases = [Phase.generate, Phase.shrink]
        if database is not None:
            phases.insert(0, Phase.reuse)

        @hypothesis.settings(
            max_examples=count,
            deadline=None,
            database=database,
            derandomize=False,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(spec.strategy(options))
        def generated_case(arguments: dict[str, Any]) -> None:
            if state.failures and database is None:
                # (with a database, hypothesis would save the case being tried when the budget
                # runs out as if it had failed: shrinking then runs to the end)
                state.shrink_runs += 1
                if state.shrink_runs > SHRINK_BUDGET:
                    raise _ShrinkBudgetSpent()
            try:
                outcome = run_case(spec, fn, "generated", arguments, options, dtype)
            except PgverifyError:
                outcome = None
            if outcome is None:
                reject()  # the oracle cannot answer this case (e.g. not certifiable)
            if not state.failures:
                state.generated += 1
                state.tiers.add(outcome.reference.tier)
            if outcome.failed:
                state.failures.append(outcome)
                raise _CaseFailed()
            state.worst_ratio = max(state.worst_ratio, outcome.comparison.worst_ratio)
            state.matched[outcome.comparison.note or spec.reference_label] += 1

        # one database key per check and options, so saved counterexamples replay in their
        # own check
        digest = f"pgverify.checks.{spec.name}:{sorted(options.items())!r}".encode()
        generated_case.hypothesis.inner_test._hypothesis_internal_add_digest = digest
        # what @hypothesis.seed(seed) sets, without the database=None it also imposes, so that a
        # shared example database still replays (tests/test_checks_driver.py checks the
        # reproducibility this gives)
        generated_case._hypothesis_internal_use_seed = seed
        generated_case()

    worker = threading.Thread(target=body, name=f"pgverify-{spec.name}", daemon=True)
    worker.start()
    worker.join()
    exception = raised.get("exception")
    if exception is None or isinstance(exception, (_CaseFailed, _ShrinkBudgetSpent)):
        return state
    if isinstance(exception, Unsatisfiable):
        state.unsatisfiable = True
        return state
    if isinstance(exception, Flaky) and state.failures:
        state.flaky = True
        return state
    raise exception


MAX_REDUCTION_RUNS = 200


def _same_kind(candidate: Outcome, original: Outcome) -> bool:
    """A smaller case must fail the same way: a wrong value for a wrong value, the same
    exception type for an exception (a slip that only raises on other shapes is no reduction)."""
    if original.error is None:
        return candidate.error is None
    return type(candidate.error) is type(original.error)


def _reduce(
    spec: CheckSpec, fn: Any, outcome: Outcome, options: Mapping[str, Any], dtype: Any
) -> tuple[Outcome, bool]:
    """Greedily delete states / inputs while the case still fails; (smallest outcome, reduced?)."""
    runs, reduced, progress = 0, False, True
    while progress and runs < MAX_REDUCTION_RUNS:
        progress = False
        for arguments in spec.reductions(outcome.arguments):
            runs += 1
            try:
                candidate = run_case(spec, fn, outcome.label, arguments, options, dtype)
            except PgverifyError:
                continue  # not a valid case (e.g. no longer stabilisable)
            except Exception:  # the reduction itself is not a case the oracle can take
                continue
            if candidate.failed and _same_kind(candidate, outcome):
                outcome, reduced, progress = candidate, True, True
                break
            if runs >= MAX_REDUCTION_RUNS:
                break
    return outcome, reduced


# --------------------------------------------------------------------------------------------
# The report and the failure message
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckReport:
    """What a passing check did: how many cases, the worst error relative to the tolerance
    (≤ 1; the closer to 0 the more margin), the reference tier, the time."""

    check: str
    cases: int
    fixed_cases: int
    generated_cases: int
    worst_ratio: float
    tier: str
    seconds: float
    seed: int
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.check}: passed {self.cases} cases ({self.fixed_cases} fixed, "
            f"{self.generated_cases} generated from seed {self.seed}); worst error "
            f"{self.worst_ratio:.3g} of the tolerance; reference tier {self.tier}; "
            f"{self.seconds:.2f} s"
        )
        return "\n".join([text, *(f"  {note}" for note in self.notes)])


def _weakest(tiers: set[str]) -> str:
    return max(tiers, key=TIER_ORDER.index) if tiers else "none"


def _diagnosis(spec: CheckSpec, failures: Sequence[Outcome], dtype: Any) -> str:
    """The slips the failing output matches (narrowed by the other failing cases when the
    minimal case leaves several candidates)."""
    candidates: list[str] | None = None
    for outcome in failures:
        if outcome.error is not None or outcome.comparison is None:
            continue
        tolerance = outcome.comparison.tolerance
        found = matching_slips(
            spec.slips,
            outcome.context,
            outcome.output,
            spec.diagnosis_reference(outcome),
            tolerance,
            dtype,
            lambda value, context=outcome.context: spec.diagnosis_view(context, value),
        )
        if not found:
            continue
        if candidates is None:
            candidates = found
        elif len(candidates) > 1:
            narrowed = [slip for slip in candidates if slip in found]
            candidates = narrowed or candidates
    if candidates:
        if len(candidates) == 1:
            return f"Diagnosis: your result equals {candidates[0]}."
        listed = "\n".join(f"  - {slip}" for slip in candidates)
        return f"Diagnosis: your result equals each of these (they coincide here):\n{listed}"
    first = next((o for o in failures if o.comparison is not None and o.error is None), None)
    if first is not None:
        try:
            output = spec.diagnosis_view(first.context, first.output)
        except Exception:
            output = first.output
        generic = generic_slips(
            output, spec.diagnosis_reference(first), first.comparison.tolerance, dtype
        )
        if generic:
            return f"Diagnosis: your result equals {generic[0]}."
    known = "; ".join(slip.description for slip in spec.slips)
    return "Diagnosis: the output matches none of the known slips for this quantity" + (
        f" (checked: {known})." if known else "."
    )


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _expected_text(spec: CheckSpec, outcome: Outcome) -> str:
    reference = outcome.reference
    shown = short_array(reference.mid)
    return (
        f"{spec.expected_label} (tier {reference.tier}): {shown}\n"
        f"    ± radius at most {reference.max_radius:.3g}"
    )


def _outcome_lines(spec: CheckSpec, outcome: Outcome, keywords: Mapping[str, Any]) -> list[str]:
    """The case as Python, then expected and actual (and the comparison report)."""
    lines = [
        _indent(python_case(outcome.arguments, spec.parameters, keywords)),
        "",
        _expected_text(spec, outcome),
    ]
    if outcome.error is not None:
        summary = "".join(traceback.format_exception_only(type(outcome.error), outcome.error))
        frames = traceback.extract_tb(outcome.error.__traceback__)
        where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
        lines.append(f"actual: the implementation raised {summary.strip()}{where}")
    else:
        actual = outcome.comparison.actual
        shown = short_array(actual) if actual is not None else repr(outcome.output)
        lines.append(f"actual: {shown}")
        lines.append(outcome.comparison.report())
    return lines


def _failure_message(
    spec: CheckSpec,
    outcome: Outcome,
    origin: str,
    options: Mapping[str, Any],
    diagnosis: str,
    other: str,
    wrong_value: Outcome | None = None,
) -> str:
    """The message of OracleMismatch.  When the minimal case raised and another case returned
    a wrong value, that case follows with the diagnosis (made on wrong values only)."""
    keywords = spec.keywords(options)
    lines = [
        f"{spec.name}: the implementation disagrees with the oracle on {spec.quantity} "
        f"(reference tier {outcome.reference.tier}).",
        "",
        f"{origin}:",
        "",
        *_outcome_lines(spec, outcome, keywords),
    ]
    if outcome.error is None:
        lines += ["", diagnosis]
    elif wrong_value is not None:
        lines += [
            "",
            f"It also returns a wrong value on {wrong_value.label}:",
            "",
            *_outcome_lines(spec, wrong_value, keywords),
            "",
            diagnosis,
        ]
    if other:
        lines.append(other)
    return "\n".join(lines)


def _mismatch(
    spec: CheckSpec,
    fn: Any,
    search: _Search,
    fixed_failures: list[Outcome],
    options: Mapping[str, Any],
    dtype: Any,
    seed: int,
) -> OracleMismatch:
    """The OracleMismatch of a failed check: the minimal generated failure (else the fixed
    one), reduced by deleting states/inputs, diagnosed on the minimal, the unshrunk and the
    failing fixed case."""
    fixed_failure = fixed_failures[0] if fixed_failures else None
    if search.failures:
        minimal, reduced = _reduce(spec, fn, search.failures[-1], options, dtype)
        failures = [minimal, search.failures[0]]
        origin = (
            f"Minimal failing case (generated from seed={seed} and shrunk by hypothesis"
            f"{', then by deleting states/inputs' if reduced else ''}; "
            f"{spec.name}(fn, seed={seed}) reproduces it)"
        )
    else:
        minimal, reduced = _reduce(spec, fn, fixed_failure, options, dtype)
        failures = []
        origin = f"Failing case: {fixed_failure.label}" + (
            " with states/inputs deleted" if reduced else ""
        )
    failures += fixed_failures
    wrong_values = [outcome for outcome in failures if outcome.error is None]
    wrong_value = wrong_values[0] if minimal.error is not None and wrong_values else None
    other = ""
    if search.failures and fixed_failure is not None and wrong_value is not fixed_failure:
        other = f"(The fixed case '{fixed_failure.label}' fails too.)"
    if search.flaky:
        other += (
            "\n(hypothesis saw this case pass and fail: the implementation is not deterministic.)"
        )
    diagnosis = _diagnosis(spec, [minimal, *failures], dtype)
    message = _failure_message(spec, minimal, origin, options, diagnosis, other, wrong_value)
    mismatch = OracleMismatch(message)
    mismatch.__cause__ = minimal.error
    return mismatch


# --------------------------------------------------------------------------------------------
# The entry point every check calls
# --------------------------------------------------------------------------------------------


def _database(database: Any) -> ExampleDatabase | None:
    if database is None or isinstance(database, ExampleDatabase):
        return database
    if isinstance(database, (str, os.PathLike)):
        return DirectoryBasedExampleDatabase(str(Path(database)))
    raise InvalidProblemError(
        f"database must be None, a directory path or a hypothesis ExampleDatabase, got "
        f"{type(database).__name__}"
    )


def _validate_common(
    fn: Any, cases: Any, max_examples: Any, seed: Any, dtype: Any, database: Any
) -> tuple[int, ExampleDatabase | None]:
    if not callable(fn):
        raise InvalidProblemError(
            f"fn must be the callable to check, got {type(fn).__name__} {fn!r}"
        )
    if cases is not None and not isinstance(cases, (list, tuple)):
        raise InvalidProblemError(
            f"cases must be a list of cases (dicts or tuples of the arguments), got "
            f"{type(cases).__name__}"
        )
    if max_examples is None:
        max_examples = PROFILES[DEFAULTS.profile]
    if isinstance(max_examples, bool) or not isinstance(max_examples, (int, np.integer)):
        raise InvalidProblemError(f"max_examples must be an int >= 0, got {max_examples!r}")
    if max_examples < 0:
        raise InvalidProblemError(f"max_examples must be an int >= 0, got {max_examples!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidProblemError(f"seed must be an int, got {seed!r}")
    if dtype is not None:
        unit_roundoff(dtype)
    return int(max_examples), _database(database if database is not None else DEFAULTS.database)


def run_check(
    spec: CheckSpec,
    fn: Any,
    *,
    cases: Sequence[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
    **options: Any,
) -> CheckReport:
    """Run the check ``spec`` on the implementation ``fn`` (see the module docstring)."""
    __tracebackhide__ = True
    start = time.perf_counter()
    count, example_database = _validate_common(fn, cases, max_examples, seed, dtype, database)
    options = spec.validate_options(dict(options))
    user_cases = []
    for index, case in enumerate(cases or ()):
        arguments = spec.arguments_from(case, index)
        try:
            spec.prepare(arguments, options)
        except PgverifyError as failure:
            raise InvalidProblemError(f"cases[{index}]: {failure}") from failure
        user_cases.append((f"your case cases[{index}]", arguments))
    fixed = user_cases + spec.regression_cases(options)

    worst_ratio, tiers, fixed_failures, skipped = 0.0, set(), [], []
    matched: Counter[str] = Counter()
    for label, arguments in fixed:
        try:
            outcome = run_case(spec, fn, label, arguments, options, dtype)
        except PgverifyError:
            # a built-in case outside the oracle's domain under these options (e.g. a discount
            # whose optimal gain does not stabilise); user cases were validated above
            skipped.append(label)
            continue
        tiers.add(outcome.reference.tier)
        if outcome.failed:
            fixed_failures.append(outcome)  # all of them: more evidence for the diagnosis
            continue
        matched[outcome.comparison.note or spec.reference_label] += 1
        worst_ratio = max(worst_ratio, outcome.comparison.worst_ratio)

    search = (
        _search(spec, fn, options, dtype, count, int(seed), example_database)
        if count > 0
        else _Search()
    )
    tiers |= search.tiers
    if search.failures or fixed_failures:
        raise _mismatch(spec, fn, search, fixed_failures, options, dtype, int(seed))
    notes = spec.notes(options)
    matched += search.matched
    if spec.reference_label or len(matched) > 1:
        counts = ", ".join(f"{label}: {count}" for label, count in matched.items() if label)
        notes = (*notes, f"cases matched by each accepted form: {counts}")
    if skipped:
        notes = (*notes, f"fixed cases outside the oracle's domain here, skipped: {skipped}")
    if search.unsatisfiable:
        notes = (*notes, "hypothesis could not generate a valid case")
    return CheckReport(
        check=spec.name,
        cases=len(fixed) - len(skipped) + search.generated,
        fixed_cases=len(fixed) - len(skipped),
        generated_cases=search.generated,
        worst_ratio=max(worst_ratio, search.worst_ratio)
        if math.isfinite(worst_ratio)
        else worst_ratio,
        tier=_weakest(tiers),
        seconds=time.perf_counter() - start,
        seed=int(seed),
        notes=notes,
    )
