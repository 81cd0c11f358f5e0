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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, reject
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Flaky, Unsatisfiable

from pgverify.checks._compare import unit_roundoff
from pgverify.checks._report import (
    CheckReport,
    Diagnosis,
    diagnose,
    distinguishing_case,
    failure_message,
    weakest,
)
from pgverify.checks._spec import CallMismatch, CheckSpec, Outcome, require_callable_as, run_case
from pgverify.errors import InvalidProblemError, OracleMismatch, PgverifyError

PROFILES: dict[str, int] = {"fast": 40, "thorough": 1000}
"""Generated cases per check in each profile (``max_examples=`` overrides)."""

KNOWN_PROFILES = ", ".join(
    f"{name} ({count} generated cases per check)" for name, count in PROFILES.items()
)


@dataclass
class _Defaults:
    """Process-wide defaults: the profile (``--pgverify-profile`` or ``PGVERIFY_PROFILE``; an
    unknown name is refused when a check first needs it, so that importing pgverify never fails)
    and the hypothesis example database (``--pgverify-database`` or ``PGVERIFY_DATABASE``)."""

    profile: str = os.environ.get("PGVERIFY_PROFILE") or "fast"
    database: Any = os.environ.get("PGVERIFY_DATABASE") or None


DEFAULTS = _Defaults()


def set_profile(name: str) -> None:
    """Choose the number of generated cases of every check: ``"fast"`` or ``"thorough"``."""
    if not isinstance(name, str) or name not in PROFILES:
        raise InvalidProblemError(
            f"the pgverify profile must be one of {KNOWN_PROFILES}; got {name!r}"
        )
    DEFAULTS.profile = name


def profile_cases() -> int:
    """The generated cases per check of the active profile (InvalidProblemError naming the known
    profiles when it is unknown, e.g. a misspelt ``PGVERIFY_PROFILE``)."""
    if DEFAULTS.profile not in PROFILES:
        source = (
            " (from the environment variable PGVERIFY_PROFILE)"
            if os.environ.get("PGVERIFY_PROFILE") == DEFAULTS.profile
            else ""
        )
        raise InvalidProblemError(
            f"the pgverify profile {DEFAULTS.profile!r}{source} is unknown; the known profiles "
            f"are {KNOWN_PROFILES}"
        )
    return PROFILES[DEFAULTS.profile]


def set_database(database: Any) -> None:
    """The hypothesis example database every check uses by default (a directory path, an
    ``ExampleDatabase``, or None for none)."""
    DEFAULTS.database = _database(database)


class _CaseFailed(Exception):
    """Raised inside the hypothesis search when a generated case fails (internal)."""


class _ShrinkBudgetSpent(BaseException):
    """Ends hypothesis' shrinking once the spec's ``shrink_budget`` of cases have been tried
    (internal; a BaseException, so hypothesis lets it through instead of recording a failure)."""


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
    judged_at: set[str] = field(default_factory=set)


def _search(
    spec: CheckSpec,
    fn: Any,
    options: Mapping[str, Any],
    dtype: Any,
    count: int,
    seed: int,
    database: ExampleDatabase | None,
    wanted: str | None = None,
) -> _Search:
    """Generate ``count`` cases with hypothesis from ``seed`` and shrink the first failure.
    Only failures of one kind (:meth:`~pgverify.checks._spec.CheckSpec.failure_kind`) count —
    ``wanted`` (that of the first failing fixed case) or else the first one found — so that
    shrinking cannot trade a wrong value for, say, an exception on a degenerate case."""
    state = _Search()
    raised: dict[str, BaseException] = {}
    shrunk_kind = [wanted]

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
                if state.shrink_runs > spec.shrink_budget:
                    raise _ShrinkBudgetSpent()
            try:
                outcome = run_case(spec, fn, "generated", arguments, options, dtype)
            except CallMismatch:
                raise
            except PgverifyError:
                outcome = None
            if outcome is None:
                reject()  # the oracle cannot answer this case (e.g. not certifiable)
            if not state.failures:
                state.generated += 1
                state.tiers.add(outcome.reference.tier)
            if outcome.failed:
                kind = spec.failure_kind(outcome)
                shrunk_kind[0] = shrunk_kind[0] or kind
                if kind == shrunk_kind[0]:
                    state.failures.append(outcome)
                    raise _CaseFailed()
                return  # another kind of failure: not the one being shrunk
            state.worst_ratio = max(state.worst_ratio, outcome.comparison.worst_ratio)
            state.judged_at.add(outcome.comparison.tolerance.dtype)
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


DISTINGUISHING_REDUCTION_RUNS = 40
"""Reductions tried on the case shown to tell coinciding slips apart (each also re-diagnosed)."""


def _same_kind(spec: CheckSpec, candidate: Outcome, original: Outcome) -> bool:
    """A smaller case must fail the same way: a wrong value for a wrong value, the same
    exception type for an exception (a slip that only raises on other shapes is no reduction)."""
    return spec.failure_kind(candidate) == spec.failure_kind(original)


