"""The critic kinds of the policy-gradient checks ("q", "advantage", "td", "gae"): which critic
arrays the user's estimator receives, the reference Ψ_t it must compute, and the slips named
when it does not (shared by :func:`check_pg_estimator` and :func:`check_softmax_pg_estimator`).

With the exact critic, Ψ_t is a fixed function of the batch and the critic arrays, so besides the
exact expectation the check compares the user's estimate with the reference of the claimed kind
at every node it evaluated: an estimator that is unbiased but computes another Ψ_t (Q for the
advantage, a trace decaying by λ instead of γλ) is a *kind mismatch*, and every slip is named by
the node-by-node agreement of the user's outputs with the slip's (docs/checks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from pgverify.estimators.critic_gradient import (
    CRITIC_KINDS,
    NEEDS,
    critic_advantages,
    discounted_trace,
    td_residuals_with_flags,
    weighted_score_mean,
)

GAE_LAMBDA = 0.625
"""The λ the checks pass to a "gae" estimator: a float64 different from every scenario's γ,
so that the traces γλ, λ and γ·1 differ whenever γ ≠ 1."""

KEYWORDS = NEEDS
"""The keyword arguments the check passes to the user's estimator, per kind."""


def critic_keywords(
    kind: str, values: Any, q_values: Any, *, truncated: bool = False
) -> dict[str, Any]:
    """The keyword arguments of ``kind`` for one batch: float64 copies of the critic arrays,
    ``terminated`` (M, T) with only the horizon's step T − 1 set (none when a time limit cut
    the rollouts: ``truncated``), and ``lam``."""
    M, T = np.shape(q_values)
    terminated = np.zeros((M, T), dtype=bool)
    terminated[:, -1] = not truncated
    available = {
        "values": np.array(values, dtype=float),
        "q_values": np.array(q_values, dtype=float),
        "terminated": terminated,
        "lam": GAE_LAMBDA,
    }
    return {name: available[name] for name in KEYWORDS[kind]}


@dataclass(frozen=True)
class Call:
    """One evaluation of the user's estimator: its float inputs (scores computed from them) and
    its output."""

    scores: np.ndarray  # (M, T, *P)
    costs: np.ndarray  # (M, T)
    gamma: float
    keywords: dict[str, Any]
    output: np.ndarray
    states: np.ndarray | None = None  # the batch, for the report of a node
    actions: np.ndarray | None = None


def _mean_weighted(call: Call, psi: np.ndarray, discounted: bool = True) -> np.ndarray:
    T = psi.shape[1]
    weights = call.gamma ** np.arange(T) if discounted else np.ones(T)
    return weighted_score_mean(psi, weights, call.scores)


def reference(kind: str, call: Call) -> np.ndarray:
    """``mean_i Σ_t γ^t Ψ_t s_t`` of ``kind`` on the call's inputs (float64)."""
    return _mean_weighted(call, critic_advantages(kind, call.costs, call.gamma, **call.keywords))


def _parts(call: Call) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = call.keywords["values"]
    continues = ~call.keywords["terminated"]
    return call.costs, values, continues


def _bootstrap_through_terminal(kind: str, call: Call) -> np.ndarray:
    keywords = {**call.keywords, "terminated": np.zeros_like(call.keywords["terminated"])}
    return _mean_weighted(call, critic_advantages(kind, call.costs, call.gamma, **keywords))


def _cut_taken_for_termination(kind: str, call: Call) -> np.ndarray:
    terminated = call.keywords["terminated"].copy()
    terminated[:, -1] = True
    keywords = {**call.keywords, "terminated": terminated}
    return _mean_weighted(call, critic_advantages(kind, call.costs, call.gamma, **keywords))


def _q_for_advantage(kind: str, call: Call) -> np.ndarray:
    return _mean_weighted(call, call.keywords["q_values"])


def _wrong_sign(kind: str, call: Call) -> np.ndarray:
    return -reference(kind, call)


def _td_without_gamma(kind: str, call: Call) -> np.ndarray:
    costs, values, continues = _parts(call)
    deltas = td_residuals_with_flags(costs, values, continues, 1.0)
    if kind == "gae":
        deltas = discounted_trace(deltas, continues, call.gamma * call.keywords["lam"])
    return _mean_weighted(call, deltas)


