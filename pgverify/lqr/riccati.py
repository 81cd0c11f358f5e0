"""The stabilising solution X* of the discrete algebraic Riccati equation and the optimal gain.

    X = Q + γAᵀXA − γ²AᵀXB (R + γBᵀXB)⁻¹ BᵀXA,      K* = γ (R + γBᵀX*B)⁻¹ BᵀX*A,

"stabilising": ``√γ·ρ(A − BK*) < 1``, the domain of the discounted cost.  It exists when (√γA, B)
is stabilisable and (√γA, Q) detectable (both checked, with clear errors); it is unique, and
``P_K ⪰ X*`` for every gain K of the domain, so K* is the optimal gain there.

* float: :func:`scipy.linalg.solve_discrete_are` on (√γA, √γB, Q, R).
* high precision / certified: Newton's method on the Riccati equation as defect correction
  (:func:`refine_optimum`) in the target arithmetic, from a float solution by the doubling
  algorithm (:func:`doubling_riccati`; scipy's when it does not converge).
* certified: an order interval around the refined points (L, X̃).  Write
  ``T_L(X) = Q + LᵀRL + γA_LᵀXA_L`` (A_L = A − BL), ``G(X) = R + γBᵀXB``,
  ``K(X) = γG(X)⁻¹BᵀXA`` and ``Ric(X) = T_{K(X)}(X) − X`` (the Riccati residual).  Completing
  the square,

      T_L(X) = X + Ric(X) + (L − K(X))ᵀ G(X) (L − K(X)).      (*)

  1. *Lower end*: ``X_low = X̃ − δW`` with ``Ric(X_low) ⪰ 0`` and ``G(X_low) ≻ 0`` proved.  By
     (*), ``T_M(X_low) ⪰ X_low`` for every gain M, so ``P_M − X_low ⪰ γA_Mᵀ(P_M − X_low)A_M``
     and ``P_M ⪰ X_low`` for every domain gain M.
  2. *Upper end*: P_L, enclosed through the Stein residual of X̃ (L is a certified domain gain).
  3. *Stability of the whole interval*: 𝒳, an enclosure of every symmetric X with
     ``X_low ⪯ X ⪯ P_L``, gives an enclosure 𝒦 ⊇ K(𝒳), and a Lyapunov certificate proves
     ``√γ·ρ(A − BM) < 1`` for every M ∈ 𝒦.
  Then policy iteration from L stays in the interval: ``L_{j+1} = K(P_{L_j}) ∈ 𝒦`` is a domain
  gain, ``P_{L_{j+1}} ⪯ P_{L_j}`` (Hewer 1971: by (*), the difference solves a Stein equation
  with a PSD right-hand side) and ``P_{L_{j+1}} ⪰ X_low`` (step 1).  The decreasing, bounded
  sequence converges to a solution X∞ of the DARE in 𝒳 whose gain lies in 𝒦 — a stabilising
  solution.  Two stabilising solutions coincide (by (*), their difference solves a Stein
  inequality both ways), so X* = X∞ ∈ 𝒳 and K* ∈ 𝒦.  No assumption on Q beyond Q ⪰ 0: a
  singular Q (Q = CᵀC) is certified the same way.  The bounds that make each step cheap are in
  :func:`_certified_solution`; see docs/certified-lqr.md §4.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg
from flint import arb, arb_mat

from pgverify.errors import CertificationError, InvalidProblemError, NotStabilizingError
from pgverify.fixedpoint import FixedPointArithmetic, from_arb_mat
from pgverify.lqr.certify import lambda_min_lower
from pgverify.lqr.closed_forms import ModelData
from pgverify.lqr.stein import SteinSolver
from pgverify.precision import Arithmetic, BallArithmetic, BallMatrix

if TYPE_CHECKING:
    from pgverify.lqr.problem import LQR

MAX_NEWTON_STEPS = 30

LOWER_SHIFT_FACTOR = 2
"""δ = LOWER_SHIFT_FACTOR · ‖T_L(X̃) − X̃‖_F / d for the lower end of the interval."""

LOWER_SHIFT_ATTEMPTS = 6
"""Attempts from the positive floor; each multiplies δ by 4."""

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
    """(K*, X*) in float64 (see :func:`_float_solution`)."""
    K, X, _ = _float_solution(problem, with_solver=False)
    return K, X


def _float_solution(
    problem: LQR, *, with_solver: bool
) -> tuple[np.ndarray, np.ndarray, SteinSolver | None]:
    """(K*, X*) in float64 and, if asked (the higher tiers), a SteinSolver of A − BK* (its
    eigendecomposition also gives ρ).  The float tier's X* is scipy's; the higher tiers start
    from the doubling algorithm when it converges (:func:`doubling_riccati`, several times
    cheaper than scipy's QZ at n = 100; the refinement that follows makes the start's last
    digits irrelevant) and from scipy otherwise.  (√γA, B) must be stabilisable and (√γA, Q)
    detectable: a stabilising solution proves stabilisability, so the PBH test of (A, B) runs
    only to name the mode when no solution is found; detectability is tested unless Q ≻ 0
    (which implies it)."""
    A, B, Q, R, gamma = problem.A, problem.B, problem.Q, problem.R, problem.gamma
    root = np.sqrt(gamma)
    if not _positive_definite(Q):
        check_detectable(root * A, Q)
    X = doubling_riccati(problem) if with_solver else None
    if X is None:
        try:
            X = scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)
        except (np.linalg.LinAlgError, ValueError) as exc:
            check_stabilisable(root * A, B)  # raises InvalidProblemError, naming the mode
            # stabilisable and detectable: a stabilising solution exists, scipy failed to find it
            raise CertificationError(
                f"scipy's Riccati solver failed ({exc}) on a stabilisable and detectable "
                "problem, and the doubling algorithm did not converge either: no float64 start "
                "for the Riccati solution; rescaling the state or the weights may help"
            ) from exc
    X = 0.5 * (X + X.T)
    try:
        K = gamma * np.linalg.solve(R + gamma * B.T @ X @ B, B.T @ X @ A)
    except np.linalg.LinAlgError as exc:
        raise CertificationError(
            "the float64 curvature R + gamma B'X*B is singular after rounding (its exact "
            "value is positive definite), so the float64 start of the optimal gain cannot be "
            "formed; weights of very different scales (here Q and R) cause this"
        ) from exc
    solver = None
    if not np.all(np.isfinite(K)):
        radius = np.inf
    elif with_solver:
        solver = SteinSolver(A - B @ K, gamma)
        radius = solver.spectral_radius
    else:
        radius = float(np.max(np.abs(np.linalg.eigvals(A - B @ K))))
    if not root * radius < 1.0:
        check_stabilisable(root * A, B)
        raise NotStabilizingError(
            f"scipy's Riccati solution is not stabilising: sqrt(gamma) rho(A - BK*) = "
            f"{root * radius:.6g} (gamma = {gamma}, rho = {radius:.6g}); expected < 1 (the "
            "problem is too close to losing stabilisability or detectability)",
            spectral_radius=radius,
        )
    return K, X, solver


DOUBLING_STEPS = 60
"""The doubling algorithm's iterate k covers 2^k steps of the Riccati recursion."""

