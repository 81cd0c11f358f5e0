"""``check_pg_estimator``: a score-function policy-gradient estimator on the LQR Gaussian policy,
judged by its exact expectation (docs/checks.md, "Policy-gradient estimators").

The user's ``fn(states, actions, costs, K, sigma, gamma) -> (m, n)`` (a batch: ``states``
(M, T+1, n), ``actions`` (M, T, m), ``costs`` (M, T); ``u ~ N(−Kx, σI)``, σ a variance; costs
minimised) is evaluated at the nodes of a Gaussian cubature rule exact for degree 4 in the
initial states and exploration noises (:func:`pgverify.expectation.lqr_expectation`, float64
arithmetic). The weighted sum is exact, so the check knows the exact expectation of the user's
function up to the stated rounding allowance of its float evaluations, and compares it with the
exact expectation of pgverify's reference (rational arithmetic; equal to ``∇C_{T−1}(K)``, the
gradient of ``E Σ_{t<T} γ^t c_t``: Williams 1992; Sutton, McAllester, Singh & Mansour 2000).
On a disagreement it reports the exact bias and names the slip whose exact expectation matches.
The verdict is about the expectation only: two unbiased estimators (V0 and REINFORCE, or two
baselines) are both accepted. The critic kinds ("q", "advantage", "td", "gae") receive the
policy's exact finite-horizon critic as keyword arrays (:mod:`pgverify.checks._critic_kinds`);
their estimates stay of degree 4 (Q_t and V_t are quadratics), and since Ψ_t is then fixed by the
batch, the check also compares the estimate with the kind's reference at every node.

A case is a rollout distribution (:class:`Scenario`): fixed ones, the user's ``cases=[...]``,
and ones hypothesis generates from ``seed`` (:mod:`pgverify.checks._exact_expectation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.checks._critic_kinds import Call, critic_keywords
from pgverify.checks._exact_expectation import (
    ExactEstimate,
    ExpectationContext,
    ExpectationReport,
    ExpectationSpec,
    ImplementationRaised,
    ScenarioResult,
    reinforce_with_own_cost_baseline,
    reinforce_without_discount_weight,
    run_expectation_check,
)
from pgverify.checks._slips import Slip
from pgverify.errors import InvalidProblemError
from pgverify.estimators.critic_gradient import (
    CRITIC_KINDS,
    gaussian_critic_pg,
    weighted_score_mean,
)
from pgverify.estimators.policy_gradient import (
    gaussian_reinforce,
    gaussian_scores,
    score_function_estimate,
)
from pgverify.expectation import lqr_expectation
from pgverify.expectation.critic import lqr_critic, lqr_discounted_critic

__all__ = ["ExpectationReport", "ScenarioResult", "check_pg_estimator"]

NODE_BUDGET = 1000
"""The largest cubature rule a case may need (a 2-state, 2-input, T = 3, M = 2 case needs
545 nodes): every node is one call of the user's estimator."""


def _matrix(value: Any) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in np.atleast_2d(np.asarray(value, float)))