def _reduce(
    spec: CheckSpec,
    fn: Any,
    outcome: Outcome,
    options: Mapping[str, Any],
    dtype: Any,
    keep: Callable[[Outcome], bool] = lambda candidate: True,
    budget: int | None = None,
) -> tuple[Outcome, bool]:
    """Greedily delete states / inputs while the case still fails (and ``keep`` holds);
    (smallest outcome, reduced?).  ``budget``: the cases tried (default the spec's
    :attr:`~pgverify.checks._spec.CheckSpec.reduction_budget`)."""
    budget = spec.reduction_budget if budget is None else budget
    runs, reduced, progress = 0, False, True
    while progress and runs < budget:
        progress = False
        for arguments in spec.reductions(outcome.arguments):
            runs += 1
            try:
                candidate = run_case(spec, fn, outcome.label, arguments, options, dtype)
            except PgverifyError:
                continue  # not a valid case (e.g. no longer stabilisable)
            except Exception:  # the reduction itself is not a case the oracle can take
                continue
            if candidate.failed and _same_kind(spec, candidate, outcome) and keep(candidate):
                outcome, reduced, progress = candidate, True, True
                break
            if runs >= budget:
                break
    return outcome, reduced


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
            f"{reproducing_call(spec, options, seed)} reproduces it)"
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
    own = spec.own_diagnosis([minimal, *failures], dtype)
    found = Diagnosis(own) if own is not None else diagnose(spec, [minimal, *failures], dtype)
    text = found.text
    if found.settled_elsewhere and minimal.error is None:
        # shrinking reached a case on which several slips coincide: the diagnosis comes from
        # the other failing cases; show the smallest of them that tells the slips apart
        coincide = "; ".join(slip for slip in found.first_matched if slip not in found.slips)
        text += f"\n(On the case above it also coincides with: {coincide}."
        clearer = distinguishing_case(spec, found, search.failures[::-1], dtype)
        if clearer is not None:  # as small as deleting states/inputs keeps it telling
            clearer, _ = _reduce(
                spec,
                fn,
                clearer,
                options,
                dtype,
                lambda candidate: distinguishing_case(spec, found, [candidate], dtype) is not None,
                DISTINGUISHING_REDUCTION_RUNS,
            )
        if clearer is None:
            text += " The other failing cases rule that out.)"
        else:
            case = spec.case_text(clearer.arguments, options)
            text += " A failing case on which only the diagnosis fits:)\n" + "\n".join(
                "    " + line for line in case.splitlines()
            )
    message = failure_message(spec, minimal, origin, options, text, other, wrong_value)
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


def reproducing_call(spec: CheckSpec, options: Mapping[str, Any], seed: int) -> str:
    """The call that replays a generated failure: the check's positional ``kind`` when it has
    one, the options the user gave, and ``seed=``."""
    parts = ["fn"]
    if isinstance(getattr(spec, "kind", None), str):
        parts.append(repr(spec.kind))
    parts += [f"{name}={value!r}" for name, value in options.items()]
    return f"{spec.name}({', '.join([*parts, f'seed={seed}'])})"


def _validate_common(
    spec: CheckSpec, fn: Any, cases: Any, max_examples: Any, seed: Any, dtype: Any, database: Any
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
        max_examples = spec.generated_count(profile_cases())
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
    count, example_database = _validate_common(spec, fn, cases, max_examples, seed, dtype, database)
    options = spec.validate_options(dict(options))
    require_callable_as(spec, fn, options)
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
    judged_at: set[str] = set()
    matched: Counter[str] = Counter()
    for label, arguments in fixed:
        try:
            outcome = run_case(spec, fn, label, arguments, options, dtype)
        except CallMismatch:
            raise
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
        judged_at.add(outcome.comparison.tolerance.dtype)

    search = (
        _search(
            spec,
            fn,
            options,
            dtype,
            count,
            int(seed),
            example_database,
            spec.failure_kind(fixed_failures[0])
            if fixed_failures and spec.shrink_the_fixed_failure_kind
            else None,
        )
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
        tier=weakest(tiers),
        seconds=time.perf_counter() - start,
        seed=int(seed),
        notes=notes,
        judged_at=", ".join(sorted(judged_at | search.judged_at)) or "none",
    )


OPTIONS_DOC = """

    Options: ``cases=[...]`` your own cases (dicts of the arguments or tuples in signature
    order{cases_note}), ``max_examples``, ``seed``, ``dtype``, ``database`` as in
    :func:`pgverify.checks.check_lyapunov_solver`.  Returns a :class:`CheckReport`; raises
    :class:`pgverify.OracleMismatch` with a minimal failing case and a diagnosis."""


def document_options(*checks: Any, cases_note: str = "") -> None:
    """Append the options every check shares to the docstrings of ``checks`` (written once)."""
    for check in checks:
        check.__doc__ = (check.__doc__ or "") + OPTIONS_DOC.format(cases_note=cases_note)
