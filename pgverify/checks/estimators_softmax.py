"""``check_softmax_pg_estimator``: the tabular twin of :func:`check_pg_estimator` — a
score-function estimator for the softmax policy ``π(a|s) ∝ exp θ[s, a]`` on a finite MDP, judged
by its exact expectation over every batch of trajectories (docs/checks.md, "Policy-gradient
estimators").

The user's ``fn(states, actions, costs, logits, gamma) -> (S, A)`` (``states``, ``actions``
(M, T) integer arrays, ``costs`` (M, T) float64) is called on every batch of M trajectories of T
steps with positive probability (:func:`pgverify.expectation.mdp_expectation`); its float
values are weighed with their exact probabilities, so the mean is the exact expectation of the
user's function, up to the rounding of its float evaluations (assumed at most 1e-9 of the
largest entry seen; 1e-5 with ``dtype="float32"``). The logits are ``log π`` of the case's
policy table, whose exact probabilities give the exact target
:func:`pgverify.expectation.softmax_gradient_target`: ``∂C_{T−1}/∂θ`` of ``E Σ_{t<T} γ^t c_t``
(Williams 1992; Sutton et al. 2000).

A case is a finite MDP with a policy, γ, T and M (:class:`TabularScenario`): fixed ones, the
user's ``cases=[...]`` and ones hypothesis generates from ``seed``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.checks._critic_kinds import KEYWORDS, Call, critic_keywords
from pgverify.checks._exact_expectation import (
    ExactEstimate,
    ExpectationContext,
    ExpectationReport,
    ExpectationSpec,
    ImplementationRaised,
    reinforce_with_own_cost_baseline,
    reinforce_without_discount_weight,
    run_expectation_check,
)
from pgverify.checks._slips import Slip
from pgverify.errors import InvalidProblemError
from pgverify.estimators.critic_gradient import CRITIC_KINDS
from pgverify.estimators.policy_gradient import (
    _logit_scores,
    score_function_estimate,
    softmax_scores,
)
from pgverify.expectation import mdp_expectation, softmax_gradient_target
from pgverify.expectation.critic import mdp_critic

ENUMERATION_LIMIT = 1296
"""The largest enumeration a case may need (bound ``((|S||A|)^T)^M``; 2 states, 3 actions,
T = 2, M = 2 is 1296): every batch is one call of the user's estimator."""


def _nested_tuple(value: Any) -> tuple:
    array = np.asarray(value, dtype=float)
    return (
        tuple(_nested_tuple(row) for row in array)
        if array.ndim > 1
        else tuple(float(v) for v in array)
    )


@dataclass(frozen=True)
class TabularScenario:
    """One trajectory distribution: the MDP (transitions (S, A, S), costs (S, A), initial (S,)),
    the policy table (S, A) of positive probabilities, γ, T and the batch M (tuples: hashable)."""

    label: str
    transitions: tuple
    costs: tuple
    initial: tuple
    policy: tuple  # the logits are their logarithms
    gamma: float
    steps: int
    batch: int

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> TabularScenario:
        """The scenario of a case (a dict of :data:`CASE_FIELDS`), labelled by its sizes."""
        policy = _nested_tuple(fields["policy"])
        S, A = len(policy), len(policy[0])
        gamma, steps, batch = float(fields["gamma"]), int(fields["steps"]), int(fields["batch"])
        return cls(
            f"{S} state{'s' if S > 1 else ''}, {A} actions, γ = {gamma:g}, T = {steps}, "
            f"M = {batch}",
            _nested_tuple(fields["transitions"]),
            _nested_tuple(fields["costs"]),
            _nested_tuple(fields["initial"]),
            policy,
            gamma,
            steps,
            batch,
        )

    def fields(self) -> dict[str, Any]:
        """The scenario as a case (numpy arrays for the tables)."""
        return {
            name: np.array(value, dtype=float) if isinstance(value, tuple) else value
            for name, value in ((name, getattr(self, name)) for name in CASE_FIELDS)
        }

    def mdp(self) -> Any:
        from pgverify.mdp import FiniteMDP

        return FiniteMDP(self.transitions, self.costs, Fraction(self.gamma), self.initial)

    def table(self) -> list[list[Fraction]]:
        """The exact policy: each row's probabilities (as the exact values of the floats given)
        divided by their exact sum."""
        rows = [[Fraction(p) for p in row] for row in self.policy]
        return [[p / sum(row) for p in row] for row in rows]

    def logits(self) -> np.ndarray:
        return np.log(np.array(self.policy, dtype=float))

    def as_python(self) -> str:
        return (
            f"transitions = {list(map(lambda r: list(map(list, r)), self.transitions))}, "
            f"costs = {list(map(list, self.costs))}, initial = {list(self.initial)}\n"
            f"    logits = log {list(map(list, self.policy))}, gamma = {self.gamma}, "
            f"T = {self.steps} steps, M = {self.batch} trajectories per batch"
        )


