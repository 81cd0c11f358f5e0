"""Score-function policy-gradient estimators (costs minimised): V0, REINFORCE and baselines.

Over a batch of M trajectories of T steps with costs ``c_t`` (t = 0, …, T−1) and per-step scores
``s_t = ∇_θ log π(u_t|x_t)``, each rollout i gives

* **V0**:        ``(Σ_t γ^t c_t) (Σ_t s_t)`` — whole-trajectory cost times the sum of scores;
* **REINFORCE**: ``Σ_t γ^t G_t s_t`` with ``G_t = Σ_{t'≥t} γ^{t'−t} c_{t'}`` (cost-to-go, V1);
* **baselined**: ``Σ_t γ^t (G_t − b_t) s_t``;

and the estimate is their mean over the batch. ``E[V0] = E[V1] = ∇C_{T−1}(θ)``, the gradient of
the finite-horizon cost ``E Σ_{t<T} γ^t c_t`` (Williams 1992; Sutton, McAllester, Singh &
Mansour 2000; for LQR the target is ``LQR.finite_horizon_gradient(K, T − 1)``). A baseline keeps
the estimate unbiased when ``b_t`` does not depend on ``u_t, u_{t+1}, …`` of its own rollout:

* a number, or a length-T array: constant (e.g. the average of *previous* rollouts' returns);
* a callable ``b(x)``: state-dependent, called once on ``states[:, :T]`` ((M, T, n) for LQR,
  (M, T) for tabular) and returning (M, T);
* ``"leave_one_out"``: ``b^{(i)}_t = (Σ_{j≠i} G^{(j)}_t) / (M − 1)``, the other rollouts' mean;
* ``"batch_mean"`` — a **biased control**, not an estimator to use: the batch mean *including*
  rollout i's own return, ``b^{(i)}_t = (Σ_j G^{(j)}_t) / M``. Its expectation is exactly
  ``(1 − 1/M) ∇C``: the bias is ``−∇C / M`` (the own-return term ``−E[Σ_t γ^t G_t s_t] / M``).

Scores: the linear Gaussian policy on LQR, ``u ~ N(−Kx, σI)`` (σ a *variance*),
``∇_K log π(u|x) = −σ⁻¹ (u + Kx) xᵀ`` (:func:`gaussian_scores`); the tabular softmax policy
``π(a|s) ∝ exp θ[s, a]``, ``∇_θ log π(a|s) = e_s (e_a − π(·|s))ᵀ`` (:func:`softmax_scores`).

Shapes: LQR ``states`` (M, T+1, n), ``actions`` (M, T, m), ``costs`` (M, T), K (m, n) → (m, n);
tabular ``states``, ``actions`` (M, T) integer arrays, logits (S, A) → (S, A).

Tier: float for float64 inputs (vectorised, no loop over rollouts or steps); exact when the
arrays are object arrays of Fractions (as :mod:`pgverify.expectation` feeds them): the same code
then computes the exact rational value. See docs/estimators.md, section 5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import (
    discount_factor,
    index_array,
    is_exact,
    numeric_array,
    powers,
    scalar,
)

Baseline = None | float | np.ndarray | Callable[[np.ndarray], Any] | str
KINDS = ("v0", "reinforce")


def gaussian_scores(states: Any, actions: Any, K: Any, sigma: Any) -> np.ndarray:
    """``s_t = −σ⁻¹ (u_t + K x_t) x_tᵀ`` for every rollout and step: shape (M, T, m, n)."""
    exact = is_exact(states, actions, K)
    gain = numeric_array(K, "K", (None, None), exact=exact)
    action_array = numeric_array(actions, "actions", (None, None, None), exact=exact)
    state_array = numeric_array(states, "states", (None, None, None), exact=exact)
    M, T, m = action_array.shape
    n = state_array.shape[2]
    if gain.shape != (m, n) or state_array.shape[:2] != (M, T + 1) or M < 1 or T < 1:
        raise InvalidProblemError(
            f"K has shape {gain.shape}, actions {action_array.shape} and states "
            f"{state_array.shape}; expected K (m, n), actions (M, T, m) and states (M, T+1, n) "
            f"with M, T >= 1"
        )
    variance = scalar(sigma, "sigma (the exploration variance)", exact=exact, positive=True)
    visited = state_array[:, :T, :]
    residual = action_array + visited @ gain.T  # u_t + K x_t = the exploration noise w_t
    return -(residual[..., :, None] * visited[..., None, :]) / variance


def softmax_policy_table(logits: Any) -> np.ndarray:
    """``π(a|s) = exp θ[s, a] / Σ_b exp θ[s, b]`` in float64 (max-shifted), shape (S, A)."""
    table = numeric_array(logits, "logits", (None, None), exact=False)
    if table.size == 0:
        raise InvalidProblemError(f"logits has shape {table.shape}; expected (S, A), S, A >= 1")
    shifted = np.exp(table - table.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def softmax_scores(states: Any, actions: Any, policy: Any) -> np.ndarray:
    """``s_t = e_{x_t} (e_{u_t} − π(·|x_t))ᵀ`` for every rollout and step: shape (M, T, S, A).

    ``policy`` is the table π (S, A) — :func:`softmax_policy_table` of the logits, or exact
    Fractions (then the scores are exact)."""
    exact = is_exact(policy)
    table = numeric_array(policy, "policy", (None, None), exact=exact)
    S, A = table.shape
    if S == 0 or A == 0:
        raise InvalidProblemError(f"policy has shape {table.shape}; expected (S, A), S, A >= 1")
    try:
        state_index = np.asarray(states)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"states could not be read as an array: {exc}") from exc
    if state_index.ndim != 2:
        raise InvalidProblemError(
            f"states has shape {state_index.shape}; expected (M, T) integer state indices"
        )
    try:
        action_shape = np.shape(actions)
    except Exception as exc:
        raise InvalidProblemError(f"actions could not be read as an array: {exc}") from exc
    if action_shape != state_index.shape:
        raise InvalidProblemError(
            f"actions has shape {action_shape} and states {state_index.shape}; expected both (M, T)"
        )
    state_index = index_array(states, "states", state_index.shape, S, "rows of the policy table")
    action_index = index_array(
        actions, "actions", state_index.shape, A, "columns of the policy table"
    )
    dtype = object if exact else np.float64
    one = 1 if exact else 1.0
    state_hot = (state_index[..., None] == np.arange(S)).astype(dtype) * one
    action_hot = (action_index[..., None] == np.arange(A)).astype(dtype) * one
    return state_hot[..., :, None] * (action_hot - table[state_index])[..., None, :]


def _discounted_baseline(
    baseline: Baseline,
    discounted_to_go: np.ndarray,
    weights: np.ndarray,
    states: Any,
    exact: bool,
) -> np.ndarray:
    """``γ^t b_t`` for every rollout and step, shape (M, T)."""
    M, T = discounted_to_go.shape
    if isinstance(baseline, str):
        total = discounted_to_go.sum(axis=0, keepdims=True)
        if baseline == "batch_mean":
            return np.broadcast_to(total / M, (M, T))
        if baseline == "leave_one_out":
            if M < 2:
                raise InvalidProblemError(
                    f"the leave-one-out baseline needs a batch of M >= 2 rollouts, got M = {M}"
                )
            return (total - discounted_to_go) / (M - 1)
        raise InvalidProblemError(
            f"baseline = {baseline!r}; expected a number, a length-T array, a callable b(x), "
            f"'leave_one_out' or 'batch_mean'"
        )
    if callable(baseline):
        if states is None:
            raise InvalidProblemError("a state-dependent baseline b(x) needs the states")
        visited = np.asarray(states)
        if visited.ndim < 2 or visited.shape[:2] not in ((M, T), (M, T + 1)):
            raise InvalidProblemError(
                f"states has shape {visited.shape}; a baseline b(x) needs states (M, T, ...) or "
                f"(M, T+1, ...) with (M, T) = {(M, T)}"
            )
        visited = visited[:, :T]
        values = numeric_array(baseline(visited), "baseline(states)", (M, T), exact=exact)
        return values * weights
    try:
        values = np.asarray(baseline)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"baseline could not be read as an array: {exc}") from exc
    if values.ndim == 0:
        return np.broadcast_to(scalar(baseline, "baseline", exact=exact) * weights, (M, T))
    per_step = numeric_array(baseline, "baseline", (T,), exact=exact)
    return np.broadcast_to(per_step * weights, (M, T))


def score_function_estimate(
    scores: Any,
    costs: Any,
    gamma: Any,
    kind: str = "reinforce",
    baseline: Baseline = None,
    states: Any = None,
) -> np.ndarray:
    """The batch mean of V0 (``kind="v0"``) or REINFORCE with an optional baseline
    (``kind="reinforce"``), given per-step ``scores`` (M, T, *P) and ``costs`` (M, T): shape P.

    See the module docstring for the formulas and the baselines; ``states`` is read only by a
    callable baseline. Raises InvalidProblemError on a bad shape, kind, γ or baseline."""
    exact = is_exact(scores, costs)
    try:
        score_array = np.asarray(scores)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"scores could not be read as an array: {exc}") from exc
    if score_array.ndim < 2:
        raise InvalidProblemError(f"scores has shape {score_array.shape}; expected (M, T, ...)")
    M, T = score_array.shape[:2]
    if M < 1 or T < 1:
        raise InvalidProblemError(f"scores has shape {score_array.shape}; expected M, T >= 1")
    score_array = numeric_array(scores, "scores", score_array.shape, exact=exact)
    cost_array = numeric_array(costs, "costs", (None, None), exact=exact)
    if cost_array.shape != (M, T):
        raise InvalidProblemError(
            f"costs has shape {cost_array.shape} and scores {score_array.shape}; expected costs "
            f"(M, T) and scores (M, T, ...)"
        )
    weights = powers(discount_factor(gamma, exact=exact), T, exact=exact)  # γ^t
    discounted = cost_array * weights
    if kind == "v0":
        if baseline is not None:
            raise InvalidProblemError("V0 takes no baseline; use kind='reinforce' with a baseline")
        per_rollout = _expand(discounted.sum(axis=1), score_array.ndim - 1) * score_array.sum(
            axis=1
        )
    elif kind == "reinforce":
        # γ^t G_t = Σ_{t'≥t} γ^{t'} c_{t'}: a reverse cumulative sum, no division by γ^t
        discounted_to_go = np.cumsum(discounted[:, ::-1], axis=1)[:, ::-1]
        if baseline is not None:
            discounted_to_go = discounted_to_go - _discounted_baseline(
                baseline, discounted_to_go, weights, states, exact
            )
        per_rollout = (_expand(discounted_to_go, score_array.ndim) * score_array).sum(axis=1)
    else:
        raise InvalidProblemError(f"kind = {kind!r}; expected one of {KINDS}")
    return per_rollout.sum(axis=0) / M


def _expand(array: np.ndarray, ndim: int) -> np.ndarray:
    """``array`` with trailing axes added up to ``ndim`` dimensions (for broadcasting)."""
    return array.reshape(array.shape + (1,) * (ndim - array.ndim))


# ----- the LQR Gaussian policy: fn(states, actions, costs, K, sigma, gamma) -> (m, n) -----------


def gaussian_v0(
    states: Any, actions: Any, costs: Any, K: Any, sigma: Any, gamma: Any
) -> np.ndarray:
    """V0 for ``u ~ N(−Kx, σI)``: batch mean of ``(Σ_t γ^t c_t)(Σ_t s_t)``, shape (m, n)."""
    return score_function_estimate(gaussian_scores(states, actions, K, sigma), costs, gamma, "v0")


def gaussian_reinforce(
    states: Any, actions: Any, costs: Any, K: Any, sigma: Any, gamma: Any, baseline: Baseline = None
) -> np.ndarray:
    """REINFORCE (V1) for ``u ~ N(−Kx, σI)``: batch mean of ``Σ_t γ^t (G_t − b_t) s_t``, (m, n)."""
    scores = gaussian_scores(states, actions, K, sigma)
    return score_function_estimate(scores, costs, gamma, "reinforce", baseline, states)


# ----- the tabular softmax policy: fn(states, actions, costs, logits, gamma) -> (S, A) ----------


def softmax_v0(states: Any, actions: Any, costs: Any, logits: Any, gamma: Any) -> np.ndarray:
    """V0 for the tabular softmax policy of ``logits``, shape (S, A)."""
    return score_function_estimate(_logit_scores(states, actions, logits), costs, gamma, "v0")


def softmax_reinforce(
    states: Any, actions: Any, costs: Any, logits: Any, gamma: Any, baseline: Baseline = None
) -> np.ndarray:
    """REINFORCE (V1) with an optional baseline for the tabular softmax policy, shape (S, A)."""
    scores = _logit_scores(states, actions, logits)
    return score_function_estimate(scores, costs, gamma, "reinforce", baseline, states)


def _logit_scores(states: Any, actions: Any, logits: Any) -> np.ndarray:
    try:
        return softmax_scores(states, actions, softmax_policy_table(logits))
    except InvalidProblemError as error:  # the table was computed from the logits: say so
        raise InvalidProblemError(str(error).replace("policy table", "logits table")) from None
