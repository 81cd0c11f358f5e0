"""``check_softmax_pg_estimator``: the tabular twin of :func:`check_pg_estimator` — a
score-function estimator for the softmax policy ``π(a|s) ∝ exp θ[s, a]`` on a finite MDP, judged
by its exact expectation over every batch of trajectories (docs/checks.md, "Returns, advantages
and estimators").

The user's ``fn(states, actions, costs, logits, gamma) -> (S, A)`` (``states``, ``actions``
(M, T) integer arrays, ``costs`` (M, T) float64) is called on every batch of M trajectories of T
steps with positive probability (:func:`pgverify.expectation.mdp_expectation`); its float
values are weighed with their exact probabilities, so the mean is the exact expectation of the
user's function, up to the rounding of its float evaluations (assumed at most 1e-9 of the
largest entry seen; 1e-5 with ``dtype="float32"``). The logits are ``log π`` of a policy table of
dyadic probabilities, so the exact target is :func:`pgverify.expectation.softmax_gradient_target`
(exact): ``∂C_{T−1}/∂θ`` of ``E Σ_{t<T} γ^t c_t`` (Williams 1992; Sutton et al. 2000).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from pgverify.checks._critic_kinds import (
    KEYWORDS,
    Call,
    biased_critic_message,
    critic_keywords,
    require_same_kind,
)
from pgverify.checks._spec import CallMismatch
from pgverify.checks.estimators_pg import (
    SUPPORTED_KINDS,
    ExpectationReport,
    ImplementationRaised,
    ScenarioResult,
    call_estimator,
    expectation_report,
    raised_message,
    read_estimate,
    relative_error_of,
    scenario_result,
    unsupported_kind,
    widened,
)
from pgverify.errors import InvalidProblemError, OracleMismatch
from pgverify.estimators.critic_gradient import CRITIC_KINDS
from pgverify.estimators.policy_gradient import (
    _logit_scores,
    score_function_estimate,
    softmax_scores,
)
from pgverify.expectation import mdp_expectation, softmax_gradient_target
from pgverify.expectation.critic import mdp_critic


@dataclass(frozen=True)
class TabularScenario:
    label: str
    transitions: tuple
    costs: tuple
    initial: tuple
    policy: tuple  # dyadic probabilities: the logits are their logarithms
    gamma: float
    steps: int
    batch: int

    def mdp(self) -> Any:
        from pgverify.mdp import FiniteMDP

        return FiniteMDP(self.transitions, self.costs, Fraction(self.gamma), self.initial)

    def table(self) -> list[list[Fraction]]:
        return [[Fraction(p) for p in row] for row in self.policy]

    def logits(self) -> np.ndarray:
        return np.log(np.array(self.policy, dtype=float))

    def as_python(self) -> str:
        return (
            f"transitions = {list(map(lambda r: list(map(list, r)), self.transitions))}, "
            f"costs = {list(map(list, self.costs))}, initial = {list(self.initial)}\n"
            f"    logits = log {list(map(list, self.policy))}, gamma = {self.gamma}, "
            f"T = {self.steps} steps, M = {self.batch} trajectories per batch"
        )


SCENARIOS = (
    TabularScenario(
        "two states, two actions, γ = 0.75, T = 3, M = 1",
        (((0.5, 0.5), (1.0, 0.0)), ((0.25, 0.75), (0.0, 1.0))),
        ((1.0, 2.0), (0.5, -1.0)),
        (0.75, 0.25),
        ((0.5, 0.5), (0.25, 0.75)),
        0.75,
        3,
        1,
    ),
    TabularScenario(
        "two states, three actions, γ = 0.5, T = 2, M = 2",
        (
            ((1.0, 0.0), (0.5, 0.5), (0.0, 1.0)),
            ((0.25, 0.75), (1.0, 0.0), (0.5, 0.5)),
        ),
        ((1.0, 0.0, 3.0), (2.0, -1.0, 0.5)),
        (0.5, 0.5),
        ((0.5, 0.25, 0.25), (0.125, 0.375, 0.5)),
        0.5,
        2,
        2,
    ),
)


def _no_discount_weight(scores: Any, costs: Any, gamma: Fraction) -> Any:
    """Σ_t G_t s_t: the γ^t weight of step t missing."""
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((gamma ** (k - t) * costs[:, k] for k in range(t, steps)), Fraction(0))
    return (to_go[:, :, None, None] * scores).sum(axis=1).sum(axis=0) / costs.shape[0]


def _baseline_sees_action(scores: Any, costs: Any, gamma: Fraction) -> Any:
    """b_t = c_t: Σ_t γ^t (G_t − c_t) s_t."""
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((gamma**k * costs[:, k] for k in range(t + 1, steps)), Fraction(0))
    return (to_go[:, :, None, None] * scores).sum(axis=1).sum(axis=0) / costs.shape[0]


SLIPS: tuple[tuple[str, Callable[..., Any], Callable[[TabularScenario], bool]], ...] = (
    (
        "REINFORCE without the γ^t weight of step t: Σ_t G_t s_t",
        _no_discount_weight,
        lambda s: True,
    ),
    (
        "the undiscounted estimator (γ = 1 used)",
        lambda scores, costs, gamma: score_function_estimate(scores, costs, 1, "reinforce"),
        lambda s: True,
    ),
    (
        "a baseline that sees u_t (b_t = c_t, the step's own cost): Σ_t γ^t (G_t − c_t) s_t",
        _baseline_sees_action,
        lambda s: True,
    ),
    (
        "a batch-mean baseline that includes the trajectory's own return (expectation (1 − 1/M)∇C)",
        lambda scores, costs, gamma: score_function_estimate(
            scores, costs, gamma, "reinforce", baseline="batch_mean"
        ),
        lambda s: True,  # at M = 1 the estimate is 0: expectation (1 − 1/1)∇C
    ),
)


@cache
def _target(index: int) -> np.ndarray:
    scenario = SCENARIOS[index]
    return softmax_gradient_target(scenario.mdp(), scenario.table(), scenario.steps)


@cache
def _slip_mean(index: int, slip: int) -> np.ndarray:
    scenario = SCENARIOS[index]
    table = np.array(scenario.table(), dtype=object)
    gamma = Fraction(scenario.gamma)

    def estimator(states: Any, actions: Any, costs: Any) -> Any:
        return SLIPS[slip][1](softmax_scores(states, actions, table), costs, gamma)

    return mdp_expectation(
        scenario.mdp(), scenario.table(), scenario.steps, estimator, batch=scenario.batch
    ).mean


def _within(mean: np.ndarray, other: np.ndarray, tolerance: Fraction) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(mean.ravel(), other.ravel(), strict=True))


@cache
def _critic(index: int) -> Any:
    scenario = SCENARIOS[index]
    return mdp_critic(scenario.mdp(), scenario.table(), scenario.steps)


@cache
def _transitions(index: int) -> Any:
    return SCENARIOS[index].mdp().transitions


def _last_states(index: int, states: np.ndarray, actions: np.ndarray) -> list[tuple[Any, Any]]:
    """Every (x_T of each rollout, probability) given the batch's last states and actions."""
    transitions = _transitions(index)
    per_rollout = [
        [(y, p) for y, p in enumerate(transitions[row[-1]][action[-1]]) if p > 0]
        for row, action in zip(states.tolist(), actions.tolist(), strict=True)
    ]
    outcomes = []
    for combination in itertools.product(*per_rollout):
        probability = Fraction(1)
        for _, p in combination:
            probability *= p
        outcomes.append((np.array([y for y, _ in combination]), probability))
    return outcomes