@dataclass(frozen=True)
class Scenario:
    """One LQR rollout distribution: the problem's matrices, the gain, σ, γ, T and the batch M
    (tuples: a scenario is hashable, so its exact target is computed once)."""

    label: str
    A: tuple
    B: tuple
    Q: tuple
    R: tuple
    Sigma0: tuple
    K: tuple
    sigma: float
    gamma: float
    steps: int
    batch: int
    truncated: bool = False  # a time limit cuts discounted rollouts at T (critic kinds only)

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Scenario:
        """The scenario of a case (a dict of :data:`CASE_FIELDS`), labelled by its sizes."""
        scenario = cls(
            "",
            *(_matrix(fields[name]) for name in ("A", "B", "Q", "R", "Sigma0", "K")),
            float(fields["sigma"]),
            float(fields["gamma"]),
            int(fields["steps"]),
            int(fields["batch"]),
            bool(fields.get("truncated", False)),
        )
        n, m = len(scenario.A), len(scenario.K)
        label = (
            f"{n} state{'s' if n > 1 else ''}, {m} input{'s' if m > 1 else ''}, "
            f"σ = {scenario.sigma:g}, γ = {scenario.gamma:g}, T = {scenario.steps}, "
            f"M = {scenario.batch}" + (", cut by a time limit at T" if scenario.truncated else "")
        )
        return cls(label, *(getattr(scenario, name) for name in CASE_FIELDS))

    def fields(self) -> dict[str, Any]:
        """The scenario as a case (numpy arrays for the matrices)."""
        return {
            name: np.array(value, dtype=float) if isinstance(value, tuple) else value
            for name, value in ((name, getattr(self, name)) for name in CASE_FIELDS)
        }

    def problem(self) -> Any:
        from pgverify.lqr import LQR

        # the problem's own γ and noise are not read: the estimator discounts, σ is passed
        return LQR(self.A, self.B, self.Q, self.R, self.Sigma0, gamma=0.5, noise=0.0)

    def as_python(self) -> str:
        return (
            f"A = {list(map(list, self.A))}, B = {list(map(list, self.B))}, "
            f"Q = {list(map(list, self.Q))}, R = {list(map(list, self.R))}, "
            f"Sigma0 = {list(map(list, self.Sigma0))}, x_0 ~ N(0, Sigma0)\n"
            f"    K = {list(map(list, self.K))}, sigma = {self.sigma}, gamma = {self.gamma}, "
            f"T = {self.steps} steps, M = {self.batch} rollouts per batch"
        )


CASE_FIELDS = (
    "A",
    "B",
    "Q",
    "R",
    "Sigma0",
    "K",
    "sigma",
    "gamma",
    "steps",
    "batch",
    "truncated",
)
"""The fields of a case of :func:`check_pg_estimator` (``truncated`` may be left out)."""

SCENARIOS = (
    Scenario(
        "two states, one input, γ = 0.9, T = 2, M = 2",
        ((1.0, 0.5), (0.0, 0.75)),
        ((0.0,), (1.0,)),
        ((1.0, 0.0), (0.0, 1.0)),
        ((1.0,),),
        ((1.0, 0.25), (0.25, 0.5)),
        ((0.25, 0.5),),
        # σ = 9/16 keeps the slips' expectations apart on the first scenario: √σ = 3/4,
        # σ² = 81/256 and 1 − 1/M = 1/2 all differ (at σ = 1/4, √σ = 1 − 1/M made a score
        # divided by √σ look like a batch mean that includes the rollout's own return)
        0.5625,
        0.9,
        2,
        2,
    ),
    Scenario(
        "one state, γ = 0.5, T = 3, M = 2",
        ((1.25,),),
        ((0.5,),),
        ((1.0,),),
        ((0.5,),),
        ((2.0,),),
        ((0.75,),),
        0.5,
        0.5,
        3,
        2,
    ),
    Scenario(
        "one state, γ = 1 at a finite horizon, T = 2, M = 1",
        ((0.5,),),
        ((1.0,),),
        ((2.0,),),
        ((1.0,),),
        ((1.0,),),
        ((-0.25,),),
        1.0,
        1.0,
        2,
        1,
    ),
    Scenario(
        "two states, one input, discounted γ = 0.75, rollouts cut at T = 2 by a time limit, M = 1",
        ((1.0, 0.5), (0.0, 0.75)),
        ((0.0,), (1.0,)),
        ((1.0, 0.0), (0.0, 1.0)),
        ((1.0,),),
        ((1.0, 0.25), (0.25, 0.5)),
        ((0.25, 0.5),),
        0.5,
        0.75,
        2,
        1,
        truncated=True,
    ),
)
"""The rollout distributions the check weighs. The last one (critic kinds only) cuts discounted
infinite-horizon rollouts by a time limit: nothing terminates, the stationary critic's V(x_T) is
the bootstrap, and the target is the policy-gradient theorem's sum cut at T (docs/estimators.md,
section 7)."""


