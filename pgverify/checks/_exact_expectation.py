"""What the exact-expectation estimator checks share (:func:`check_pg_estimator`,
:func:`check_softmax_pg_estimator`; docs/checks.md, "Policy-gradient estimators").

A case of these checks is a *distribution* — a rollout distribution (an LQR problem, a gain,
σ, γ, T, M) or a finite MDP with a policy — not one input: :meth:`ExpectationSpec.evaluate`
calls the user's estimator at every node of an exact cubature rule (LQR) or on every batch of
trajectories (finite MDPs) and returns the exact weighted mean of its float outputs
(:class:`ExactEstimate`), which :meth:`ExpectationSpec.judge` compares with the exact target
under the stated rounding allowance.  The driver (:func:`pgverify.checks._driver.run_check`)
then runs fixed and hypothesis-generated distributions, shrinks a failure to a minimal one and
prints it as a copy-pasteable ``cases=[...]`` call.

With a critic kind ("q", "advantage", "td", "gae") Ψ_t is a fixed function of the batch and the
critic the check passes, so besides the expectation the estimate is compared with the kind's
reference at every evaluation (:mod:`pgverify.checks._critic_kinds`): an unbiased estimate of
another form fails as a *kind mismatch*, and its diagnosis is node by node.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np

from pgverify.checks._compare import (
    SAFETY,
    Comparison,
    UnreadableResult,
    as_actual,
    compare,
    unit_roundoff,
)
from pgverify.checks._critic_kinds import (
    KEYWORDS,
    Call,
    diagnosis_text,
    first_disagreement,
    node_report,
)
from pgverify.checks._driver import run_check
from pgverify.checks._format import python_literal
from pgverify.checks._report import CheckReport
from pgverify.checks._spec import (
    CallMismatch,
    CheckSpec,
    Expected,
    Outcome,
    by_name,
    describe_callable,
    raised_by_the_call,
)
from pgverify.errors import InvalidProblemError
from pgverify.estimators.critic_gradient import CRITIC_KINDS, weighted_score_mean

SUPPORTED_KINDS = ("v0", "reinforce", "baselined", "q", "advantage", "td", "gae")

# --------------------------------------------------------------------------------------------
# Reading and judging float outputs
# --------------------------------------------------------------------------------------------

FLOAT64_RELATIVE_ERROR = 1e-9
FLOAT32_RELATIVE_ERROR = 1e-5
"""The assumed error of one float evaluation relative to its largest entry (the stated
assumption of the rounding allowance, :func:`pgverify.expectation.lqr_expectation`)."""


def relative_error_of(dtype: Any) -> float:
    """The assumed relative error of an implementation judged at ``dtype`` (None: float64)."""
    if dtype is None:
        return FLOAT64_RELATIVE_ERROR
    try:
        kind = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidProblemError(f"dtype must be None, float64 or float32, got {dtype!r}") from exc
    if kind == np.float64:
        return FLOAT64_RELATIVE_ERROR
    if kind == np.float32:
        return FLOAT32_RELATIVE_ERROR
    raise InvalidProblemError(f"dtype must be None, float64 or float32, got {dtype!r}")


def read_estimate(raw: Any, seen: set[str]) -> np.ndarray:
    """An implementation's output as float64 (numpy, lists, torch, jax), noting in ``seen``
    when it came in single precision (its rounding is then judged at float32's allowance)."""
    array = as_actual(raw)
    if array.dtype.kind == "f" and array.dtype.itemsize <= 4:
        seen.add("float32")
    return array.astype(float)


def widened(tolerance: Fraction, dtype: Any, seen: set[str]) -> Fraction:
    """The allowance for a single-precision output when no dtype was given."""
    if dtype is None and "float32" in seen:
        return tolerance * Fraction(FLOAT32_RELATIVE_ERROR / FLOAT64_RELATIVE_ERROR)
    return tolerance


def unsupported_kind(kind: Any) -> str:
    """The message refusing a kind the checks do not know."""
    return f"kind = {kind!r} is not supported; supported kinds: {', '.join(SUPPORTED_KINDS)}"


class ImplementationRaised(Exception):
    """The user's ``fn`` raised inside the expectation engine: carried out of the engine so
    that an error of the engine is never taken for the implementation's (internal)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def call_estimator(
    check: str, kind: str, fn: Any, parameters: str, arguments: tuple, keywords: dict[str, Any]
) -> Any:
    """``fn(*arguments, **keywords)``; a TypeError of the call itself (the signature does not
    take the check's arguments) becomes a :class:`CallMismatch` naming the keywords the kind
    passes, any other exception an :class:`ImplementationRaised`."""
    __tracebackhide__ = True
    try:
        return fn(*arguments, **keywords)
    except Exception as exc:  # the implementation's own failure is a finding, not a crash
        if raised_by_the_call(exc):
            shown = "".join(f", {name}=…" for name in keywords)
            raise CallMismatch(
                f"{check}(kind={kind!r}): fn could not be called as fn({parameters}{shown}): "
                f"TypeError: {exc}.  {describe_callable(fn)}.  Kind {kind!r} passes "
                + (f"the keywords {', '.join(keywords)}" if keywords else "no keywords")
                + " (docs/checks.md, 'Policy-gradient estimators')."
            ) from exc
        raise ImplementationRaised(exc) from exc


def with_target_rounding(allowance: Fraction, target: Any) -> Fraction:
    """The allowance plus 1e-12 of the target's largest entry (its own float64 rounding)."""
    exact = np.asarray(target, dtype=object)
    return allowance + Fraction(1e-12) * max((abs(v) for v in exact.ravel()), default=Fraction(0))


def exact_mean_comparison(
    quantity: str,
    mean: np.ndarray,
    target: Any,
    expected: Expected,
    allowance: Fraction,
    dtype: Any,
    evaluation_error: float,
    how: str,
) -> Comparison:
    """The exact expectation ``mean`` of the user's function against the exact ``target``
    within ``allowance`` (the rounding of its float evaluations, each within
    ``evaluation_error`` of its largest entry), as a :class:`Comparison` whose tolerance policy
    carries that allowance — so that the slips are matched under the same allowance — with the
    exact bias and ``how`` the expectation was taken in its details."""
    allowance = with_target_rounding(allowance, target)
    scale = expected.scale or 1.0
    eps, _ = unit_roundoff(dtype, np.zeros(1))
    # the allowance as the policy's absolute part: SAFETY·eps·condition·scale = allowance
    condition = float(allowance) / (SAFETY * eps * scale)
    comparison = compare(
        np.asarray(mean, dtype=float),
        expected.reference,
        dtype=dtype,
        what=quantity,
        condition=condition,
        scale=scale,
    )
    # judged at the assumed evaluation error, not one rounding of the mean: naming it so keeps
    # the generic "float32 accuracy" diagnosis (float32's unit roundoff, ~5e8 × float64's, far
    # beyond float32 evaluations' allowance) away from these checks
    comparison.tolerance = replace(
        comparison.tolerance,
        dtype=f"{comparison.tolerance.dtype}, evaluations within {evaluation_error:g}",
    )
    bias = np.asarray(mean - np.asarray(target, dtype=object), dtype=float)
    comparison.details += [
        f"exact bias E[estimate] − target: {np.array2string(bias, precision=8)}",
        f"{how}; allowance {float(allowance):.3g} for the rounding of your float evaluations",
    ]
    return comparison


# --------------------------------------------------------------------------------------------
# Slipped REINFORCE estimators, from per-step scores (both checks' catalogues)
# --------------------------------------------------------------------------------------------


def reinforce_without_discount_weight(scores: Any, costs: Any, gamma: Any) -> np.ndarray:
    """``(1/M) Σ_i Σ_t G_it s_it``, ``G_t = Σ_{k≥t} γ^{k−t} c_k``: the γ^t weight of step t
    missing (exact for Fraction inputs)."""
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((gamma ** (k - t) * costs[:, k] for k in range(t, steps)), Fraction(0))
    return weighted_score_mean(to_go, np.ones(steps, dtype=object), scores)


def reinforce_with_own_cost_baseline(scores: Any, costs: Any, gamma: Any) -> np.ndarray:
    """``(1/M) Σ_i Σ_t γ^t (G_it − c_it) s_it``: the baseline b_t = c_t, which sees u_t."""
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((gamma**k * costs[:, k] for k in range(t + 1, steps)), Fraction(0))
    return weighted_score_mean(to_go, np.ones(steps, dtype=object), scores)


# --------------------------------------------------------------------------------------------
# One case's result and the report
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExactEstimate:
    """What :meth:`ExpectationSpec.evaluate` returns: the exact expectation of the user's
    function (Fractions), the allowance for the rounding of its float evaluations, the number
    of weighted evaluations, how they were chosen, and (critic kinds) every evaluation."""

    mean: np.ndarray
    allowance: Fraction
    evaluations: int
    how: str
    calls: tuple[Call, ...] = ()
    node_error: float = FLOAT64_RELATIVE_ERROR


@dataclass(frozen=True)
class ScenarioResult:
    """One rollout distribution a policy-gradient estimator check weighed and passed: its label,
    the exact expected gradient (the target), the number of weighted evaluations (cubature nodes
    or enumerated batches) and the error of the user's exact expectation relative to the
    allowance."""

    label: str
    expected_gradient: np.ndarray
    evaluations: int
    ratio: float


@dataclass(frozen=True)
class ExpectationReport(CheckReport):
    """The report of a passing exact-expectation check (:func:`check_pg_estimator`,
    :func:`check_softmax_pg_estimator`): a :class:`CheckReport` (fixed and generated rollout
    distributions, tier ``"exact"``) with each distribution's target in ``scenarios``."""

    scenarios: tuple[ScenarioResult, ...] = ()


# --------------------------------------------------------------------------------------------
# The spec both checks build on
# --------------------------------------------------------------------------------------------


class _Placeholder(str):
    """A keyword's description standing for its value in the call shown to the user."""

    def __repr__(self) -> str:
        return str(self)


KEYWORD_FORMS = {
    "q_values": _Placeholder("<(M, T) float64 array>"),
    "values": _Placeholder("<(M, T+1) float64 array>"),
    "terminated": _Placeholder("<(M, T) bool array>"),
    "lam": _Placeholder("<float>"),
}


@dataclass
class ExpectationContext:
    """One case: the distribution (a scenario of the subclass), its exact target, and the
    exact critic when the kind takes one."""

    scenario: Any
    target: np.ndarray
    critic: Any = None


class ExpectationSpec(CheckSpec):
    """The part of an exact-expectation check that does not depend on the model: the verdict
    (:meth:`judge`), the critic kinds' node-by-node comparison and diagnosis, the report.

    Subclasses set ``name``, ``parameters`` (fn's positional arguments), ``case_fields`` (the
    fields of a case), ``target_text``, and implement :meth:`regression_cases`,
    :meth:`strategy`, :meth:`prepare` (→ :class:`ExpectationContext`), :meth:`evaluate`
    (→ :class:`ExactEstimate`) and :meth:`arguments_from`."""

    case_fields: tuple[str, ...] = ()
    target_text: str = "the gradient"
    shrink_budget = 25
    shrink_the_fixed_failure_kind = True
    reduction_budget = 30

    def __init__(self, kind: str, dtype: Any) -> None:
        """Refuses an unknown ``kind`` or an unsupported ``dtype`` before anything runs."""
        if not isinstance(kind, str) or kind not in SUPPORTED_KINDS:
            raise InvalidProblemError(unsupported_kind(kind))
        self.kind = kind
        self.dtype = dtype
        self.relative_error = relative_error_of(dtype)
        self.quantity = f"the exact expectation E[estimate] of the {kind!r} estimator"
        self.expected_label = f"expected E[estimate] = {self.target_text}"
        self.passed: list[ScenarioResult] = []

    def keywords(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """The critic keywords of the kind (their forms: the values differ at every node)."""
        return {name: KEYWORD_FORMS[name] for name in KEYWORDS.get(self.kind, ())}

    def generated_count(self, profile_count: int) -> int:
        # a case is a whole expectation (hundreds of evaluations): a fifth of the profile's count
        return max(1, profile_count // 5)

    def expected(self, context: ExpectationContext) -> Expected:
        largest = float(np.max(np.abs(np.asarray(context.target, dtype=float))))
        # a vanishing target (a degenerate case): the allowance is then absolute, on scale 1
        return Expected(context.target, 1.0, largest if largest > 0 else 1.0)

    def judge(
        self, context: ExpectationContext, expected: Expected, output: Any, dtype: Any
    ) -> Comparison:
        """The exact expectation against the exact target within the rounding allowance; for
        a critic kind, then every evaluation against the kind's reference."""
        if not isinstance(output, ExactEstimate):  # evaluate always returns one
            return compare(output, expected.reference, dtype=dtype, what=self.quantity)
        comparison = exact_mean_comparison(
            self.quantity,
            output.mean,
            context.target,
            expected,
            output.allowance,
            dtype,
            output.node_error,
            output.how,
        )
        if comparison.passed and output.calls:
            disagreement = first_disagreement(self.kind, list(output.calls), output.node_error)
            if disagreement is not None:
                comparison.passed = False
                comparison.details = [comparison.details[-1]]  # the bias is 0: not shown
                comparison.what = (
                    f"the {self.kind!r} estimate at every evaluation (its exact expectation "
                    "is right)"
                )
                comparison.problem = (
                    f"kind mismatch — the exact expectation is right (the estimator is "
                    f"unbiased), but the estimate is not Σ_t γ^t Ψ_t s_t with Ψ_t of kind "
                    f"{self.kind!r} for the critic the check passed.\n"
                    + node_report(*disagreement, "  ")
                )
        if comparison.passed:
            self.passed.append(
                ScenarioResult(
                    context.scenario.label,
                    np.asarray(context.target, dtype=float),
                    output.evaluations,
                    comparison.worst_ratio,
                )
            )
        return comparison

    def failure_kind(self, outcome: Outcome) -> str:
        """A kind mismatch (unbiased, another Ψ_t) is a failure of its own kind: a biased
        estimator's failure is not shrunk to a case where its bias happens to vanish."""
        comparison = outcome.comparison
        if (
            outcome.error is None
            and comparison is not None
            and comparison.problem.startswith("kind mismatch")
        ):
            return "kind mismatch"
        return super().failure_kind(outcome)

    def diagnosis_view(self, context: Any, value: Any) -> np.ndarray:
        if isinstance(value, ExactEstimate):
            return np.asarray(value.mean, dtype=float)
        return as_actual(value).astype(float)

    def own_diagnosis(self, failures: Sequence[Outcome], dtype: Any) -> str | None:
        """Critic kinds: the slips the user's outputs equal at every evaluation of the first
        failing case that returned values (:mod:`pgverify.checks._critic_kinds`)."""
        if self.kind not in CRITIC_KINDS:
            return None
        for outcome in failures:
            output = outcome.output
            if outcome.error is None and isinstance(output, ExactEstimate) and output.calls:
                scenario = outcome.context.scenario
                return diagnosis_text(
                    self.kind,
                    list(output.calls),
                    float(scenario.gamma),
                    output.node_error,
                    self.named_factors(scenario),
                )
        return None

    def fallback_diagnosis(self, wrong: Sequence[Outcome], dtype: Any) -> str | None:
        """From every failing case at once: right to float32 evaluations' accuracy (judged at
        float64's); else the same constant multiple of the target on each (one entry included:
        across cases a common factor is evidence), named when it is one of
        :meth:`named_factors` on every case."""
        if self.within_single_precision(wrong):
            return (
                "Diagnosis: your result is right to the accuracy of float32 evaluations (each "
                f"within {FLOAT32_RELATIVE_ERROR:g} of its largest entry) on every failing case, "
                "but returned as float64: an estimator computing in float32 inside (a float32 "
                "array, torch/jax default precision) — pass dtype='float32' to judge it so."
            )
        factors = []
        for outcome in wrong:
            output = outcome.output
            if not isinstance(output, ExactEstimate) or outcome.comparison is None:
                return None
            target = np.asarray(outcome.context.target, dtype=float)
            mean = np.asarray(output.mean, dtype=float)
            norm = float(np.vdot(target, target))
            if norm == 0:
                continue
            factor = float(np.vdot(target, mean)) / norm
            allowed = outcome.comparison.tolerance.absolute
            if np.max(np.abs(mean - factor * target)) > allowed:
                return None
            factors.append((factor, outcome))
        if not factors:
            return None
        first = factors[0][0]
        if first == 0 or any(abs(f - first) > 1e-9 * abs(first) for f, _ in factors):
            named = {
                description
                for description in self.named_factors(factors[0][1].context.scenario)
                if all(
                    abs(f - self.named_factors(o.context.scenario).get(description, np.nan))
                    <= 1e-9 * abs(f)
                    for f, o in factors
                )
            }
            if named:
                return f"Diagnosis: your result equals {sorted(named)[0]} on every failing case."
            return None
        cases = f"{len(factors)} failing case{'s' if len(factors) > 1 else ''}"
        return (
            f"Diagnosis: your result is {first:.6g} × the right value on the {cases} (a "
            "constant factor is missing or extra)."
        )

    def within_single_precision(self, wrong: Sequence[Outcome]) -> bool:
        """Whether every failing case's exact expectation is within the allowance of float32
        evaluations (when it was judged at float64's)."""
        widening = Fraction(FLOAT32_RELATIVE_ERROR / FLOAT64_RELATIVE_ERROR)
        for outcome in wrong:
            output = outcome.output
            if not isinstance(output, ExactEstimate) or output.node_error != FLOAT64_RELATIVE_ERROR:
                return False
            bias = output.mean - np.asarray(outcome.context.target, dtype=object)
            largest = max((abs(Fraction(v)) for v in bias.ravel()), default=Fraction(0))
            if largest > output.allowance * widening:
                return False
        return bool(wrong)

    def named_factors(self, scenario: Any) -> dict[str, float]:
        """Constant factors with a known cause on ``scenario`` (for the critic kinds'
        diagnosis): none here."""
        return {}

    def case_text(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        """The case as a call that replays it: ``check(fn, kind, cases=[case])``."""
        lines = ["import numpy as np", f"from pgverify.checks import {self.name}"]
        lines += [f"{name} = {python_literal(arguments[name])}" for name in self.case_fields]
        lines.append(
            "case = dict(" + ", ".join(f"{name}={name}" for name in self.case_fields) + ")"
        )
        dtype = "" if self.dtype is None else f", dtype={str(np.dtype(self.dtype))!r}"
        lines.append(
            f"{self.name}(fn, {self.kind!r}, cases=[case], max_examples=0{dtype})"
            f"  # fn(...) is called as {self.call_shown()}"
        )
        return "\n".join(lines)

    def call_shown(self) -> str:
        keywords = "".join(f", {name}=…" for name in KEYWORDS.get(self.kind, ()))
        return f"fn({', '.join(self.parameters)}{keywords})"

    field_kinds: Mapping[str, str] = MappingProxyType({})
    """What each case field is: ``"array"`` (finite float), ``"real"``, ``"int"`` or ``"bool"``."""

    field_defaults: Mapping[str, Any] = MappingProxyType({})
    """Fields a user case may leave out, with their values."""

    def arguments_from(self, case: Any, index: int) -> dict[str, Any]:
        """A user case (a dict of :attr:`case_fields`) read field by field; unknown or missing
        fields refused, naming them."""
        where = f"cases[{index}]"
        case = by_name(case)  # a namedtuple or a dataclass instance: read by field name
        if not isinstance(case, Mapping):
            raise InvalidProblemError(
                f"{where} must be a dict of {', '.join(self.case_fields)}, got "
                f"{type(case).__name__}"
            )
        unknown = sorted(set(case) - set(self.case_fields))
        if unknown:
            raise InvalidProblemError(
                f"{where} has unknown field(s) {unknown}; a case of {self.name} holds "
                f"{', '.join(self.case_fields)}"
            )
        arguments = {}
        for name in self.case_fields:
            if name in case:
                arguments[name] = _read_field(
                    case[name], self.field_kinds[name], f"{where}[{name!r}]"
                )
            elif name in self.field_defaults:
                arguments[name] = self.field_defaults[name]
            else:
                raise InvalidProblemError(f"{where} lacks the field {name!r}")
        return arguments

    @staticmethod
    def require_horizon_and_discount(arguments: Mapping[str, Any]) -> None:
        """γ in (0, 1] (a finite horizon allows γ = 1), T and M at least 1."""
        gamma = arguments["gamma"]
        if not 0 < gamma <= 1:
            raise InvalidProblemError(f"gamma = {gamma!r}; expected 0 < gamma <= 1")
        if arguments["steps"] < 1 or arguments["batch"] < 1:
            raise InvalidProblemError(
                f"steps = {arguments['steps']}, batch = {arguments['batch']}; expected ints >= 1"
            )

    def reductions(self, arguments: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Deleting states/inputs (:attr:`axes`), then one step fewer, one rollout fewer."""
        yield from super().reductions(arguments)
        for name in ("steps", "batch"):
            if arguments[name] > 1:
                yield {**arguments, name: arguments[name] - 1}

    def call_user(
        self,
        fn: Any,
        arguments: tuple,
        keywords: dict[str, Any],
        shape: tuple[int, ...],
        seen: set[str],
    ) -> np.ndarray:
        """One evaluation of the user's estimator on copies of the inputs, read as float64
        (``seen`` notes a float32 output); a wrong shape or a non-finite value is the
        implementation's failure (InvalidProblemError, reported as raised by it)."""
        given = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in keywords.items()}
        copies = tuple(a.copy() if isinstance(a, np.ndarray) else a for a in arguments)
        raw = call_estimator(self.name, self.kind, fn, ", ".join(self.parameters), copies, given)
        try:
            output = read_estimate(raw, seen)
        except UnreadableResult as unreadable:
            raise InvalidProblemError(
                f"fn returned {type(raw).__name__} ({unreadable}); expected an array of "
                f"{self.shape_text} {shape}"
            ) from None
        if output.shape != shape:
            raise InvalidProblemError(
                f"fn returned shape {output.shape}; expected {self.shape_text} {shape}"
            )
        if not np.all(np.isfinite(output)):
            raise InvalidProblemError(f"fn returned a non-finite estimate {output.tolist()}")
        return output

    shape_text: str = "the parameter's shape"

    def estimate(
        self,
        mean: np.ndarray,
        allowance: Fraction,
        evaluations: int,
        how: str,
        calls: list[Call],
        seen: set[str],
    ) -> ExactEstimate:
        """The :class:`ExactEstimate` of one case, the allowance widened for a float32 output."""
        single = self.dtype is None and "float32" in seen
        return ExactEstimate(
            mean,
            widened(allowance, self.dtype, seen),
            evaluations,
            how,
            tuple(calls),
            FLOAT32_RELATIVE_ERROR if single else self.relative_error,
        )


def _read_field(value: Any, kind: str, where: str) -> Any:
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InvalidProblemError(f"{where} must be an int >= 1, got {value!r}")
        return int(value)
    if kind == "bool":
        if not isinstance(value, (bool, np.bool_)):
            raise InvalidProblemError(f"{where} must be True or False, got {value!r}")
        return bool(value)
    if kind == "real":
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise InvalidProblemError(f"{where} must be a real number, got {value!r}")
        return float(value)
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(f"{where} could not be read as a float array: {exc}") from exc
    if array.ndim == 0 or not np.all(np.isfinite(array)):
        raise InvalidProblemError(
            f"{where} must be a finite array, got {np.asarray(value).tolist()!r}"
        )
    return array


def run_expectation_check(
    spec: ExpectationSpec,
    fn: Any,
    *,
    cases: Sequence[Any] | None,
    max_examples: int | None,
    seed: int,
    database: Any,
) -> ExpectationReport:
    """Run an exact-expectation check through the driver and return its report with each
    passed distribution's target."""
    __tracebackhide__ = True
    start = time.perf_counter()
    report = run_check(
        spec,
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=spec.dtype,
        database=database,
    )
    values = {f.name: getattr(report, f.name) for f in fields(CheckReport)}
    values["seconds"] = time.perf_counter() - start
    values["notes"] = (
        *report.notes,
        f"target: {spec.target_text}, exact",
        "verdict by the exact expectation (the user's float evaluations assumed within "
        f"{spec.relative_error:g} of their largest entry)",
    )
    return ExpectationReport(**values, scenarios=tuple(spec.passed))