CASE_FIELDS = ("transitions", "costs", "initial", "policy", "gamma", "steps", "batch")
"""The fields of a case of :func:`check_softmax_pg_estimator`."""

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


SLIP_ESTIMATORS: tuple[tuple[str, Callable[..., Any], Callable[[TabularScenario], bool]], ...] = (
    (
        "REINFORCE without the γ^t weight of step t: Σ_t G_t s_t",
        reinforce_without_discount_weight,
        lambda s: True,
    ),
    (
        "the undiscounted estimator (γ = 1 used)",
        lambda scores, costs, gamma: score_function_estimate(scores, costs, 1, "reinforce"),
        lambda s: True,
    ),
    (
        "a baseline that sees u_t (b_t = c_t, the step's own cost): Σ_t γ^t (G_t − c_t) s_t",
        reinforce_with_own_cost_baseline,
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


@lru_cache(maxsize=256)
def _target(scenario: TabularScenario) -> np.ndarray:
    return softmax_gradient_target(scenario.mdp(), scenario.table(), scenario.steps)


@lru_cache(maxsize=256)
def _slip_mean(scenario: TabularScenario, slip: int) -> np.ndarray:
    table = np.array(scenario.table(), dtype=object)
    gamma = Fraction(scenario.gamma)

    def estimator(states: Any, actions: Any, costs: Any) -> Any:
        return SLIP_ESTIMATORS[slip][1](softmax_scores(states, actions, table), costs, gamma)

    return mdp_expectation(
        scenario.mdp(),
        scenario.table(),
        scenario.steps,
        estimator,
        batch=scenario.batch,
        limit=ENUMERATION_LIMIT,
    ).mean


def _slip(index: int) -> Slip:
    description, _, applies = SLIP_ESTIMATORS[index]
    return Slip(
        description,
        lambda context: np.asarray(_slip_mean(context.scenario, index), dtype=float),
        lambda context: applies(context.scenario),
    )


SLIPS = tuple(_slip(index) for index in range(len(SLIP_ESTIMATORS)))


@lru_cache(maxsize=256)
def _critic(scenario: TabularScenario) -> Any:
    return mdp_critic(scenario.mdp(), scenario.table(), scenario.steps)


def _last_states(
    transitions: Any, states: np.ndarray, actions: np.ndarray
) -> list[tuple[Any, Any]]:
    """Every (x_T of each trajectory, probability) given the batch's last states and actions."""
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


def _exact_array(output: np.ndarray) -> np.ndarray:
    exact = np.empty(output.shape, dtype=object)
    exact.ravel()[:] = [Fraction(v) for v in output.ravel()]  # a float is a dyadic
    return exact


# --------------------------------------------------------------------------------------------
# Generated scenarios
# --------------------------------------------------------------------------------------------

GAMMAS = (0.75, 0.5, 0.875)
"""Discounts of generated cases (a finite MDP takes 0 < γ < 1)."""


@st.composite
def _distribution(draw: st.DrawFn, size: int, positive: bool) -> tuple[float, ...]:
    """Dyadic probabilities (eighths) over ``size`` outcomes, all positive if ``positive``."""
    low = 1 if positive else 0
    parts = []
    left = 8
    for index in range(size - 1):
        parts.append(draw(st.integers(low, left - low * (size - 1 - index))))
        left -= parts[-1]
    parts.append(left)
    return tuple(part / 8 for part in parts)


@st.composite
def _scenarios(draw: st.DrawFn) -> dict[str, Any]:
    states = draw(st.integers(1, 2))
    actions = draw(st.integers(2, 3))
    steps = draw(st.integers(1, 3))
    batch = draw(st.integers(1, 2))
    while (states * actions) ** (steps * batch) > ENUMERATION_LIMIT:
        steps -= 1  # keep the enumeration affordable (T ≥ 1 always fits: 6² ≤ limit)
    transitions = [
        [draw(_distribution(states, False)) for _ in range(actions)] for _ in range(states)
    ]
    costs = np.array(
        draw(
            st.lists(
                st.integers(-8, 8).map(lambda k: k / 4),
                min_size=states * actions,
                max_size=states * actions,
            )
        )
    ).reshape(states, actions)
    return {
        "transitions": np.array(transitions),
        "costs": costs,
        "initial": np.array(draw(_distribution(states, False))),
        "policy": np.array([draw(_distribution(actions, True)) for _ in range(states)]),
        "gamma": draw(st.sampled_from(GAMMAS)),
        "steps": steps,
        "batch": batch,
    }


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------


class SoftmaxPolicyGradientSpec(ExpectationSpec):
    """check_softmax_pg_estimator's cases (finite MDPs with a policy), oracle and evaluation."""

    name = "check_softmax_pg_estimator"
    parameters = ("states", "actions", "costs", "logits", "gamma")
    case_fields = CASE_FIELDS
    target_text = "∂C_{T−1}/∂θ, the gradient of E Σ_{t<T} γ^t c_t"
    slips = SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(scenario.label, scenario.fields()) for scenario in SCENARIOS]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return _scenarios()

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            "cases are finite MDPs with a softmax policy; the expectation is exact over every "
            "batch of trajectories (enumerated with its exact probability)",
        )

    field_kinds = MappingProxyType(
        {
            **{name: "array" for name in ("transitions", "costs", "initial", "policy")},
            "gamma": "real",
            "steps": "int",
            "batch": "int",
        }
    )
    shape_text = "the logits' shape (S, A)"

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        policy = np.asarray(arguments["policy"], dtype=float)
        costs = np.asarray(arguments["costs"], dtype=float)
        if policy.ndim != 2 or policy.shape != costs.shape:
            raise InvalidProblemError(
                f"policy has shape {policy.shape}; expected the costs' shape {costs.shape} (S, A)"
            )
        if not np.all(np.isfinite(policy)) or not np.all(policy > 0):
            raise InvalidProblemError(
                "policy must hold positive probabilities (the logits are their logarithms); got "
                f"{policy.tolist()}"
            )
        sums = policy.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0, atol=1e-12):
            raise InvalidProblemError(
                f"each row of policy must sum to 1; the row sums are {sums.tolist()}"
            )
        self.require_horizon_and_discount(arguments)
        scenario = TabularScenario.from_fields(arguments)
        scenario.mdp()  # validates the transitions, costs and initial distribution
        critic = _critic(scenario) if self.kind in CRITIC_KINDS else None
        # (the target also enumerates nothing: it is a closed form, so size the enumeration here)
        from pgverify.mdp import enumeration_size

        size = enumeration_size(scenario.mdp(), scenario.steps - 1, scenario.batch)
        if size > ENUMERATION_LIMIT:
            raise InvalidProblemError(
                f"the case needs up to {size:,} enumerated batches ((|S||A|)^(T·M)); the check's "
                f"cases stay within {ENUMERATION_LIMIT:,} (every batch is one call of fn): "
                "lower T or M"
            )
        return ExpectationContext(scenario, _target(scenario), critic)

    def evaluate(
        self,
        fn: Any,
        context: ExpectationContext,
        arguments: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> ExactEstimate:
        """The exact expectation of ``fn`` over every batch of trajectories."""
        scenario, critic, kind = context.scenario, context.critic, self.kind
        logits, gamma = scenario.logits(), scenario.gamma
        transitions = scenario.mdp().transitions
        seen: set[str] = set()  # "float32" once an output comes in single precision
        largest = [0.0]
        calls: list[Call] = []

        def evaluate_once(states: Any, actions: Any, costs: Any, keywords: dict) -> np.ndarray:
            arguments = (states, actions, costs, logits, gamma)
            output = self.call_user(fn, arguments, keywords, logits.shape, seen)
            largest[0] = max(largest[0], float(np.max(np.abs(output), initial=0.0)))
            return output

        def user(states: Any, actions: Any, costs: Any) -> Any:
            float_costs = costs.astype(float)
            if critic is None:
                return _exact_array(evaluate_once(states, actions, float_costs, {}))
            # the state after the last step is not in the batch: enumerate it (when read)
            outcomes = (
                _last_states(transitions, states, actions)
                if "values" in KEYWORDS[kind]
                else [(states[:, -1], Fraction(1))]
            )
            scores = _logit_scores(states, actions, logits)
            total: Any = 0
            for last, probability in outcomes:
                keywords = critic_keywords(kind, *critic.arrays(states, actions, last, exact=False))
                output = evaluate_once(states, actions, float_costs, keywords)
                calls.append(Call(scores, float_costs, gamma, keywords, output, states, actions))
                total = total + probability * _exact_array(output)
            return total

        try:
            result = mdp_expectation(
                scenario.mdp(),
                scenario.table(),
                scenario.steps,
                user,
                batch=scenario.batch,
                limit=ENUMERATION_LIMIT,
            )
        except ImplementationRaised as raised:
            raise raised.error from None
        # the probabilities sum to 1: the weighted rounding is at most the largest output's
        return self.estimate(
            result.mean,
            Fraction(self.relative_error) * Fraction(largest[0]),
            result.nodes,
            f"exact expectation by {result.rule}",
            calls,
            seen,
        )


def check_softmax_pg_estimator(
    fn: Any,
    kind: str,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> ExpectationReport:
    """Check ``fn(states, actions, costs, logits, gamma, **critic) -> (S, A)``, a batch estimate
    of ``∂/∂θ E Σ_{t<T} γ^t c_t`` for the tabular softmax policy, by its exact expectation over
    every trajectory batch. ``kind``, the critic keyword arrays and the verdict as
    :func:`pgverify.checks.check_pg_estimator` (``"v0"``, ``"reinforce"``, ``"baselined"``,
    ``"q"``, ``"advantage"``, ``"td"``, ``"gae"``; scores ``s_t = e_{x_t}(e_{u_t} − π(·|x_t))ᵀ``).
    The critic is the exact finite-horizon ``Q_t``, ``V_t`` of the policy; column T of ``values``
    is ``V_0(x_T)`` of the state reached after the last step, which the check enumerates with its
    exact probability (it is not in ``states``).

    Cases: fixed ones, the user's ``cases=[...]`` — dicts with ``transitions`` (S, A, S),
    ``costs`` (S, A), ``initial`` (S,), ``policy`` (S, A) positive probabilities whose rows sum to
    1 (the logits passed are their logarithms; the exact policy is the given floats' exact
    values, each row divided by its exact sum), ``gamma``, ``steps`` (T), ``batch`` (M), within
    ``((|S||A|)^T)^M ≤ 1296`` enumerated batches — and ``max_examples`` cases generated from
    ``seed`` (default a fifth of the profile's count; up to 2 states, 3 actions, dyadic
    probabilities). A failure is shrunk to a minimal case, printed as the call that replays it.

    Tier: exact expectation of the user's float function over every batch (exact probabilities),
    assumed within 1e-9 of the largest output per evaluation (1e-5 with ``dtype="float32"`` or a
    float32 output).

    Returns an :class:`~pgverify.checks.ExpectationReport` (each case's exact expected gradient
    and enumerated batches); raises :class:`pgverify.OracleMismatch` with the minimal case, the
    exact bias and a diagnosis."""
    __tracebackhide__ = True
    return run_expectation_check(
        SoftmaxPolicyGradientSpec(kind, dtype),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        database=database,
    )
