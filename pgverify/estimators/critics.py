"""Critics learned from data with linear features — batch TD(0) and LSTD(λ) — and the
actor-critic policy-gradient estimate whose Ψ_t is the learned critic's TD residual.

**Data.** A batch of M rollouts of L transitions each, given by the features of the visited states
``features`` (M, L+1, p) — ``φ(x_0), …, φ(x_L)`` — and the costs ``costs`` (M, L) — ``c_0, …,
c_{L−1}`` (costs are minimised). Each row is one segment cut by a time limit: its last state is
bootstrapped from, no trace crosses rows. A linear critic is ``V̂(x) = φ(x)ᵀθ``.

**Features.**

* :func:`quadratic_value_features` — LQR: ``φ(x) = ((x_i x_j)_{i≤j}, 1)``, p = n(n+1)/2 + 1, so the
  value of ``u ~ N(−Kx, σI)`` with discount γ < 1, ``V^π(x) = xᵀP_K x + σ(tr R + γ tr BᵀP_K B)/(1 −
  γ)`` (docs/mathematics.md §LQR), is representable; :func:`quadratic_value_parameters` reads
  ``(P, constant)`` back from θ.
* :func:`one_hot_features` — finite MDPs: ``φ(s) = e_s`` (tabular).

**LSTD(λ)** (Bradtke & Barto, "Linear least-squares algorithms for temporal difference learning",
Mach. Learn. 22, 1996; Boyan, "Technical update: least-squares temporal difference learning",
Mach. Learn. 49, 2002). With the eligibility traces ``z_t = Σ_{k≤t} (γλ)^{t−k} φ(x_k)`` (reset
at the start of each row),

    Â = (1/ML) Σ_i Σ_t z_t (φ(x_t) − γ φ(x_{t+1}))ᵀ,   b̂ = (1/ML) Σ_i Σ_t z_t c_t,   θ̂ = Â⁻¹ b̂.

Whenever the true value is representable, ``V^π = φᵀθ*``, the estimating equation is centred at
θ*: ``E[b̂ − Âθ*] = (1/ML) Σ E[z_t δ_t] = 0`` for every initial distribution and segment length,
because ``δ_t = c_t + γV^π(x_{t+1}) − V^π(x_t)`` has ``E[δ_t | x_0, …, x_t] = 0`` (Bellman's
equation and the Markov property) — for *any* trace built from x_0 … x_t, so λ (and the trace's
decay) changes the fixed point only when V^π is not representable. So the population solution
``E[Â]⁻¹ E[b̂]`` *is* θ* (exactly;
:func:`pgverify.expectation.population_lstd`), and θ̂ → θ* as M → ∞ (a ratio of estimates:
biased at finite M, consistent).

**Batch TD(0)** (Sutton & Barto, "Reinforcement Learning: An Introduction", 2nd ed. 2018, §6.3,
batch updating): from ``θ_0`` (default 0), each sweep computes every TD error with the current
weights and applies their mean update, ``θ ← θ + α (1/ML) Σ_i Σ_t δ_t(θ) φ(x_t) = θ + α (b̂ −
Âθ)`` with Â, b̂ of LSTD(0). It converges to the LSTD(0) solution when ρ(I − αÂ) < 1; a
finite number of sweeps leaves a critic error (the source of actor-critic bias).

**Actor-critic** (:func:`td_actor_critic`): ``(1/M) Σ_i Σ_t γ^t δ̂_t s_t`` with the learned
critic's TD residual ``δ̂_t = c_t + γV̂(x_{t+1}) − V̂(x_t)`` and the scores ``s_t = ∇_θ log
π(u_t|x_t)``. With the exact critic its mean is ``Σ_{t<L} γ^t E[A^π(x_t, u_t) s_t]``; a critic
error ``e = V̂ − V^π`` adds the bias ``E[Σ_t γ^t s_t (γ e(x_{t+1}) − e(x_t))]`` (exact for LQR:
:func:`pgverify.expectation.critic_error_bias`).

Tier: float for float64 inputs (vectorised, no Python loop over steps except LSTD(λ > 0)'s
traces in exact arithmetic); exact when the arrays are object arrays of Fractions (as
:mod:`pgverify.expectation` feeds them): the same code then computes the exact rational value,
and :func:`lstd` solves exactly. See docs/estimators.md, section 8.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from flint import fmpq, fmpq_mat
from scipy.signal import lfilter

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import (
    discount_factor,
    index_array,
    is_exact,
    numeric_array,
    scalar,
)
from pgverify.estimators.critic_gradient import critic_estimate

CONDITION_LIMIT = 1e12
"""A float LSTD system whose condition number exceeds this is refused (no correct digit left)."""


# ----- features ----------------------------------------------------------------------------------


def quadratic_value_features(states: Any) -> np.ndarray:
    """``φ(x) = ((x_i x_j)_{i≤j}, 1)`` for every state: (..., n) → (..., n(n+1)/2 + 1).

    The monomials in ``numpy.triu_indices(n)`` order (row by row), then the constant. Exact for
    an object array of Fractions. Tier: float, or exact on Fractions."""
    exact = is_exact(states)
    try:
        shape = np.shape(states)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"states could not be read as an array: {exc}") from exc
    if len(shape) < 1 or 0 in shape:
        raise InvalidProblemError(
            f"states has shape {shape}; expected a non-empty (..., n) array, n >= 1"
        )
    array = numeric_array(states, "states", shape, exact=exact)
    rows, cols = np.triu_indices(shape[-1])
    monomials = array[..., rows] * array[..., cols]
    ones = np.full((*shape[:-1], 1), Fraction(1) if exact else 1.0, dtype=monomials.dtype)
    return np.concatenate([monomials, ones], axis=-1)


def quadratic_value_parameters(weights: Any, n: int) -> tuple[np.ndarray, Any]:
    """``(P, constant)`` with ``φ(x)ᵀθ = xᵀPx + constant`` for the features of
    :func:`quadratic_value_features`: ``P_ii = θ_ii``, ``P_ij = P_ji = θ_ij / 2`` (i < j), the
    constant the last weight. ``weights`` (n(n+1)/2 + 1,); P (n, n) symmetric. Exact on
    Fractions."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise InvalidProblemError(f"n (the state dimension) must be an int >= 1, got {n!r}")
    n = int(n)
    exact = is_exact(weights)
    size = n * (n + 1) // 2 + 1
    theta = numeric_array(weights, "weights", (size,), exact=exact)
    rows, cols = np.triu_indices(n)
    matrix = np.empty((n, n), dtype=theta.dtype)
    matrix[rows, cols] = theta[: size - 1]
    off_diagonal = rows != cols
    # xᵀPx = Σ_i P_ii x_i² + Σ_{i<j} 2 P_ij x_i x_j: an off-diagonal weight is 2 P_ij
    matrix[rows[off_diagonal], cols[off_diagonal]] = theta[: size - 1][off_diagonal] / 2
    matrix[cols, rows] = matrix[rows, cols]
    return matrix, theta[-1]


