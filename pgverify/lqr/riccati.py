"""The stabilising solution X* of the discrete algebraic Riccati equation and the optimal gain.

    X = Q + γAᵀXA − γ²AᵀXB (R + γBᵀXB)⁻¹ BᵀXA,      K* = γ (R + γBᵀX*B)⁻¹ BᵀX*A,

"stabilising": ``√γ·ρ(A − BK*) < 1``, the domain of the discounted cost.  It exists when (√γA, B)
is stabilisable and (√γA, Q) detectable (both checked, with clear errors); it is unique, and
``P_K ⪰ X*`` for every gain K of the domain, so K* is the optimal gain there.

* float: :func:`scipy.linalg.solve_discrete_are` on (√γA, √γB, Q, R).
* high precision / certified: Newton's method on the Riccati equation, i.e. policy iteration
  (Hewer 1971), from the float solution, run in the target arithmetic until K stops changing.
* certified: an order interval.  Write ``T_L(X) = Q + LᵀRL + γA_LᵀXA_L`` (A_L = A − BL) and
  ``Ric(X) = Q + γAᵀXA − γ²AᵀXB G(X)⁻¹ BᵀXA − X``, ``G(X) = R + γBᵀXB``.  Completing the square,

      T_L(X) = X + Ric(X) + (L − K(X))ᵀ G(X) (L − K(X)),    K(X) = γ G(X)⁻¹ BᵀXA.      (*)

  1. *Upper end*: the certified value matrix P_K̃ of the final Newton gain K̃ (a domain gain).
  2. *Lower end*: ``X_low = X̃ − δW`` (X̃ the midpoint of P_K̃, W the Lyapunov weight of
     A − BK̃, δ a few times ‖Ric(X̃)‖), with ``Ric(X_low) ⪰ 0`` and ``G(X_low) ≻ 0`` proved in
     balls.  By (*), ``T_L(X_low) ⪰ X_low`` for every L, so ``P_L − X_low ⪰ γA_Lᵀ(P_L −
     X_low)A_L`` and ``P_L ⪰ X_low`` for every domain gain L.
  3. *Stability of the whole interval*: 𝒳, a ball matrix containing every symmetric X with
     ``X_low ⪯ X ⪯ P_K̃`` (``|X_ij − X_low,ij| ≤ √(D_ii D_jj)``, D = P_K̃ − X_low), gives the ball
     gain 𝒦 = K(𝒳), and a Lyapunov certificate proves ``√γ·ρ(A − BL) < 1`` for every L ∈ 𝒦.
  Then policy iteration from K̃ stays in the interval: ``L_{j+1} = K(P_{L_j}) ∈ 𝒦`` is a domain
  gain, ``P_{L_{j+1}} ⪯ P_{L_j}`` (Hewer: by (*), the difference solves a Stein equation with a
  PSD right-hand side) and ``P_{L_{j+1}} ⪰ X_low`` (step 2).  The decreasing, bounded sequence
  converges to a solution X∞ of the DARE in 𝒳 whose gain lies in 𝒦 — a stabilising solution.
  Two stabilising solutions coincide (by (*), their difference solves a Stein inequality both
  ways), so X* = X∞ ∈ 𝒳 and K* ∈ 𝒦.  No assumption on Q beyond Q ⪰ 0: Q ⪰ 0 singular (Q = CᵀC)
  is certified the same way.  See docs/certified-lqr.md §4.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
from flint import arb, arb_mat, ctx

from pgverify.errors import CertificationError, InvalidProblemError, NotStabilizingError
from pgverify.lqr.certify import certify_stability, lambda_min_lower
from pgverify.precision import Arithmetic, BallArithmetic, BallMatrix

if TYPE_CHECKING:
    from pgverify.lqr.problem import LQR

MAX_NEWTON_STEPS = 30

LOWER_SHIFT_FACTOR = 2
"""δ = LOWER_SHIFT_FACTOR · (bound of |Ric(X̃)|) / d for the lower end of the interval."""

LOWER_SHIFT_ATTEMPTS = 6
"""Each failed attempt multiplies δ by 4."""

GUARD_BITS = 64
"""Extra precision of the Riccati residuals that place the lower end of the interval."""

RANK_TOLERANCE = 1e-10
"""Relative singular-value threshold of the float64 PBH rank tests."""


def _modes_at_or_outside_the_unit_circle(A: np.ndarray) -> list[complex]:
    return [value for value in np.linalg.eigvals(A) if abs(value) >= 1.0 - 1e-12]


def _normalised(matrix: np.ndarray) -> np.ndarray:
    """``matrix / ‖matrix‖₂`` (the PBH tests are invariant under positive scaling; without it a
    tiny B or Q would look rank deficient)."""
    size = float(np.linalg.norm(matrix, 2))
    return matrix / size if size > 0 else matrix


def check_stabilisable(A: np.ndarray, B: np.ndarray) -> None:
    """PBH test: (A, B) is stabilisable iff rank [A − λI, B] = n for every eigenvalue |λ| ≥ 1.
    A float64 test with a relative rank tolerance; raises InvalidProblemError naming the mode."""
    n = A.shape[0]
    scale = max(float(np.linalg.norm(A, 2)), 1.0)
    B_hat = _normalised(B)
    for eigenvalue in _modes_at_or_outside_the_unit_circle(A):
        pencil = np.hstack([A - eigenvalue * np.eye(n), B_hat])
        smallest = float(np.linalg.svd(pencil, compute_uv=False)[-1])
        if smallest <= RANK_TOLERANCE * scale:
            raise InvalidProblemError(
                f"(A, B) is not stabilisable: the mode with eigenvalue {eigenvalue:.6g} "
                f"(|lambda| = {abs(eigenvalue):.6g} >= 1) is not reachable from B (smallest "
                f"singular value of [A - lambda I, B/|B|] is {smallest:.3g}); expected every "
                "unstable mode to be controllable, so that a stabilising gain exists"
            )


def check_detectable(A: np.ndarray, Q: np.ndarray) -> None:
    """PBH test: (A, Q^{1/2}) is detectable iff rank [A − λI; Q^{1/2}] = n for every eigenvalue
    |λ| ≥ 1 (Q^{1/2} from the eigendecomposition of Q, normalised).  A float64 test with a
    relative rank tolerance; raises InvalidProblemError naming the mode."""
    n = A.shape[0]
    scale = max(float(np.linalg.norm(A, 2)), 1.0)
    eigenvalues, vectors = np.linalg.eigh(Q)
    root = np.sqrt(np.clip(eigenvalues, 0.0, None))[:, None] * vectors.T
    root = _normalised(root)
    for eigenvalue in _modes_at_or_outside_the_unit_circle(A):
        pencil = np.vstack([A - eigenvalue * np.eye(n), root])
        smallest = float(np.linalg.svd(pencil, compute_uv=False)[-1])
        if smallest <= RANK_TOLERANCE * scale:
            raise InvalidProblemError(
                f"(A, Q) is not detectable: the mode with eigenvalue {eigenvalue:.6g} "
                f"(|lambda| = {abs(eigenvalue):.6g} >= 1) is not seen by the state cost Q "
                f"(smallest singular value of [A - lambda I; Q^(1/2)/|Q^(1/2)|] is "
                f"{smallest:.3g}); expected every mode with |lambda| >= 1 to be observable "
                "through Q, so that the Riccati equation has a stabilising solution (Q = C^T C: "
                "(A, C) detectable)"
            )


def float_optimal_gain(problem: LQR) -> tuple[np.ndarray, np.ndarray]:
    """(K*, X*) in float64, after the stabilisability and detectability tests of (√γA, B, Q)."""
    A, B, Q, R, gamma = problem.A, problem.B, problem.Q, problem.R, problem.gamma
    root = np.sqrt(gamma)
    check_stabilisable(root * A, B)
    check_detectable(root * A, Q)
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
    if not root * radius < 1.0:
        raise NotStabilizingError(
            f"scipy's Riccati solution is not stabilising: sqrt(gamma) rho(A - BK*) = "
            f"{root * radius:.6g} (gamma = {gamma}, rho = {radius:.6g}); expected < 1 (the "
            "problem is too close to losing stabilisability or detectability)",
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
    interval is built afterwards around the final gain."""
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


