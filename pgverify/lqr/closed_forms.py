"""The closed forms of policy optimisation on LQR, written once for every arithmetic.

Notation (docs/mathematics.md §LQR; Fazel, Ge, Kakade & Mesbahi, ICML 2018):
``A_K = A − BK``, ``Q_K = Q + KᵀRK``, discount γ, exploration ``u = −Kx + w``, ``w ~ N(0, σI)``
(σ a variance).  Everything below follows from the undiscounted noiseless case by the
substitution ``A → √γ A, B → √γ B, Σ0 → Σ0_eff = Σ0 + γσ BBᵀ/(1−γ)``.

* value matrix      ``P_K = Q_K + γ A_Kᵀ P_K A_K``                  (docs/mathematics.md #lqr-cost)
* state covariance  ``Σ_K = Σ0_eff + γ A_K Σ_K A_Kᵀ``
* curvature         ``R + γ BᵀP_K B``
* E_K               ``(R + γBᵀP_K B) K − γ BᵀP_K A``
* cost              ``C(K) = tr(P_K Σ0) + σ (tr R + γ tr(BᵀP_K B)) / (1 − γ)``
* gradient          ``∇C(K) = 2 E_K Σ_K``                       (Fazel et al. 2018, Lemma 1)
* natural gradient  ``∇C(K) Σ_K⁻¹ = 2 E_K``
* Gauss–Newton      ``(R + γBᵀP_K B)⁻¹ ∇C(K) Σ_K⁻¹ = 2 (K − γ(R + γBᵀP_K B)⁻¹BᵀP_K A)``
  (computed from the left-hand side; the right-hand side is the identity checked)
* policy iteration  ``K⁺ = γ (R + γBᵀP_K B)⁻¹ BᵀP_K A``                  (Hewer 1971)
* Q-function        ``Q^K(x, u) = [x; u]ᵀ H_K [x; u] + const``, ``H_K = [[Q + γAᵀPA, γAᵀPB],
  [γBᵀPA, R + γBᵀPB]]`` (Bradtke, Ydstie & Barto 1994); the constant is
  ``γσ (tr R + γ tr(BᵀPB)) / (1 − γ)`` with noise, 0 without.
* cost difference   ``C(K') − C(K) = tr(Σ_{K'} [Δᵀ(R + γBᵀP_K B)Δ + 2ΔᵀE_K])``, ``Δ = K' − K``
  (Fazel et al. 2018, Lemma 6).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from pgverify.lqr.stein import SteinSolver, solve_stein
from pgverify.precision import Arithmetic


class ModelData:
    """The problem's matrices converted (exactly) into one arithmetic."""

    def __init__(self, ar: Arithmetic, problem: Any) -> None:
        self.ar = ar
        self.A = ar.matrix(problem.A)
        self.B = ar.matrix(problem.B)
        self.Q = ar.matrix(problem.Q)
        self.R = ar.matrix(problem.R)
        self.Sigma0 = ar.matrix(problem.Sigma0)
        self.gamma = ar.scalar(problem.gamma)
        self.noise = ar.scalar(problem.noise)
        self.float_gamma = problem.gamma
        self.has_noise = problem.noise != 0.0

    @cached_property
    def effective_initial_covariance(self) -> Any:
        """``Σ0_eff = Σ0 + γσ BBᵀ / (1 − γ)`` (Σ0 itself without noise)."""
        if not self.has_noise:
            return self.Sigma0
        weight = self.gamma * self.noise / (1 - self.gamma)
        return self.Sigma0 + (self.B @ self.B.T) * weight

    def noise_constant(self, value_matrix: Any) -> Any:
        """``σ (tr R + γ tr(BᵀPB)) / (1 − γ)``: the cost of the exploration noise."""
        ar = self.ar
        B = self.B
        return (
            self.noise
            * (ar.trace(self.R) + self.gamma * ar.trace(B.T @ value_matrix @ B))
            / (1 - self.gamma)
        )


