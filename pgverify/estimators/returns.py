"""Reference returns and advantages: discounted returns-to-go, TD residuals, GAE(γ, λ), λ-returns.

Conventions (docs/estimators.md):

* **costs, not rewards.** The costs ``c_t`` are minimised. A reward-based library computes the
  same quantities with ``r_t = −c_t`` (and values ``V_r = −V``): every output here is then the
  negative of the library's, e.g. ``gae(−r, −V, −V′, …) == −library_gae(r, V, V′, …)``. The
  algebra is linear, so flipping the sign of every input flips the sign of every output.
* **shapes.** Every array has shape (T,) — one segment of T transitions — or (B, T) — a batch of
  B segments, time last. Nothing crosses from one row to the next, and the last step of a row ends
  its trailing (partial) episode. Outputs are float64 arrays of the same shape.
* **flags.** ``dones``, ``terminated`` and ``truncated`` are bools or 0/1 numbers; step t carries
  the flag when the episode ended *at* t (after the transition from ``x_t``).
* **tier: float.** These are float64 references, computed by the vectorised backward recursion
  (:func:`~pgverify.estimators.recursion.reverse_discounted_sum`), with no Python loop over time
  steps. Their exactness is established by the property tests
  (properties/test_estimators_returns.py) against implementations in exact rational arithmetic:
  each output differs from the exact value of its formula at the float64 inputs by at most
  ``(3L + 4) u M_t`` to first order in ``u = 2⁻⁵³`` (Higham's standard model of rounding), for
  an episode of L steps, with ``M_t = Σ_k (γλ)^{k−t} (|c_k| + γ|V′_k| + |V_k|) + |V_t|`` over
  t's episode (λ = 1 and no values for returns-to-go; the ``|V_t|`` term for λ-returns only).

References: J. Schulman, P. Moritz, S. Levine, M. Jordan, P. Abbeel, "High-Dimensional Continuous
Control Using Generalized Advantage Estimation", ICLR 2016, arXiv:1506.02438 (GAE, eqs. 10-16);
R. S. Sutton, A. G. Barto, "Reinforcement Learning: An Introduction", 2nd ed., MIT Press 2018
(returns ch. 3.3, TD errors ch. 6, λ-returns ch. 12, eqs. 12.2 and 12.9).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pgverify.estimators.recursion import reverse_discounted_sum
from pgverify.estimators.validation import discount, finite_result, flag_segment, real_segment


def _as_batch(array: np.ndarray) -> np.ndarray:
    """(T,) → (1, T); (B, T) unchanged: the kernel works on batches."""
    return array.reshape(1, -1) if array.ndim == 1 else array


def discounted_returns(costs: Any, dones: Any, gamma: float) -> np.ndarray:
    """Discounted costs-to-go, cut at episode ends.

    ``G_t = Σ_{k=t}^{e(t)} γ^{k−t} c_k``, where ``e(t)`` is the first ``k ≥ t`` with ``dones[k]``
    (the last step of t's episode: no return crosses it), or the segment's last step when the
    episode is not over (the trailing partial episode sums to the end of the segment, with no
    bootstrap). Equivalently ``G_t = c_t + γ (1 − dones_t) G_{t+1}`` backwards from
    ``G_{T−1} = c_{T−1}`` (Sutton & Barto 2018, eq. 3.9).

    Args:
        costs: (T,) or (B, T) real costs ``c_t``.
        dones: same shape, bool or 0/1: ``dones[t]`` marks the last step of an episode.
        gamma: discount γ ∈ (0, 1].

    Returns:
        float64 array of the shape of ``costs``. Tier: float (see the module docstring).

    Raises:
        InvalidProblemError: a bad shape, dtype, flag, non-finite entry or γ; or float64 overflow.
    """
    cost_array = real_segment(costs, "costs")
    done_array = flag_segment(dones, "dones", cost_array.shape)
    gamma = discount(gamma, "gamma", allow_zero=False)
    returns = reverse_discounted_sum(_as_batch(cost_array), _as_batch(done_array), gamma)
    return finite_result(returns.reshape(cost_array.shape), "discounted returns")


def _td_residuals(
    costs: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    gamma: float,
) -> np.ndarray:
    # np.where, not a product with (1 − terminated): the value after a terminal step is not read
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        bootstrap = np.where(terminated, 0.0, gamma * next_values)
        residuals = costs + bootstrap - values
    return finite_result(residuals, "TD residuals")


def td_residuals(
    costs: Any, values: Any, next_values: Any, terminated: Any, gamma: float
) -> np.ndarray:
    """One-step temporal-difference residuals (TD errors) of a value function, for costs.

    ``δ_t = c_t + γ (1 − terminated_t) V(x_{t+1}) − V(x_t)`` (Sutton & Barto 2018, eq. 6.5;
    Schulman et al. 2016, eq. 9, with costs). At a terminated step the next value is not read, so
    any finite placeholder may stand there.

    Args:
        costs: (T,) or (B, T) costs ``c_t``.
        values: same shape, ``values[t] = V(x_t)``.
        next_values: same shape, ``next_values[t] = V(x_{t+1})``, the value of the true next state.
        terminated: same shape, bool or 0/1: the episode ended at t, no bootstrap.
        gamma: discount γ ∈ (0, 1].

    Returns:
        float64 array of the shape of ``costs``. Tier: float (see the module docstring).

    Raises:
        InvalidProblemError: a bad shape, dtype, flag, non-finite entry or γ; or float64 overflow.
    """
    cost_array = real_segment(costs, "costs")
    shape = cost_array.shape
    return _td_residuals(
        cost_array,
        real_segment(values, "values", shape),
        real_segment(next_values, "next_values", shape),
        flag_segment(terminated, "terminated", shape),
        discount(gamma, "gamma", allow_zero=False),
    )


def gae(
    costs: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalized advantage estimates GAE(γ, λ) (Schulman et al. 2016, eq. 16), for costs.

    ``A_t = δ_t + γλ (1 − done_t) A_{t+1}`` backwards from ``A_{T−1} = δ_{T−1}``, with
    ``δ_t = c_t + γ (1 − terminated_t) V(x_{t+1}) − V(x_t)`` (:func:`td_residuals`) and
    ``done_t = terminated_t or truncated_t``; that is ``A_t = Σ_{k=t}^{e(t)} (γλ)^{k−t} δ_k``
    with ``e(t)`` the first ``k ≥ t`` that is done, or the segment's last step.

    * ``terminated[t]``: the episode ended at t (a terminal state): no bootstrap, no trace across.
    * ``truncated[t]``: a time limit cut the episode at t: bootstrap from ``next_values[t]``, the
      value of the true next state (not of the state after a reset), and no trace across.
      A step both terminated and truncated counts as terminated.
    * the segment's last step, if not done: bootstrap from ``next_values[T−1]``, trace cut.

    These are the semantics of TorchRL's ``generalized_advantage_estimate(gamma, lmbda,
    state_value, next_state_value, reward, done, terminated)`` with ``done = terminated |
    truncated`` and ``reward = −costs`` (its advantage is the negative of this one, see the
    module docstring). λ = 0 gives the TD residuals; λ = 1 with no truncation, consistent values
    and a terminal last step gives ``discounted_returns(costs, terminated, γ) − values``.

    Args:
        costs: (T,) or (B, T) costs ``c_t``.
        values: same shape, ``values[t] = V(x_t)``.
        next_values: same shape, ``next_values[t] = V(x_{t+1})`` of the true next state (also at a
            truncation).
        terminated: same shape, bool or 0/1: the episode ended at step t (no bootstrap).
        truncated: same shape, bool or 0/1: a time limit cut it at step t (bootstrap).
        gamma: discount γ ∈ (0, 1].
        lam: λ ∈ [0, 1].

    Returns:
        float64 array of the shape of ``costs``. Tier: float (see the module docstring).

    Raises:
        InvalidProblemError: a bad shape, dtype, flag, non-finite entry, γ or λ; or overflow.
    """
    advantages, _ = _gae_and_values(costs, values, next_values, terminated, truncated, gamma, lam)
    return advantages


def lambda_returns(
    costs: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """λ-returns for costs, the value targets of GAE: ``G^λ_t = A_t + V(x_t)``, ``A`` = :func:`gae`.

    Exactly: ``G^λ_t = c_t + γ (1 − terminated_t) V(x_{t+1}) + γλ (1 − done_t) (G^λ_{t+1} −
    V(x_{t+1}))``, with ``V(x_{t+1}) = next_values[t]`` in the first term and ``values[t+1]`` in
    the last, and the same flags as :func:`gae`. When ``next_values[t] == values[t+1]`` inside
    every episode this is the recursive λ-return ``G^λ_t = c_t + γ [(1 − λ) V(x_{t+1}) + λ
    G^λ_{t+1}]`` (Sutton & Barto 2018, eq. 12.2 in recursive form), truncated at the episode's
    end as the truncated λ-return of eq. 12.9: the bootstrap there is ``γ next_values[e]`` after a
    truncation or at the segment's end, 0 after a termination. TorchRL's ``value_target``.

    Args and Raises: as :func:`gae`. Returns a float64 array of the shape of ``costs``. Tier: float.
    """
    advantages, value_array = _gae_and_values(
        costs, values, next_values, terminated, truncated, gamma, lam
    )
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported just below
        returns = advantages + value_array
    return finite_result(returns, "lambda-returns")


def _gae_and_values(
    costs: Any,
    values: Any,
    next_values: Any,
    terminated: Any,
    truncated: Any,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    cost_array = real_segment(costs, "costs")
    shape = cost_array.shape
    value_array = real_segment(values, "values", shape)
    next_value_array = real_segment(next_values, "next_values", shape)
    terminated_array = flag_segment(terminated, "terminated", shape)
    truncated_array = flag_segment(truncated, "truncated", shape)
    gamma = discount(gamma, "gamma", allow_zero=False)
    lam = discount(lam, "lam", allow_zero=True)
    deltas = _td_residuals(cost_array, value_array, next_value_array, terminated_array, gamma)
    done = terminated_array | truncated_array
    advantages = reverse_discounted_sum(_as_batch(deltas), _as_batch(done), gamma * lam)
    return finite_result(advantages.reshape(shape), "advantages"), value_array