def riccati_residual(model: Any, ar: BallArithmetic, X: BallMatrix) -> tuple[BallMatrix, Any]:
    """``Ric(X) = Q + γAᵀXA − γ²(BᵀXA)ᵀ G⁻¹ (BᵀXA) − X`` (symmetrised: the exact value is
    symmetric for symmetric X) and ``G = R + γBᵀXB``, in balls."""
    m = model
    XA = X @ m.A
    cross = m.B.T @ XA
    curvature = m.R + (m.B.T @ X @ m.B) * m.gamma
    correction = cross.T @ ar.solve(curvature, cross)
    residual = m.Q + (m.A.T @ XA) * m.gamma - correction * (m.gamma * m.gamma) - X
    return _symmetrised(residual), curvature


def _symmetrised(matrix: BallMatrix) -> BallMatrix:
    """``(M + Mᵀ)/2``: contains every symmetric matrix that M contains."""
    return BallMatrix((matrix.m + matrix.m.transpose()) * arb(0.5))


def _row_sum_upper(matrix: arb_mat) -> arb:
    """An upper bound of ``max_i Σ_j |M_ij|`` ≥ ‖M‖₂ for every symmetric M in the ball."""
    n = matrix.nrows()
    sums = [sum((abs(matrix[i, j]) for j in range(n)), arb(0)) for i in range(n)]
    return max(arb(total.upper()) for total in sums)


