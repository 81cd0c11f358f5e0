"""Checks of tabular RL code against exact finite-MDP references (:mod:`pgverify.mdp`).

Canonical signatures (numpy float64 arrays in; ``transitions[s, a, s']``, ``costs[s, a]``
(minimised), ``initial[s]``, ``policy[s, a]``, ``logits[s, a]``, γ ∈ (0, 1)):

* ``check_policy_evaluation(fn)``: ``fn(transitions, costs, policy, gamma) -> V`` (S,),
  ``V = (I − γP_π)⁻¹c_π`` — exact (rational arithmetic);
* ``check_q_function(fn)``: ``fn(transitions, costs, policy, gamma) -> Q`` (S, A),
  ``Q(s, a) = c(s, a) + γΣ_t P(t|s, a)V(t)`` — exact;
* ``check_discounted_visitation(fn)``: ``fn(transitions, initial, policy, gamma) -> d`` (S,) —
  exact; accepted: the normalised ``(1 − γ)Σ_t γ^t Pr(x_t = ·)`` (a probability vector) and
  the unnormalised ``Σ_t γ^t Pr(x_t = ·)``; the report says which one matched;
* ``check_softmax_policy_gradient(fn)``: ``fn(transitions, costs, initial, logits, gamma)``
  ``-> ∂C/∂θ`` (S, A) of ``C(θ) = ρᵀV^{π_θ}``, π_θ(a|s) ∝ exp θ[s, a] — certified (balls);
* ``check_softmax_natural_gradient(fn)``: same arguments ``-> x`` (S, A) with ``F x = ∇C``,
  ``F = Σ_s d(s)(diag π_s − π_sπ_sᵀ)`` the Fisher matrix under the normalised visitation
  (Kakade 2002; Agarwal et al. 2021: ``x = A^π/(1 − γ)`` is one solution).  Every solution is
  accepted — per-state shifts and unvisited states make it non-unique — by judging the residual
  ``F x − ∇C`` in ball arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
from flint import arb, ctx
from hypothesis import strategies as st

from pgverify.checks._compare import Comparison, Reference, as_actual, as_reference, compare
from pgverify.checks._driver import document_options, run_check
from pgverify.checks._mdp_support import (
    MDPContext,
    build_context,
    keep,
    mdp_arguments,
    mdp_regression_cases,
    repair_distributions,
)
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.mdp import evaluate, softmax_gradient, softmax_policy

BITS = 212


def _transposed_tensor(c: MDPContext) -> np.ndarray:
    """``transitions`` read as P[s', a, s] (first and last index swapped)."""
    return np.transpose(c.transitions, (2, 1, 0))


def _uniform(c: MDPContext) -> np.ndarray:
    return np.full((c.states, c.actions), 1.0 / c.actions)


class _MDPSpec(CheckSpec):
    optional = MappingProxyType({})
    scalar_parameters = ("gamma",)
    axes_of = MappingProxyType(
        {
            "transitions": ("S", "A", "S"),
            "costs": ("S", "A"),
            "initial": ("S",),
            "policy": ("S", "A"),
            "logits": ("S", "A"),
        }
    )

    @property
    def axes(self) -> Mapping[str, tuple[str, ...]]:  # type: ignore[override]
        return {name: self.axes_of[name] for name in self.parameters if name in self.axes_of}

    def repair(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return repair_distributions(arguments)

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (label, keep(arguments, self.parameters)) for label, arguments in mdp_regression_cases()
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return mdp_arguments().map(lambda arguments: keep(arguments, self.parameters))

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> MDPContext:
        return build_context(arguments)


# --------------------------------------------------------------------------------------------
# Policy evaluation and Q
# --------------------------------------------------------------------------------------------

MAX_SWEEPS = 100_000
"""The longest fixed-point iteration tried when diagnosing an unconverged policy evaluation."""


def _sweeps(c: MDPContext, output: np.ndarray, in_place: bool) -> tuple[np.ndarray, int]:
    """The iterate of ``V ← c_π + γP_πV`` from V = 0 nearest ``output`` (max norm) and its
    number of sweeps; ``in_place``: Gauss–Seidel sweeps (states updated in order, each using the
    values already updated).  Both are affine maps ``V ← h + GV``: Jacobi ``h = c_π``,
    ``G = γP_π``; Gauss–Seidel ``(I − γL)V' = c_π + γUV`` with L the strictly lower and U the
    upper triangle of P_π (float64; the rounding differs from a loop's by a few ulps)."""
    P, cost = c.transition_of(c.pi), (c.pi * c.costs).sum(axis=1)
    if in_place:
        lower = np.eye(c.states) - c.gamma * np.tril(P, -1)
        h = np.linalg.solve(lower, cost)
        G = np.linalg.solve(lower, c.gamma * np.triu(P))
    else:
        h, G = cost, c.gamma * P
    V = np.zeros(c.states)
    best, best_distance, best_sweeps = V, np.inf, 0
    for sweep in range(1, MAX_SWEEPS + 1):
        following = h + G @ V
        distance = float(np.max(np.abs(following - output)))
        if distance < best_distance:
            best, best_distance, best_sweeps = following, distance, sweep
        if np.max(np.abs(following - V)) <= 2.0**-50 * np.max(np.abs(following)):
            break  # converged to float64 rounding: later sweeps only repeat the last one
        V = following
    return best, best_sweeps


VALUE_SLIPS = (
    Slip(
        "V after {} sweeps of the iteration V ← c_π + γP_πV from V = 0 — stopped before "
        "convergence (its error is about γ^k‖V‖: iterate until the change is below the "
        "tolerance, or solve (I − γP_π)V = c_π)",
        lambda c, output: _sweeps(c, output, in_place=False),
        fitted=True,
    ),
    Slip(
        "V after {} in-place (Gauss–Seidel) sweeps of V(s) ← c_π(s) + γΣ_t P_π(s, t)V(t) from "
        "V = 0 — stopped before convergence",
        lambda c, output: _sweeps(c, output, in_place=True),
        fitted=True,
    ),
    Slip("−V^π (the sign negated: costs read as rewards, or a sign lost)", lambda c: -c.V),
    Slip(
        "V with the transitions averaged uniformly over the actions, (1/A)Σ_a P(·|s, a), "
        "instead of under π (the costs weighted by π)",
        lambda c: c.value_of(c.pi, transition=c.transition_of(_uniform(c))),
    ),
    Slip(
        "V with the costs averaged uniformly over the actions instead of under π (the "
        "transitions weighted by π)",
        lambda c: np.linalg.solve(
            np.eye(c.states) - c.gamma * c.transition_of(c.pi), c.costs.mean(axis=1)
        ),
    ),
    Slip(
        "V computed with the transposed transition matrix: (I − γP_πᵀ)⁻¹c_π",
        lambda c: c.value_of(c.pi, transition=c.transition_of(c.pi).T),
    ),
    Slip(
        "V with the transition tensor read as P[s', a, s] (first and last index swapped)",
        lambda c: c.value_of(c.pi, transition=c.transition_of(c.pi, _transposed_tensor(c))),
    ),
    Slip(
        "the optimal value V* (a minimum over actions) instead of V^π", lambda c: c.optimal_value()
    ),
    Slip("(1 − γ)V^π — a normalised value", lambda c: (1.0 - c.gamma) * c.V),
    Slip("V^π with γ² in place of γ", lambda c: c.value_of(c.pi, c.gamma**2)),
    Slip(
        "c_π, the one-step expected cost (the future left out)",
        lambda c: (c.pi * c.costs).sum(axis=1),
    ),
    Slip(
        "the value of the uniform policy (the policy argument ignored)",
        lambda c: c.value_of(_uniform(c)),
    ),
)


class PolicyEvaluationSpec(_MDPSpec):
    name = "check_policy_evaluation"
    quantity = "the value V^π = (I − γP_π)⁻¹c_π"
    parameters = ("transitions", "costs", "policy", "gamma")
    slips = VALUE_SLIPS

    def expected(self, c: MDPContext) -> Expected:
        return Expected(evaluate(c.mdp, c.policy_table).value, c.condition, c.value_scale)


Q_SLIPS = (
    Slip("Q with γ missing: c(s, a) + Σ_t P(t|s, a)V(t)", lambda c: c.q_of(c.V, 1.0)),
    Slip("−Q^π (the sign negated: costs read as rewards, or a sign lost)", lambda c: -c.Q),
    Slip(
        "Q with V computed from the transitions averaged uniformly over the actions instead "
        "of under π",
        lambda c: c.q_of(c.value_of(c.pi, transition=c.transition_of(_uniform(c)))),
    ),
    Slip(
        "V^π repeated over the actions (V in place of Q)",
        lambda c: np.repeat(c.V[:, None], c.actions, axis=1),
    ),
    Slip("the advantage Q − V instead of Q", lambda c: c.advantage),
    Slip(
        "Q with the transition tensor read as P[s', a, s]",
        lambda c: c.q_of(c.V, tensor=_transposed_tensor(c)),
    ),
    Slip(
        "Q with V computed from the transposed transition matrix P_πᵀ",
        lambda c: c.q_of(c.value_of(c.pi, transition=c.transition_of(c.pi).T)),
    ),
    Slip(
        "the optimal Q* (a minimum over actions) instead of Q^π",
        lambda c: c.q_of(c.optimal_value()),
    ),
    Slip("(1 − γ)Q — a normalised Q-function", lambda c: (1.0 - c.gamma) * c.Q),
)


class QFunctionSpec(PolicyEvaluationSpec):
    name = "check_q_function"
    quantity = "the Q-function Q^π(s, a) = c(s, a) + γΣ_t P(t|s, a)V^π(t)"
    slips = Q_SLIPS

    def expected(self, c: MDPContext) -> Expected:
        evaluation = evaluate(c.mdp, c.policy_table)
        table = [[evaluation.q_value(s, a) for a in range(c.actions)] for s in range(c.states)]
        return Expected(table, c.condition, c.value_scale)


# --------------------------------------------------------------------------------------------
# Discounted visitation
# --------------------------------------------------------------------------------------------


def _both_normalisations(description: str, compute: Any) -> tuple[Slip, Slip]:
    """A visitation slip in the normalised and in the unnormalised form."""
    return (
        Slip(description + " (normalised by 1 − γ)", lambda c: (1.0 - c.gamma) * compute(c)),
        Slip(description + " (unnormalised)", compute),
    )


VISITATION_SLIPS = (
    *_both_normalisations(
        "the visitation computed with P_π in place of P_πᵀ, (I − γP_π)⁻¹ρ",
        lambda c: np.linalg.solve(np.eye(c.states) - c.gamma * c.transition_of(c.pi), c.initial),
    ),
    *_both_normalisations(
        "the visitation from the uniform initial distribution (ρ ignored)",
        lambda c: c.occupancy(np.full(c.states, 1.0 / c.states)),
    ),
    *_both_normalisations(
        "Σ_{t≥1} γ^t Pr(x_t = ·) — the initial step t = 0 left out",
        lambda c: c.occupancy() - c.initial,
    ),
    Slip("the initial distribution ρ itself", lambda c: c.initial),
    Slip("(1 − γ)² Σ_t γ^t Pr(x_t = ·) — normalised twice", lambda c: (1.0 - c.gamma) * c.d),
)


class VisitationSpec(_MDPSpec):
    name = "check_discounted_visitation"
    quantity = "the discounted state visitation"
    parameters = ("transitions", "initial", "policy", "gamma")
    slips = VISITATION_SLIPS
    reference_label = "the normalised visitation (1 − γ)Σ_t γ^t Pr(x_t = ·)"

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> MDPContext:
        S, A = np.shape(arguments["transitions"])[:2]
        return build_context({**arguments, "costs": np.zeros((S, A))})

    def expected(self, c: MDPContext) -> Expected:
        evaluation = evaluate(c.mdp, c.policy_table)
        normalised = evaluation.visitation()
        unnormalised = [entry / (1 - c.mdp.gamma) for entry in normalised]  # exact Fractions
        return Expected(
            normalised,
            c.condition,
            1.0 / (1.0 - c.gamma),
            alternatives=(("the unnormalised visitation Σ_t γ^t Pr(x_t = ·)", unnormalised),),
        )

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            "accepted: d = (1 − γ) Σ_t γ^t Pr(x_t = ·) (normalised, a probability vector) or "
            "Σ_t γ^t Pr(x_t = ·) (unnormalised)",
        )


# --------------------------------------------------------------------------------------------
# Softmax policy gradient and natural gradient
# --------------------------------------------------------------------------------------------


def _balls(c: MDPContext) -> dict[str, Any]:
    """π and the normalised visitation d as balls (cached on the context)."""
    if "balls" not in c.extra:
        policy = softmax_policy(c.logits.tolist(), BITS)
        d = evaluate(c.mdp, policy, bits=BITS).visitation()
        c.extra["balls"] = {
            "policy": [[policy.ball[s, a] for a in range(c.actions)] for s in range(c.states)],
            "d": [d.ball[s, 0] for s in range(c.states)],
        }
    return c.extra["balls"]


def _gradient_scale(c: MDPContext) -> float:
    """|∂C/∂θ| ≤ d π |A|/(1 − γ) ≤ 2 max|c| / (1 − γ)²."""
    return 2.0 * c.value_scale / (1.0 - c.gamma)


SOFTMAX_GRADIENT_SLIPS = (
    Slip("the ascent direction −∇C (a sign slip)", lambda c: -c.softmax_gradient),
    Slip(
        "d(s)π(a|s)A(s, a) without the factor 1/(1 − γ)",
        lambda c: (1.0 - c.gamma) * c.softmax_gradient,
    ),
    Slip(
        "d(s)π(a|s)A(s, a)/(1 − γ)² — the unnormalised visitation divided by (1 − γ) again",
        lambda c: c.softmax_gradient / (1.0 - c.gamma),
    ),
    Slip(
        "d(s)π(a|s)Q(s, a)/(1 − γ) — Q in place of the advantage A",
        lambda c: c.d[:, None] * c.pi * c.Q / (1.0 - c.gamma),
    ),
    Slip(
        "ρ(s)π(a|s)A(s, a)/(1 − γ) — the initial distribution in place of the visitation d",
        lambda c: c.initial[:, None] * c.pi * c.advantage / (1.0 - c.gamma),
    ),
    Slip(
        "d(s)A(s, a)/(1 − γ) — the factor π(a|s) left out",
        lambda c: c.d[:, None] * c.advantage / (1.0 - c.gamma),
    ),
    Slip(
        "d(s)Q(s, a)/(1 − γ) — the gradient of the direct parametrisation ∂C/∂π[s, a]",
        lambda c: c.d[:, None] * c.Q / (1.0 - c.gamma),
    ),
)


class SoftmaxGradientSpec(_MDPSpec):
    name = "check_softmax_policy_gradient"
    quantity = "the softmax policy gradient ∂C/∂θ = d(s)π(a|s)A(s, a)/(1 − γ)"
    parameters = ("transitions", "costs", "initial", "logits", "gamma")
    slips = SOFTMAX_GRADIENT_SLIPS

    def expected(self, c: MDPContext) -> Expected:
        gradient = softmax_gradient(c.mdp, c.logits.tolist(), bits=BITS)
        return Expected(gradient, c.condition, _gradient_scale(c))


def canonical_natural_gradient(c: MDPContext, x: np.ndarray) -> np.ndarray:
    """The representative of x modulo the null space of F: per visited state the π-weighted
    mean removed, unvisited states zeroed (float64; for the diagnosis only)."""
    centred = x - (c.pi * x).sum(axis=1, keepdims=True)
    return np.where(c.d[:, None] > 0, centred, 0.0)


NATURAL_GRADIENT_SLIPS = (
    Slip(
        "A(s, a), the advantage without the factor 1/(1 − γ) — the natural gradient for a Fisher "
        "matrix weighted by the unnormalised visitation Σ_t γ^t Pr; this check's F uses the "
        "normalised d = (1 − γ)Σ_t γ^t Pr, whose natural gradient is A/(1 − γ)",
        lambda c: c.advantage,
    ),
    Slip("−A(s, a)/(1 − γ) (ascent instead of descent)", lambda c: -c.advantage / (1.0 - c.gamma)),
    Slip("the vanilla gradient ∂C/∂θ (no Fisher inverse)", lambda c: c.softmax_gradient),
    Slip(
        "A(s, a)/(1 − γ)² — a factor 1/(1 − γ) too many",
        lambda c: c.advantage / (1.0 - c.gamma) ** 2,
    ),
    Slip(
        "d(s)A(s, a)/(1 − γ) — the visitation d(s) not divided out",
        lambda c: c.d[:, None] * c.advantage / (1.0 - c.gamma),
    ),
)


class SoftmaxNaturalGradientSpec(SoftmaxGradientSpec):
    name = "check_softmax_natural_gradient"
    quantity = "the softmax natural gradient x with F x = ∇C (judged by F x against ∇C)"
    slips = NATURAL_GRADIENT_SLIPS

    def judge(self, c: MDPContext, expected: Expected, output: Any, dtype: Any) -> Comparison:
        """Compare F x with ∇C (balls): every solution of F x = ∇C passes."""
        try:
            x = as_actual(output)
        except Exception:
            return compare(output, expected.reference, dtype=dtype, what=self.quantity)
        if x.shape != (c.states, c.actions) or not np.all(np.isfinite(x)):
            return compare(x, expected.reference, dtype=dtype, what=self.quantity)
        balls = _balls(c)
        policy, d = balls["policy"], balls["d"]
        with ctx.workprec(BITS):
            product = []
            for s in range(c.states):
                row = [arb(float(value)) for value in x[s]]
                mean = sum((policy[s][b] * row[b] for b in range(c.actions)), arb(0))
                product.append([d[s] * policy[s][a] * (row[a] - mean) for a in range(c.actions)])
        fx = as_reference(product)
        scale = _gradient_scale(c) + 2.0 * float(np.max(np.abs(x), initial=0.0))
        comparison = compare(
            fx.mid,
            Reference(expected.reference.mid, expected.reference.rad + fx.rad, "certified"),
            dtype=dtype if dtype is not None else x.dtype,
            what="F x (the Fisher matrix times your natural gradient) against ∇C",
            condition=expected.condition,
            scale=scale,
        )
        comparison.actual = x
        return comparison

    def expected(self, c: MDPContext) -> Expected:
        gradient = softmax_gradient(c.mdp, c.logits.tolist(), bits=BITS)
        return Expected(gradient, c.condition, _gradient_scale(c))

    expected_label = "∇C, which F x must equal"

    def diagnosis_view(self, context: MDPContext, value: Any) -> np.ndarray:
        return canonical_natural_gradient(context, as_actual(value).astype(float))

    def diagnosis_reference(self, outcome: Any) -> Reference:
        c = outcome.context
        right = canonical_natural_gradient(c, c.advantage / (1.0 - c.gamma))
        return Reference(right, np.zeros_like(right), "float")

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            "judged by the residual of F x = ∇C with F = Σ_s d(s)(diag π_s − π_sπ_sᵀ), d the "
            "normalised visitation: every solution (e.g. A/(1 − γ), Q/(1 − γ)) is accepted",
        )


