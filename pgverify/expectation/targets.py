"""The exact quantities the estimators estimate (tiers exact or certified).

* LQR score-function estimators (V0, REINFORCE, any unbiased baseline) over T-step rollouts:
  ``∇_K C_{T−1}(K)``, the gradient of ``E Σ_{t<T} γ^t (x_tᵀQx_t + u_tᵀRu_t)`` with exploration
  noise σ — ``LQR.finite_horizon_gradient(K, T − 1)`` (Fazel et al. 2018; docs/estimators.md §6).
* Tabular softmax estimators over T-step trajectories: ``∂C_{T−1}/∂θ[s, a] = π(a|s) (G[s, a] −
  Σ_b π(b|s) G[s, b])`` with G the exact direct-parametrisation gradient of
  :func:`pgverify.mdp.finite_horizon.finite_horizon_gradient` (the chain rule through
  ``∂π(b|s)/∂θ[s, a] = π(b|s)(1[a = b] − π(a|s))``); exact for a rational policy table.
* The batch-mean baseline that includes the rollout's own return: expectation ``(1 − 1/M) ∇C``,
  bias ``−∇C / M`` (the own-return term; see :mod:`pgverify.estimators.policy_gradient`).
* Zeroth order on a quadratic cost ``C(K) = ½ vec(K)ᵀ H vec(K) + ⟨g, K⟩ + c``: the smoothed cost's
  gradient equals ``∇C(K) = H vec(K) + g`` exactly at every smoothing (Nesterov & Spokoiny 2017);
  on a cubic cost it differs by the O(μ²) term of :func:`smoothed_gradient`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import numeric_array
from pgverify.expectation.lqr import _positive_int
from pgverify.mdp.finite_horizon import finite_horizon_gradient
from pgverify.mdp.model import tabular_policy


def lqr_gradient_target(problem: Any, K: Any, steps: int, precision: Any = "certified") -> Any:
    """``∇C_{T−1}(K)`` for T = ``steps`` (an Enclosure by default; any precision of pgverify)."""
    from pgverify.lqr import LQR  # here: pgverify.lqr imports much of the package

    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    steps = _positive_int(steps, "steps")
    return problem.finite_horizon_gradient(K, steps - 1, precision=precision)


def softmax_gradient_target(mdp: Any, policy: Any, steps: int) -> np.ndarray:
    """``∂C_{T−1}/∂θ`` (S, A) for the softmax policy whose probabilities are the exact table
    ``policy`` (logits θ = log π up to a per-state constant); an object array of Fractions."""
    table = tabular_policy(mdp, policy)
    direct = finite_horizon_gradient(mdp, table, _positive_int(steps, "steps") - 1)
    result = np.empty((mdp.states, mdp.actions), dtype=object)
    for s in range(mdp.states):
        average = sum((table[s][b] * direct[s][b] for b in range(mdp.actions)), Fraction(0))
        for a in range(mdp.actions):
            result[s, a] = table[s][a] * (direct[s][a] - average)
    return result


def batch_mean_baseline_expectation(target: Any, batch: int) -> Any:
    """``(1 − 1/M) target``: the exact expectation of REINFORCE with the batch-mean baseline that
    includes each rollout's own return, over batches of M rollouts.  ``target``: an
    :class:`pgverify.Enclosure` (the result is one, certified), Fractions (exact) or floats."""
    batch = _positive_int(batch, "batch")
    factor = Fraction(batch - 1, batch)
    from pgverify.enclosure import Enclosure  # here: the package init imports this module

    if isinstance(target, Enclosure):
        return Enclosure(target.ball * fmpq(factor.numerator, factor.denominator))
    try:
        dimensions = np.ndim(target)
    except ValueError:  # ragged: numeric_array's message names target
        dimensions = 1
    exact = _holds_objects(target)
    values = numeric_array(target, "target", (None,) * dimensions, exact=exact)
    if values.size == 0:
        raise InvalidProblemError(f"target is empty (shape {values.shape}); expected numbers")
    return values * factor if values.ndim else values[()] * factor


def _holds_objects(value: Any) -> bool:
    """Is ``value`` an object array (Fractions: exact arithmetic)?  Unreadable values are left
    to :func:`numeric_array`, whose message names the argument."""
    try:
        return np.asarray(value).dtype == object
    except ValueError:  # ragged
        return False


def quadratic_gradient(hessian: Any, gradient: Any, K: Any) -> np.ndarray:
    """``H k + g`` for k = K.ravel() (row-major flattening), reshaped to K's shape; exact for
    Fraction data."""
    exact = any(_holds_objects(a) for a in (hessian, gradient, K))
    gain = numeric_array(K, "K", (None, None), exact=exact)
    size = gain.size
    H = numeric_array(hessian, "hessian", (size, size), exact=exact)
    g = numeric_array(np.reshape(gradient, -1), "gradient", (size,), exact=exact)
    return (H @ gain.reshape(-1) + g).reshape(gain.shape)


SMOOTHINGS = ("gaussian", "ball")


def smoothed_gradient(cost: Any, K: Any, smoothing: Any, distribution: str = "gaussian") -> Any:
    """The exact gradient of the smoothed cost of a :func:`pgverify.estimators.cubic_cost`, the
    target of the zeroth-order estimators (an object array of Fractions, K's shape (m, n)).

    With ``C(k) = Σ c_ijk k_i k_j k_k + ½ kᵀHk + gᵀk + c`` (k = vec(K), d = mn entries) and S the
    symmetrisation of c, ``∇C(k) = 3 S(·, k, k) + Hk + g`` and ``∇ΔC = 6 (Σ_j S_ajj)_a`` (a
    constant: Δ is the Laplacian). Odd moments of a symmetric perturbation vanish and the cubic
    term has no fourth-order part, so exactly:

    * ``"gaussian"`` — ``C_μ(K) = E C(K + με)``, ε ~ N(0, I), whose gradient the Gaussian,
      shifted and antithetic forms estimate: ``∇C_μ = ∇C + (μ²/2) ∇ΔC`` (``E ε_j² = 1``;
      Nesterov & Spokoiny 2017, §2);
    * ``"ball"`` — ``Ĉ_r(K) = E C(K + r v)``, v uniform in the unit ball of R^d, whose gradient the
      sphere form ``(d/r) E C(K + ru)u`` estimates (Flaxman, Kalai & McMahan 2005, Lemma 1):
      ``∇Ĉ_r = ∇C + r²/(2(d + 2)) ∇ΔC`` (``E v_j² = 1/(d + 2)`` in the unit ball).

    ``smoothing`` is μ (a standard deviation) or r (the radius). Tier exact."""
    from pgverify.estimators.zeroth_order import PolynomialCost, _exact

    if not isinstance(cost, PolynomialCost):
        raise InvalidProblemError(
            f"cost must be built by pgverify.estimators.cubic_cost, got {type(cost).__name__}"
        )
    if not isinstance(distribution, str) or distribution not in SMOOTHINGS:
        raise InvalidProblemError(f"distribution = {distribution!r}; expected one of {SMOOTHINGS}")
    gain = numeric_array(K, "K", (None, None), exact=True)
    if gain.size != cost.size:
        raise InvalidProblemError(
            f"K has {gain.size} entries; the cost is defined on {cost.size} (d = mn)"
        )
    from pgverify.estimators.arrays import scalar

    mu = scalar(smoothing, "smoothing", exact=True, positive=True)
    c, H, g = (_exact(a) for a in (cost.coefficients, cost.hessian, cost.gradient))
    size = cost.size
    k = gain.reshape(-1)
    symmetric = (
        c
        + c.transpose(0, 2, 1)
        + c.transpose(1, 0, 2)
        + c.transpose(1, 2, 0)
        + c.transpose(2, 0, 1)
        + c.transpose(2, 1, 0)
    ) / 6
    gradient = 3 * ((symmetric @ k) @ k) + H @ k + g
    laplacian_gradient = 6 * np.array(
        [sum((symmetric[a, j, j] for j in range(size)), Fraction(0)) for a in range(size)],
        dtype=object,
    )
    weight = mu * mu / 2 if distribution == "gaussian" else mu * mu / (2 * (size + 2))
    return (gradient + weight * laplacian_gradient).reshape(gain.shape)
