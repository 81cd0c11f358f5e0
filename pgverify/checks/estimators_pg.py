"""``check_pg_estimator``: a score-function policy-gradient estimator on the LQR Gaussian policy,
judged by its exact expectation (docs/checks.md, "Policy-gradient estimators").

The user's ``fn(states, actions, costs, K, sigma, gamma) -> (m, n)`` (a batch: ``states``
(M, T+1, n), ``actions`` (M, T, m), ``costs`` (M, T); ``u ~ N(−Kx, σI)``, σ a variance; costs
minimised) is evaluated at the nodes of a Gaussian cubature rule exact for degree 4 in the
initial states and exploration noises (:func:`pgverify.expectation.lqr_expectation`, float64
arithmetic). The weighted sum is exact, so the check knows the exact expectation of the user's
function up to the stated rounding tolerance of its float evaluations, and compares it with the
exact expectation of pgverify's reference (rational arithmetic; equal to ``∇C_{T−1}(K)``, the
gradient of ``E Σ_{t<T} γ^t c_t``: Williams 1992; Sutton, McAllester, Singh & Mansour 2000).
On a disagreement it reports the exact bias and names the slip whose exact expectation matches.
The verdict is about the expectation only: two unbiased estimators (V0 and REINFORCE, or two
baselines) are both accepted. The critic kinds ("q", "advantage", "td", "gae") receive the
policy's exact finite-horizon critic as keyword arrays (:mod:`pgverify.checks._critic_kinds`);
their estimates stay of degree 4 (Q_t and V_t are quadratics), and since Ψ_t is then fixed by the
batch, the check also compares the estimate with the kind's reference at every node.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from pgverify.checks._critic_kinds import (
    Call,
    biased_critic_message,
    critic_keywords,
    require_same_kind,
)
from pgverify.checks._report import CheckReport, where_raised
from pgverify.checks._spec import CallMismatch, describe_callable, raised_by_the_call
from pgverify.errors import InvalidProblemError, OracleMismatch
from pgverify.estimators.critic_gradient import CRITIC_KINDS, gaussian_critic_pg
from pgverify.estimators.policy_gradient import (
    gaussian_reinforce,
    gaussian_scores,
    score_function_estimate,
)
from pgverify.expectation import lqr_expectation
from pgverify.expectation.critic import lqr_critic, lqr_discounted_critic

SUPPORTED_KINDS = ("v0", "reinforce", "baselined", "q", "advantage", "td", "gae")


@dataclass(frozen=True)
class Scenario:
    """One LQR rollout distribution: the problem's matrices, the gain, σ, γ, T and the batch M."""

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
    g = _exact_gamma(gamma)
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((g ** (k - t) * costs[:, k] for k in range(t, steps)), Fraction(0))
    return (to_go[:, :, None, None] * scores).sum(axis=1).sum(axis=0) / costs.shape[0]


def _baseline_sees_action(states, actions, costs, K, sigma, gamma):
    """b_t = c_t, the step's own cost (it depends on u_t): Σ_t γ^t (G_t − c_t) s_t."""
    scores = gaussian_scores(states, actions, K, sigma)
    g = _exact_gamma(gamma)
    steps = costs.shape[1]
    to_go = np.empty(costs.shape, dtype=object)
    for t in range(steps):
        to_go[:, t] = sum((g**k * costs[:, k] for k in range(t + 1, steps)), Fraction(0))
    return (to_go[:, :, None, None] * scores).sum(axis=1).sum(axis=0) / costs.shape[0]


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
    per_step = total[:, None] * weights[None, :]
    return (per_step[:, :, None, None] * scores).sum(axis=1).sum(axis=0) / costs.shape[0]


