"""What the LQR checks share: the case context (the validated problem and its float64 pieces,
used for conditioning and for the slips), the fixed regression cases and the case generators.

Notation (docs/checks.md; Fazel, Ge, Kakade & Mesbahi, ICML 2018): ``A_K = A − BK``,
``Q_K = Q + KᵀRK``, ``P_K = Q_K + γA_KᵀP_K A_K``, ``Σ_K = Σ0_eff + γA_KΣ_K A_Kᵀ`` with
``Σ0_eff = Σ0 + γσBBᵀ/(1 − γ)``, ``E_K = (R + γBᵀP_K B)K − γBᵀP_K A``, ``∇C = 2E_KΣ_K``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.linalg
from hypothesis import strategies as st

from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.lqr import LQR
from pgverify.lqr.examples import DEAN_2017_A
from pgverify.strategies import MAX_SPECTRAL_RADIUS, lqr_problems_with_gains

HIGH_PRECISION_DIGITS = 40
"""Digits of the fallback reference when a certified one cannot be proved (tier high-precision)."""


# --------------------------------------------------------------------------------------------
# Float64 building blocks (conditioning and slips; never the reference)
# --------------------------------------------------------------------------------------------


def stein(M: np.ndarray, F: np.ndarray, gamma: float = 1.0, form: str = "value") -> np.ndarray:
    """Float64 solution of ``X = F + γMᵀXM`` (value form) or ``X = F + γMXMᵀ`` (covariance);
    scipy's ``solve_discrete_lyapunov(a, F)`` solves ``X = aXaᵀ + F``."""
    a = math.sqrt(gamma) * (M.T if form == "value" else M)
    return scipy.linalg.solve_discrete_lyapunov(a, F)


def norm2(M: np.ndarray) -> float:
    return float(np.linalg.norm(M, 2)) if np.size(M) else 0.0


def stein_condition(M: np.ndarray, gamma: float = 1.0) -> float:
    """A condition number of the Stein operator ``L(X) = X − γMᵀXM``:
    ``‖L⁻¹‖ ‖L‖ ≤ max(‖L⁻¹(I)‖₂, ‖L⁻ᵀ(I)‖₂) (1 + γ‖M‖₂²)`` (L⁻¹ is a positive map, so its
    norm is attained at the identity; the maximum covers its adjoint)."""
    identity = np.eye(M.shape[0])
    try:
        value = norm2(stein(M, identity, gamma, "value"))
        covariance = norm2(stein(M, identity, gamma, "covariance"))
    except (np.linalg.LinAlgError, ValueError):
        return math.inf
    condition = max(value, covariance, 1.0) * (1.0 + gamma * norm2(M) ** 2)
    return condition if math.isfinite(condition) else math.inf


def matrix_condition(M: np.ndarray) -> float:
    try:
        return float(np.linalg.cond(M, 2))
    except np.linalg.LinAlgError:
        return math.inf


def certified_or_high_precision(compute: Callable[[Any], Any]) -> Any:
    """The certified value, or (when it cannot be proved) a 40-digit one."""
    try:
        return compute("certified")
    except CertificationError:
        return compute(HIGH_PRECISION_DIGITS)


# --------------------------------------------------------------------------------------------
# The case context
# --------------------------------------------------------------------------------------------


