"""The exact finite-horizon critic of a policy, evaluated along a batch of trajectories.

What the critic-based estimators (:mod:`pgverify.estimators.critic_gradient`) read: at horizon T
with discount γ, ``V_t(x) = E[Σ_{k=t}^{T−1} γ^{k−t} c_k | x_t = x]``, ``V_T = 0``, and
``Q_t(x, u) = c(x, u) + γ E[V_{t+1}(x') | x, u]``.

* LQR, ``u ~ N(−Kx, σI)`` (σ a variance), ``x' = Ax + Bu``: the values are quadratics
  ``V_t(x) = xᵀP_t x + p_t`` with ``P_T = 0``, ``p_T = 0``,
  ``P_t = Q + KᵀRK + γ(A − BK)ᵀP_{t+1}(A − BK)``, ``p_t = σ tr R + γ(σ tr(BᵀP_{t+1}B) + p_{t+1})``
  (``E[uᵀRu | x] = xᵀKᵀRKx + σ tr R``, ``E[x'ᵀPx' | x] = xᵀ(A − BK)ᵀP(A − BK)x + σ tr(BᵀPB)``),
  and ``Q_t(x, u) = xᵀQx + uᵀRu + γ V_{t+1}(Ax + Bu)`` — the backward recursion of
  ``LQR.finite_horizon_gradient`` (docs/mathematics.md) with the noise constants added. Computed
  in exact rational arithmetic from the float64 data (every float64 is a rational).
* LQR, discounted infinite horizon (γ < 1, K with ``√γ ρ(A − BK) < 1``): the stationary
  ``V(x) = xᵀP_K x + p`` with ``P_K = Q + KᵀRK + γ(A − BK)ᵀP_K(A − BK)`` (solved exactly as a
  linear system in Fractions) and ``p = σ(tr R + γ tr(BᵀP_K B)) / (1 − γ)``, ``Q(x, u) = xᵀQx +
  uᵀRu + γV(Ax + Bu)`` (:func:`lqr_discounted_critic`). Over T-step rollouts *truncated* by a
  time limit (no episode ends: bootstrap from ``V(x_T)``) every critic kind then has expectation
  ``Σ_{t<T} γ^t E[A(x_t, u_t) s_t] = 2E_K Σ_{t<T} γ^t E[x_t x_tᵀ]``, ``E_K = (R + γBᵀP_K B)K −
  γBᵀP_K A`` — the policy-gradient theorem's sum cut at T, whose limit is ``∇C(K) = 2E_KΣ_K``
  (Fazel, Ge, Kakade & Mesbahi 2018, with the noise in Σ_K).
* Finite MDPs: ``Q_t`` by :func:`pgverify.mdp.finite_horizon_q` (exact Fractions),
  ``V_t(s) = Σ_a π(a|s) Q_t(s, a)``.

Both evaluate, for states (M, T+1[, n]) and actions (M, T[, m]), ``values`` (M, T+1) —
``V_t(x_t)`` for t < T and, in column T, ``V_0(x_T)``: the value the last state would have at the
start of an episode, as a rollout buffer's bootstrap value would hold it; the horizon terminates
every episode at step T − 1, so a right estimator does not read it — and ``q_values`` (M, T).
Exact (Fractions) for exact inputs, float64 for float64 inputs (the tables rounded once).
See docs/estimators.md, section 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import discount_factor, is_exact, numeric_array, scalar


def _exact(matrix: Any, name: str) -> np.ndarray:
    return numeric_array(matrix, name, np.shape(matrix), exact=True)


def _quadratic(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``xᵀ M x`` over the leading axes of ``points`` (..., n)."""
    return ((points @ matrix) * points).sum(axis=-1)


