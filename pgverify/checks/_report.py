"""The report of a passing check and the message of a failing one (with its diagnosis)."""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy

from pgverify.checks._compare import TIER_ORDER, expected_form
from pgverify.checks._format import short_array
from pgverify.checks._slips import SlipEvidence, generic_slips, slip_evidence
from pgverify.checks._spec import CheckSpec, Outcome


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
    judged_at: str = "float64"
    """The precision the results were judged at (the result's dtype, or ``dtype=``): "float32",
    "float64", or both joined by ", " when the implementation returned both."""

    def __str__(self) -> str:
        text = (
            f"{self.check}: passed {self.cases} cases ({self.fixed_cases} fixed, "
            f"{self.generated_cases} generated from seed {self.seed}); worst error "
            f"{self.worst_ratio:.3g} of the tolerance, judged at {self.judged_at}; reference "
            f"tier {self.tier}; {self.seconds:.2f} s"
        )
        return "\n".join([text, *(f"  {note}" for note in self.notes)])


def weakest(tiers: set[str]) -> str:
    return max(tiers, key=TIER_ORDER.index) if tiers else "none"


@dataclass(frozen=True)
class Diagnosis:
    """The diagnosis of a failure: the message, the slips it names, and the slips the output
    equals on the first (minimal) case — more than ``slips`` when slips that coincide there are
    told apart by the other failing cases."""

    text: str
    slips: tuple[str, ...] = ()
    first_matched: tuple[str, ...] = ()

    @property
    def settled_elsewhere(self) -> bool:
        """One slip named, but the minimal case alone could not tell it from others."""
        return len(self.slips) == 1 and len(self.first_matched) > 1


def case_evidence(spec: CheckSpec, outcome: Outcome, dtype: Any) -> SlipEvidence | None:
    """What a failing case (a wrong value, not an exception) says about the catalogue."""
    if outcome.error is not None or outcome.comparison is None:
        return None
    return slip_evidence(
        spec.slips,
        outcome.context,
        outcome.output,
        spec.diagnosis_reference(outcome),
        outcome.comparison.tolerance,
        dtype,
        lambda value, context=outcome.context: spec.diagnosis_view(context, value),
    )


def _listed(slips: Sequence[str]) -> str:
    return "\n".join(f"  - {slip}" for slip in slips)


def diagnose(spec: CheckSpec, failures: Sequence[Outcome], dtype: Any) -> Diagnosis:
    """The slips the failing output matches: those it equals on the first case that matches
    any, less those another failing case rules out (a slip it does not equal there although the
    slip differs from the right answer there)."""
    per_case = [case_evidence(spec, o, dtype) for o in failures]
    evidence = [found for found in per_case if found]
    ruled_out = set().union(*(found.ruled_out for found in evidence))
    first = next((found for found in evidence if found.matched), None)
    wrong = [o for o in failures if o.comparison is not None and o.error is None]
    if first is not None:
        matched = tuple(first.matched)
        consistent = tuple(first.consistent(ruled_out))
        if len(consistent) == 1:
            return Diagnosis(f"Diagnosis: your result equals {consistent[0]}.", consistent, matched)
        if consistent:
            return Diagnosis(
                "Diagnosis: your result equals each of these (they coincide on every failing "
                f"case tried, so they cannot be told apart here):\n{_listed(consistent)}",
                consistent,
                matched,
            )
        # a relation that holds on every failing case explains more than a slip on one
        fallback = spec.fallback_diagnosis(wrong, dtype) if wrong else None
        if fallback is not None:
            return Diagnosis(fallback)
        where = "the case shown" if per_case and per_case[0] is first else "one failing case"
        if len(matched) == 1:
            text = (
                f"Diagnosis: uncertain — on {where} your result equals {matched[0]}, "
                "but on another failing case it does not (perhaps two slips combine)."
            )
        else:
            text = (
                f"Diagnosis: uncertain — on {where} your result equals each of these, "
                "but on another failing case it equals none of them (perhaps two slips "
                f"combine):\n{_listed(matched)}"
            )
        return Diagnosis(text, matched, matched)
    if wrong and all(o.comparison.actual is None for o in wrong):
        return Diagnosis(
            "Diagnosis: none — the output could not be read as numbers "
            f"({wrong[0].comparison.problem}), so it was not compared with the known slips."
        )
    if wrong:
        first_wrong = wrong[0]
        try:
            output = spec.diagnosis_view(first_wrong.context, first_wrong.output)
        except Exception:
            output = first_wrong.output
        generic = generic_slips(
            output, spec.diagnosis_reference(first_wrong), first_wrong.comparison.tolerance, dtype
        )
        if generic:
            return Diagnosis(f"Diagnosis: your result equals {generic[0]}.")
    fallback = spec.fallback_diagnosis(wrong, dtype) if wrong else None
    if fallback is not None:
        return Diagnosis(fallback)
    known = "; ".join(slip.description.replace("{}", "…") for slip in spec.slips)
    return Diagnosis(
        "Diagnosis: the output matches none of the known slips for this quantity"
        + (f" (checked: {known})." if known else ".")
    )