@dataclass
class LQRContext:
    """One LQR case: the validated problem, the gain and step size, and float64 pieces."""

    problem: LQR
    K: np.ndarray | None = None
    alpha: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # the data ---------------------------------------------------------------------------------
    @property
    def A(self) -> np.ndarray:
        return self.problem.A

    @property
    def B(self) -> np.ndarray:
        return self.problem.B

    @property
    def Q(self) -> np.ndarray:
        return self.problem.Q

    @property
    def R(self) -> np.ndarray:
        return self.problem.R

    @property
    def Sigma0(self) -> np.ndarray:
        return self.problem.Sigma0

    @property
    def gamma(self) -> float:
        return self.problem.gamma

    @property
    def noise(self) -> float:
        return self.problem.noise

    @property
    def n(self) -> int:
        return self.problem.n

    @property
    def m(self) -> int:
        return self.problem.m

    # float64 pieces at K ----------------------------------------------------------------------
    @cached_property
    def closed_loop(self) -> np.ndarray:
        return self.A - self.B @ self.K

    @cached_property
    def stage_cost(self) -> np.ndarray:
        return self.Q + self.K.T @ self.R @ self.K

    def effective_initial(
        self, noise: float | None = None, gamma_factor: bool = True
    ) -> np.ndarray:
        """``Σ0 + γσBBᵀ/(1 − γ)`` (``noise`` replaces σ; without γ when not ``gamma_factor``)."""
        sigma = self.noise if noise is None else noise
        if sigma == 0.0:
            return self.Sigma0
        weight = (self.gamma if gamma_factor else 1.0) * sigma / (1.0 - self.gamma)
        return self.Sigma0 + weight * self.B @ self.B.T

    @cached_property
    def P(self) -> np.ndarray:
        return stein(self.closed_loop, self.stage_cost, self.gamma, "value")

    @cached_property
    def Sigma(self) -> np.ndarray:
        return stein(self.closed_loop, self.effective_initial(), self.gamma, "covariance")

    def E_with(
        self, P: np.ndarray, *, gamma: float | None = None, cross: np.ndarray | None = None
    ) -> np.ndarray:
        """``(R + γBᵀPB)K − γBᵀP·cross`` (cross = A by default)."""
        g = self.gamma if gamma is None else gamma
        cross = self.A if cross is None else cross
        return (self.R + g * self.B.T @ P @ self.B) @ self.K - g * self.B.T @ P @ cross

    @cached_property
    def E(self) -> np.ndarray:
        return self.E_with(self.P)

    @cached_property
    def gradient(self) -> np.ndarray:
        return 2.0 * self.E @ self.Sigma

    @cached_property
    def curvature(self) -> np.ndarray:
        return self.R + self.gamma * self.B.T @ self.P @ self.B

    def greedy_gain(self, P: np.ndarray, gamma: float | None = None) -> np.ndarray:
        """``γ(R + γBᵀPB)⁻¹BᵀPA``, the policy-iteration gain for a value matrix P."""
        g = self.gamma if gamma is None else gamma
        return g * np.linalg.solve(self.R + g * self.B.T @ P @ self.B, self.B.T @ P @ self.A)

    # conditioning ------------------------------------------------------------------------------
    @cached_property
    def kappa(self) -> float:
        """Condition number of the Stein operator of the closed loop."""
        return stein_condition(self.closed_loop, self.gamma)

    @cached_property
    def E_scale(self) -> float:
        """The size of the terms of ``2E_K`` (E_K cancels near the optimum)."""
        return 2.0 * (
            norm2(self.R) * norm2(self.K)
            + self.gamma
            * norm2(self.B)
            * norm2(self.P)
            * (norm2(self.B) * norm2(self.K) + norm2(self.A))
        )

    @cached_property
    def gradient_scale(self) -> float:
        return self.E_scale * norm2(self.Sigma)

    @cached_property
    def greedy_scale(self) -> float:
        """The size of ``γ(R + γBᵀPB)⁻¹BᵀPA`` computed from its factors."""
        inverse = norm2(np.linalg.inv(self.curvature))
        return inverse * self.gamma * norm2(self.B) * norm2(self.P) * norm2(self.A)


# --------------------------------------------------------------------------------------------
# Options (gamma=, noise=) and building the problem
# --------------------------------------------------------------------------------------------


def validate_discount(options: dict[str, Any], *, allow_noise: bool) -> dict[str, Any]:
    gamma, noise = options.get("gamma"), options.get("noise")
    if gamma is not None:
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
            raise InvalidProblemError(f"gamma must be a real number in (0, 1], got {gamma!r}")
        if not 0.0 < float(gamma) <= 1.0:
            raise InvalidProblemError(f"gamma must lie in (0, 1], got {gamma!r}")
        options["gamma"] = float(gamma)
    if noise is not None:
        if not allow_noise:
            raise InvalidProblemError(
                "this check takes no noise= option (its quantity does not depend on it)"
            )
        if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
            raise InvalidProblemError(
                f"noise (the exploration variance) must be a real number >= 0, got {noise!r}"
            )
        if not (math.isfinite(float(noise)) and float(noise) >= 0.0):
            raise InvalidProblemError(f"noise must be finite and >= 0, got {noise!r}")
        if float(noise) > 0.0 and (gamma is None or float(gamma) == 1.0):
            raise InvalidProblemError(
                f"noise = {noise!r} > 0 needs a discount gamma < 1 (gamma=...): the noise cost is "
                "infinite otherwise"
            )
        options["noise"] = float(noise)
    return options


def discount_keywords(options: Mapping[str, Any]) -> dict[str, Any]:
    """The keywords passed on to the implementation: ``gamma`` and ``noise`` when given."""
    return {key: options[key] for key in ("gamma", "noise") if options.get(key) is not None}


def build_problem(arguments: Mapping[str, Any], options: Mapping[str, Any]) -> LQR:
    n = np.shape(arguments["A"])[0] if np.ndim(arguments["A"]) == 2 else 1
    return LQR(
        arguments["A"],
        arguments["B"],
        arguments["Q"],
        arguments["R"],
        Sigma0=arguments.get("Sigma0", np.eye(n)),
        gamma=options.get("gamma") or 1.0,
        noise=options.get("noise") or 0.0,
    )