def _exact_gamma(gamma: float) -> Fraction:
    return Fraction(gamma)  # the float64 γ the user receives, exactly


def _reinforce_without_discount_weight(states, actions, costs, K, sigma, gamma):
    """Σ_t G_t s_t: the γ^t weight of step t missing."""
    scores = gaussian_scores(states, actions, K, sigma)
    return reinforce_without_discount_weight(scores, costs, _exact_gamma(gamma))


def _baseline_sees_action(states, actions, costs, K, sigma, gamma):
    """b_t = c_t, the step's own cost (it depends on u_t): Σ_t γ^t (G_t − c_t) s_t."""
    scores = gaussian_scores(states, actions, K, sigma)
    return reinforce_with_own_cost_baseline(scores, costs, _exact_gamma(gamma))


def _undiscounted(states, actions, costs, K, sigma, gamma):
    return gaussian_reinforce(states, actions, costs, K, sigma, 1)


def _batch_mean_including_own(states, actions, costs, K, sigma, gamma):
    return gaussian_reinforce(
        states, actions, costs, K, sigma, _exact_gamma(gamma), baseline="batch_mean"
    )


def _score_with_std(states, actions, costs, K, sigma, gamma):
    scores = gaussian_scores(states, actions, K, Fraction(sigma) ** 2)
    return score_function_estimate(scores, costs, _exact_gamma(gamma), "reinforce")


def _score_with_root(states, actions, costs, K, sigma, gamma):
    # the slip's expectation is the reference's scaled by √σ: exact when σ is a square of a
    # rational (the first scenario's 9/16), else rounded (it is only compared for a diagnosis)
    return gaussian_reinforce(states, actions, costs, K, sigma, gamma) * _root(sigma)


def _root(sigma: Any) -> Any:
    root = Fraction(float(sigma) ** 0.5)
    return root if root * root == sigma else float(sigma) ** 0.5


def _cost_to_go_from_start(states, actions, costs, K, sigma, gamma):
    """Σ_t γ^t C s_t, C = Σ_k γ^k c_k the whole rollout's discounted cost (V0's weight with a
    spurious γ^t)."""
    scores = gaussian_scores(states, actions, K, sigma)
    g = _exact_gamma(gamma)
    steps = costs.shape[1]
    total = sum((g**k * costs[:, k] for k in range(steps)), Fraction(0))
    weights = np.array([g**t for t in range(steps)], dtype=object)
    return weighted_score_mean(np.repeat(total[:, None], steps, axis=1), weights, scores)


SLIP_ESTIMATORS: tuple[tuple[str, Callable[..., Any], Callable[[Scenario], bool]], ...] = (
    (
        "REINFORCE without the γ^t weight of step t: Σ_t G_t s_t",
        _reinforce_without_discount_weight,
        lambda s: s.gamma != 1,
    ),
    ("the undiscounted estimator (γ = 1 used)", _undiscounted, lambda s: s.gamma != 1),
    (
        "a baseline that sees u_t (b_t = c_t, the step's own cost): Σ_t γ^t (G_t − c_t) s_t",
        _baseline_sees_action,
        lambda s: True,
    ),
    (
        "a batch-mean baseline that includes the rollout's own return (expectation (1 − 1/M)∇C)",
        _batch_mean_including_own,
        lambda s: True,  # at M = 1 the estimate is 0: expectation (1 − 1/1)∇C
    ),
    (
        "the Gaussian score with σ read as a standard deviation (divided by σ²)",
        _score_with_std,
        lambda s: s.sigma != 1,
    ),
    (
        "the Gaussian score divided by √σ (σ taken for the variance's square root): "
        "expectation √σ·∇C",
        _score_with_root,
        lambda s: s.sigma != 1,
    ),
    (
        "V0's whole-trajectory cost weighted by γ^t at every step: Σ_t γ^t C s_t",
        _cost_to_go_from_start,
        lambda s: s.gamma != 1,
    ),
)
"""Each slip's estimator (computed exactly) and when it differs from the right one."""