DOUBLING_TOLERANCE = 1e-13
"""Relative change of X at which the doubling algorithm stops; its answer is then accepted
only with a relative Riccati residual below DOUBLING_RESIDUAL."""

DOUBLING_RESIDUAL = 1e-10


def doubling_riccati(problem: LQR) -> np.ndarray | None:
    """X* in float64 by the structure-preserving doubling algorithm (Chu, Fan & Lin, "A
    structure-preserving doubling algorithm for continuous-time algebraic Riccati equations",
    Linear Algebra Appl. 396, 2005; here its discrete-time form): with Ã = √γA,
    ``A_0 = Ã, G_0 = γBR⁻¹Bᵀ, H_0 = Q`` and ``W_k = I + G_kH_k``,

        A_{k+1} = A_k W_k⁻¹ A_k,  G_{k+1} = G_k + A_k W_k⁻¹ G_k A_kᵀ,
        H_{k+1} = H_k + A_kᵀ H_k W_k⁻¹ A_k,

    H_k → X* quadratically.  None when it does not converge or its answer's Riccati residual
    is not small (the caller then uses scipy)."""
    A, B, Q, R, gamma = problem.A, problem.B, problem.Q, problem.R, problem.gamma
    n = problem.n
    identity = np.eye(n)
    with np.errstate(all="ignore"):
        power = np.sqrt(gamma) * A
        G = gamma * B @ np.linalg.solve(R, B.T)
        H = Q.copy()
        try:
            for _ in range(DOUBLING_STEPS):
                both = np.linalg.solve(identity + G @ H, np.hstack([power, G]))
                moved, spread = both[:, :n], both[:, n:]
                following = H + power.T @ H @ moved
                G = G + power @ spread @ power.T
                power = power @ moved
                following = 0.5 * (following + following.T)
                change = np.max(np.abs(following - H))
                H = following
                if not np.all(np.isfinite(H)):
                    return None
                if change <= DOUBLING_TOLERANCE * np.max(np.abs(H)):
                    break
            else:
                return None
        except np.linalg.LinAlgError:
            return None
        cross = B.T @ H @ A
        try:
            correction = np.linalg.solve(R + gamma * B.T @ H @ B, cross)
        except np.linalg.LinAlgError:
            return None
        residual = Q + gamma * A.T @ H @ A - gamma**2 * cross.T @ correction - H
    scale = max(float(np.max(np.abs(H))), float(np.max(np.abs(Q))), np.finfo(float).tiny)
    if not (
        np.all(np.isfinite(residual)) and np.max(np.abs(residual)) <= DOUBLING_RESIDUAL * scale
    ):
        return None
    return H


