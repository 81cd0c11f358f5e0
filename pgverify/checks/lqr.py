"""Checks of LQR policy-optimisation code against the certified LQR oracle.

Canonical signatures (numpy float64 arrays in, array-likes out; ``u = −Kx``; costs minimised):

* ``check_lyapunov_solver(fn)``: ``fn(A, Q) -> P`` with ``P = Q + AᵀPA``;
* ``check_riccati_solver(fn)``: ``fn(A, B, Q, R) -> P`` (the stabilising DARE solution);
* ``check_optimal_gain(fn)``: ``fn(A, B, Q, R) -> K*``;
* ``check_lqr_cost(fn)``: ``fn(A, B, Q, R, Sigma0, K) -> C(K)``;
* ``check_lqr_gradient(fn)``: ``fn(A, B, Q, R, Sigma0, K) -> ∇C(K)``, shape (m, n);
* ``check_policy_gradient_step(fn)``, ``check_natural_gradient_step(fn)``,
  ``check_gauss_newton_step(fn)``: ``fn(A, B, Q, R, Sigma0, K, alpha) -> K_next``;
* ``check_policy_iteration_step(fn)``: ``fn(A, B, Q, R, K) -> K_next``.

``gamma=`` (and ``noise=``, a variance, which needs γ < 1) switch to the discounted (noisy)
problem and are passed to ``fn`` as keyword arguments.  References are certified enclosures
(:class:`pgverify.Enclosure`; a 40-digit mpmath value, tier high-precision, where a certificate
cannot be had).  Formulas: Fazel, Ge, Kakade & Mesbahi (ICML 2018); docs/checks.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.linalg
from hypothesis import strategies as st

from pgverify.checks._driver import run_check
from pgverify.checks._lqr_support import (
    LQRContext,
    build_problem,
    certified_or_high_precision,
    discount_keywords,
    lqr_arguments,
    lqr_regression_cases,
    lyapunov_arguments,
    lyapunov_regression_cases,
    matrix_condition,
    norm2,
    require_stabilising,
    riccati_arguments,
    riccati_regression_cases,
    stein,
    stein_condition,
    validate_discount,
)
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.lqr import LQR


def _identity(arguments: Mapping[str, Any]) -> np.ndarray:
    return np.eye(np.atleast_2d(np.asarray(arguments["A"], dtype=float)).shape[0])


def _discounted(context: LQRContext) -> bool:
    return context.gamma < 1.0


def _noisy(context: LQRContext) -> bool:
    return context.noise > 0.0


def _square_input(context: LQRContext) -> bool:
    return context.m == context.n


# --------------------------------------------------------------------------------------------
# Lyapunov (Stein) solver
# --------------------------------------------------------------------------------------------


def _lyapunov_no_transpose(context: LQRContext) -> np.ndarray:
    """P = Q + APA: vec(APA) = (Aᵀ ⊗ A) vec(P), column-major."""
    A, Q, n = context.A, context.Q, context.n
    system = np.eye(n * n) - np.kron(A.T, A)
    return np.linalg.solve(system, Q.reshape(-1, order="F")).reshape(n, n, order="F")


LYAPUNOV_SLIPS = (
    Slip(
        "the solution of the transposed convention P = Q + A P Aᵀ (e.g. scipy.linalg."
        "solve_discrete_lyapunov(A, Q): scipy solves X = A X Aᵀ + Q, so pass A.T)",
        lambda c: stein(c.A, c.Q, 1.0, "covariance"),
    ),
    Slip("the solution of P = Q + A P A (a transpose missing)", _lyapunov_no_transpose),
    Slip("−P, the solution of P = −Q + AᵀPA (a sign slip)", lambda c: -stein(c.A, c.Q)),
    Slip(
        "the solution of the continuous-time Lyapunov equation AᵀP + PA + Q = 0",
        lambda c: scipy.linalg.solve_continuous_lyapunov(c.A.T, -c.Q),
    ),
    Slip(
        "Q + AᵀQA (one step of the fixed-point iteration instead of its limit)",
        lambda c: c.Q + c.A.T @ c.Q @ c.A,
    ),
)


class LyapunovSpec(CheckSpec):
    name = "check_lyapunov_solver"
    quantity = "the Lyapunov solution P = Q + AᵀPA"
    parameters = ("A", "Q")
    axes = MappingProxyType({"A": ("n", "n"), "Q": ("n", "n")})
    slips = LYAPUNOV_SLIPS

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return options

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return lyapunov_regression_cases()

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return lyapunov_arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> LQRContext:
        A = np.atleast_2d(arguments["A"])
        n = A.shape[0] if A.ndim == 2 else 1
        # P = Q + AᵀPA is the value matrix of the zero gain of a problem without inputs
        problem = LQR(A, np.zeros((n, 1)), arguments["Q"], np.eye(1))
        return LQRContext(problem, require_stabilising(problem, np.zeros((1, n))))

    def expected(self, context: LQRContext) -> Expected:
        reference = certified_or_high_precision(
            lambda precision: context.problem.value_matrix(context.K, precision)
        )
        scale = norm2(stein(context.A, context.Q))
        return Expected(reference, stein_condition(context.A), scale)


def check_lyapunov_solver(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, Q) -> P`` solving the discrete Lyapunov (Stein) equation ``P = Q + AᵀPA``
    (the value-matrix convention of LQR; ρ(A) < 1, Q symmetric ⪰ 0) against a certified
    enclosure.  Known slips diagnosed: scipy's transposed convention, a missing transpose, a sign
    slip, the continuous-time equation, one fixed-point step.

    Options (every check): ``cases=[...]`` your own cases (dicts of the arguments or tuples in
    signature order), ``max_examples`` generated cases (default: 40, or 1000 in the thorough
    profile), ``seed`` (reproducible generation; default 0), ``dtype`` (the precision the result
    is judged at; default: the result's own dtype), ``database`` (a hypothesis example database
    or a directory, to share counterexamples).  Returns a :class:`CheckReport`; raises
    :class:`pgverify.OracleMismatch` with a minimal failing case and a diagnosis.
    """
    __tracebackhide__ = True
    return run_check(
        LyapunovSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


# --------------------------------------------------------------------------------------------
# Riccati solver and optimal gain
# --------------------------------------------------------------------------------------------


def _dare(A: np.ndarray, B: np.ndarray, Q: np.ndarray, R: np.ndarray, gamma: float) -> np.ndarray:
    root = np.sqrt(gamma)
    return scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)