def _exact_mean(scenario: Scenario, estimator: Callable[..., Any]) -> np.ndarray:
    """The exact expectation (Fractions) of an exact ``estimator`` over the scenario."""
    K = np.array(scenario.K)
    exact_K = np.array([[Fraction(v) for v in row] for row in scenario.K], dtype=object)
    sigma, gamma = Fraction(scenario.sigma), _exact_gamma(scenario.gamma)

    def evaluate(states: Any, actions: Any, costs: Any) -> Any:
        return estimator(states, actions, costs, exact_K, sigma, gamma)

    return lqr_expectation(
        scenario.problem(),
        K,
        scenario.steps,
        evaluate,
        4,
        batch=scenario.batch,
        noise=scenario.sigma,
        node_budget=NODE_BUDGET,
    ).mean


@lru_cache(maxsize=256)
def _slip_means(scenario: Scenario) -> np.ndarray:
    """Every slip's expectation (stacked, in float64) at the exact rule's nodes, in one pass
    over the nodes: a diagnosis compares them in float64 anyway, and an exact rational
    evaluation of each would dominate a failure's report."""
    K = np.array(scenario.K)

    def evaluate(states: Any, actions: Any, costs: Any) -> Any:
        return np.stack(
            [
                np.asarray(
                    estimator(states, actions, costs, K, scenario.sigma, scenario.gamma),
                    dtype=float,
                )
                for _, estimator, _ in SLIP_ESTIMATORS
            ]
        )

    return np.asarray(
        lqr_expectation(
            scenario.problem(),
            K,
            scenario.steps,
            evaluate,
            4,
            batch=scenario.batch,
            arithmetic="float",
            noise=scenario.sigma,
            node_budget=NODE_BUDGET,
        ).mean,
        dtype=float,
    )


def _slip(index: int) -> Slip:
    description, _, applies = SLIP_ESTIMATORS[index]
    return Slip(
        description,
        lambda context: _slip_means(context.scenario)[index],
        lambda context: not context.scenario.truncated and applies(context.scenario),
    )


SLIPS = tuple(_slip(index) for index in range(len(SLIP_ESTIMATORS)))


@lru_cache(maxsize=256)
def _critic(scenario: Scenario) -> Any:
    """The exact finite-horizon critic of the scenario's policy (the stationary one when a
    time limit cuts the rollouts)."""
    build = lqr_discounted_critic if scenario.truncated else lqr_critic
    return build(
        scenario.problem(), np.array(scenario.K), scenario.steps, scenario.sigma, scenario.gamma
    )


@lru_cache(maxsize=256)
def _target(scenario: Scenario) -> np.ndarray:
    """The exact target: the expectation of pgverify's REINFORCE (= ∇C_{T−1}(K)); on a
    truncated scenario that of ``Σ_t γ^t Q(x_t, u_t) s_t`` with the exact stationary critic,
    ``2E_K Σ_{t<T} γ^t E[x_t x_tᵀ]`` (every critic kind's mean there)."""
    if not scenario.truncated:
        return _exact_mean(
            scenario,
            lambda s, a, c, K, sigma, gamma: gaussian_reinforce(s, a, c, K, sigma, gamma),
        )
    critic = _critic(scenario)

    def with_exact_q(states: Any, actions: Any, costs: Any, K: Any, sigma: Any, gamma: Any) -> Any:
        _, q_values = critic.arrays(states, actions)
        return gaussian_critic_pg(
            states, actions, costs, K, sigma, gamma, kind="q", q_values=q_values
        )

    return _exact_mean(scenario, with_exact_q)


# --------------------------------------------------------------------------------------------
# Generated scenarios
# --------------------------------------------------------------------------------------------