def _positive_definite(matrix: np.ndarray) -> bool:
    """Q ≻ 0 with a relative margin (float64 eigenvalues)."""
    eigenvalues = np.linalg.eigvalsh(matrix)
    return bool(eigenvalues[0] > 1e-8 * max(abs(eigenvalues[-1]), np.finfo(float).tiny))


def optimal_solution(problem: LQR, ar: Arithmetic) -> tuple[Any, Any, Arithmetic]:
    """(K*, X*) in the arithmetic ``ar`` (rigorous enclosures in certified arithmetic, on the
    BLAS engine when ``problem`` chooses it) and the arithmetic they are in.

    Scaling Q and R by s scales X* by s and leaves K* unchanged, so the equation is solved for
    Q/s, R/s with s the power of two nearest their largest entry (exact: no rounding), and X*
    multiplied back by s (exact): weights near 1e±270 are as easy as weights near 1."""
    scale = _weight_scale(problem)
    if scale == 0:
        gain, value, engine = _optimal_solution(problem, ar)
        return gain, value, engine
    scaled = type(problem)(
        problem.A,
        problem.B,
        np.ldexp(problem.Q, -scale),
        np.ldexp(problem.R, -scale),
        problem.Sigma0,
        problem.gamma,
        problem.noise,
    )
    gain, value, engine = _optimal_solution(scaled, ar)
    if engine.tier == "float":
        return gain, np.ldexp(value, scale), engine
    with engine.context():
        return gain, value * engine.scalar(math.ldexp(1.0, scale)), engine


def _weight_scale(problem: LQR) -> int:
    """e with 2^e near the largest entry of Q and R, when dividing by it is exact (0 otherwise,
    or when no scaling is needed)."""
    largest = max(float(np.max(np.abs(problem.Q))), float(np.max(np.abs(problem.R))))
    exponent = math.frexp(largest)[1]
    if abs(exponent) < 64:
        return 0
    for matrix in (problem.Q, problem.R):
        if not np.array_equal(np.ldexp(np.ldexp(matrix, -exponent), exponent), matrix):
            return 0
    return exponent


def _optimal_solution(problem: LQR, ar: Arithmetic) -> tuple[Any, Any, Arithmetic]:
    if ar.tier == "float":
        K, X = float_optimal_gain(problem)
        return K, X, ar
    K, X, solver = _float_solution(problem, with_solver=True)
    assert solver is not None
    if isinstance(ar, BallArithmetic):
        engine: Arithmetic = ar
        if problem._use_blas_engine(ar):
            engine = FixedPointArithmetic(ar.working_bits, max(problem.n, problem.m))
        gain, value = _certified_solution(problem, engine, K, X, solver)
        return gain, value, engine
    gain, value, size = refine_optimum(problem, ar, K, X, solver)
    if size > 2.0 ** (-ar.working_bits / 2):
        raise CertificationError(
            f"Newton's method on the Riccati equation stalled at relative correction "
            f"{size:.2e} at {ar.working_bits} bits; the problem is too ill-conditioned for the "
            "float64 inner solver"
        )
    problem._require_stabilizing(gain, ar)
    return gain, value, ar