@dataclass(frozen=True)
class LQRCritic:
    """``V_t(x) = xᵀP_t x + p_t`` (t = 0 … T) and ``Q_t`` of a linear Gaussian policy on LQR."""

    A: np.ndarray
    B: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    gamma: Fraction
    matrices: tuple[np.ndarray, ...]  # P_0 … P_T
    offsets: tuple[Fraction, ...]  # p_0 … p_T

    @property
    def steps(self) -> int:
        return len(self.matrices) - 1

    def arrays(self, states: Any, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        """(values (M, T+1), q_values (M, T)) along states (M, T+1, n), actions (M, T, m)."""
        exact = is_exact(states, actions)

        def cast(array: Any) -> Any:
            return array if exact else np.asarray(array, dtype=float)

        x, u = np.asarray(states), np.asarray(actions)
        T = self.steps
        A, B, Q, R = (cast(matrix) for matrix in (self.A, self.B, self.Q, self.R))
        P = [cast(matrix) for matrix in self.matrices]
        p = [offset if exact else float(offset) for offset in self.offsets]
        gamma = self.gamma if exact else float(self.gamma)
        columns = [_quadratic(x[:, t], P[t]) + p[t] for t in range(T)]
        columns.append(_quadratic(x[:, T], P[0]) + p[0])  # V_0(x_T): never read at the horizon
        q_columns = []
        for t in range(T):
            following = x[:, t] @ A.T + u[:, t] @ B.T
            stage = _quadratic(x[:, t], Q) + _quadratic(u[:, t], R)
            q_columns.append(stage + gamma * (_quadratic(following, P[t + 1]) + p[t + 1]))
        return np.stack(columns, axis=1), np.stack(q_columns, axis=1)


def _lqr_data(problem: Any, K: Any, steps: Any, sigma: Any, gamma: Any) -> tuple:
    """The problem's matrices, the gain, σ and γ as exact rationals (InvalidProblemError naming
    a bad argument)."""
    from pgverify.expectation.lqr import _positive_int
    from pgverify.lqr import LQR  # here: pgverify.lqr imports much of the package

    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    _positive_int(steps, "steps")
    gain = numeric_array(K, "K", (problem.m, problem.n), exact=True)
    noise = scalar(sigma, "sigma (the exploration variance)", exact=True)
    if noise < 0:
        raise InvalidProblemError(f"sigma must be >= 0, got {sigma!r}")
    discount = discount_factor(gamma, exact=True)
    A, B = _exact(problem.A, "A"), _exact(problem.B, "B")
    Q, R = _exact(problem.Q, "Q"), _exact(problem.R, "R")
    return A, B, Q, R, gain, noise, discount


def lqr_critic(problem: Any, K: Any, steps: int, sigma: Any, gamma: Any) -> LQRCritic:
    """The exact finite-horizon critic of ``u ~ N(−Kx, σI)`` (σ a variance) on ``problem`` (its
    A, B, Q, R) at horizon T = ``steps`` with discount ``gamma`` (σ and γ given: the problem's
    own are not read): ``V_t(x) = xᵀP_t x + p_t`` by the backward recursion of the module
    docstring, P_t (n, n) and p_t exact Fractions for t = 0 … T; any K. Tier exact
    (docs/estimators.md, section 7; Sutton et al. 2000)."""
    A, B, Q, R, gain, noise, discount = _lqr_data(problem, K, steps, sigma, gamma)
    closed = A - B @ gain
    stage = Q + gain.T @ R @ gain
    P = np.empty((problem.n, problem.n), dtype=object)
    P[:] = Fraction(0)
    p = Fraction(0)
    matrices, offsets = [P], [p]
    for _ in range(steps):
        p = noise * np.trace(R) + discount * (noise * np.trace(B.T @ P @ B) + p)
        P = stage + discount * closed.T @ P @ closed
        matrices.append(P)
        offsets.append(p)
    return LQRCritic(A, B, Q, R, discount, tuple(matrices[::-1]), tuple(offsets[::-1]))


def lqr_discounted_critic(problem: Any, K: Any, steps: int, sigma: Any, gamma: Any) -> LQRCritic:
    """The exact stationary critic of ``u ~ N(−Kx, σI)`` for the discounted infinite-horizon
    cost (γ < 1), as an :class:`LQRCritic` with the same V at every one of the ``steps`` + 1
    times (so column T of ``values`` is ``V(x_T)``, the bootstrap value of a truncation).

    ``P_K`` (n, n) and ``p`` exact Fractions (module docstring); tier exact (docs/estimators.md,
    section 7; Fazel et al. 2018). Raises InvalidProblemError when γ ≥ 1 or when
    ``P = Q + KᵀRK + γA_KᵀPA_K`` has no positive semi-definite solution (K does not stabilise
    the discounted closed loop)."""
    from flint import fmpq, fmpq_mat

    A, B, Q, R, gain, noise, discount = _lqr_data(problem, K, steps, sigma, gamma)
    if not 0 < discount < 1:
        raise InvalidProblemError(f"gamma = {gamma!r}; the discounted critic needs 0 < gamma < 1")
    n = problem.n
    closed = A - B @ gain
    stage = Q + gain.T @ R @ gain
    # vec(P) − γ (A_Kᵀ ⊗ A_Kᵀ) vec(P) = vec(stage), with P flattened row-major here (not the
    # column-major vec of docs/mathematics.md)
    kron = np.kron(closed.T, closed.T)

    def rational(value: Fraction) -> Any:
        return fmpq(value.numerator, value.denominator)

    system = fmpq_mat(
        [
            [rational((1 if i == j else 0) - discount * kron[i, j]) for j in range(n * n)]
            for i in range(n * n)
        ]
    )
    right = fmpq_mat([[rational(v)] for v in stage.reshape(-1)])
    try:
        solution = system.solve(right)
    except ZeroDivisionError:  # singular: γ·λ_i λ_j = 1 for eigenvalues of A_K
        solution = None
    values = (
        None
        if solution is None
        else [Fraction(int(solution[i, 0].p), int(solution[i, 0].q)) for i in range(n * n)]
    )
    P = np.empty((n, n), dtype=object)
    if values is not None:
        P.ravel()[:] = values
    if values is None or not _is_stabilising(closed, discount):
        raise InvalidProblemError(
            "K does not stabilise the discounted closed loop (√γ ρ(A − BK) >= 1): the "
            "discounted critic is infinite"
        )
    p = noise * (np.trace(R) + discount * np.trace(B.T @ P @ B)) / (1 - discount)
    return LQRCritic(A, B, Q, R, discount, (P,) * (steps + 1), (p,) * (steps + 1))


def _is_stabilising(closed: np.ndarray, discount: Fraction) -> bool:
    """√γ ρ(A_K) < 1, decided in float64 with a margin (the oracles certify it; a critic for a
    gain near the boundary is refused rather than trusted)."""
    radius = max(abs(np.linalg.eigvals(np.asarray(closed, dtype=float))), default=0.0)
    return float(discount) ** 0.5 * radius < 1 - 1e-9


@dataclass(frozen=True)
class MDPCritic:
    """``Q_t(s, a)`` (t < T) and ``V_t(s)`` (t ≤ T, ``V_T = 0``) of a tabular policy."""

    q_tables: np.ndarray  # (T, S, A) Fractions
    v_tables: np.ndarray  # (T+1, S) Fractions

    def arrays(
        self, states: np.ndarray, actions: np.ndarray, last_states: np.ndarray, *, exact: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """(values (M, T+1), q_values (M, T)) along states, actions (M, T) and the states
        ``last_states`` (M,) reached after step T − 1 (column T holds ``V_0(x_T)``)."""
        T = self.q_tables.shape[0]
        steps = np.arange(T)
        values = np.concatenate(
            [self.v_tables[steps, states], self.v_tables[0][last_states][:, None]], axis=1
        )
        q_values = self.q_tables[steps, states, actions]
        if exact:
            return values, q_values
        return values.astype(float), q_values.astype(float)


def mdp_critic(mdp: Any, policy: Any, steps: int) -> MDPCritic:
    """The exact finite-horizon critic of the tabular ``policy`` (S, A) on ``mdp`` at horizon
    T = ``steps`` with the MDP's γ: ``Q_t(s, a) = c(s, a) + γ Σ_y P(y|s, a) V_{t+1}(y)``,
    ``V_t(s) = Σ_a π(a|s) Q_t(s, a)``, ``V_T = 0`` — tables (T, S, A) and (T+1, S) of exact
    Fractions. Tier exact (docs/estimators.md, section 7)."""
    from pgverify.expectation.lqr import _positive_int
    from pgverify.mdp.finite_horizon import finite_horizon_q
    from pgverify.mdp.model import tabular_policy

    steps = _positive_int(steps, "steps")
    table = tabular_policy(mdp, policy)
    q = finite_horizon_q(mdp, table, steps - 1)
    q_tables = np.empty((steps, mdp.states, mdp.actions), dtype=object)
    q_tables[...] = q
    pi = np.empty((mdp.states, mdp.actions), dtype=object)
    pi[...] = table
    v_tables = np.empty((steps + 1, mdp.states), dtype=object)
    v_tables[:steps] = (q_tables * pi).sum(axis=2)
    v_tables[steps] = Fraction(0)
    return MDPCritic(q_tables, v_tables)


def mdp_discounted_critic(mdp: Any, policy: Any, steps: int) -> MDPCritic:
    """The exact stationary critic of the tabular ``policy`` for the discounted infinite-horizon
    cost of ``mdp`` (its γ < 1): ``Q^π(s, a)`` and ``V^π(s)`` of :func:`pgverify.mdp.evaluate`
    (exact Fractions), repeated at each of the ``steps`` (+ 1) times — so that over rollouts cut
    by a time limit (``terminated`` all False) TD and GAE bootstrap from ``V^π(x_T)`` in column
    T. Tier exact (docs/estimators.md, section 7)."""
    from pgverify.expectation.lqr import _positive_int
    from pgverify.mdp.evaluation import evaluate

    steps = _positive_int(steps, "steps")
    evaluation = evaluate(mdp, policy)
    if not mdp.gamma < 1:
        raise InvalidProblemError(
            f"the MDP's gamma = {mdp.gamma}; the discounted critic needs gamma < 1"
        )
    S, A = mdp.states, mdp.actions
    q = np.empty((S, A), dtype=object)
    q[...] = [[evaluation.q_value(s, a) for a in range(A)] for s in range(S)]
    v = np.empty(S, dtype=object)
    v[:] = list(evaluation.value)
    q_tables = np.empty((steps, S, A), dtype=object)
    q_tables[...] = q
    v_tables = np.empty((steps + 1, S), dtype=object)
    v_tables[...] = v
    return MDPCritic(q_tables, v_tables)