def check_softmax_pg_estimator(fn: Any, kind: str, *, dtype: Any = None) -> ExpectationReport:
    """Check ``fn(states, actions, costs, logits, gamma, **critic) -> (S, A)``, a batch estimate
    of ``∂/∂θ E Σ_{t<T} γ^t c_t`` for the tabular softmax policy, by its exact expectation over
    every trajectory batch. ``kind``, the critic keyword arrays and the verdict as
    :func:`pgverify.checks.check_pg_estimator` (``"v0"``, ``"reinforce"``, ``"baselined"``,
    ``"q"``, ``"advantage"``, ``"td"``, ``"gae"``; scores ``s_t = e_{x_t}(e_{u_t} − π(·|x_t))ᵀ``).
    The critic is the exact finite-horizon ``Q_t``, ``V_t`` of the policy; column T of ``values``
    is ``V_0(x_T)`` of the state reached after the last step, which the check enumerates with its
    exact probability (it is not in ``states``).

    Returns an :class:`~pgverify.checks.estimators_pg.ExpectationReport` (each scenario's exact
    expected gradient and enumerated batches); raises
    :class:`pgverify.OracleMismatch` with the exact bias and a diagnosis."""
    __tracebackhide__ = True
    if not callable(fn):
        raise InvalidProblemError(f"fn must be the callable to check, got {type(fn).__name__}")
    if not isinstance(kind, str) or kind not in SUPPORTED_KINDS:
        raise InvalidProblemError(unsupported_kind(kind))
    relative_error = relative_error_of(dtype)
    seen: set[str] = set()  # "float32" once an output comes in single precision
    start = time.perf_counter()
    results: list[ScenarioResult] = []
    for index, scenario in enumerate(SCENARIOS):
        logits, gamma = scenario.logits(), scenario.gamma
        shape = logits.shape
        largest = [0.0]
        calls: list[Call] = []
        critic = _critic(index) if kind in CRITIC_KINDS else None

        def evaluate(
            states: Any,
            actions: Any,
            costs: Any,
            keywords: dict[str, Any],
            logits: Any = logits,
            gamma: float = gamma,
            shape: tuple[int, ...] = shape,
            largest: list[float] = largest,
        ) -> np.ndarray:
            given = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in keywords.items()}
            output = read_estimate(
                call_estimator(
                    "check_softmax_pg_estimator",
                    kind,
                    fn,
                    "states, actions, costs, logits, gamma",
                    (states, actions, costs, logits.copy(), gamma),
                    given,
                ),
                seen,
            )
            if output.shape != shape:
                raise InvalidProblemError(
                    f"fn returned shape {output.shape}; expected the logits' shape {shape} (S, A)"
                )
            if not np.all(np.isfinite(output)):
                raise InvalidProblemError("fn returned a non-finite estimate")
            largest[0] = max(largest[0], float(np.max(np.abs(output), initial=0.0)))
            return output

        def user(
            states: Any,
            actions: Any,
            costs: Any,
            index: int = index,
            logits: Any = logits,
            gamma: float = gamma,
            critic: Any = critic,
            calls: list[Call] = calls,
        ) -> Any:
            float_costs = costs.astype(float)
            if critic is None:
                output = evaluate(states, actions, float_costs, {})
                return _exact_array(output)
            # the state after the last step is not in the batch: enumerate it (when read)
            outcomes = (
                _last_states(index, states, actions)
                if "values" in KEYWORDS[kind]
                else [(states[:, -1], Fraction(1))]
            )
            scores = _logit_scores(states, actions, logits)
            total: Any = 0
            for last, probability in outcomes:
                arrays = critic.arrays(states, actions, last, exact=False)
                keywords = critic_keywords(kind, *arrays)
                output = evaluate(states, actions, float_costs, keywords)
                calls.append(Call(scores, float_costs, gamma, keywords, output))
                total = total + probability * _exact_array(output)
            return total

        try:
            result = mdp_expectation(
                scenario.mdp(), scenario.table(), scenario.steps, user, batch=scenario.batch
            )
        except CallMismatch:
            raise
        except ImplementationRaised as raised:
            raise OracleMismatch(
                raised_message(
                    "check_softmax_pg_estimator", kind, scenario.label, scenario.as_python(), raised
                )
            ) from raised.error
        except InvalidProblemError as error:
            raise OracleMismatch(
                f"check_softmax_pg_estimator(kind={kind!r}): the implementation failed on "
                f"{scenario.label}:\n    {scenario.as_python()}\n{error}"
            ) from error
        target = _target(index)
        # the probabilities sum to 1: the weighted rounding is at most the largest one
        tolerance = widened(Fraction(relative_error) * Fraction(largest[0]), dtype, seen)
        node_error = relative_error if dtype is not None or "float32" not in seen else 1e-5
        if not _within(result.mean, target, tolerance):
            if calls:
                raise OracleMismatch(
                    biased_critic_message(
                        "check_softmax_pg_estimator",
                        kind,
                        scenario.label,
                        scenario.as_python(),
                        target,
                        result.mean,
                        tolerance,
                        "exact enumeration",
                        calls,
                        gamma,
                        node_error,
                    )
                )
            raise OracleMismatch(_message(kind, index, result.mean, target, tolerance))
        require_same_kind(
            "check_softmax_pg_estimator",
            kind,
            scenario.label,
            scenario.as_python(),
            calls,
            gamma,
            node_error,
        )
        results.append(scenario_result(scenario.label, result, target, tolerance))
    return expectation_report("check_softmax_pg_estimator", results, start, seen, dtype)


