"""Policy-gradient estimators with a critic: the Ψ_t options Q^π, A^π, TD residual and GAE.

The policy-gradient theorem (Sutton, McAllester, Singh & Mansour 2000) with the choices of Ψ_t
listed by Schulman, Moritz, Levine, Jordan & Abbeel 2016 ("High-dimensional continuous control
using generalized advantage estimation", section 2): over a batch of M trajectories of T steps
with costs ``c_t``, scores ``s_t = ∇_θ log π(u_t|x_t)`` and a critic, each rollout gives
``Σ_{t<T} γ^t Ψ_t s_t`` and the estimate is the batch mean, with

* ``"q"``:         ``Ψ_t = Q_t(x_t, u_t)``;
* ``"advantage"``: ``Ψ_t = Q_t(x_t, u_t) − V_t(x_t)``;
* ``"td"``:        ``Ψ_t = δ_t = c_t + γ (1 − d_t) V_{t+1}(x_{t+1}) − V_t(x_t)``;
* ``"gae"``:       ``Ψ_t = Σ_{l≥0} (γλ)^l δ_{t+l}``, the trace cut after a terminal step
  (``A_t = δ_t + γλ (1 − d_t) A_{t+1}``, ``A_T = 0``).

``d_t`` (``terminated``) marks the last step of an episode: no bootstrap from ``V_{t+1}`` and no
trace across it. With the policy's exact critic — at a finite horizon T the time-dependent
``V_t(x) = E[Σ_{k=t}^{T−1} γ^{k−t} c_k | x_t = x]``, ``Q_t(x, u) = c(x, u) + γ E V_{t+1}(x')``,
``V_T = 0`` — every kind is unbiased for ``∇C_{T−1}``, the gradient of ``E Σ_{t<T} γ^t c_t``:
``V_t`` is a baseline, ``E[δ_t | x_t, u_t] = Q_t − V_t``, and for l ≥ 1 ``E[δ_{t+l} | x_t, u_t]
= E[A_{t+l}] = 0``, so GAE is unbiased for every λ (docs/estimators.md, section 7). With the
stationary critic of the discounted infinite-horizon cost over rollouts cut by a time limit
(``terminated`` all False: bootstrap from ``V(x_T)``), every kind has the expectation
``Σ_{t<T} γ^t E[A(x_t, u_t) s_t]``, the policy-gradient theorem's sum cut at T.

Arrays (the critic evaluated along the batch):

* ``q_values`` (M, T): ``Q_t(x_t, u_t)``;
* ``values`` (M, T+1): ``V_t(x_t)`` for t < T; column T is the critic's value of the last state
  ``x_T``, which the estimator must **not** bootstrap from where the episode terminated;
* ``terminated`` (M, T) flags (default: only the last step, t = T − 1, where the horizon ends
  every episode);
* ``lam``: GAE's λ in [0, 1].

Shapes and scores as :mod:`pgverify.estimators.policy_gradient` (LQR ``u ~ N(−Kx, σI)``, σ a
variance: (m, n); tabular softmax: (S, A)). Tier: float for float64 inputs (vectorised over the
batch; GAE's backward recursion loops over the T steps only); exact when the arrays are object
arrays of Fractions, as :mod:`pgverify.expectation` feeds them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import (
    discount_factor,
    is_exact,
    numeric_array,
    powers,
    scalar,
)
from pgverify.estimators.policy_gradient import _logit_scores, gaussian_scores

CRITIC_KINDS = ("q", "advantage", "td", "gae")
NEEDS: dict[str, tuple[str, ...]] = {
    "q": ("q_values",),
    "advantage": ("q_values", "values"),
    "td": ("values", "terminated"),
    "gae": ("values", "terminated", "lam"),
}
"""The critic arrays each kind reads (``terminated`` may be omitted: the horizon ends)."""


def _terminal_flags(terminated: Any, shape: tuple[int, int]) -> np.ndarray:
    """``terminated`` as a bool (M, T) array; None: only the last step ends the episode."""
    if terminated is None:
        flags = np.zeros(shape, dtype=bool)
        flags[:, -1] = True
        return flags
    try:
        array = np.asarray(terminated)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"terminated could not be read as an array: {exc}") from exc
    if array.shape != shape:
        raise InvalidProblemError(
            f"terminated has shape {array.shape}; expected {shape} (M, T), the shape of costs"
        )
    if array.dtype == bool:
        return array.copy()
    if array.dtype == object or not np.issubdtype(array.dtype, np.number):
        raise InvalidProblemError(
            f"terminated must hold flags, got dtype {array.dtype}; expected bool or 0/1"
        )
    if np.iscomplexobj(array):
        raise InvalidProblemError("terminated has complex entries; expected bool or 0/1 flags")
    not_a_flag = (array != 0) & (array != 1)  # NaN is neither
    if np.any(not_a_flag):
        index = tuple(int(i) for i in np.argwhere(not_a_flag)[0])
        raise InvalidProblemError(
            f"terminated has the value {array[index].item()!r} at index {index}; expected a "
            f"flag: True/False or 1/0"
        )
    return array == 1


def _critic_array(value: Any, name: str, shape: tuple[int, int], exact: bool) -> Any:
    """A critic array of ``shape`` (set by the costs), or None when not given."""
    if value is None:
        return None
    try:
        return numeric_array(value, name, shape, exact=exact)
    except InvalidProblemError as error:
        if "has shape" not in str(error):
            raise
        raise InvalidProblemError(
            f"{error} (M = {shape[0]} rollouts and T = {shape[1] - (name == 'values')} steps, "
            f"read from the shape of costs)"
        ) from None


def critic_advantages(
    kind: str,
    costs: Any,
    gamma: Any,
    *,
    values: Any = None,
    q_values: Any = None,
    terminated: Any = None,
    lam: Any = None,
) -> np.ndarray:
    """``Ψ_t`` (M, T) of ``kind`` (see the module docstring) from the costs (M, T) and the
    critic arrays the kind reads; exact for Fraction inputs. Raises InvalidProblemError on a bad
    kind, shape, γ, λ or a missing array."""
    if not isinstance(kind, str) or kind not in CRITIC_KINDS:
        raise InvalidProblemError(f"kind = {kind!r}; expected one of {CRITIC_KINDS}")
    given = {"values": values, "q_values": q_values, "lam": lam}
    missing = [name for name in NEEDS[kind] if name in given and given[name] is None]
    if missing:
        raise InvalidProblemError(
            f"kind = {kind!r} needs {', '.join(missing)} (got None); expected q_values (M, T), "
            f"values (M, T+1) and, for 'gae', lam in [0, 1]"
        )
    exact = is_exact(costs, values, q_values)
    cost_array = numeric_array(costs, "costs", (None, None), exact=exact)
    M, T = cost_array.shape
    if M < 1 or T < 1:
        raise InvalidProblemError(f"costs has shape {cost_array.shape}; expected M, T >= 1")
    discount = discount_factor(gamma, exact=exact)
    # every array given is validated, read by this kind or not: a malformed one is a mistake
    q_array = _critic_array(q_values, "q_values", (M, T), exact)
    value_array = _critic_array(values, "values", (M, T + 1), exact)
    continues = ~_terminal_flags(terminated, (M, T))
    trace = None if lam is None else scalar(lam, "lam", exact=exact)
    if trace is not None and not 0 <= trace <= 1:
        raise InvalidProblemError(f"lam = {lam!r} is outside [0, 1]")
    if kind == "q":
        return q_array
    if kind == "advantage":
        return q_array - value_array[:, :T]
    deltas = td_residuals_with_flags(cost_array, value_array, continues, discount)
    if kind == "td":
        return deltas
    return discounted_trace(deltas, continues, discount * trace)


def td_residuals_with_flags(
    costs: np.ndarray, values: np.ndarray, continues: np.ndarray, gamma: Any
) -> np.ndarray:
    """``δ_t = c_t + γ (1 − d_t) V_{t+1} − V_t`` for validated arrays costs (M, T), values
    (M, T+1) and ``continues = 1 − d`` (M, T) bools."""
    following = values[:, 1:]
    # a terminated step adds no bootstrap, whatever column t+1 holds
    following = np.where(continues, following, 0 * following)
    return costs + gamma * following - values[:, :-1]


def discounted_trace(deltas: np.ndarray, continues: np.ndarray, factor: Any) -> np.ndarray:
    """``A_t = δ_t + factor · (1 − d_t) A_{t+1}``, ``A_T = 0`` (GAE: factor = γλ); a backward
    recursion over the T steps, vectorised over the batch."""
    advantages = deltas.copy()
    for t in range(deltas.shape[1] - 2, -1, -1):
        carried = np.where(continues[:, t], advantages[:, t + 1], 0 * advantages[:, t + 1])
        advantages[:, t] = deltas[:, t] + factor * carried
    return advantages


def critic_estimate(
    scores: Any,
    costs: Any,
    gamma: Any,
    kind: str,
    *,
    values: Any = None,
    q_values: Any = None,
    terminated: Any = None,
    lam: Any = None,
) -> np.ndarray:
    """The batch mean of ``Σ_t γ^t Ψ_t s_t`` for per-step ``scores`` (M, T, *P): shape P.

    ``Ψ_t`` by :func:`critic_advantages` (the module docstring gives the four kinds and the
    arrays). Tier: float, or exact for Fraction inputs."""
    exact = is_exact(scores, costs, values, q_values)
    try:
        score_array = np.asarray(scores)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"scores could not be read as an array: {exc}") from exc
    if score_array.ndim < 2 or 0 in score_array.shape[:2]:
        raise InvalidProblemError(
            f"scores has shape {score_array.shape}; expected (M, T, ...) with M, T >= 1"
        )
    score_array = numeric_array(scores, "scores", score_array.shape, exact=exact)
    M, T = score_array.shape[:2]
    psi = critic_advantages(
        kind, costs, gamma, values=values, q_values=q_values, terminated=terminated, lam=lam
    )
    if exact and psi.dtype != object:  # the scores were exact, the critic floats: exact too
        psi = numeric_array(psi, "the critic arrays", psi.shape, exact=True)
    if psi.shape != (M, T):
        raise InvalidProblemError(
            f"costs has shape {psi.shape} and scores {score_array.shape}; expected costs (M, T) "
            f"and scores (M, T, ...)"
        )
    weights = powers(discount_factor(gamma, exact=exact), T, exact=exact)  # γ^t
    return weighted_score_mean(psi, weights, score_array)


def weighted_score_mean(psi: np.ndarray, weights: Any, scores: np.ndarray) -> np.ndarray:
    """``(1/M) Σ_i Σ_t w_t Ψ_it s_it`` for Ψ (M, T), step weights w (T,) and per-step scores
    (M, T, *P): shape P (the batch mean of a score-function estimate)."""
    M, T = psi.shape
    weighted = (psi * weights).reshape((M, T) + (1,) * (scores.ndim - 2))
    return (weighted * scores).sum(axis=(0, 1)) / M


def gaussian_critic_pg(
    states: Any,
    actions: Any,
    costs: Any,
    K: Any,
    sigma: Any,
    gamma: Any,
    *,
    kind: str,
    values: Any = None,
    q_values: Any = None,
    terminated: Any = None,
    lam: Any = None,
) -> np.ndarray:
    """``mean_i Σ_t γ^t Ψ_t s_t`` for ``u ~ N(−Kx, σI)`` on LQR (σ a variance), shape (m, n):
    scores ``s_t = −σ⁻¹(u_t + Kx_t)x_tᵀ``, Ψ_t of ``kind`` ("q", "advantage", "td", "gae") from
    the critic arrays (module docstring). ``states`` (M, T+1, n), ``actions`` (M, T, m),
    ``costs`` (M, T). Unbiased for ``∇C_{T−1}(K)`` with the exact critic (Sutton et al. 2000;
    Schulman et al. 2016). Tier: float, or exact for Fractions."""
    scores = gaussian_scores(states, actions, K, sigma)
    return critic_estimate(
        scores,
        costs,
        gamma,
        kind,
        values=values,
        q_values=q_values,
        terminated=terminated,
        lam=lam,
    )


def softmax_critic_pg(
    states: Any,
    actions: Any,
    costs: Any,
    logits: Any,
    gamma: Any,
    *,
    kind: str,
    values: Any = None,
    q_values: Any = None,
    terminated: Any = None,
    lam: Any = None,
) -> np.ndarray:
    """``mean_i Σ_t γ^t Ψ_t s_t`` for the tabular softmax policy ``π(a|s) ∝ exp logits[s, a]``,
    shape (S, A): scores ``s_t = e_{x_t}(e_{u_t} − π(·|x_t))ᵀ``, ``states``, ``actions`` (M, T)
    integer arrays, ``costs`` (M, T); Ψ_t as :func:`gaussian_critic_pg`. Unbiased for
    ``∂C_{T−1}/∂θ`` with the exact critic. Tier: float (the logits go through float64 exp)."""
    scores = _logit_scores(states, actions, logits)
    return critic_estimate(
        scores,
        costs,
        gamma,
        kind,
        values=values,
        q_values=q_values,
        terminated=terminated,
        lam=lam,
    )