def require_stabilising(problem: LQR, K: np.ndarray) -> np.ndarray:
    gain = problem.gain(K)
    radius = problem.spectral_radius(gain)
    if not radius * math.sqrt(problem.gamma) < 1.0:
        raise InvalidProblemError(
            f"K is not stabilising: rho(A - BK) = {radius:.6g}; the checks need a stabilising "
            "gain (the cost is infinite otherwise)"
        )
    return gain


# --------------------------------------------------------------------------------------------
# Fixed regression cases
# --------------------------------------------------------------------------------------------


def _array(rows: list[list[float]]) -> np.ndarray:
    return np.array(rows, dtype=float)


def _system(closed: list[list[float]], B: list[list[float]], K: list[list[float]]) -> dict:
    """A = A_cl + BK, so that K is a stabilising gain with closed loop A_cl."""
    Bm, Km = _array(B), _array(K)
    return {"A": _array(closed) + Bm @ Km, "B": Bm, "K": Km}


def lqr_regression_cases() -> list[tuple[str, dict[str, Any]]]:
    """(label, arguments A, B, Q, R, Sigma0, K, alpha) of the fixed LQR cases."""
    cases = []
    cases.append(
        (
            "scalar system",
            {
                "A": _array([[1.25]]),
                "B": _array([[1.0]]),
                "Q": _array([[1.0]]),
                "R": _array([[0.5]]),
                "Sigma0": _array([[1.0]]),
                "K": _array([[0.75]]),
                "alpha": 0.125,
            },
        )
    )
    cases.append(
        (
            "Dean et al. (2017) 3-state system",
            {
                "A": DEAN_2017_A.copy(),
                "B": np.eye(3),
                "Q": 1e-3 * np.eye(3),
                "R": np.eye(3),
                "Sigma0": np.eye(3),
                "K": _array([[0.5, 0.1, 0.0], [0.0, 0.5, 0.1], [0.1, 0.0, 0.5]]),
                "alpha": 0.5,
            },
        )
    )
    wide = _system(
        [[0.5, 0.25], [-0.25, 0.25]],
        [[1.0, 0.5, 0.0], [0.0, 1.0, -0.5]],
        [[0.25, 0.0], [0.0, 0.5], [0.125, -0.25]],
    )
    wide.update(
        Q=_array([[1.0, 0.25], [0.25, 2.0]]),
        R=np.diag([1.0, 0.5, 2.0]),
        Sigma0=_array([[2.0, 0.5], [0.5, 1.0]]),
        alpha=0.0625,
    )
    cases.append(("more inputs than states (n = 2, m = 3)", wide))
    tall = _system(
        [[0.5, 0.25, 0.0], [0.0, 0.25, 0.5], [0.125, 0.0, -0.25]],
        [[1.0], [0.5], [-0.25]],
        [[0.5, -0.25, 0.125]],
    )
    tall.update(Q=np.eye(3), R=_array([[0.25]]), Sigma0=np.diag([1.0, 0.5, 2.0]), alpha=0.125)
    cases.append(("fewer inputs than states (n = 3, m = 1)", tall))
    nonnormal = _system([[0.5, 8.0], [0.0, 0.5]], [[0.0], [1.0]], [[0.25, 0.5]])
    nonnormal.update(Q=np.eye(2), R=_array([[1.0]]), Sigma0=np.eye(2), alpha=0.0078125)
    cases.append(("strongly non-normal closed loop (A - BK = [[0.5, 8], [0, 0.5]])", nonnormal))
    near = _system([[0.99, 0.25], [0.0, 0.5]], [[1.0], [0.5]], [[0.125, -0.25]])
    near.update(Q=np.eye(2), R=_array([[1.0]]), Sigma0=np.eye(2), alpha=0.001)
    cases.append(("closed loop with rho(A - BK) = 0.99", near))
    weights = _system(
        [[0.5, 0.25], [0.25, -0.5]], [[1.0, 0.0], [0.5, 1.0]], [[0.25, 0.0], [0.0, 0.25]]
    )
    weights.update(Q=np.diag([1e3, 1e-3]), R=np.diag([1.0, 1e-6]), Sigma0=np.eye(2), alpha=1e-4)
    cases.append(
        ("weights with condition number 1e6 (Q = diag(1e3, 1e-3), R = diag(1, 1e-6))", weights)
    )
    return cases