SIGMAS = (0.5625, 0.25, 0.5, 1.0, 2.0)
GAMMAS = (0.75, 0.5, 0.9, 1.0)
SIZES = ((1, 1), (2, 1), (2, 2))
LARGEST_DIMENSION = 12
"""Generated cases keep M(n + Tm) ≤ 12 Gaussian variables (at most 313 nodes)."""

_quarters = st.integers(-6, 6).map(lambda k: k / 4.0)
_positive_quarters = st.integers(1, 8).map(lambda k: k / 4.0)


def _square_root_factor(draw: st.DrawFn, size: int) -> np.ndarray:
    """A lower-triangular factor with positive diagonal: L Lᵀ is positive definite."""
    factor = np.zeros((size, size))
    for i in range(size):
        factor[i, i] = draw(_positive_quarters)
        for j in range(i):
            factor[i, j] = draw(_quarters)
    return factor


@st.composite
def _scenarios(draw: st.DrawFn, critic: bool) -> dict[str, Any]:
    n, m = draw(st.sampled_from(SIZES))
    steps = draw(st.integers(1, 3))
    largest_batch = max(1, min(3, LARGEST_DIMENSION // (n + steps * m)))
    batch = draw(st.integers(1, largest_batch))

    def matrix(rows: int, columns: int) -> np.ndarray:
        values = draw(st.lists(_quarters, min_size=rows * columns, max_size=rows * columns))
        return np.array(values).reshape(rows, columns)

    def positive_definite(size: int) -> np.ndarray:
        factor = _square_root_factor(draw, size)
        return factor @ factor.T

    gamma = draw(st.sampled_from(GAMMAS))
    return {
        "A": matrix(n, n) / 2,
        "B": matrix(n, m),
        "Q": positive_definite(n),
        "R": positive_definite(m),
        "Sigma0": positive_definite(n),
        "K": matrix(m, n),
        "sigma": draw(st.sampled_from(SIGMAS)),
        "gamma": gamma,
        "steps": steps,
        "batch": batch,
        "truncated": bool(critic and gamma < 1 and draw(st.booleans())),
    }


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------


class PolicyGradientSpec(ExpectationSpec):
    """check_pg_estimator's cases (LQR rollout distributions), oracle and evaluation."""

    name = "check_pg_estimator"
    parameters = ("states", "actions", "costs", "K", "sigma", "gamma")
    case_fields = CASE_FIELDS
    target_text = "∇C_{T−1}(K), the gradient of E Σ_{t<T} γ^t c_t"
    slips = SLIPS
    axes = MappingProxyType(
        {
            "A": ("n", "n"),
            "B": ("n", "m"),
            "Q": ("n", "n"),
            "R": ("m", "m"),
            "Sigma0": ("n", "n"),
            "K": ("m", "n"),
        }
    )

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [
            (scenario.label, scenario.fields())
            for scenario in SCENARIOS
            # without a critic nothing bootstraps: a time-limit cut changes nothing
            if self.kind in CRITIC_KINDS or not scenario.truncated
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return _scenarios(self.kind in CRITIC_KINDS)

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            "cases are LQR rollout distributions; the expectation is exact over the nodes of a "
            "cubature rule exact for degree 4 in the initial states and exploration noises",
        )

    field_kinds = MappingProxyType(
        {
            **{name: "array" for name in ("A", "B", "Q", "R", "Sigma0", "K")},
            "sigma": "real",
            "gamma": "real",
            "steps": "int",
            "batch": "int",
            "truncated": "bool",
        }
    )
    field_defaults = MappingProxyType({"truncated": False})
    shape_text = "K's shape (m, n)"

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Any:
        n = np.shape(arguments["A"])[0] if np.ndim(arguments["A"]) == 2 else -1
        m = np.shape(arguments["R"])[0] if np.ndim(arguments["R"]) == 2 else -1
        expected_shapes = {
            "A": (n, n),
            "B": (n, m),
            "Q": (n, n),
            "R": (m, m),
            "Sigma0": (n, n),
            "K": (m, n),
        }
        for name, shape in expected_shapes.items():
            if np.shape(arguments[name]) != shape:
                raise InvalidProblemError(
                    f"{name} has shape {np.shape(arguments[name])}; expected {shape} (n = {n} "
                    f"states from A (n, n), m = {m} inputs from R (m, m))"
                )
        sigma, gamma = arguments["sigma"], arguments["gamma"]
        if not sigma > 0:
            raise InvalidProblemError(
                f"sigma = {sigma!r}; expected a variance > 0 (the score divides by it)"
            )
        self.require_horizon_and_discount(arguments)
        if arguments["truncated"] and (self.kind not in CRITIC_KINDS or gamma >= 1):
            raise InvalidProblemError(
                "truncated = True needs a critic kind (q, advantage, td, gae) and gamma < 1 (the "
                f"stationary critic bootstraps the cut); got kind {self.kind!r}, gamma = {gamma}"
            )
        scenario = Scenario.from_fields(arguments)
        critic = _critic(scenario) if self.kind in CRITIC_KINDS else None
        return ExpectationContext(scenario, _target(scenario), critic)

    def named_factors(self, scenario: Scenario) -> dict[str, float]:
        """The score's σ misread: divided by σ² (σ taken for a standard deviation) scales the
        estimate by 1/σ, divided by √σ by √σ."""
        if scenario.sigma == 1:
            return {}
        return {
            "the Gaussian score with σ read as a standard deviation (divided by σ²)": 1
            / scenario.sigma,
            "the Gaussian score divided by √σ (σ taken for the variance's square root)": float(
                np.sqrt(scenario.sigma)
            ),
        }

    def evaluate(
        self,
        fn: Any,
        context: ExpectationContext,
        arguments: Mapping[str, Any],
        options: Mapping[str, Any],
    ) -> ExactEstimate:
        """The exact expectation of ``fn`` over the scenario's cubature nodes."""
        scenario, critic, kind = context.scenario, context.critic, self.kind
        K, sigma, gamma = np.array(scenario.K), scenario.sigma, scenario.gamma
        seen: set[str] = set()  # "float32" once an output comes in single precision
        calls: list[Call] = []

        def user(states: Any, actions: Any, costs: Any) -> Any:
            keywords: dict[str, Any] = {}
            if critic is not None:
                keywords = critic_keywords(
                    kind, *critic.arrays(states, actions), truncated=scenario.truncated
                )
            arguments = (states, actions, costs, K, sigma, gamma)
            output = self.call_user(fn, arguments, keywords, K.shape, seen)
            if critic is not None:
                scores = gaussian_scores(states, actions, K, sigma)
                calls.append(Call(scores, costs, gamma, keywords, output, states, actions))
            return output

        try:
            result = lqr_expectation(
                scenario.problem(),
                K,
                scenario.steps,
                user,
                4,
                batch=scenario.batch,
                arithmetic="float",
                noise=sigma,
                relative_error=self.relative_error,
                node_budget=NODE_BUDGET,
            )
        except ImplementationRaised as raised:
            raise raised.error from None
        return self.estimate(
            result.mean,
            Fraction(result.rounding_tolerance),
            result.nodes,
            f"exact expectation over {result.nodes} cubature nodes ({result.rule})",
            calls,
            seen,
        )


def check_pg_estimator(
    fn: Any,
    kind: str,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> ExpectationReport:
    """Check ``fn(states, actions, costs, K, sigma, gamma, **critic) -> (m, n)``, a batch
    estimate of ``∇_K E Σ_{t<T} γ^t c_t`` for ``u ~ N(−Kx, σI)`` on LQR, by its exact
    expectation.

    ``kind``: ``"v0"`` (``(Σ_t γ^t c_t)(Σ_t s_t)``), ``"reinforce"`` (``Σ_t γ^t G_t s_t``) or
    ``"baselined"`` (``Σ_t γ^t (G_t − b_t) s_t`` with any baseline that does not see ``u_t,
    u_{t+1}, …`` of its own rollout: a constant, a state-dependent ``b(x_t)`` of degree ≤ 2, the
    leave-one-out batch mean), each averaged over the batch; ``s_t = −σ⁻¹(u_t + Kx_t)x_tᵀ``.
    Every kind is unbiased, so each is judged against the exact expected gradient.

    Critic kinds ``Σ_t γ^t Ψ_t s_t`` (Sutton et al. 2000; Schulman et al. 2016): ``"q"``
    (``Ψ_t = Q_t(x_t, u_t)``), ``"advantage"`` (``Q_t − V_t``), ``"td"`` (``δ_t = c_t + γ(1 −
    d_t)V_{t+1}(x_{t+1}) − V_t(x_t)``), ``"gae"`` (``Σ_l (γλ)^l δ_{t+l}``, no trace past a
    terminal step) with the policy's exact finite-horizon critic, which the check computes
    (:mod:`pgverify.expectation.critic`) and passes as keyword arguments, float64 arrays — per
    kind: ``"q"``: ``q_values``; ``"advantage"``: ``q_values``, ``values``; ``"td"``:
    ``values``, ``terminated``; ``"gae"``: ``values``, ``terminated``, ``lam`` (0.625). Shapes:
    ``q_values`` (M, T) = ``Q_t(x_t, u_t)``; ``values`` (M, T+1) = ``V_t(x_t)`` for t < T and, in
    column T, ``V_0(x_T)`` (the value x_T would have at the start of an episode, as a rollout
    buffer's bootstrap value holds it); ``terminated`` (M, T) bools, set at t = T − 1 only: the
    horizon ends every episode, so no bootstrap from column T (``V_T = 0``). Cases with
    ``truncated=True`` cut discounted infinite-horizon rollouts by a time limit: there the critic
    is the stationary one, column T holds ``V(x_T)``, nothing in ``terminated`` is set
    (bootstrap from it), and the target is ``2E_K Σ_{t<T} γ^t E[x_t x_tᵀ]``, the policy-gradient
    theorem's sum cut at T; an estimator that ends every segment without bootstrapping fails
    there. Each critic kind is unbiased; besides the expectation the check compares the estimate
    with the kind's reference at every node (Ψ_t is then a fixed function of the batch): an
    unbiased estimate of another form (Q for the advantage, a GAE trace decaying by λ instead of
    γλ) fails as a kind mismatch.

    Cases: fixed rollout distributions, the user's ``cases=[...]`` — dicts with ``A, B, Q, R,
    Sigma0`` (x_0 ~ N(0, Sigma0)), ``K`` (m, n), ``sigma``, ``gamma``, ``steps`` (T),
    ``batch`` (M) and optionally ``truncated`` — and ``max_examples`` distributions generated
    from ``seed`` (default: a fifth of the profile's count, as each case is a whole expectation;
    up to 2 states, 2 inputs, T ≤ 3, M ≤ 3). A failure is shrunk to a minimal distribution,
    printed as the call that replays it.

    Tier: exact expectation of the user's float64 function at the rule's nodes (the weighted
    sum is exact), with the rounding allowance of :func:`pgverify.expectation.lqr_expectation`
    (the stated assumption that each evaluation errs by at most 1e-9 of its largest entry;
    ``dtype="float32"`` for an implementation that computes in float32, or a float32 output:
    1e-5).

    Returns an :class:`ExpectationReport` (a CheckReport with each distribution's exact expected
    gradient and node count); raises :class:`pgverify.OracleMismatch` with the minimal
    distribution, the exact bias and a diagnosis.
    """
    __tracebackhide__ = True
    return run_expectation_check(
        PolicyGradientSpec(kind, dtype),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        database=database,
    )