def one_hot_features(states: Any, count: int) -> np.ndarray:
    """``φ(s) = e_s``: integer states (M, L+1) in ``range(count)`` → (M, L+1, count) float64."""
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise InvalidProblemError(
            f"count (the number of states) must be an int >= 1, got {count!r}"
        )
    try:
        shape = np.shape(states)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"states could not be read as an array: {exc}") from exc
    if len(shape) != 2:
        raise InvalidProblemError(f"states has shape {shape}; expected (M, L+1) state indices")
    index = index_array(states, "states", shape, int(count), "number of states (count)")
    return (index[..., None] == np.arange(int(count))).astype(np.float64)


# ----- the LSTD statistics, LSTD(λ) and batch TD(0) ---------------------------------------------


def _segments(features: Any, costs: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """``features`` (M, L+1, p) and ``costs`` (M, L) validated (Fractions when either is exact)."""
    exact = is_exact(features, costs)
    try:
        shape = np.shape(features)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"features could not be read as an array: {exc}") from exc
    if len(shape) != 3 or shape[0] < 1 or shape[1] < 2 or shape[2] < 1:
        raise InvalidProblemError(
            f"features has shape {shape}; expected (M, L+1, p) with M >= 1, L >= 1, p >= 1"
        )
    phi = numeric_array(features, "features", shape, exact=exact)
    require_matching_shape(
        costs, "costs", (shape[0], shape[1] - 1), f"features of shape {shape}", "(M, L)"
    )
    c = numeric_array(costs, "costs", (shape[0], shape[1] - 1), exact=exact)
    return phi, c, exact