def lyapunov_regression_cases() -> list[tuple[str, dict[str, Any]]]:
    """(label, arguments A, Q) of the fixed Lyapunov cases (ρ(A) < 1 in each)."""
    return [
        ("scalar", {"A": _array([[0.5]]), "Q": _array([[2.0]])}),
        (
            "Dean et al. (2017) closed loop A - 0.5 I",
            {"A": DEAN_2017_A - 0.5 * np.eye(3), "Q": 1e-3 * np.eye(3)},
        ),
        (
            "non-symmetric A (3 x 3) and a rank-one Q",
            {
                "A": _array([[0.5, 0.25, 0.0], [-0.25, 0.25, 0.5], [0.125, 0.0, -0.25]]),
                "Q": _array([[1.0, 0.5, 0.25], [0.5, 0.25, 0.125], [0.25, 0.125, 0.0625]]),
            },
        ),
        (
            "strongly non-normal A = [[0.5, 8], [0, 0.5]]",
            {"A": _array([[0.5, 8.0], [0.0, 0.5]]), "Q": np.eye(2)},
        ),
        (
            "rho(A) = 0.99",
            {"A": _array([[0.99, 0.25], [0.0, 0.5]]), "Q": _array([[1.0, 0.25], [0.25, 0.5]])},
        ),
        (
            "Q with condition number 1e6",
            {"A": _array([[0.5, 0.25], [-0.5, 0.25]]), "Q": np.diag([1e3, 1e-3])},
        ),
        (
            "4 x 4 non-symmetric A",
            {
                "A": _array(
                    [
                        [0.25, 0.5, 0.0, -0.125],
                        [0.0, -0.5, 0.25, 0.0],
                        [0.125, 0.0, 0.25, 0.5],
                        [-0.25, 0.125, 0.0, 0.5],
                    ]
                ),
                "Q": np.diag([1.0, 2.0, 0.5, 1.0]),
            },
        ),
    ]


def riccati_regression_cases() -> list[tuple[str, dict[str, Any]]]:
    """(label, arguments A, B, Q, R): the LQR cases without gain, plus an unstable open loop."""
    cases = []
    for label, arguments in lqr_regression_cases():
        if label.startswith("closed loop with rho"):
            continue  # the optimum does not depend on K: the case adds nothing
        cases.append((label, {key: arguments[key] for key in ("A", "B", "Q", "R")}))
    cases.append(
        (
            "stable non-symmetric open loop",
            {
                "A": _array([[0.5, 1.0], [0.0, -0.25]]),
                "B": _array([[0.0], [1.0]]),
                "Q": np.eye(2),
                "R": _array([[1.0]]),
            },
        )
    )
    cases.append(
        (
            "unstable non-normal open loop",
            {
                "A": _array([[1.5, 4.0], [0.0, 0.75]]),
                "B": _array([[0.0], [1.0]]),
                "Q": np.eye(2),
                "R": _array([[1.0]]),
            },
        )
    )
    return cases


# --------------------------------------------------------------------------------------------
# Generated cases
# --------------------------------------------------------------------------------------------

SIZES = st.integers(1, 4)
STEP_SIZES = st.sampled_from([0.25, 0.0625, 0.5, 0.015625])


@st.composite
def lqr_arguments(draw: st.DrawFn, with_alpha: bool = False) -> dict[str, Any]:
    """A, B, Q, R, Sigma0, K (and alpha) from :func:`pgverify.strategies.lqr_problems_with_gains`
    with independent n, m in 1..4 (so m > n, m = n and m < n all occur)."""
    problem, gain = draw(lqr_problems_with_gains(n=SIZES, m=SIZES, discounted=False))
    arguments = {
        "A": problem.A,
        "B": problem.B,
        "Q": problem.Q,
        "R": problem.R,
        "Sigma0": problem.Sigma0,
        "K": gain,
    }
    if with_alpha:
        arguments["alpha"] = draw(STEP_SIZES)
    return arguments


def _eighths(rows: int, cols: int) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(-12, 12), min_size=rows * cols, max_size=rows * cols).map(
        lambda values: np.array(values, dtype=float).reshape(rows, cols) / 8.0
    )


@st.composite
def lyapunov_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """A with ρ(A) ≤ 0.95 (possibly far from normal: ‖A‖ may exceed 1) and Q = FᵀF/n ⪰ 0."""
    n = draw(SIZES)
    A = draw(_eighths(n, n))
    radius = float(np.max(np.abs(np.linalg.eigvals(A))))
    if radius > MAX_SPECTRAL_RADIUS:
        A = A * (MAX_SPECTRAL_RADIUS / radius)
    factor = draw(_eighths(n, n))
    Q = factor.T @ factor / n
    return {"A": A, "Q": 0.5 * (Q + Q.T)}


@st.composite
def riccati_arguments(draw: st.DrawFn) -> dict[str, Any]:
    arguments = draw(lqr_arguments())
    return {key: arguments[key] for key in ("A", "B", "Q", "R")}