def _care(context: LQRContext) -> np.ndarray:
    return scipy.linalg.solve_continuous_are(context.A, context.B, context.Q, context.R)


def _riccati_value(context: LQRContext) -> np.ndarray:
    return context.extra["X"]


def _zero_gain_value(context: LQRContext) -> np.ndarray:
    if np.max(np.abs(np.linalg.eigvals(context.A))) * np.sqrt(context.gamma) >= 1.0:
        raise ValueError("the open loop is unstable: no value of the zero gain")
    return stein(context.A, context.Q, context.gamma)


RICCATI_SLIPS = (
    Slip(
        "the solution of the continuous-time algebraic Riccati equation "
        "(scipy.linalg.solve_continuous_are)",
        _care,
    ),
    Slip(
        "the DARE solution for Aᵀ in place of A",
        lambda c: _dare(c.A.T, c.B, c.Q, c.R, c.gamma),
    ),
    Slip(
        "the value matrix of the zero gain, P = Q + γAᵀPA (no control)",
        _zero_gain_value,
    ),
    Slip(
        "the undiscounted DARE solution (γ ignored)",
        lambda c: _dare(c.A, c.B, c.Q, c.R, 1.0),
        _discounted,
    ),
)


def _optimal_gain_from(
    context: LQRContext, X: np.ndarray, gamma: float | None = None
) -> np.ndarray:
    g = context.gamma if gamma is None else gamma
    B = context.B
    return g * np.linalg.solve(context.R + g * B.T @ X @ B, B.T @ X @ context.A)