def _trace_by_lambda(kind: str, call: Call) -> np.ndarray:
    costs, values, continues = _parts(call)
    deltas = td_residuals_with_flags(costs, values, continues, call.gamma)
    return _mean_weighted(call, discounted_trace(deltas, continues, call.keywords["lam"]))


def _lambda_ignored(trace: float) -> Callable[[str, Call], np.ndarray]:
    def slip(kind: str, call: Call) -> np.ndarray:
        costs, values, continues = _parts(call)
        deltas = td_residuals_with_flags(costs, values, continues, call.gamma)
        return _mean_weighted(call, discounted_trace(deltas, continues, call.gamma * trace))

    return slip


def _no_discount_weight(kind: str, call: Call) -> np.ndarray:
    psi = critic_advantages(kind, call.costs, call.gamma, **call.keywords)
    return _mean_weighted(call, psi, discounted=False)


@dataclass(frozen=True)
class CriticSlip:
    description: str
    kinds: tuple[str, ...]
    estimate: Callable[[str, Call], np.ndarray]
    needs_discount: bool = False  # indistinguishable from the right estimator at γ = 1


SLIPS = (
    CriticSlip(
        "bootstrapping through the terminal step: γ·values[:, T] added at the horizon, where the "
        "episode terminated (V_T = 0)",
        ("td", "gae"),
        _bootstrap_through_terminal,
    ),
    CriticSlip(
        "the advantage taken as Q (V_t(x_t) not subtracted): unbiased, but Ψ_t of kind 'q'",
        ("advantage",),
        _q_for_advantage,
    ),
    CriticSlip(
        "the TD residual with the wrong sign: V(x_t) − c_t − γV(x_{t+1})",
        ("td", "gae"),
        _wrong_sign,
    ),
    CriticSlip(
        "the TD residual without γ: c_t + V(x_{t+1}) − V(x_t)",
        ("td", "gae"),
        _td_without_gamma,
        needs_discount=True,
    ),
    CriticSlip(
        "a time-limit cut treated as a termination: no bootstrap from values[:, T] at the last "
        "step, though the episode goes on (nothing in `terminated` is set there)",
        ("td", "gae"),
        _cut_taken_for_termination,
    ),
    CriticSlip(
        "GAE's trace decaying by λ instead of γλ: unbiased, but not GAE(γ, λ)",
        ("gae",),
        _trace_by_lambda,
        needs_discount=True,
    ),
    CriticSlip(
        "GAE with λ ignored (λ = 0: the TD residual): unbiased, but not GAE(γ, λ)",
        ("gae",),
        _lambda_ignored(0.0),
    ),
    CriticSlip(
        "GAE with λ = 1 (the Monte-Carlo advantage G_t − V_t): unbiased, but not GAE(γ, λ)",
        ("gae",),
        _lambda_ignored(1.0),
    ),
    CriticSlip(
        "no γ^t weight of step t: Σ_t Ψ_t s_t",
        CRITIC_KINDS,
        _no_discount_weight,
        needs_discount=True,
    ),
)


def node_tolerance(expected: np.ndarray, relative_error: float, floor: float) -> float:
    """The allowed difference at one node: 1000 × the assumed relative error of an evaluation
    (1e-6 for float64, 1e-2 for float32) of the node's largest entry, or of ``floor`` (a
    hundredth of the largest entry over all nodes) where the node's own entries are smaller;
    the reference's own rounding is included, and the slips differ from it by O(1) of it.

    The floor is relative to the whole batch, not to the node, because an estimate that
    vanishes at a node (the node of zero action noise: every score is 0) is a sum of terms
    of the batch's size that cancel, so its rounding error is the batch's scale times the
    unit roundoff — a float32 evaluation leaves ~1e-7 of it there, which a floor of a
    millionth of the batch's scale refused (every kind agrees on 0 at such a node, so the
    larger floor costs no power to tell the kinds apart)."""
    return 1e3 * relative_error * max(float(np.max(np.abs(expected), initial=0.0)), floor)


def _floor(calls: list[Call]) -> float:
    largest = max((float(np.max(np.abs(c.output), initial=0.0)) for c in calls), default=0.0)
    return max(1e-2 * largest, 1e-300)