def _certified_solution(problem: LQR, ar: BallArithmetic, K: Any) -> tuple[Any, Any]:
    """Enclosures of (K*, X*) by the order interval of the module docstring."""
    evaluation = problem._evaluation(K, ar)
    certificate = evaluation.certificate
    with ar.context():
        model = evaluation.model
        upper = evaluation.value_matrix
        weight = certificate.weight_ball()
    with ctx.workprec(ar.working_bits + GUARD_BITS):
        centre = _newton_kleinman_point(model, ar, upper.m.mid(), evaluation.solver)
        start, _ = riccati_residual(model, ar, BallMatrix(centre))
        # never 0: Ric(X_low) ⪰ 0 must be proved with a positive margin
        floor = arb(2) ** (-ar.working_bits - GUARD_BITS) * (1 + _row_sum_upper(centre))
        shift = LOWER_SHIFT_FACTOR * (_row_sum_upper(start.m) + floor) / certificate.decrease
        lower = _lower_solution(model, ar, centre, weight, arb(shift.upper()))
    with ar.context():
        X_ball = BallMatrix(_interval_ball(lower, upper.m))
        curvature = model.R + (model.B.T @ X_ball @ model.B) * model.gamma
        gain = ar.solve(curvature, (model.B.T @ X_ball @ model.A) * model.gamma)
        closed = model.A - model.B @ gain
        if not all(entry.is_finite() for entry in gain.m.entries()):
            raise CertificationError(
                f"the certified optimal gain is not finite at {ar.working_bits} bits; "
                "try Certified(bits=...) with more bits"
            )
        try:
            certify_stability(closed.m, ar.to_float(closed), problem.gamma, ar.working_bits)
        except CertificationError as failure:
            raise CertificationError(
                f"could not certify that the Riccati solution is the stabilising one: {failure}"
            ) from failure
    return gain, X_ball


def _newton_kleinman_point(model: Any, ar: BallArithmetic, point: arb_mat, solver: Any) -> arb_mat:
    """An exact symmetric point nearer X* than ``point``: one Newton step on the Riccati
    equation, ``X⁺ = X + Δ`` with ``Δ − γA_KᵀΔA_K = Ric(X)`` solved in float64 (Kleinman 1968;
    the correction only needs a few correct digits).  Not claimed rigorous: it only centres the
    interval."""
    point = _symmetrised(BallMatrix(point)).m.mid()
    residual, _ = riccati_residual(model, ar, BallMatrix(point))
    float_residual = ar.to_float(BallMatrix(residual.m.mid()))
    step = solver.solve(0.5 * (float_residual + float_residual.T), "value")
    step = 0.5 * (step + step.T)
    if not np.all(np.isfinite(step)):
        return point
    return (point + arb_mat(step.tolist())).mid()


def _lower_solution(
    model: Any, ar: BallArithmetic, point: arb_mat, weight: arb_mat, shift: arb
) -> arb_mat:
    """An exact symmetric X_low = point − δ·weight with ``Ric(X_low) ⪰ 0`` and
    ``R + γBᵀX_lowB ≻ 0`` proved in balls (δ = shift, then 4× larger on each failure)."""
    for _ in range(LOWER_SHIFT_ATTEMPTS):
        lower = _symmetrised(BallMatrix((point - weight * shift).mid())).m.mid()
        residual, curvature = riccati_residual(model, ar, BallMatrix(lower))
        if lambda_min_lower(residual.m) is not None and lambda_min_lower(curvature.m) is not None:
            return lower
        shift = shift * 4
    raise CertificationError(
        f"could not certify a lower solution of the Riccati equation (Ric(X) >= 0) at "
        f"{ar.working_bits} bits; try Certified(bits=...) with more bits"
    )


def _interval_ball(lower: arb_mat, upper: arb_mat) -> arb_mat:
    """A ball matrix containing every symmetric X with ``lower ⪯ X ⪯ U`` for every U in the
    ball ``upper``: with ``0 ⪯ X − lower ⪯ D = U − lower``, ``0 ≤ X_ii − lower_ii ≤ D_ii`` and
    ``|X_ij − lower_ij| ≤ √(D_ii D_jj)`` (a PSD matrix's entries are bounded by its diagonal)."""
    n = lower.nrows()
    gap = upper - lower
    diagonal = [arb(max(gap[i, i].upper(), arb(0))) for i in range(n)]
    entries = []
    for i in range(n):
        for j in range(n):
            if i == j:
                half = diagonal[i] * arb(0.5)
                entries.append(lower[i, i] + half + arb(0, arb(half.upper())))
            else:
                reach = arb((diagonal[i] * diagonal[j]).sqrt().upper())
                entries.append(lower[i, j] + arb(0, reach))
    return arb_mat(n, n, entries)