OPTIMAL_GAIN_SLIPS = (
    Slip(
        "−K* (the gain of the convention u = +Kx)", lambda c: -_optimal_gain_from(c, c.extra["X"])
    ),
    Slip(
        "γR⁻¹BᵀX*A — R alone as the curvature (BᵀX*B dropped)",
        lambda c: c.gamma * np.linalg.solve(c.R, c.B.T @ c.extra["X"] @ c.A),
    ),
    Slip(
        "the continuous-time optimal gain R⁻¹BᵀX of the continuous-time Riccati equation",
        lambda c: np.linalg.solve(c.R, c.B.T @ _care(c)),
    ),
    Slip(
        "(R + BᵀXB)⁻¹BᵀXA with X the continuous-time Riccati solution",
        lambda c: _optimal_gain_from(c, _care(c)),
    ),
    Slip(
        "the optimal gain computed for Aᵀ in place of A",
        lambda c: _optimal_gain_from(c, _dare(c.A.T, c.B, c.Q, c.R, c.gamma)),
    ),
    Slip(
        "the undiscounted optimal gain (γ ignored)",
        lambda c: _optimal_gain_from(c, _dare(c.A, c.B, c.Q, c.R, 1.0), 1.0),
        _discounted,
    ),
)


_SYSTEM_AXES = {"A": ("n", "n"), "B": ("n", "m"), "Q": ("n", "n"), "R": ("m", "m")}