def agrees(
    kind: str, calls: list[Call], estimate: Callable[[str, Call], np.ndarray], error: float
) -> bool:
    """Whether the user's outputs equal ``estimate`` at every recorded node (within tolerance)."""
    floor = _floor(calls)
    for call in calls:
        expected = estimate(kind, call)
        if expected.shape != call.output.shape:
            return False
        difference = np.max(np.abs(call.output - expected), initial=0.0)
        if difference > node_tolerance(expected, error, floor):
            return False
    return True


def first_disagreement(
    kind: str, calls: list[Call], error: float
) -> tuple[Call, np.ndarray] | None:
    """The first node where the user's output is not the reference of ``kind``, with the
    reference's value there."""
    floor = _floor(calls)
    for call in calls:
        expected = reference(kind, call)
        difference = np.max(np.abs(call.output - expected), initial=0.0)
        if difference > node_tolerance(expected, error, floor):
            return call, expected
    return None


def matching_slips(kind: str, calls: list[Call], gamma: float, error: float) -> list[str]:
    """The descriptions of the slips of ``kind`` that the user's outputs equal at every node
    (and that differ from the reference somewhere)."""
    if agrees(kind, calls, reference, error):
        return []
    return [
        slip.description
        for slip in SLIPS
        if kind in slip.kinds
        and not (slip.needs_discount and gamma == 1)
        and agrees(kind, calls, slip.estimate, error)
    ]


def slip_names(kind: str) -> str:
    """The descriptions of the slips checked for ``kind``, for a message."""
    return "; ".join(slip.description for slip in SLIPS if kind in slip.kinds)


def diagnosis_text(
    kind: str,
    calls: list[Call],
    gamma: float,
    error: float,
    named_factors: Mapping[str, float] | None = None,
) -> str:
    """The diagnosis line: the slips the outputs equal at every evaluation; else a constant
    multiple of the kind's estimate at every evaluation (named when it is one of
    ``named_factors``, e.g. the factor 1/σ of a score with σ read as a standard deviation);
    else none."""
    found = matching_slips(kind, calls, gamma, error)
    if found:
        return (
            "Diagnosis: at every evaluation your estimate equals that of "
            + (found[0] if len(found) == 1 else "each of: " + "; ".join(found))
            + "."
        )
    factor = common_factor(kind, calls, error)
    if factor is not None:
        for description, value in (named_factors or {}).items():
            if abs(factor - value) <= 1e-6 * max(abs(value), 1.0):
                return (
                    f"Diagnosis: at every evaluation your estimate is {factor:.6g} × the "
                    f"{kind!r} estimate: {description}."
                )
        return (
            f"Diagnosis: at every evaluation your estimate is {factor:.6g} × the {kind!r} "
            "estimate (a constant factor is missing or extra)."
        )
    return (
        "Diagnosis: the estimate matches none of the known slips at every evaluation (checked: "
        + slip_names(kind)
        + "; a constant multiple)."
    )


def common_factor(kind: str, calls: list[Call], error: float) -> float | None:
    """The constant c ≠ 1 with output = c × the kind's estimate at every evaluation, if any
    (least squares over all evaluations, then confirmed at each)."""
    references = [reference(kind, call) for call in calls]
    numerator = sum(float(np.vdot(r, c.output)) for r, c in zip(references, calls, strict=True))
    denominator = sum(float(np.vdot(r, r)) for r in references)
    if denominator == 0:
        return None
    factor = numerator / denominator
    if factor == 0 or abs(factor - 1) < 1e-6:
        return None
    if agrees(kind, calls, lambda kind, call: factor * reference(kind, call), error):
        return factor
    return None


def node_report(call: Call, expected: np.ndarray, indent: str = "") -> str:
    """One evaluation where the estimate is not the kind's reference: the batch (states,
    actions, costs), the critic the check passed, the expected and the returned estimate."""
    lines = ["At the evaluation on the batch (the other arguments as in the case above):"]
    if call.states is not None:
        lines.append(f"states = {np.asarray(call.states).tolist()}")
        lines.append(f"actions = {np.asarray(call.actions).tolist()}")
    lines.append(f"costs = {np.asarray(call.costs, dtype=float).tolist()}")
    lines += [f"{name} = {np.asarray(value).tolist()}" for name, value in call.keywords.items()]
    lines.append(f"expected estimate: {np.asarray(expected).tolist()}")
    lines.append(f"your estimate: {np.asarray(call.output).tolist()}")
    return "\n".join(indent + line for line in lines)