def check_policy_evaluation(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(transitions, costs, policy, gamma) -> V`` (shape (S,)),
    ``V^π = (I − γP_π)⁻¹c_π``, against the exact rational value."""
    __tracebackhide__ = True
    return run_check(
        PolicyEvaluationSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_q_function(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(transitions, costs, policy, gamma) -> Q`` (shape (S, A)),
    ``Q^π(s, a) = c(s, a) + γΣ_t P(t|s, a)V^π(t)``, against the exact rational values."""
    __tracebackhide__ = True
    return run_check(
        QFunctionSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_discounted_visitation(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(transitions, initial, policy, gamma) -> d`` (shape (S,)) against the exact
    discounted visitation.  Accepted normalisations: ``(1 − γ)Σ_t γ^t Pr(x_t = ·)`` (a
    probability vector; Kakade 2002) and ``Σ_t γ^t Pr(x_t = ·)``; the report states both."""
    __tracebackhide__ = True
    return run_check(
        VisitationSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_softmax_policy_gradient(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(transitions, costs, initial, logits, gamma) -> ∂C/∂θ`` (shape (S, A)) of the
    cost ``C(θ) = ρᵀV^{π_θ}`` of the tabular softmax policy against certified balls
    (``d(s)π(a|s)A(s, a)/(1 − γ)``, Agarwal, Kakade, Lee & Mahajan 2021)."""
    __tracebackhide__ = True
    return run_check(
        SoftmaxGradientSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_softmax_natural_gradient(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(transitions, costs, initial, logits, gamma) -> x`` (shape (S, A)), a natural
    gradient of the tabular softmax policy: ``F x = ∇C`` with ``F = Σ_s d(s)(diag π_s −
    π_sπ_sᵀ)`` under the normalised visitation d.  Judged by the residual in ball arithmetic,
    so every solution passes (``A/(1 − γ)`` — Kakade 2002, Agarwal et al. 2021, Lemma 15 — and
    its per-state shifts, with anything at unvisited states)."""
    __tracebackhide__ = True
    return run_check(
        SoftmaxNaturalGradientSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


document_options(
    check_policy_evaluation,
    check_q_function,
    check_discounted_visitation,
    check_softmax_policy_gradient,
    check_softmax_natural_gradient,
    cases_note="; float probabilities that sum to 1 up to rounding are renormalised exactly",
)