class _RiccatiSpec(CheckSpec):
    parameters = ("A", "B", "Q", "R")
    axes = MappingProxyType(_SYSTEM_AXES)

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return validate_discount(options, allow_noise=False)

    def keywords(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return discount_keywords(options)

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return riccati_regression_cases()

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return riccati_arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> LQRContext:
        problem = build_problem(arguments, options)
        K, X = problem.optimal_gain(), problem.optimal_value_matrix()
        context = LQRContext(problem, K)
        context.extra["X"] = X
        return context

    def riccati_condition(self, context: LQRContext) -> float:
        """The Stein condition number at the optimal closed loop, amplified by the quadratic
        term's sensitivity ``1 + γ‖B‖²‖X*‖/λ_min(R)``."""
        X = context.extra["X"]
        smallest = float(np.min(np.linalg.eigvalsh(context.R)))
        quadratic = 1.0 + context.gamma * norm2(context.B) ** 2 * norm2(X) / smallest
        return stein_condition(context.closed_loop, context.gamma) * quadratic


class RiccatiSpec(_RiccatiSpec):
    name = "check_riccati_solver"
    quantity = "the stabilising DARE solution P"
    slips = RICCATI_SLIPS

    def expected(self, context: LQRContext) -> Expected:
        reference = certified_or_high_precision(context.problem.optimal_value_matrix)
        return Expected(reference, self.riccati_condition(context), norm2(context.extra["X"]))


class OptimalGainSpec(_RiccatiSpec):
    name = "check_optimal_gain"
    quantity = "the optimal gain K*"
    slips = OPTIMAL_GAIN_SLIPS

    def expected(self, context: LQRContext) -> Expected:
        reference = certified_or_high_precision(context.problem.optimal_gain)
        X = context.extra["X"]
        curvature = context.R + context.gamma * context.B.T @ X @ context.B
        condition = self.riccati_condition(context) * matrix_condition(curvature)
        inverse = norm2(np.linalg.inv(curvature))
        scale = norm2(context.K) + inverse * context.gamma * norm2(context.B) * norm2(X) * norm2(
            context.A
        )
        return Expected(reference, condition, scale)


def check_riccati_solver(
    fn: Any,
    *,
    gamma: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R) -> P``, the stabilising solution of the discrete algebraic Riccati
    equation ``P = Q + γAᵀPA − γ²AᵀPB(R + γBᵀPB)⁻¹BᵀPA`` against a certified enclosure
    (two-sided bound, Fazel et al. 2018, Lemma 6).  ``gamma=`` checks the discounted equation and
    calls ``fn(A, B, Q, R, gamma=gamma)``.  Slips diagnosed: the continuous-time equation, Aᵀ for
    A, the uncontrolled value, γ ignored.  Other options as in :func:`check_lyapunov_solver`."""
    __tracebackhide__ = True
    return run_check(
        RiccatiSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        gamma=gamma,
    )


def check_optimal_gain(
    fn: Any,
    *,
    gamma: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R) -> K*``, the optimal LQR gain ``K* = γ(R + γBᵀX*B)⁻¹BᵀX*A``
    (u = −K*x) against a certified enclosure.  ``gamma=`` as in :func:`check_riccati_solver`.
    Slips diagnosed: the sign convention, R alone as the curvature, continuous-time gains, Aᵀ
    for A, γ ignored.  Other options as in :func:`check_lyapunov_solver`."""
    __tracebackhide__ = True
    return run_check(
        OptimalGainSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        gamma=gamma,
    )


# --------------------------------------------------------------------------------------------
# Quantities at a gain K
# --------------------------------------------------------------------------------------------


def _P_transposed(c: LQRContext) -> np.ndarray:
    """P from the transposed Lyapunov convention P = Q_K + γA_K P A_Kᵀ."""
    return stein(c.closed_loop, c.stage_cost, c.gamma, "covariance")


def _Sigma_transposed(c: LQRContext) -> np.ndarray:
    return stein(c.closed_loop, c.effective_initial(), c.gamma, "value")


def _P_without_control_cost(c: LQRContext) -> np.ndarray:
    return stein(c.closed_loop, c.Q, c.gamma, "value")


def _P_undiscounted(c: LQRContext) -> np.ndarray:
    return stein(c.closed_loop, c.stage_cost, 1.0, "value")


def _Sigma_with(c: LQRContext, initial: np.ndarray, gamma: float | None = None) -> np.ndarray:
    return stein(c.closed_loop, initial, c.gamma if gamma is None else gamma, "covariance")


def _noise_constant(
    c: LQRContext,
    P: np.ndarray,
    *,
    noise: float | None = None,
    gamma_in_trace: bool = True,
    trace_R: bool = True,
) -> float:
    sigma = c.noise if noise is None else noise
    if sigma == 0.0:
        return 0.0
    inner = (np.trace(c.R) if trace_R else 0.0) + (c.gamma if gamma_in_trace else 1.0) * np.trace(
        c.B.T @ P @ c.B
    )
    return sigma * inner / (1.0 - c.gamma)


def _cost(c: LQRContext, P: np.ndarray, initial: np.ndarray | None = None) -> float:
    initial = c.Sigma0 if initial is None else initial
    return float(np.trace(P @ initial) + _noise_constant(c, P))


COST_SLIPS = (
    Slip(
        "tr(P_K Σ_K) — Σ_K in place of Σ0",
        lambda c: float(np.trace(c.P @ c.Sigma)) + _noise_constant(c, c.P),
    ),
    Slip("tr(P_K) — Σ0 left out", lambda c: float(np.trace(c.P)) + _noise_constant(c, c.P)),
    Slip(
        "the cost with P_K from the transposed Lyapunov convention P = Q_K + A_K P A_Kᵀ",
        lambda c: _cost(c, _P_transposed(c)),
    ),
    Slip(
        "the cost without the control cost KᵀRK in P_K",
        lambda c: _cost(c, _P_without_control_cost(c)),
    ),
    Slip(
        "(1 − γ) C(K) — a normalised cost", lambda c: (1.0 - c.gamma) * _cost(c, c.P), _discounted
    ),
    Slip(
        "the undiscounted cost (γ missing from P_K)",
        lambda c: _cost(c, _P_undiscounted(c)),
        lambda c: _discounted(c) and not _noisy(c),
    ),
    Slip(
        "the cost without the exploration-noise term σ(tr R + γ tr(BᵀP_K B))/(1 − γ)",
        lambda c: float(np.trace(c.P @ c.Sigma0)),
        _noisy,
    ),
    Slip(
        "the cost with the noise variance read as a standard deviation (σ² in place of σ)",
        lambda c: float(np.trace(c.P @ c.Sigma0)) + _noise_constant(c, c.P, noise=c.noise**2),
        _noisy,
    ),
    Slip(
        "the cost with the noise term σ(tr R + tr(BᵀP_K B))/(1 − γ) — γ missing inside",
        lambda c: float(np.trace(c.P @ c.Sigma0)) + _noise_constant(c, c.P, gamma_in_trace=False),
        _noisy,
    ),
    Slip(
        "the cost with the noise term without σ tr R",
        lambda c: float(np.trace(c.P @ c.Sigma0)) + _noise_constant(c, c.P, trace_R=False),
        _noisy,
    ),
)


def _gradient_slips(prefix: str, wrap: Any) -> tuple[Slip, ...]:
    """Slips of ∇C(K), also reused inside the update rules (``wrap`` turns a gradient into the
    rule's result; ``prefix`` names the rule)."""

    def with_E(E: Any) -> Any:
        return lambda c: wrap(c, 2.0 * E(c) @ c.Sigma)

    def with_Sigma(S: Any) -> Any:
        return lambda c: wrap(c, 2.0 * c.E @ S(c))

    return (
        Slip(f"{prefix} computed with Σ0 in place of Σ_K", with_Sigma(lambda c: c.Sigma0)),
        Slip(
            f"{prefix} with Σ_K computed from I in place of Σ0 (Σ = I + γA_KΣA_Kᵀ)",
            with_Sigma(lambda c: _Sigma_with(c, np.eye(c.n) + c.effective_initial() - c.Sigma0)),
        ),
        Slip(
            f"{prefix} of the undiscounted problem (γ ignored everywhere: P_K, Σ_K and E_K "
            "computed with γ = 1)",
            lambda c: wrap(
                c, 2.0 * c.E_with(_P_undiscounted(c), gamma=1.0) @ _Sigma_with(c, c.Sigma0, 1.0)
            ),
            lambda c: _discounted(c) and not _noisy(c),
        ),
        Slip(f"{prefix} without the factor 2 (E_K Σ_K)", lambda c: wrap(c, c.E @ c.Sigma)),
        Slip(
            f"{prefix} with P_K from the transposed Lyapunov convention P = Q_K + A_K P A_Kᵀ",
            with_E(lambda c: c.E_with(_P_transposed(c))),
        ),
        Slip(
            f"{prefix} with Σ_K from the transposed convention Σ = Σ0 + A_Kᵀ Σ A_K",
            with_Sigma(_Sigma_transposed),
        ),
        Slip(
            f"{prefix} with A_K where A belongs in E_K = (R + BᵀP_K B)K − BᵀP_K A",
            with_E(lambda c: c.E_with(c.P, cross=c.closed_loop)),
        ),
        Slip(
            f"{prefix} with R alone as the curvature in E_K (BᵀP_K B dropped)",
            with_E(lambda c: c.R @ c.K - c.gamma * c.B.T @ c.P @ c.A),
        ),
        Slip(
            f"{prefix} with P_K computed without KᵀRK",
            with_E(lambda c: c.E_with(_P_without_control_cost(c))),
        ),
        Slip(
            f"{prefix} with Σ_K on the left (2 Σ_K E_K)",
            lambda c: wrap(c, 2.0 * c.Sigma @ c.E),
            _square_input,
        ),
        Slip(
            f"{prefix} with γ missing from E_K",
            with_E(lambda c: c.E_with(c.P, gamma=1.0)),
            _discounted,
        ),
        Slip(
            f"{prefix} with γ missing from Σ_K",
            with_Sigma(lambda c: _Sigma_with(c, c.effective_initial(), 1.0)),
            lambda c: _discounted(c) and not _noisy(c),
        ),
        Slip(
            f"{prefix} with the exploration noise left out of Σ_K "
            "(Σ0 in place of Σ0 + γσBBᵀ/(1 − γ))",
            with_Sigma(lambda c: _Sigma_with(c, c.Sigma0)),
            _noisy,
        ),
        Slip(
            f"{prefix} with the noise variance read as a standard deviation (σ² in place of σ)",
            with_Sigma(lambda c: _Sigma_with(c, c.effective_initial(noise=c.noise**2))),
            _noisy,
        ),
        Slip(
            f"{prefix} with Σ0 + σBBᵀ/(1 − γ) — γ missing from the noise term of Σ_K",
            with_Sigma(lambda c: _Sigma_with(c, c.effective_initial(gamma_factor=False))),
            _noisy,
        ),
    )


GRADIENT_SLIPS = (
    Slip("the ascent direction −∇C(K) (a sign slip)", lambda c: -c.gradient),
    *_gradient_slips("the gradient", lambda c, g: g),
)


class _GainSpec(CheckSpec):
    """A quantity at a stabilising gain K of the problem (A, B, Q, R, Σ0, γ, σ)."""

    parameters = ("A", "B", "Q", "R", "Sigma0", "K")
    optional = MappingProxyType({"Sigma0": _identity})
    axes = MappingProxyType({**_SYSTEM_AXES, "Sigma0": ("n", "n"), "K": ("m", "n")})

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        return validate_discount(options, allow_noise=True)

    def keywords(self, options: Mapping[str, Any]) -> dict[str, Any]:
        return discount_keywords(options)

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        keep = set(self.parameters)
        return [
            (label, {k: v for k, v in arguments.items() if k in keep})
            for label, arguments in lqr_regression_cases()
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        keep = set(self.parameters)
        return lqr_arguments(with_alpha="alpha" in keep).map(
            lambda arguments: {k: v for k, v in arguments.items() if k in keep}
        )

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> LQRContext:
        problem = build_problem(arguments, options)
        K = require_stabilising(problem, arguments["K"])
        alpha = arguments.get("alpha")
        return LQRContext(problem, K, None if alpha is None else float(alpha))

    def certified(self, context: LQRContext, method: str, *arguments: Any) -> Any:
        compute = getattr(context.problem, method)
        return certified_or_high_precision(
            lambda precision: compute(context.K, *arguments, precision=precision)
        )


class CostSpec(_GainSpec):
    name = "check_lqr_cost"
    quantity = "the cost C(K)"
    slips = COST_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        scale = (
            norm2(c.P) * float(np.trace(c.Sigma0))
            + abs(_noise_constant(c, c.P))
            + float(np.trace(c.stage_cost))
        )
        return Expected(self.certified(c, "cost"), c.kappa, scale)


class GradientSpec(_GainSpec):
    name = "check_lqr_gradient"
    quantity = "the gradient ∇C(K) = 2E_KΣ_K"
    slips = GRADIENT_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        return Expected(self.certified(c, "gradient"), c.kappa, c.gradient_scale)


def _step(c: LQRContext, direction: np.ndarray, sign: float = 1.0) -> np.ndarray:
    return c.K - sign * c.alpha * direction


class _StepSpec(_GainSpec):
    parameters = ("A", "B", "Q", "R", "Sigma0", "K", "alpha")
    optional = MappingProxyType({"Sigma0": _identity, "alpha": 0.01})
    scalar_parameters = ("alpha",)


PG_STEP_SLIPS = (
    Slip("K + α∇C(K) (ascent instead of descent)", lambda c: c.K + c.alpha * c.gradient),
    Slip("−α∇C(K) (K itself left out of the update)", lambda c: -c.alpha * c.gradient),
    Slip("K − 2αE_K (the natural-gradient step)", lambda c: _step(c, 2.0 * c.E)),
    *_gradient_slips("K − α∇C(K) with the gradient", lambda c, g: _step(c, g)),
)


class PolicyGradientStepSpec(_StepSpec):
    name = "check_policy_gradient_step"
    quantity = "the policy-gradient step K − α∇C(K)"
    slips = PG_STEP_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        reference = self.certified(c, "policy_gradient_step", c.alpha)
        return Expected(reference, c.kappa, norm2(c.K) + c.alpha * c.gradient_scale)


NPG_STEP_SLIPS = (
    Slip("K + 2αE_K (ascent instead of descent)", lambda c: c.K + 2.0 * c.alpha * c.E),
    Slip("K − αE_K (the natural gradient without its factor 2)", lambda c: _step(c, c.E)),
    Slip("K − α∇C(K) (the vanilla policy-gradient step)", lambda c: _step(c, c.gradient)),
    Slip(
        "K − α∇C(K)Σ_K (multiplied by Σ_K instead of Σ_K⁻¹)",
        lambda c: _step(c, c.gradient @ c.Sigma),
    ),
    Slip(
        "K − α∇C(K)Σ0⁻¹ (Σ0 in place of Σ_K)",
        lambda c: _step(c, np.linalg.solve(c.Sigma0.T, c.gradient.T).T),
    ),
    Slip(
        "K − 2αE_K with A_K where A belongs in E_K",
        lambda c: _step(c, 2.0 * c.E_with(c.P, cross=c.closed_loop)),
    ),
    Slip(
        "K − 2α(RK − BᵀP_K A) — R alone as the curvature in E_K",
        lambda c: _step(c, 2.0 * (c.R @ c.K - c.gamma * c.B.T @ c.P @ c.A)),
    ),
    Slip(
        "K − 2αE_K with P_K from the transposed Lyapunov convention",
        lambda c: _step(c, 2.0 * c.E_with(_P_transposed(c))),
    ),
    Slip(
        "K − 2αE_K with γ missing from E_K",
        lambda c: _step(c, 2.0 * c.E_with(c.P, gamma=1.0)),
        _discounted,
    ),
)


class NaturalGradientStepSpec(_StepSpec):
    name = "check_natural_gradient_step"
    quantity = "the natural-gradient step K − α∇C(K)Σ_K⁻¹ = K − 2αE_K"
    slips = NPG_STEP_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        reference = self.certified(c, "natural_gradient_step", c.alpha)
        return Expected(reference, c.kappa, norm2(c.K) + c.alpha * c.E_scale)


def _gn(c: LQRContext, greedy: np.ndarray, factor: float = 2.0) -> np.ndarray:
    return c.K - factor * c.alpha * (c.K - greedy)


GN_STEP_SLIPS = (
    Slip(
        "K + 2α(K − K⁺) (ascent instead of descent)",
        lambda c: c.K + 2.0 * c.alpha * (c.K - c.greedy_gain(c.P)),
    ),
    Slip("K − α(K − K⁺) (the factor 2 missing)", lambda c: _gn(c, c.greedy_gain(c.P), 1.0)),
    Slip(
        "K − 2αR⁻¹E_K (R alone as the curvature)",
        lambda c: _step(c, 2.0 * np.linalg.solve(c.R, c.E)),
    ),
    Slip(
        "K − 2αE_K (the natural-gradient step, the curvature left out)",
        lambda c: _step(c, 2.0 * c.E),
    ),
    Slip(
        "K − 2αE_K(R + BᵀP_K B)⁻¹ (the curvature applied on the right)",
        lambda c: _step(c, 2.0 * np.linalg.solve(c.curvature.T, c.E.T).T),
        _square_input,
    ),
    Slip(
        "K − α(R + BᵀP_K B)⁻¹∇C(K) (Σ_K⁻¹ left out)",
        lambda c: _step(c, np.linalg.solve(c.curvature, c.gradient)),
    ),
    Slip(
        "K − 2α(K − K⁺) with A_K where A belongs in K⁺ = (R + BᵀP_K B)⁻¹BᵀP_K A",
        lambda c: _gn(c, c.gamma * np.linalg.solve(c.curvature, c.B.T @ c.P @ c.closed_loop)),
    ),
    Slip(
        "K − 2α(K − K⁺) with P_K from the transposed Lyapunov convention",
        lambda c: _gn(c, c.greedy_gain(_P_transposed(c))),
    ),
    Slip(
        "K − 2α(K − K⁺) with γ missing from K⁺",
        lambda c: _gn(c, c.greedy_gain(c.P, 1.0)),
        _discounted,
    ),
)


class GaussNewtonStepSpec(_StepSpec):
    name = "check_gauss_newton_step"
    quantity = "the Gauss–Newton step K − 2α(K − γ(R + γBᵀP_K B)⁻¹BᵀP_K A)"
    slips = GN_STEP_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        reference = self.certified(c, "gauss_newton_step", c.alpha)
        condition = c.kappa * matrix_condition(c.curvature)
        scale = (1.0 + 2.0 * c.alpha) * norm2(c.K) + 2.0 * c.alpha * c.greedy_scale
        return Expected(reference, condition, scale)


PI_SLIPS = (
    Slip("−K⁺ (the gain of the convention u = +Kx)", lambda c: -c.greedy_gain(c.P)),
    Slip(
        "γR⁻¹BᵀP_K A — R alone as the curvature",
        lambda c: c.gamma * np.linalg.solve(c.R, c.B.T @ c.P @ c.A),
    ),
    Slip(
        "(R + γBᵀP_K B)⁻¹γBᵀP_K A_K — A_K where A belongs",
        lambda c: c.gamma * np.linalg.solve(c.curvature, c.B.T @ c.P @ c.closed_loop),
    ),
    Slip(
        "the greedy gain for P_K from the transposed Lyapunov convention",
        lambda c: c.greedy_gain(_P_transposed(c)),
    ),
    Slip(
        "the greedy gain for P_K computed without KᵀRK",
        lambda c: c.greedy_gain(_P_without_control_cost(c)),
    ),
    Slip(
        "the optimal gain K* (the Riccati solution) instead of one policy-iteration step",
        lambda c: c.problem.optimal_gain(),
    ),
    Slip("K itself (the input gain returned unchanged)", lambda c: c.K),
    Slip("the greedy gain with γ missing", lambda c: c.greedy_gain(c.P, 1.0), _discounted),
)


class PolicyIterationStepSpec(_GainSpec):
    name = "check_policy_iteration_step"
    quantity = "the policy-iteration gain K⁺ = γ(R + γBᵀP_K B)⁻¹BᵀP_K A"
    parameters = ("A", "B", "Q", "R", "K")
    optional = MappingProxyType({})
    axes = MappingProxyType({**_SYSTEM_AXES, "K": ("m", "n")})
    slips = PI_SLIPS

    def expected(self, c: LQRContext) -> Expected:
        reference = self.certified(c, "policy_iteration_step")
        return Expected(reference, c.kappa * matrix_condition(c.curvature), c.greedy_scale)


_COMMON_OPTIONS = (
    "``gamma=`` checks the discounted problem and ``noise=`` (a variance; needs γ < 1) the one "
    "with exploration u = −Kx + w, w ~ N(0, σI); both are passed on to ``fn`` as keywords.  Other "
    "options as in :func:`check_lyapunov_solver`."
)


def check_lqr_cost(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, Sigma0, K) -> C(K) = tr(P_K Σ0) + σ(tr R + γtr(BᵀP_K B))/(1 − γ)``
    (a scalar) against a certified enclosure."""
    __tracebackhide__ = True
    return run_check(
        CostSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_lqr_gradient(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, Sigma0, K) -> ∇C(K) = 2E_KΣ_K``, shape (m, n), with
    ``E_K = (R + γBᵀP_K B)K − γBᵀP_K A`` (Fazel et al. 2018, Lemma 1), against a certified
    enclosure."""
    __tracebackhide__ = True
    return run_check(
        GradientSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_policy_gradient_step(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, Sigma0, K, alpha) -> K − α∇C(K)`` against a certified enclosure."""
    __tracebackhide__ = True
    return run_check(
        PolicyGradientStepSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_natural_gradient_step(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, Sigma0, K, alpha) -> K − α∇C(K)Σ_K⁻¹ = K − 2αE_K`` against a
    certified enclosure."""
    __tracebackhide__ = True
    return run_check(
        NaturalGradientStepSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_gauss_newton_step(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, Sigma0, K, alpha) -> K − α(R + γBᵀP_K B)⁻¹∇C(K)Σ_K⁻¹
    = K − 2α(K − γ(R + γBᵀP_K B)⁻¹BᵀP_K A)`` (α = ½ is policy iteration) against a certified
    enclosure."""
    __tracebackhide__ = True
    return run_check(
        GaussNewtonStepSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_policy_iteration_step(
    fn: Any,
    *,
    gamma: float | None = None,
    noise: float | None = None,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(A, B, Q, R, K) -> K⁺ = γ(R + γBᵀP_K B)⁻¹BᵀP_K A``, the greedy gain of Q^K
    (Hewer 1971), against a certified enclosure."""
    __tracebackhide__ = True
    return run_check(
        PolicyIterationStepSpec(),
        fn,
        gamma=gamma,
        noise=noise,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


for _check in (
    check_lqr_cost,
    check_lqr_gradient,
    check_policy_gradient_step,
    check_natural_gradient_step,
    check_gauss_newton_step,
    check_policy_iteration_step,
):
    _check.__doc__ = (_check.__doc__ or "").rstrip() + "\n\n    " + _COMMON_OPTIONS