def require_matching_shape(
    value: Any, name: str, expected: tuple[int, ...], other: str, form: str
) -> None:
    """InvalidProblemError naming both arrays when ``value``'s shape is not ``expected``."""
    try:
        shape = np.shape(value)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"{name} could not be read as an array: {exc}") from exc
    if shape != expected:
        raise InvalidProblemError(
            f"{name} has shape {shape}; expected {form} = {expected} to match the {other}"
        )


def _traces(visited: np.ndarray, decay: Any, exact: bool) -> np.ndarray:
    """``z_t = Σ_{k≤t} decay^{t−k} φ_k`` along axis 1 of (M, L, p)."""
    if decay == 0:
        return visited
    if not exact:
        return lfilter([1.0], [1.0, -float(decay)], visited, axis=1)
    traces = np.empty_like(visited)
    running = visited[:, 0]
    traces[:, 0] = running
    for t in range(1, visited.shape[1]):  # exact Fractions: no filter routine exists
        running = running * decay + visited[:, t]
        traces[:, t] = running
    return traces


def lstd_statistics(
    features: Any, costs: Any, gamma: Any, lam: Any = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``(Â, b̂)`` of LSTD(λ) (module docstring): Â (p, p), b̂ (p,), averages over the M·L
    transitions. ``features`` (M, L+1, p), ``costs`` (M, L), γ ∈ (0, 1], λ ∈ [0, 1]. Exact on
    Fractions (γ and λ are then read exactly: a float64 is a dyadic rational)."""
    phi, c, exact = _segments(features, costs)
    gamma = discount_factor(gamma, exact=exact)
    trace_decay = scalar(lam, "lam", exact=exact)
    if not 0 <= trace_decay <= 1:
        raise InvalidProblemError(f"lam = {lam!r} is outside [0, 1]")
    M, steps, p = phi.shape[0], phi.shape[1] - 1, phi.shape[2]
    visited = phi[:, :steps]
    traces = _traces(visited, gamma * trace_decay, exact).reshape(-1, p)
    differences = (visited - gamma * phi[:, 1:]).reshape(-1, p)
    count = M * steps
    return traces.T @ differences / count, traces.T @ c.reshape(-1) / count


def solve_exactly(matrix: np.ndarray, rhs: np.ndarray, what: str) -> np.ndarray:
    """``matrix⁻¹ rhs`` over the rationals (python-flint ``fmpq_mat``), as Fractions;
    InvalidProblemError naming ``what`` when the matrix is singular."""

    def rational(value: Any) -> fmpq:
        exact = Fraction(value)
        return fmpq(exact.numerator, exact.denominator)

    rows, cols = matrix.shape
    system = fmpq_mat(rows, cols, [rational(v) for v in matrix.ravel().tolist()])
    right = np.asarray(rhs, dtype=object).reshape(rows, -1)
    vector = fmpq_mat(rows, right.shape[1], [rational(v) for v in right.ravel().tolist()])
    try:
        solution = system.solve(vector)
    except ZeroDivisionError:
        raise InvalidProblemError(
            f"the {what} is singular (exactly); expected data that excite every feature"
        ) from None
    result = np.empty((rows, right.shape[1]), dtype=object)
    for i in range(rows):
        for j in range(right.shape[1]):
            entry = solution[i, j]
            result[i, j] = Fraction(int(entry.p), int(entry.q))
    return result.reshape(np.shape(rhs))


def solve_float(matrix: np.ndarray, rhs: np.ndarray, what: str) -> np.ndarray:
    """``matrix⁻¹ rhs`` in float64; InvalidProblemError naming ``what`` when the condition
    number exceeds :data:`CONDITION_LIMIT`."""
    condition = np.linalg.cond(matrix)
    if not condition < CONDITION_LIMIT:
        raise InvalidProblemError(
            f"the {what} has condition number {condition:.3g} (expected < {CONDITION_LIMIT:.0e}): "
            f"the data do not excite every feature; use more or more varied transitions"
        )
    return np.linalg.solve(matrix, rhs)


def lstd(features: Any, costs: Any, gamma: Any, lam: Any = 0) -> np.ndarray:
    """LSTD(λ)'s weights ``θ̂ = Â⁻¹ b̂`` (p,) (module docstring; Boyan 2002).

    Shapes: ``features`` (M, L+1, p), ``costs`` (M, L). Tier: float (refused above condition
    number :data:`CONDITION_LIMIT`), or exact on Fractions (refused when Â is singular)."""
    matrix, rhs = lstd_statistics(features, costs, gamma, lam)
    if matrix.dtype == object:
        return solve_exactly(matrix, rhs, "LSTD matrix Â")
    return solve_float(matrix, rhs, "LSTD matrix Â")


def td0(
    features: Any,
    costs: Any,
    gamma: Any,
    step_size: Any,
    sweeps: int = 1,
    initial: Any = None,
) -> np.ndarray:
    """Batch TD(0)'s weights (p,) after ``sweeps`` sweeps of step size α = ``step_size`` from
    ``initial`` (default 0): ``θ ← θ + α (1/ML) Σ_i Σ_t δ_t(θ) φ(x_t)`` with ``δ_t(θ) = c_t +
    γφ(x_{t+1})ᵀθ − φ(x_t)ᵀθ`` (Sutton & Barto 2018, §6.3). Shapes: ``features`` (M, L+1, p),
    ``costs`` (M, L). Each sweep reads every transition (vectorised). Exact on Fractions.

    Raises InvalidProblemError on bad shapes or values, or when the iterate overflows float64
    (α too large: ρ(I − αÂ) > 1)."""
    phi, c, exact = _segments(features, costs)
    gamma = discount_factor(gamma, exact=exact)
    alpha = scalar(step_size, "step_size", exact=exact, positive=True)
    if isinstance(sweeps, bool) or not isinstance(sweeps, int | np.integer) or sweeps < 1:
        raise InvalidProblemError(f"sweeps must be an int >= 1, got {sweeps!r}")
    p = phi.shape[2]
    if initial is None:
        theta = np.full(p, Fraction(0) if exact else 0.0, dtype=object if exact else np.float64)
    else:
        theta = numeric_array(initial, "initial", (p,), exact=exact)
    visited, following = phi[:, :-1].reshape(-1, p), phi[:, 1:].reshape(-1, p)
    flat_costs = c.reshape(-1)
    count = flat_costs.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported below
        for _ in range(int(sweeps)):
            errors = flat_costs + gamma * (following @ theta) - visited @ theta
            theta = theta + alpha * (errors @ visited) / count
    if not exact and not np.all(np.isfinite(theta)):
        raise InvalidProblemError(
            f"TD(0) diverged (non-finite weights) with step_size = {step_size!r}; expected a "
            f"step size below 2 / (the largest eigenvalue of the LSTD(0) matrix Â)"
        )
    return theta


# ----- the actor-critic estimate --------------------------------------------------------------


def td_actor_critic(scores: Any, costs: Any, values: Any, gamma: Any) -> np.ndarray:
    """``(1/M) Σ_i Σ_t γ^t (c_t + γ v_{t+1} − v_t) s_t``: the policy-gradient estimate with
    Ψ_t the TD residual of the critic values ``v_t = V̂(x_t)`` (one-step actor-critic: Sutton &
    Barto 2018, §13.5; Schulman et al., ICLR 2016, the Ψ_t = δ_t choice). Unbiased for the
    truncated discounted gradient ``Σ_{t<T} γ^t E[A^π s_t]`` only when V̂ = V^π; the bias of a
    critic error is :func:`pgverify.expectation.critic_error_bias` (LQR, exact).

    Shapes: ``scores`` (M, T, *P) (e.g. :func:`~pgverify.estimators.gaussian_scores`, P = (m, n)),
    ``costs`` (M, T), ``values`` (M, T+1) — the critic at x_0, …, x_T (for a linear critic,
    ``features @ weights``) → shape P. Tier: float, or exact on Fractions."""
    try:
        shape = np.shape(scores)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"scores could not be read as an array: {exc}") from exc
    if len(shape) < 2 or shape[0] < 1 or shape[1] < 1:
        raise InvalidProblemError(f"scores has shape {shape}; expected (M, T, ...), M, T >= 1")
    M, T = shape[:2]
    require_matching_shape(costs, "costs", (M, T), f"scores of shape {shape}", "(M, T)")
    require_matching_shape(values, "values", (M, T + 1), f"scores of shape {shape}", "(M, T+1)")
    # the "td" kind of critic_gradient with no terminal step: bootstrap from V̂(x_T) (a time limit)
    return critic_estimate(
        scores, costs, gamma, "td", values=values, terminated=np.zeros((M, T), dtype=bool)
    )