SLIPS: tuple[tuple[str, Callable[..., Any], Callable[[Scenario], bool]], ...] = (
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


def _exact_mean(scenario: Scenario, estimator: Callable[..., Any]) -> np.ndarray:
    K = np.array(scenario.K)
    exact_K = np.array([[Fraction(v) for v in row] for row in scenario.K], dtype=object)
    sigma, gamma = Fraction(scenario.sigma), _exact_gamma(scenario.gamma)

    def evaluate(states: Any, actions: Any, costs: Any) -> Any:
        return estimator(states, actions, costs, exact_K, sigma, gamma)

    result = lqr_expectation(
        scenario.problem(),
        K,
        scenario.steps,
        evaluate,
        4,
        batch=scenario.batch,
        noise=scenario.sigma,
    )
    return result.mean


FLOAT64_RELATIVE_ERROR = 1e-9
FLOAT32_RELATIVE_ERROR = 1e-5
"""The assumed error of one float evaluation relative to its largest entry (the stated
assumption of the rounding tolerance, :func:`pgverify.expectation.lqr_expectation`)."""


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
    when it came in single precision (its rounding is then judged at float32's tolerance)."""
    from pgverify.checks._compare import as_actual

    array = as_actual(raw)
    if array.dtype.kind == "f" and array.dtype.itemsize <= 4:
        seen.add("float32")
    return array.astype(float)


def widened(tolerance: Fraction, dtype: Any, seen: set[str]) -> Fraction:
    """The tolerance for a single-precision output when no dtype was given."""
    if dtype is None and "float32" in seen:
        return tolerance * Fraction(FLOAT32_RELATIVE_ERROR / FLOAT64_RELATIVE_ERROR)
    return tolerance


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario a policy-gradient estimator check weighed: its label, the exact expected
    gradient (the target), the number of weighted evaluations (cubature nodes or enumerated
    batches) and the error of the user's exact expectation relative to the tolerance."""

    label: str
    expected_gradient: np.ndarray
    evaluations: int
    ratio: float


@dataclass(frozen=True)
class ExpectationReport(CheckReport):
    """The report of a passing exact-expectation check (:func:`check_pg_estimator`,
    :func:`check_softmax_pg_estimator`): a :class:`CheckReport` over fixed scenarios (none
    generated: ``seed`` does not apply), tier ``"exact"``, with each scenario's target."""

    scenarios: tuple[ScenarioResult, ...] = ()

    def __str__(self) -> str:
        text = (
            f"{self.check}: passed {self.cases} fixed scenarios by exact expectation; worst "
            f"error {self.worst_ratio:.3g} of the tolerance, judged at {self.judged_at}; "
            f"reference tier {self.tier}; {self.seconds:.2f} s"
        )
        return "\n".join([text, *(f"  {note}" for note in self.notes)])


def expectation_report(
    check: str, scenarios: list[ScenarioResult], start: float, seen: set[str], dtype: Any
) -> ExpectationReport:
    """The report of a passing estimator check over ``scenarios``."""
    single = (dtype is not None and np.dtype(dtype) == np.float32) or "float32" in seen
    return ExpectationReport(
        check=check,
        cases=len(scenarios),
        fixed_cases=len(scenarios),
        generated_cases=0,
        worst_ratio=max((result.ratio for result in scenarios), default=0.0),
        tier="exact",
        seconds=time.perf_counter() - start,
        seed=0,
        notes=tuple(
            f"{r.label}: exact expectation over {r.evaluations} weighted evaluations"
            for r in scenarios
        ),
        judged_at="float32" if single else "float64",
        scenarios=tuple(scenarios),
    )


def scenario_result(
    label: str, result: Any, target: np.ndarray, tolerance: Fraction
) -> ScenarioResult:
    """The :class:`ScenarioResult` of a passed scenario from its exact expectation ``result``."""
    return ScenarioResult(
        label,
        np.asarray(target, dtype=float),
        result.nodes,
        error_ratio(result.mean, target, tolerance),
    )


def error_ratio(mean: np.ndarray, target: np.ndarray, tolerance: Fraction) -> float:
    """``max |mean − target| / tolerance`` (0 when both vanish exactly)."""
    largest = max(
        (abs(a - b) for a, b in zip(mean.ravel(), target.ravel(), strict=True)), default=0
    )
    if largest == 0:
        return 0.0
    return float(Fraction(largest) / tolerance) if tolerance > 0 else float("inf")


class ImplementationRaised(Exception):
    """The user's ``fn`` raised while the expectation engine evaluated it: carried out of the
    engine so that the check reports it as the implementation's failure, with its location."""

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


def raised_message(
    check: str, kind: str, label: str, case: str, raised: ImplementationRaised
) -> str:
    """The failure message when ``fn`` raised on a scenario."""
    error = raised.error
    return (
        f"{check}(kind={kind!r}): fn raised {type(error).__name__}: {error}"
        f"{where_raised(error)} on the scenario {label}:\n    {case}"
    )


def unsupported_kind(kind: Any) -> str:
    """The message refusing a kind the checks do not know."""
    return f"kind = {kind!r} is not supported; supported kinds: {', '.join(SUPPORTED_KINDS)}"


@cache
def _target(index: int) -> np.ndarray:
    """The exact expectation of pgverify's REINFORCE on scenario ``index`` (= ∇C_{T−1}(K))."""
    scenario = SCENARIOS[index]
    return _exact_mean(
        scenario,
        lambda s, a, c, K, sigma, gamma: gaussian_reinforce(s, a, c, K, sigma, gamma),
    )


@cache
def _slip_mean(index: int, slip: int) -> np.ndarray:
    return _exact_mean(SCENARIOS[index], SLIPS[slip][1])


def _within(mean: np.ndarray, other: np.ndarray, tolerance: Fraction) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(mean.ravel(), other.ravel(), strict=True))


@cache
def _critic(index: int) -> Any:
    """The exact finite-horizon critic of scenario ``index``'s policy."""
    scenario = SCENARIOS[index]
    build = lqr_discounted_critic if scenario.truncated else lqr_critic
    return build(
        scenario.problem(), np.array(scenario.K), scenario.steps, scenario.sigma, scenario.gamma
    )


@cache
def _truncated_target(index: int) -> np.ndarray:
    """The exact expectation of ``Σ_t γ^t Q(x_t, u_t) s_t`` with the exact stationary critic on
    a truncated scenario: ``2E_K Σ_{t<T} γ^t E[x_t x_tᵀ]`` (every critic kind's mean there)."""
    critic = _critic(index)

    def with_exact_q(states: Any, actions: Any, costs: Any, K: Any, sigma: Any, gamma: Any) -> Any:
        _, q_values = critic.arrays(states, actions)
        return gaussian_critic_pg(
            states, actions, costs, K, sigma, gamma, kind="q", q_values=q_values
        )

    return _exact_mean(SCENARIOS[index], with_exact_q)


def check_pg_estimator(fn: Any, kind: str, *, dtype: Any = None) -> ExpectationReport:
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
    horizon ends every episode, so no bootstrap from column T (``V_T = 0``). One more scenario
    cuts discounted infinite-horizon rollouts by a time limit: there the critic is the stationary
    one, column T holds ``V(x_T)``, nothing in ``terminated`` is set (bootstrap from it), and the
    target is ``2E_K Σ_{t<T} γ^t E[x_t x_tᵀ]``, the policy-gradient theorem's sum cut at T; an
    estimator that ends every segment without bootstrapping fails there. Each critic kind is
    unbiased; besides the expectation the check compares the estimate with the kind's reference
    at every node (Ψ_t is then a fixed function of the batch): an unbiased estimate of another
    form (Q for the advantage, a GAE trace decaying by λ instead of γλ) fails as a kind mismatch.

    Tier: exact expectation of the user's float64 function at the rule's nodes (the weighted
    sum is exact), with the rounding tolerance of :func:`pgverify.expectation.lqr_expectation`
    (the stated assumption that each evaluation errs by at most 1e-9 of its largest entry;
    ``dtype="float32"`` for an implementation that computes in float32: 1e-5).

    Returns an :class:`ExpectationReport` (a CheckReport with each scenario's exact expected
    gradient and node count); raises
    :class:`pgverify.OracleMismatch` with the scenario, the exact bias and a diagnosis.
    """
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
        if scenario.truncated and kind not in CRITIC_KINDS:
            continue  # without a critic nothing bootstraps: the cut changes nothing
        K, sigma, gamma = np.array(scenario.K), scenario.sigma, scenario.gamma
        shape = K.shape
        calls: list[Call] = []
        critic = _critic(index) if kind in CRITIC_KINDS else None

        def user(
            states: Any,
            actions: Any,
            costs: Any,
            K: Any = K,
            sigma: float = sigma,
            gamma: float = gamma,
            shape: tuple[int, ...] = shape,
            critic: Any = critic,
            calls: list[Call] = calls,
            truncated: bool = scenario.truncated,
        ) -> Any:
            keywords: dict[str, Any] = {}
            if critic is not None:
                keywords = critic_keywords(
                    kind, *critic.arrays(states, actions), truncated=truncated
                )
            given = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in keywords.items()}
            output = read_estimate(
                call_estimator(
                    "check_pg_estimator",
                    kind,
                    fn,
                    "states, actions, costs, K, sigma, gamma",
                    (states.copy(), actions.copy(), costs.copy(), K.copy(), sigma, gamma),
                    given,
                ),
                seen,
            )
            if output.shape != shape:
                raise InvalidProblemError(
                    f"fn returned shape {output.shape}; expected K's shape {shape} (m, n)"
                )
            if critic is not None:
                scores = gaussian_scores(states, actions, K, sigma)
                calls.append(Call(scores, costs, gamma, keywords, output))
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
                relative_error=relative_error,
            )
        except CallMismatch:
            raise
        except ImplementationRaised as raised:
            raise OracleMismatch(
                raised_message(
                    "check_pg_estimator", kind, scenario.label, scenario.as_python(), raised
                )
            ) from raised.error
        except InvalidProblemError as error:
            raise OracleMismatch(
                f"check_pg_estimator(kind={kind!r}): the implementation failed on the "
                f"scenario {scenario.label}:\n    {scenario.as_python()}\n{error}"
            ) from error
        target = _truncated_target(index) if scenario.truncated else _target(index)
        tolerance = widened(Fraction(result.rounding_tolerance), dtype, seen) + Fraction(
            1e-12
        ) * max((abs(v) for v in target.ravel()), default=Fraction(0))
        node_error = relative_error if dtype is not None or "float32" not in seen else 1e-5
        if not _within(result.mean, target, tolerance):
            raise OracleMismatch(
                _message(kind, index, result, target, tolerance, calls, node_error)
            )
        require_same_kind(
            "check_pg_estimator",
            kind,
            scenario.label,
            scenario.as_python(),
            calls,
            gamma,
            node_error,
        )
        results.append(scenario_result(scenario.label, result, target, tolerance))
    return expectation_report("check_pg_estimator", results, start, seen, dtype)


def _message(
    kind: str,
    index: int,
    result: Any,
    target: np.ndarray,
    tolerance: Fraction,
    calls: list[Call],
    node_error: float,
) -> str:
    scenario = SCENARIOS[index]
    bias = result.mean - target
    if kind in CRITIC_KINDS:
        return biased_critic_message(
            "check_pg_estimator",
            kind,
            scenario.label,
            scenario.as_python(),
            target,
            result.mean,
            tolerance,
            f"exact, {result.nodes} cubature nodes",
            calls,
            scenario.gamma,
            node_error,
            *(
                ("2E_K Σ_{t<T} γ^t E[x_t x_tᵀ], the policy-gradient theorem's sum cut at T",)
                if scenario.truncated
                else ()
            ),
        )
    found = []
    for slip, (description, _, applies) in enumerate(SLIPS):
        if not applies(scenario):
            continue
        try:
            value = _slip_mean(index, slip)
        except Exception:  # a slip that cannot be evaluated here is silent
            continue
        if value.shape != target.shape or _within(value, target, tolerance):
            continue
        if _within(result.mean, value, tolerance):
            found.append(description)
    if found:
        diagnosis = (
            "Diagnosis: the expectation of your estimator equals that of "
            + (found[0] if len(found) == 1 else "each of: " + "; ".join(found))
            + "."
        )
    else:
        ratio = None
        norm = sum((v * v for v in target.ravel()), Fraction(0))
        if norm:
            ratio = sum(
                (a * b for a, b in zip(target.ravel(), result.mean.ravel(), strict=True)),
                Fraction(0),
            )
            ratio /= norm
            if not _within(result.mean, target * ratio, tolerance):
                ratio = None
        diagnosis = (
            f"Diagnosis: the expectation is {float(ratio):.6g} × the right one (a constant "
            "factor is missing or extra)."
            if ratio is not None
            else "Diagnosis: the bias matches none of the known slips (checked: "
            + "; ".join(d for d, _, _ in SLIPS)
            + ")."
        )
    return "\n".join(
        [
            f"check_pg_estimator(kind={kind!r}): the exact expectation of the implementation "
            f"is not the gradient ∇C_{{T−1}}(K) (exact, {result.nodes} cubature nodes).",
            "",
            f"Scenario: {scenario.label}:",
            f"    {scenario.as_python()}",
            "",
            f"expected E[estimate] = ∇C_{{T−1}}(K): {np.asarray(target, dtype=float).tolist()}",
            f"your E[estimate]: {np.asarray(result.mean, dtype=float).tolist()}",
            f"exact bias: {np.asarray(bias, dtype=float).tolist()} "
            f"(tolerance {float(tolerance):.3g} for the rounding of your float evaluations)",
            "",
            diagnosis,
        ]
    )