def diagnosis(spec: CheckSpec, failures: Sequence[Outcome], dtype: Any) -> str:
    """The text of :func:`diagnose`."""
    return diagnose(spec, failures, dtype).text


def distinguishing_case(
    spec: CheckSpec, found: Diagnosis, candidates: Sequence[Outcome], dtype: Any, budget: int = 20
) -> Outcome | None:
    """The first of ``candidates`` (smallest first) on which the output equals the diagnosed
    slip and no other: a case that shows the diagnosis, where the minimal case was ambiguous."""
    for outcome in candidates[:budget]:
        evidence = case_evidence(spec, outcome, dtype)
        if evidence is not None and tuple(evidence.matched) == found.slips:
            return outcome
    return None


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _expected_text(spec: CheckSpec, outcome: Outcome) -> str:
    reference = outcome.reference
    shown = short_array(reference.mid)
    return (
        f"{spec.expected_label} (tier {reference.tier}): {shown}\n"
        f"    ± radius at most {reference.max_radius:.3g}"
    )


LIBRARY_DIRECTORIES = (
    *(str(Path(module.__file__).resolve().parent) for module in (np, scipy)),
    str(Path(__file__).resolve().parents[1]),  # pgverify itself
)
"""Where frames are not the user's code: an exception raised inside numpy is located at the
line of the user's function that called numpy."""


def where_raised(error: Exception) -> str:
    """`` (at file:line)`` of the deepest frame of the user's code (and the library frame it
    was raised in, when deeper)."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return ""
    own = [f for f in frames if not str(Path(f.filename).resolve()).startswith(LIBRARY_DIRECTORIES)]
    last = frames[-1]
    if own and own[-1] is not last:
        inside = f"{last.filename}:{last.lineno}"
        return f" (at {own[-1].filename}:{own[-1].lineno}, raised inside {inside})"
    return f" (at {last.filename}:{last.lineno})"


def _outcome_lines(spec: CheckSpec, outcome: Outcome, options: Mapping[str, Any]) -> list[str]:
    """The case as Python, then expected and actual (and the comparison report)."""
    lines = [
        _indent(spec.case_text(outcome.arguments, options)),
        "",
        _expected_text(spec, outcome),
    ]
    if outcome.error is not None:
        summary = "".join(traceback.format_exception_only(type(outcome.error), outcome.error))
        where = where_raised(outcome.error)
        lines.append(f"actual: the implementation raised {summary.strip()}{where}")
    elif outcome.output is None:  # nothing to compare: say so instead of a comparison report
        shape = outcome.reference.mid.shape
        lines.append(f"actual: fn returned None; expected {expected_form(shape)}")
    else:
        actual = outcome.comparison.actual
        shown = short_array(actual) if actual is not None else repr(outcome.output)
        lines.append(f"actual: {shown}")
        lines.append(outcome.comparison.report())
    return lines


def failure_message(
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
    lines = [
        f"{spec.name}: the implementation disagrees with the oracle on {spec.quantity} "
        f"(reference tier {outcome.reference.tier}).",
        "",
        f"{origin}:",
        "",
        *_outcome_lines(spec, outcome, options),
    ]
    if outcome.error is None:
        lines += ["", diagnosis]
    elif wrong_value is not None:
        lines += [
            "",
            f"It also returns a wrong value on {wrong_value.label}:",
            "",
            *_outcome_lines(spec, wrong_value, options),
            "",
            diagnosis,
        ]
    if other:
        lines.append(other)
    return "\n".join(lines)