def _exact_array(output: np.ndarray) -> np.ndarray:
    exact = np.empty(output.shape, dtype=object)
    exact.ravel()[:] = [Fraction(v) for v in output.ravel()]  # a float is a dyadic
    return exact


def _message(kind: str, index: int, mean: Any, target: Any, tolerance: Fraction) -> str:
    scenario = SCENARIOS[index]
    found = []
    for slip, (description, _, applies) in enumerate(SLIPS):
        if not applies(scenario):
            continue
        value = _slip_mean(index, slip)
        if not _within(value, target, tolerance) and _within(mean, value, tolerance):
            found.append(description)
    if found:
        diagnosis = (
            "Diagnosis: the expectation of your estimator equals that of "
            + ("; ".join(found))
            + "."
        )
    else:
        diagnosis = (
            "Diagnosis: the bias matches none of the known slips (checked: "
            + ("; ".join(d for d, _, _ in SLIPS))
            + ")."
        )
    return "\n".join(
        [
            f"check_softmax_pg_estimator(kind={kind!r}): the exact expectation of the "
            "implementation is not the gradient ∂C_{T−1}/∂θ (exact enumeration).",
            "",
            f"Scenario: {scenario.label}:",
            f"    {scenario.as_python()}",
            "",
            f"expected E[estimate]: {np.asarray(target, dtype=float).tolist()}",
            f"your E[estimate]: {np.asarray(mean, dtype=float).tolist()}",
            f"exact bias: {np.asarray(mean - target, dtype=float).tolist()} "
            f"(tolerance {float(tolerance):.3g} for the rounding of your float evaluations)",
            "",
            diagnosis,
        ]
    )