def refine_optimum(
    problem: LQR, ar: Arithmetic, K: np.ndarray, X: np.ndarray, solver: SteinSolver
) -> tuple[Any, Any, float]:
    """Newton's method on the Riccati equation (Kleinman 1968; Hewer 1971) as defect
    correction in the arithmetic ``ar``, from the float solution (K, X).  Each step computes,
    in ``ar``, with A_K = A − BK,

        S = Q + KᵀRK + γA_KᵀXA_K − X      (X → P_K: the Stein residual),
        F = RK − γBᵀXA_K = (R + γBᵀXB)K − γBᵀXA      (K → K(X): the gain defect),

    and corrects ``X ← X + Δ`` with ``Δ − γA_KᵀΔA_K = S``, then (F with the new X)
    ``K ← K − G⁻¹F``, by float64 solvers fixed once (``solver``, a SteinSolver of the float
    A − BK, and G from the float X): each step gains about as many digits as float64 has, as
    in iterative refinement.  The products XA_K, A_KᵀXA_K, RK, KᵀRK are updated with the
    corrections (float64 matrices, on the BLAS engine multiplied only down to the absolute
    precision needed), so no step multiplies two full-precision matrices.  Points only (ball
    midpoints): nothing here is claimed rigorous.  Returns (K, X, the last relative
    correction)."""
    curvature = problem.R + problem.gamma * problem.B.T @ X @ problem.B
    target = 2.0 ** (2 - ar.working_bits)
    with ar.context():
        m = ModelData(ar, problem)
        gain = ar.matrix(K)
        value = ar.matrix(_symmetric_part(X))
        closed = m.A - m.B @ gain
        weighted_gain = m.R @ gain
        quadratic_gain = gain.T @ weighted_gain  # KᵀRK
        value_closed = value @ closed  # X A_K
        quadratic_value = closed.T @ value_closed  # A_Kᵀ X A_K
        previous = size = np.inf
        for _ in range(MAX_NEWTON_STEPS):
            stein = m.Q + quadratic_gain + quadratic_value * m.gamma - value
            value_step = _symmetric_part(solver.solve(_symmetric_part(ar.to_float(stein)), "value"))
            increment = ar.increment(value_step, of=value)
            value = ar.point(value + increment)
            moved = increment @ closed
            value_closed = ar.point(value_closed + moved)
            quadratic_value = ar.point(quadratic_value + closed.T @ moved)
            defect = weighted_gain - (m.B.T @ value_closed) * m.gamma
            gain_step = -np.linalg.solve(curvature, ar.to_float(defect))
            step = ar.increment(gain_step, of=gain)
            # K ← K + ΔK: A_K ← A_K − BΔK, and (X symmetric) A_KᵀX = (XA_K)ᵀ
            input_step = m.B @ step
            weighted_step = m.R @ step
            quadratic_gain = ar.point(
                quadratic_gain + gain.T @ weighted_step + step.T @ (weighted_gain + weighted_step)
            )
            weighted_gain = ar.point(weighted_gain + weighted_step)
            gain = ar.point(gain + step)
            closed = ar.point(closed - input_step)
            previous_value_closed = value_closed
            value_closed = ar.point(value_closed - value @ input_step)
            quadratic_value = ar.point(
                quadratic_value - previous_value_closed.T @ input_step - input_step.T @ value_closed
            )
            size = max(_relative(value_step, X), _relative(gain_step, K))
            if not np.isfinite(size):
                raise CertificationError(
                    "Newton's method on the Riccati equation produced non-finite corrections"
                )
            # stop when the next correction would be below the target (the corrections shrink
            # by a constant factor), or when they stop shrinking near the working precision
            if size <= target or (np.isfinite(previous) and size * (size / previous) <= target):
                break
            if size > 0.5 * previous and size < 2.0**-40:
                break
            previous = size
    return gain, value, size


def _symmetric_part(matrix: np.ndarray) -> np.ndarray:
    return 0.5 * (matrix + matrix.T)