class GainEvaluation:
    """All closed forms at one stabilising gain K, in one arithmetic, computed lazily.

    ``K`` is a float64 array or a matrix of the arithmetic already.  ``certificate`` is a
    :class:`pgverify.lqr.certify.StabilityCertificate` of A − BK, required in ball arithmetic
    (the Stein solves are only rigorous with it) unless ``approximate`` (internal use).
    ``solver``: a float64 SteinSolver of (a matrix near) A − BK with this γ, to reuse a
    decomposition; it only serves as the inner solver of iterative refinement.
    """

    def __init__(
        self,
        model: ModelData,
        K: Any,
        certificate: Any,
        *,
        approximate: bool = False,
        solver: SteinSolver | None = None,
    ) -> None:
        self.model = model
        self.ar = ar = model.ar
        with ar.context():
            self.K = ar.matrix(K) if isinstance(K, np.ndarray) else K
            self.closed_loop = model.A - model.B @ self.K
            self.stage_cost = model.Q + self.K.T @ model.R @ self.K
        self.certificate = certificate
        self.approximate = approximate
        if solver is None:
            solver = SteinSolver(
                ar.to_float(self.closed_loop),
                model.float_gamma,
                backward_stable=ar.tier == "float",
            )
        self.solver = solver

    @cached_property
    def value_matrix(self) -> Any:
        """P_K: ``P = Q + KᵀRK + γ A_Kᵀ P A_K``."""
        return self._stein(self.stage_cost, "value")

    @cached_property
    def state_covariance(self) -> Any:
        """Σ_K: ``Σ = Σ0_eff + γ A_K Σ A_Kᵀ``."""
        return self._stein(self.model.effective_initial_covariance, "covariance")

    def _stein(self, rhs: Any, form: Any) -> Any:
        ar = self.ar
        with ar.context():
            solution = solve_stein(
                ar,
                self.closed_loop,
                rhs,
                self.model.float_gamma,
                form,
                certificate=self.certificate,
                solver=self.solver,
                approximate=self.approximate,
            )
        return solution

    @cached_property
    def curvature(self) -> Any:
        """``R + γ BᵀP_K B``."""
        m = self.model
        return m.R + m.gamma * (m.B.T @ self.value_matrix @ m.B)

    @cached_property
    def value_cross_term(self) -> Any:
        """``γ BᵀP_K A``."""
        m = self.model
        return m.gamma * (m.B.T @ self.value_matrix @ m.A)

    @cached_property
    def E(self) -> Any:
        """``E_K = (R + γBᵀP_K B) K − γ BᵀP_K A``, evaluated as the equal ``RK − γ BᵀP_K A_K``
        (three products instead of five)."""
        m = self.model
        return m.R @ self.K - m.gamma * (m.B.T @ (self.value_matrix @ self.closed_loop))

    def cost(self) -> Any:
        m, ar = self.model, self.ar
        total = ar.trace(self.value_matrix @ m.Sigma0)
        if m.has_noise:
            total = total + m.noise_constant(self.value_matrix)
        return total

    def gradient(self) -> Any:
        return (self.E @ self.state_covariance) * self.ar.scalar(2.0)

    def natural_gradient(self) -> Any:
        return self.E * self.ar.scalar(2.0)

    def policy_iteration_gain(self) -> Any:
        return self.ar.solve(self.curvature, self.value_cross_term)

    def gauss_newton_direction(self) -> Any:
        """From its definition ``(R + γBᵀPB)⁻¹ ∇C Σ_K⁻¹`` (Fazel et al. 2018), *not* from the
        closed form ``2(K − K⁺)``: so "GN with α = ½ is policy iteration" is a checkable
        identity between two different computations."""
        ar = self.ar
        natural = ar.solve(self.state_covariance, self.gradient().T).T
        return ar.solve(self.curvature, natural)

    def q_matrix(self) -> Any:
        m, P = self.model, self.value_matrix
        g = m.gamma
        top_left = m.Q + g * (m.A.T @ P @ m.A)
        top_right = g * (m.A.T @ P @ m.B)
        return self.ar.block([[top_left, top_right], [top_right.T, self.curvature]])

    def cost_difference_to(self, other: GainEvaluation) -> Any:
        """``C(K') − C(K)`` with K = self, K' = other, by Fazel et al. 2018, Lemma 6."""
        step = other.K - self.K
        inner = step.T @ self.curvature @ step + (step.T @ self.E) * self.ar.scalar(2.0)
        return self.ar.trace(other.state_covariance @ inner)


def finite_horizon(model: ModelData, K: np.ndarray, horizon: int) -> tuple[Any, Any]:
    """Cost and gradient of the finite-horizon cost (the "V0" form; docs/mathematics.md
    #lqr-finite-horizon)

        C_N(K) = E Σ_{t=0}^{N} γ^t c(x_t, u_t) = Σ_t γ^t [tr(Q_K S_t) + σ tr R],

    with ``S_0 = Σ0``, ``S_{t+1} = A_K S_t A_Kᵀ + σ BBᵀ`` and, by the adjoint recursion
    ``V_{N+1} = 0``, ``V_t = Q_K + γ A_Kᵀ V_{t+1} A_K``,

        ∇C_N(K) = 2 Σ_{t=0}^{N} γ^t [(R + γBᵀV_{t+1}B) K − γ BᵀV_{t+1} A] S_t.

    Exact recursions: no Stein equation and no stability assumption; rigorous in balls as is.
    """
    ar = model.ar
    Km = ar.matrix(K)
    A, B, R = model.A, model.B, model.R
    closed_loop = A - B @ Km
    stage = model.Q + Km.T @ R @ Km
    noise_input = (B @ B.T) * model.noise
    covariances = [model.Sigma0]
    for _ in range(horizon):
        previous = covariances[-1]
        following = closed_loop @ previous @ closed_loop.T
        if model.has_noise:
            following = following + noise_input
        covariances.append(following)
    n = np.shape(K)[1]
    value_next = ar.matrix(np.zeros((n, n)))
    gradient = ar.matrix(np.zeros(np.shape(K)))
    cost = ar.scalar(0.0)
    noise_stage = model.noise * ar.trace(R)
    for t in range(horizon, -1, -1):
        discount = model.gamma**t
        S_t = covariances[t]
        curvature = R + model.gamma * (B.T @ value_next @ B)
        E_t = curvature @ Km - model.gamma * (B.T @ value_next @ A)
        gradient = gradient + (E_t @ S_t) * (2 * discount)
        cost = cost + discount * (ar.trace(stage @ S_t) + noise_stage)
        value_next = stage + model.gamma * (closed_loop.T @ value_next @ closed_loop)
    return cost, gradient
