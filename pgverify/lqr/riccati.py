"""The stabilising solution X* of the discrete algebraic Riccati equation and the optimal gain.

    X = Q + γAᵀXA − γ²AᵀXB (R + γBᵀXB)⁻¹ BᵀXA,      K* = γ (R + γBᵀX*B)⁻¹ BᵀX*A.

* float: :func:`scipy.linalg.solve_discrete_are` on (√γA, √γB, Q, R), after a PBH test of
  stabilisability (scipy's own failures are reported as pgverify errors).
* high precision / certified: Newton's method on the Riccati equation, i.e. policy iteration
  (Hewer 1971), from the float solution, run in the target arithmetic until K stops changing.
* certified, two-sided: for the final gain K̃ with certified P_K̃ and E_K̃, and Q ≻ 0,

      0 ⪯ P_K̃ − X* ⪯ ε P_K̃,    ε = ‖E_K̃‖_F² / (λ_min(R) λ_min(Q)).

  Proof: by the value-matrix form of Fazel et al. 2018, Lemma 6, with Δ = K* − K̃,
  ``X* − P_K̃ = Σ_t (A_{K*}ᵀ)^t [Δᵀ(R + BᵀP_K̃B)Δ + ΔᵀE + EᵀΔ] A_{K*}^t``; completing the square,
  the bracket is ⪰ −Eᵀ(R + BᵀP_K̃B)⁻¹E ⪰ −‖E‖²/λ_min(R)·I, and ``Σ_t (A_{K*}ᵀ)^t A_{K*}^t ⪯
  X*/λ_min(Q) ⪯ P_K̃/λ_min(Q)``.  The lower side is the same lemma with the roles swapped
  (E_{K*} = 0).  (Discounting: substitute √γA, √γB.)  Hence every entry of X* lies within
  ``ε λ_max(P_K̃)`` of P_K̃, and K* is enclosed by a ball solve with that X*.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
from flint import arb

from pgverify.errors import CertificationError, InvalidProblemError, NotStabilizingError
from pgverify.lqr.certify import certify_positive_definite, gershgorin_upper
from pgverify.precision import (
    Arithmetic,
    BallArithmetic,
    BallMatrix,
    add_radius,
    frobenius_upper,
)

if TYPE_CHECKING:
    from pgverify.lqr.problem import LQR

MAX_NEWTON_STEPS = 30


def check_stabilisable(A: np.ndarray, B: np.ndarray) -> None:
    """PBH test: (A, B) is stabilisable iff rank [A − λI, B] = n for every eigenvalue |λ| ≥ 1.
    A float64 test with a relative rank tolerance; raises InvalidProblemError naming the mode."""
    n = A.shape[0]
    scale = max(float(np.linalg.norm(A, 2)), float(np.linalg.norm(B, 2)), 1.0)
    for eigenvalue in np.linalg.eigvals(A):
        if abs(eigenvalue) < 1.0 - 1e-12:
            continue
        pencil = np.hstack([A - eigenvalue * np.eye(n), B])
        smallest = float(np.linalg.svd(pencil, compute_uv=False)[-1])
        if smallest <= 1e-10 * scale:
            raise InvalidProblemError(
                f"(A, B) is not stabilisable: the mode with eigenvalue {eigenvalue:.6g} "
                f"(|lambda| = {abs(eigenvalue):.6g} >= 1) is not reachable from B (smallest "
                f"singular value of [A - lambda I, B] is {smallest:.3g}); expected every "
                "unstable mode to be controllable, so that a stabilising gain exists"
            )


def float_optimal_gain(problem: LQR) -> tuple[np.ndarray, np.ndarray]:
    """(K*, X*) in float64."""
    A, B, Q, R, gamma = problem.A, problem.B, problem.Q, problem.R, problem.gamma
    check_stabilisable(np.sqrt(gamma) * A, B)
    root = np.sqrt(gamma)
    try:
        X = scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)
    except (np.linalg.LinAlgError, ValueError) as exc:
        raise InvalidProblemError(
            f"the Riccati equation has no stabilising solution that scipy can compute ({exc}); "
            "expected (A, B) stabilisable and (A, Q) detectable"
        ) from exc
    X = 0.5 * (X + X.T)
    K = gamma * np.linalg.solve(R + gamma * B.T @ X @ B, B.T @ X @ A)
    radius = float(np.max(np.abs(np.linalg.eigvals(A - B @ K))))
    if not radius < 1.0:
        raise NotStabilizingError(
            f"the optimal gain of the discounted problem (gamma = {gamma}) has "
            f"rho(A - BK*) = {radius:.6g} >= 1; pgverify's gradients are defined on stabilising "
            "gains only",
            spectral_radius=radius,
        )
    return K, X


def optimal_solution(problem: LQR, ar: Arithmetic) -> tuple[Any, Any]:
    """(K*, X*) in the arithmetic ``ar`` (rigorous enclosures in balls)."""
    K, X = float_optimal_gain(problem)
    if ar.tier == "float":
        return K, X
    K = _newton(problem, ar, K)
    if not isinstance(ar, BallArithmetic):
        evaluation = problem._evaluation(K, ar)
        with ar.context():
            return evaluation.policy_iteration_gain(), evaluation.value_matrix
    return _certified_solution(problem, ar, K)


def _newton(problem: LQR, ar: Arithmetic, K: np.ndarray) -> Any:
    """Policy iteration in the arithmetic ``ar`` from the float gain, until K stops changing.

    Works on exact points (ball midpoints): nothing here is claimed rigorous; the certified
    bound is applied afterwards to the final gain."""
    target = max(2.0 ** (-ar.working_bits), 1e-300)
    with ar.context():
        gain = ar.matrix(K)
    scale = max(float(np.max(np.abs(K), initial=0.0)), 1.0)
    for _ in range(MAX_NEWTON_STEPS):
        evaluation = problem._evaluation(gain, ar, approximate=True)
        with ar.context():
            following = ar.point(evaluation.policy_iteration_gain())
            change = float(np.max(np.abs(ar.to_float(following - gain)), initial=0.0))
        gain = following
        if change <= target * scale:
            return gain
    return gain


def _certified_solution(problem: LQR, ar: BallArithmetic, K: Any) -> tuple[Any, Any]:
    try:
        lambda_Q = certify_positive_definite(problem.Q, "Q")
        lambda_R = certify_positive_definite(problem.R, "R")
    except CertificationError as failure:
        raise CertificationError(
            f"{failure}: the two-sided certified bound of the DARE solution needs Q and R "
            "positive definite (for Q only semidefinite use precision='float' or an int)"
        ) from failure
    evaluation = problem._evaluation(K, ar)
    with ar.context():
        value = evaluation.value_matrix
        E_norm = frobenius_upper(evaluation.E.m)
        epsilon = E_norm * E_norm / (arb(lambda_R) * arb(lambda_Q))
        largest = gershgorin_upper(value.m)
        radius = arb((epsilon * largest).upper())
        optimal_value = BallMatrix(add_radius(value.m, radius))
        m = evaluation.model
        curvature = m.R + m.gamma * (m.B.T @ optimal_value @ m.B)
        cross = m.gamma * (m.B.T @ optimal_value @ m.A)
        gain = ar.solve(curvature, cross)
    if not all(entry.is_finite() for row in gain.m.tolist() for entry in row):
        raise CertificationError(
            f"the certified optimal gain is not finite at {ar.working_bits} bits; "
            "try Certified(bits=...) with more bits"
        )
    return gain, optimal_value