def _relative(step: np.ndarray, reference: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(reference), initial=0.0)), np.finfo(float).tiny)
    return float(np.max(np.abs(step), initial=0.0)) / scale


def _ball(value: Any) -> arb_mat:
    """An arb_mat enclosing a matrix of either certified arithmetic."""
    return value.m if isinstance(value, BallMatrix) else value.to_arb_mat()


def _certified_solution(
    problem: LQR, ar: Arithmetic, K: np.ndarray, X: np.ndarray, solver: SteinSolver
) -> tuple[Any, Any]:
    """Enclosures of (K*, X*) by the order interval of the module docstring, in a certified
    arithmetic ``ar`` (Arb balls, or the BLAS engine).  With X̃, L the refined points,
    ``S = T_L(X̃) − X̃``, ``F(X) = G(X)L − γBᵀXA = RL − γBᵀXA_L`` (A_L = A − BL) and W the
    Lyapunov weight of A_L (``W − γA_LᵀWA_L ⪰ dI``, ``W ⪯ w_max I``), no linear solve and only
    seven matrix products and no Stein solve are needed:

    * lower end ``X_low = X̃ − δW``: by (*), ``Ric(X) = T_L(X) − X − FᵀG⁻¹F``, and
      ``T_L(X_low) − X_low = S + δ(W − γA_LᵀWA_L) ⪰ S + δdI``, so
      ``λ_min Ric(X_low) ≥ δd − ‖S‖_F − ‖F(X_low)‖_F² / λ_min G(X_low)``, which must be ≥ 0
      (δ = 0 when S and F vanish exactly: then the enclosures are exact);
    * perturbations, for ``X = X̃ + Y``: ``F(X) = F(X̃) − γBᵀYA_L`` and
      ``G(X) = G(X̃) + γBᵀYB``, so ``‖F(X)‖ ≤ ‖F(X̃)‖ + γ‖B‖‖Y‖‖A_L‖`` and
      ``λ_min G(X) ≥ λ_min G(X̃) − γ‖B‖²‖Y‖`` (Frobenius norms bound spectral ones);
    * upper end: ``P_L − X̃`` solves ``E = S + γA_LᵀEA_L``, so ``‖P_L − X̃‖_F ≤ ε``, the
      certificate's Stein error bound for ‖S‖_F;
    * the interval ``X_low ⪯ X ⪯ P_L``: ``0 ⪯ X − X_low ⪯ D`` gives ``|X − X_low − D/2|_ij ≤
      √(D_ii D_jj)/2``, so X lies within ``tr(D)/2`` (Frobenius) of ``X_low + D/2``, where
      ``tr D ≤ √n ε + δ tr W``;
    * the gain: ``K(X) − L = G(X)⁻¹F(X)``, so ``‖K(X) − L‖_F ≤ ‖F(X)‖_F / λ_min G(X)``.
    """
    gain, centre, _ = refine_optimum(problem, ar, K, X, solver)
    with ar.context():
        model = ModelData(ar, problem)
        bounds = _PointBounds(model, ar, gain, centre)
        # one certificate for every gain within ρ_K of L: it serves A − BL here and, when the
        # final gain enclosure fits inside (the usual case), A − BK for every K in it
        gain_reach = arb((arb(2) ** (-ar.working_bits // 2) * (1 + ar.norm_upper(gain))).upper())
        closed_reach = model.A - model.B @ ar.widen(gain, gain_reach)
    try:
        certificate = problem._certify_closed_loop(closed_reach, ar, solver, problem.gamma)
    except CertificationError as failure:
        raise CertificationError(
            f"could not certify sqrt(gamma) rho(A - BK) < 1 at the refined optimal gain: {failure}"
        ) from failure
    with ar.context():
        weight = _weight_in(ar, certificate)
        decrease, weight_norm = certificate.decrease, certificate.weight_upper
        # δ = 2‖S‖/d first (δ = 0 when X̃ solves the equation exactly: Ric(X̃) ⪰ 0 suffices);
        # then from a positive floor, larger each time
        floor = arb(2) ** (-ar.working_bits) * (1 + ar.norm_upper(centre))
        shifts = [LOWER_SHIFT_FACTOR * bounds.stein / decrease] + [
            LOWER_SHIFT_FACTOR * (bounds.stein + floor) / decrease * 4**attempt
            for attempt in range(LOWER_SHIFT_ATTEMPTS)
        ]
        for shift in (arb(candidate.upper()) for candidate in shifts):
            defect, smallest = bounds.at_distance(shift * weight_norm)
            if smallest > 0 and shift * decrease - bounds.stein - defect * defect / smallest >= 0:
                break
        else:
            raise CertificationError(
                f"could not certify a lower solution of the Riccati equation (Ric(X) >= 0) at "
                f"{ar.working_bits} bits; try Certified(bits=...) with more bits"
            )
        # P_L − X̃ solves E = S + γA_LᵀEA_L: ‖P_L − X̃‖_F ≤ ε (the certificate's Stein bound)
        error = certificate.stein_error_bound(bounds.stein, problem.gamma)
        # D = P_L − X_low = (P_L − X̃) + δW: tr D ≤ √n ε + δ tr W; X* lies within tr(D)/2 of
        # X_low + D/2 = (X̃ − δW/2) + (P_L − X̃)/2
        trace_gap = arb(problem.n).sqrt() * error + shift * ar.trace(weight)
        middle = centre - weight * (shift * 0.5)
        middle_point = ar.point(middle)
        reach = trace_gap * 0.5 + error * 0.5 + ar.norm_upper(middle - middle_point)
        reach = arb(reach.upper())
        value = ar.widen(middle_point, reach)
        defect, smallest = bounds.at_distance(ar.norm_upper(middle_point - centre) + reach)
        if not smallest > 0:
            raise CertificationError(
                f"could not certify R + gamma B^T X B > 0 on the enclosure of X* at "
                f"{ar.working_bits} bits; try Certified(bits=...) with more bits"
            )
        gain_radius = arb((defect / smallest).upper())
        optimal_gain = ar.widen(gain, gain_radius)
        closed = model.A - model.B @ optimal_gain
    if not gain_radius <= gain_reach:
        try:
            problem._certify_closed_loop(closed, ar, solver, problem.gamma)
        except CertificationError as failure:
            raise CertificationError(
                f"could not certify that the Riccati solution is the stabilising one: {failure}"
            ) from failure
    return optimal_gain, value


class _PointBounds:
    """Rigorous bounds at the refined points (L, X̃) and their perturbations (see
    :func:`_certified_solution`): ``stein`` ≥ ‖T_L(X̃) − X̃‖_F, and :meth:`at_distance`."""

    def __init__(self, model: Any, ar: Arithmetic, gain: Any, X: Any) -> None:
        closed = model.A - model.B @ gain
        weighted_gain = model.R @ gain
        value_closed = X @ closed
        stein = model.Q + gain.T @ weighted_gain + (closed.T @ value_closed) * model.gamma - X
        BX = model.B.T @ X
        defect = weighted_gain - (BX @ closed) * model.gamma
        curvature = model.R + (BX @ model.B) * model.gamma
        self.closed_loop = closed
        smallest = lambda_min_lower(_ball((curvature + curvature.T) * 0.5))
        self.stein = arb(ar.norm_upper(stein).upper())
        self.defect = ar.norm_upper(defect)
        self.curvature = smallest if smallest is not None else arb(-1)
        self.gamma = arb(model.float_gamma)
        self.B = ar.norm_upper(model.B)
        self.closed = ar.norm_upper(closed)

    def at_distance(self, distance: arb) -> tuple[arb, arb]:
        """For every X with ‖X − X̃‖₂ ≤ distance (a Frobenius bound will do): an upper bound of
        ‖F(X)‖_F and a lower bound of λ_min G(X) (not positive when positivity is not
        proved)."""
        defect = self.defect + self.gamma * self.B * distance * self.closed
        smallest = self.curvature - self.gamma * self.B * self.B * distance
        return arb(defect.upper()), arb(smallest.lower())


def _weight_in(ar: Arithmetic, certificate: Any) -> Any:
    """The certificate's exact Lyapunov weight W as a matrix of ``ar``."""
    if isinstance(certificate.weight, np.ndarray):
        return ar.matrix(certificate.weight)
    if isinstance(ar, FixedPointArithmetic):
        return from_arb_mat(certificate.weight, ar.layout)
    return BallMatrix(certificate.weight)
