"""Policy optimisation on LQR over many iterations, with the convergence theorems' constants.

Four update rules from a stabilising gain K₀ (docs/mathematics.md #lqr-updates;
``W_K = R + γBᵀP_K B``, ``E_K = W_K K − γBᵀP_K A``):

* policy gradient (PG)          ``K ← K − α ∇C(K)``
* natural policy gradient (NPG) ``K ← K − α ∇C(K) Σ_K⁻¹ = K − 2α E_K``
* Gauss–Newton (GN)             ``K ← K − 2α W_K⁻¹ E_K = K − 2α (K − γW_K⁻¹BᵀP_K A)``
* policy iteration (PI)         ``K ← γ W_K⁻¹ BᵀP_K A`` (Hewer 1971), i.e. GN with α = ½.

:func:`run_iterations` runs one of them in float or certified arithmetic and records the
iterates, their costs and their (certified) stability.  :func:`theorem_constants` and the
functions after it compute the step-size bounds and linear rates of Fazel, Ge, Kakade & Mesbahi,
"Global convergence of policy gradient methods for the linear quadratic regulator" (ICML 2018,
arXiv:1801.05039), from the problem itself.  docs/convergence.md states each bound, where it
comes from, and how the paper's factor 2 is translated.

The paper's lemmas write NPG and GN as ``K' = K − η E_K`` and ``K' = K − η W_K⁻¹E_K``: this
library's α is ``η / 2``.  In that form, with ``μ = σ_min(Σ0)``:

* gradient domination (the paper's Lemma 3): ``C(K) − C(K*) ≤ ‖Σ_{K*}‖ tr(E_KᵀW_K⁻¹E_K)
  ≤ ‖Σ_{K*}‖ / (μ² σ_min(R)) ‖∇C(K)‖_F²``;
* GN, ``η ≤ 1`` (α ≤ ½): ``C(K') − C* ≤ (1 − η μ / ‖Σ_{K*}‖)(C(K) − C*)``;
* NPG, ``η ≤ 1 / (‖R‖ + ‖B‖² C(K₀)/μ)``: ``C(K') − C* ≤ (1 − η μ σ_min(R) / ‖Σ_{K*}‖)(C(K) − C*)``;
* PG, ``η ≤ (1/16) min{(σ_min(Q) μ / C(K))² / (‖B‖ ‖∇C(K)‖ (1 + ‖A − BK‖)),
  σ_min(Q) / (2 C(K) ‖W_K‖)}``: ``C(K') − C* ≤ (1 − 2η μ² σ_min(R) / ‖Σ_{K*}‖)(C(K) − C*)``.

Discount γ and exploration noise σ enter through the substitution of :mod:`closed_forms`
(``A → √γA``, ``B → √γB``, ``Σ0 → Σ0_eff = Σ0 + γσBBᵀ/(1 − γ)``), under which the cost is the
noiseless cost plus the constant ``σ tr R / (1 − γ)``; the constants are computed for the
substituted problem.

Tiers: the constants are float64 numbers moved by a relative safety margin in the conservative
direction (step bounds and rate margins down, norms up); iterates are float64 gains; in certified
mode each step is computed in ball arithmetic and the next iterate is the float64 midpoint of
its enclosure, so costs, stability and every comparison made on a run are certified statements
about the iterates actually recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flint import arb, ctx

from pgverify.enclosure import Enclosure
from pgverify.errors import CertificationError, InvalidProblemError, NotStabilizingError
from pgverify.lqr import validation
from pgverify.lqr.problem import LQR
from pgverify.precision import DEFAULT_CERTIFIED_BITS, PrecisionSpec, arithmetic_for

METHODS: tuple[str, ...] = ("pg", "npg", "gn", "pi")
"""Policy gradient, natural policy gradient, Gauss–Newton, policy iteration."""

METHOD_NAMES: dict[str, str] = {
    "pg": "policy gradient",
    "npg": "natural policy gradient",
    "gn": "Gauss-Newton",
    "pi": "policy iteration",
}

SAFETY_MARGIN = 1e-9
"""Relative margin applied to every float64 constant in the conservative direction: far above
the rounding error of the eigenvalue and norm computations behind them (~1e-15 relative)."""

BISECTION_POINTS = (0.5, 0.375, 0.625)
"""Where the destabilising-step search splits its bracket, in order of preference: a split
point lying on the stability boundary itself cannot be decided, so another is tried."""

GAUSS_NEWTON_STEP_BOUND = 0.5
"""α ≤ ½ for GN, i.e. the paper's η ≤ 1 in the form ``K' = K − η W_K⁻¹E_K``."""


# ------------------------------------------------------------------------------------------------
# The theorems' constants
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TheoremConstants:
    """The problem constants in Fazel et al. (2018)'s bounds, for the substituted problem.

    ``mu`` = σ_min(Σ0_eff), ``sigma_min_q``, ``sigma_min_r`` (lower bounds); ``norm_r`` = ‖R‖₂,
    ``norm_b`` = √γ ‖B‖₂, ``optimal_covariance_norm`` = ‖Σ_{K*}‖₂ (upper bounds);
    ``noise_cost`` = σ tr R / (1 − γ), the part of C(K) that no gain changes; ``optimal_cost``
    = C(K*) (float64)."""

    mu: float
    sigma_min_q: float
    sigma_min_r: float
    norm_r: float
    norm_b: float
    optimal_covariance_norm: float
    noise_cost: float
    optimal_cost: float

    def noiseless_cost(self, cost: float) -> float:
        """The cost of the substituted problem, ``C(K) − σ tr R / (1 − γ)`` (the paper's C)."""
        return _real(cost, "cost") - self.noise_cost


def _lower(value: float) -> float:
    return value * (1.0 - SAFETY_MARGIN)


def _upper(value: float) -> float:
    return value * (1.0 + SAFETY_MARGIN)


def _smallest_eigenvalue(matrix: np.ndarray) -> float:
    return float(np.linalg.eigvalsh(matrix)[0])


def theorem_constants(problem: LQR) -> TheoremConstants:
    """The constants of the convergence theorems for ``problem`` (tier float, with margins).

    Raises InvalidProblemError when (A, B) is not stabilisable (no K* exists)."""
    _check_problem(problem)
    gamma, noise = problem.gamma, problem.noise
    effective = problem.Sigma0
    noise_cost = 0.0
    if noise != 0.0:
        effective = problem.Sigma0 + gamma * noise * (problem.B @ problem.B.T) / (1.0 - gamma)
        noise_cost = noise * float(np.trace(problem.R)) / (1.0 - gamma)
    optimal_gain = problem.optimal_gain()
    covariance = problem.state_covariance(optimal_gain)
    return TheoremConstants(
        mu=_lower(_smallest_eigenvalue(effective)),
        sigma_min_q=_lower(max(_smallest_eigenvalue(problem.Q), 0.0)),
        sigma_min_r=_lower(_smallest_eigenvalue(problem.R)),
        norm_r=_upper(float(np.linalg.norm(problem.R, 2))),
        norm_b=_upper(float(np.sqrt(gamma)) * float(np.linalg.norm(problem.B, 2))),
        optimal_covariance_norm=_upper(float(np.linalg.norm(covariance, 2))),
        noise_cost=noise_cost,
        optimal_cost=float(problem.optimal_cost()),
    )


def natural_gradient_step_bound(problem: LQR, K0: Any, constants: TheoremConstants) -> float:
    """The largest α the NPG theorem allows from K₀, in this library's form ``K − 2αE_K``:

        α ≤ ½ · 1 / (‖R‖ + ‖B‖² C(K₀) / μ)

    (Fazel et al. 2018, Theorem 7 and its NPG lemma, η ≤ 1 / (‖R‖ + ‖B‖²C(K₀)/μ), with α = η/2;
    the bound makes η ≤ 1/‖W_K‖ along the whole run because the cost only decreases)."""
    _check_problem(problem)
    _check_constants(constants)
    cost = _upper(constants.noiseless_cost(float(problem.cost(problem.gain(K0, "K0")))))
    return 0.5 / _upper(constants.norm_r + constants.norm_b**2 * cost / constants.mu)


def policy_gradient_step_bound(problem: LQR, K: Any, constants: TheoremConstants) -> float:
    """The PG step α (= the paper's η: ``K' = K − η∇C(K)``) allowed at K by the one-step lemma
    for exact gradient descent of Fazel et al. (2018, the appendix's analysis of Theorem 7):

        η ≤ (1/16) min{ (σ_min(Q) μ / C(K))² / (‖B‖ ‖∇C(K)‖ (1 + ‖A − BK‖)),
                        σ_min(Q) / (2 C(K) ‖R + BᵀP_K B‖) },

    norms spectral, C the noiseless cost of the substituted problem.  Needs Q ≻ 0."""
    _check_problem(problem)
    _check_constants(constants)
    if constants.sigma_min_q <= 0.0:
        raise InvalidProblemError(
            "the policy-gradient step-size bound needs Q positive definite; got "
            f"sigma_min(Q) = {constants.sigma_min_q!r}"
        )
    K = problem.gain(K)
    cost = _upper(constants.noiseless_cost(float(problem.cost(K))))
    gradient_norm = _upper(float(np.linalg.norm(problem.gradient(K), 2)))
    closed_loop_norm = _upper(
        np.sqrt(problem.gamma) * float(np.linalg.norm(problem.closed_loop(K), 2))
    )
    P = problem.value_matrix(K)
    curvature = problem.R + problem.gamma * (problem.B.T @ P @ problem.B)
    curvature_norm = _upper(float(np.linalg.norm(curvature, 2)))
    first = (constants.sigma_min_q * constants.mu / cost) ** 2 / _upper(
        constants.norm_b * gradient_norm * (1.0 + closed_loop_norm)
    )
    second = constants.sigma_min_q / _upper(2.0 * cost * curvature_norm)
    return _lower(min(first, second) / 16.0)


def contraction_factor(method: str, alpha: float, constants: TheoremConstants) -> float:
    """The proven linear rate ρ with ``C(K') − C* ≤ ρ (C(K) − C*)`` for a step α within the
    method's bound (Fazel et al. 2018; η = 2α for NPG and GN, η = α for PG):

    * PG:  ``1 − 2α μ² σ_min(R) / ‖Σ_{K*}‖``
    * NPG: ``1 − 2α μ σ_min(R) / ‖Σ_{K*}‖``
    * GN:  ``1 − 2α μ / ‖Σ_{K*}‖``; PI is GN with α = ½: ``1 − μ / ‖Σ_{K*}‖`` (its rate is
      quadratic near K* (Hewer 1971); this is the global linear guarantee).

    Rounded up (the margin makes the factor larger, i.e. the claim weaker).  The caller must
    keep α within the method's bound (:func:`step_bound`): outside it nothing is proven."""
    _check_method(method)
    _check_constants(constants)
    step = 0.5 if method == "pi" else _positive_step(alpha)
    sigma_star = constants.optimal_covariance_norm
    if method == "pg":
        gain = 2.0 * step * constants.mu**2 * constants.sigma_min_r / sigma_star
    elif method == "npg":
        gain = 2.0 * step * constants.mu * constants.sigma_min_r / sigma_star
    else:
        gain = 2.0 * step * constants.mu / sigma_star
    return min(1.0, 1.0 - _lower(gain))


def gradient_domination_constant(constants: TheoremConstants) -> float:
    """``‖Σ_{K*}‖ / (μ² σ_min(R))``: ``C(K) − C(K*) ≤ this · ‖∇C(K)‖_F²`` (Fazel et al. 2018,
    Lemma 3, gradient domination).  The lemma's own proof gives a quarter of it
    (``‖∇C‖_F ≥ 2μ‖E_K‖_F``); the stated constant is the one returned."""
    _check_constants(constants)
    return _upper(constants.optimal_covariance_norm / (constants.mu**2 * constants.sigma_min_r))


def step_bound(
    method: str, problem: LQR, K0: Any, constants: TheoremConstants | None = None
) -> float | None:
    """The theorem's step-size bound for ``method`` from K₀ (None for PI, which has no step).
    For PG it is the bound at K₀ only: :func:`run_iterations` recomputes it at every iterate."""
    _check_method(method)
    _check_problem(problem)
    K0 = problem.gain(K0, "K0")
    constants = theorem_constants(problem) if constants is None else _check_constants(constants)
    if method == "pg":
        return policy_gradient_step_bound(problem, K0, constants)
    if method == "npg":
        return natural_gradient_step_bound(problem, K0, constants)
    if method == "gn":
        return GAUSS_NEWTON_STEP_BOUND
    return None


# ------------------------------------------------------------------------------------------------
# Running an iteration
# ------------------------------------------------------------------------------------------------


@dataclass
class IterationRun:
    """The record of one run: ``gains[l]`` is K_l, ``costs[l]`` C(K_l) (a float, or an
    Enclosure in certified mode), ``stabilizing[l]`` whether ρ(A − BK_l) < 1 (proved in certified
    mode), ``alphas[l]`` the step taken from K_l (None for PI), ``step_radii[l]`` the largest
    radius of the certified step's enclosure (0 in float mode: K_{l+1} is its rounded midpoint),
    ``optimal_cost`` C(K*) (float or Enclosure), ``rates[l]`` the proven contraction factor of
    step l (from :func:`contraction_factor`)."""

    method: str
    tier: str
    gains: list[np.ndarray] = field(default_factory=list)
    costs: list[Any] = field(default_factory=list)
    stabilizing: list[bool] = field(default_factory=list)
    alphas: list[float | None] = field(default_factory=list)
    step_radii: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    optimal_cost: Any = None
    stopped: str = ""

    @property
    def gaps(self) -> np.ndarray:
        """``C(K_l) − C(K*)`` in float64; in certified mode the midpoints of the certified
        differences (accurate far below the float64 spacing of the costs themselves)."""
        if self.tier == "certified":
            return np.array([float(gap.mid()) for gap in self.certified_gaps()])
        optimum = float(self.optimal_cost)
        return np.array([float(cost) - optimum for cost in self.costs])

    def certified_gaps(self) -> list[arb]:
        """``C(K_l) − C(K*)`` as Arb balls (certified mode only)."""
        if self.tier != "certified":
            raise InvalidProblemError(
                f"certified_gaps() needs a certified run, got tier {self.tier!r}"
            )
        with ctx.workprec(DEFAULT_CERTIFIED_BITS):
            return [cost.ball - self.optimal_cost.ball for cost in self.costs]

    def bound_curve(self) -> np.ndarray:
        """The theorem's bound on the gap: ``gap_0 · Π_{i<l} rates[i]`` for l = 0, 1, ... (NaN
        from the first step outside the theorem's bound on)."""
        factors = np.concatenate([[1.0], np.cumprod(self.rates)])
        return self.gaps[0] * factors[: len(self.costs)]


def _last_gap(run: IterationRun) -> float:
    if run.tier == "certified":
        with ctx.workprec(DEFAULT_CERTIFIED_BITS):
            return float((run.costs[-1].ball - run.optimal_cost.ball).mid())
    return float(run.costs[-1]) - float(run.optimal_cost)


def _positive_step(alpha: Any) -> float:
    real = isinstance(alpha, (int, float, np.integer, np.floating)) and not isinstance(alpha, bool)
    if real and float(alpha) <= 0.0:  # said before step_size's ">= 0": iterating needs > 0
        raise InvalidProblemError(f"the step size alpha must be > 0, got {float(alpha)!r}")
    return validation.step_size(alpha)


def _check_method(method: str) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise InvalidProblemError(f"method must be one of {', '.join(METHODS)}; got {method!r}")


def _check_problem(problem: Any) -> None:
    if not isinstance(problem, LQR):
        raise InvalidProblemError(
            f"problem must be a pgverify.LQR, got {type(problem).__name__} {problem!r}"
        )


def _check_constants(constants: Any) -> TheoremConstants:
    if not isinstance(constants, TheoremConstants):
        raise InvalidProblemError(
            "constants must be the TheoremConstants of theorem_constants(problem), got "
            f"{type(constants).__name__} {constants!r}"
        )
    return constants


def _real(value: Any, name: str) -> float:
    """``value`` as a finite float (InvalidProblemError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(float(value)):
        raise InvalidProblemError(f"{name} must be finite, got {value!r}")
    return float(value)


def _step_function(problem: LQR, method: str) -> Callable[[np.ndarray, float | None, Any], Any]:
    if method == "pg":
        return lambda K, alpha, precision: problem.policy_gradient_step(K, alpha, precision)
    if method == "npg":
        return lambda K, alpha, precision: problem.natural_gradient_step(K, alpha, precision)
    if method == "gn":
        return lambda K, alpha, precision: problem.gauss_newton_step(K, alpha, precision)
    return lambda K, _alpha, precision: problem.policy_iteration_step(K, precision)


def take_step(
    problem: LQR, method: str, K: Any, alpha: float | None, precision: PrecisionSpec = "float"
) -> tuple[np.ndarray, float]:
    """One step of ``method`` from K: the next float64 gain and the radius of the certified
    step it was rounded from (0.0 in float mode)."""
    _check_method(method)
    _check_problem(problem)
    value = _step_function(problem, method)(problem.gain(K), alpha, precision)
    if isinstance(value, Enclosure):
        return np.array(value.mid), value.max_radius
    return np.asarray(value, dtype=np.float64), 0.0


def run_iterations(
    problem: LQR,
    method: str,
    K0: Any,
    alpha: float | None = None,
    *,
    steps: int = 50,
    precision: PrecisionSpec = "float",
    gap_tolerance: float = 0.0,
    constants: TheoremConstants | None = None,
) -> IterationRun:
    """Run ``steps`` iterations of ``method`` (``"pg"``, ``"npg"``, ``"gn"``, ``"pi"``) from K₀.

    ``alpha=None`` takes the theorem's step: NPG's bound from K₀, GN's ½, and for PG the
    one-step lemma's bound recomputed at every iterate; PI takes no step size.  A step α > 0 of
    your own is taken as given; ``rates[l]`` is NaN for a step outside the theorem's bound
    (nothing is proven about it).  The run stops
    early when ``C(K_l) − C(K*) ≤ gap_tolerance`` (midpoints) or when an iterate is not
    stabilising (recorded as ``False``; no step is taken from it).  K₀ must stabilise
    (NotStabilizingError otherwise)."""
    _check_method(method)
    _check_problem(problem)
    if method == "pi" and alpha is not None:
        raise InvalidProblemError(f"policy iteration takes no step size; got alpha = {alpha!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise InvalidProblemError(f"steps must be an int >= 0, got {steps!r}")
    if alpha is not None:
        alpha = _positive_step(alpha)
    tolerance = _real(gap_tolerance, "gap_tolerance")
    if tolerance < 0.0:
        raise InvalidProblemError(f"gap_tolerance must be >= 0, got {gap_tolerance!r}")
    ar = arithmetic_for(precision)
    if ar.tier == "high-precision":
        raise InvalidProblemError(
            f"run_iterations runs in float or certified arithmetic; got precision {precision!r}"
        )
    K = problem.gain(K0, "K0")
    if not problem.is_stabilizing(K, precision):
        raise NotStabilizingError(
            f"K0 is not stabilising (rho(A - BK0) = {problem.spectral_radius(K):.17g}); "
            "the iterations need a stabilising start",
            spectral_radius=problem.spectral_radius(K),
        )
    constants = theorem_constants(problem) if constants is None else _check_constants(constants)
    initial_bound = step_bound(method, problem, K, constants)
    fixed_alpha = initial_bound if alpha is None else alpha
    run = IterationRun(method, ar.tier, optimal_cost=problem.optimal_cost(precision))
    run.gains.append(K)
    run.stabilizing.append(True)
    run.costs.append(problem.cost(K, precision))
    for _ in range(steps):
        if _last_gap(run) <= tolerance:
            run.stopped = "gap tolerance reached"
            break
        current = run.gains[-1]
        step_alpha, bound = fixed_alpha, initial_bound
        if method == "pg":
            bound = policy_gradient_step_bound(problem, current, constants)
            step_alpha = bound if alpha is None else alpha
        following, radius = take_step(problem, method, current, step_alpha, precision)
        run.alphas.append(step_alpha)
        run.step_radii.append(radius)
        within = bound is None or step_alpha <= bound
        run.rates.append(contraction_factor(method, step_alpha, constants) if within else math.nan)
        run.gains.append(following)
        try:
            stable = problem.is_stabilizing(following, precision)
        except CertificationError:
            stable = False
        run.stabilizing.append(stable)
        if not stable:
            run.stopped = "iterate not stabilising"
            break
        run.costs.append(problem.cost(following, precision))
    return run


# ------------------------------------------------------------------------------------------------
# Past the bound: a step that destabilises
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DestabilisingStep:
    """A step size just past which one step of ``method`` from K destabilises.

    ``stable_alpha`` < ``unstable_alpha`` bracket the stability boundary along the step
    direction: ``K − step(stable_alpha)`` is proved stabilising, ``K − step(unstable_alpha)`` is
    proved not stabilising (``unstable_radius`` = its float64 spectral radius); ``bound`` is
    the theorem's step-size bound at K, ``tier`` the tier of both decisions."""

    method: str
    bound: float
    stable_alpha: float
    unstable_alpha: float
    unstable_radius: float
    tier: str

    def describe(self) -> str:
        return (
            f"{METHOD_NAMES[self.method]}: theorem bound alpha <= {self.bound:.6g}; one step is "
            f"stabilising at alpha = {self.stable_alpha:.10g} and destabilises at alpha = "
            f"{self.unstable_alpha:.10g} (rho = {self.unstable_radius:.12g}), "
            f"{self.unstable_alpha / self.bound:.4g} x the bound ({self.tier})"
        )


def find_destabilising_step(
    problem: LQR,
    method: str,
    K: Any,
    *,
    bound: float | None = None,
    precision: PrecisionSpec = "certified",
    growth: float = 2.0,
    max_growths: int = 80,
    relative_width: float = 1e-9,
) -> DestabilisingStep:
    """Search past the theorem's bound for a step that destabilises K.

    Steps ``bound · growth^j`` are tried until one gives a gain proved not stabilising; the last
    stabilising and the first destabilising step sizes are then bisected until their relative
    distance is below ``relative_width`` (or stability can no longer be decided rigorously).
    Raises CertificationError if no destabilising step is found within ``max_growths``."""
    _check_method(method)
    if method == "pi":
        raise InvalidProblemError("policy iteration has no step size to push past a bound")
    _check_problem(problem)
    K = problem.gain(K)
    if bound is not None and not _real(bound, "bound") > 0.0:
        raise InvalidProblemError(f"bound must be > 0, got {bound!r}")
    if not _real(growth, "growth") > 1.0:
        raise InvalidProblemError(f"growth must be > 1 (the steps must grow), got {growth!r}")
    if isinstance(max_growths, bool) or not isinstance(max_growths, (int, np.integer)):
        raise InvalidProblemError(f"max_growths must be an int >= 1, got {max_growths!r}")
    if max_growths < 1:
        raise InvalidProblemError(f"max_growths must be an int >= 1, got {max_growths!r}")
    if not 0.0 < _real(relative_width, "relative_width") < 1.0:
        raise InvalidProblemError(f"relative_width must lie in (0, 1), got {relative_width!r}")
    bound = step_bound(method, problem, K) if bound is None else float(bound)
    tier = arithmetic_for(precision).tier

    def stabilises(alpha: float) -> tuple[bool, float]:
        following, _ = take_step(problem, method, K, alpha, precision)
        return problem.is_stabilizing(following, precision), problem.spectral_radius(following)

    stable_alpha, alpha = 0.0, bound
    for _ in range(max_growths):
        stable, radius = stabilises(alpha)
        if not stable:
            break
        stable_alpha, alpha = alpha, alpha * growth
    else:
        raise CertificationError(
            f"no destabilising {METHOD_NAMES[method]} step found up to alpha = {alpha:.6g}"
        )
    unstable_alpha, unstable_radius = alpha, radius
    while unstable_alpha - stable_alpha > relative_width * unstable_alpha:
        width = unstable_alpha - stable_alpha
        for fraction in BISECTION_POINTS:
            middle = stable_alpha + fraction * width
            try:
                stable, radius = stabilises(middle)
                break
            except CertificationError:
                continue  # on (or too close to) the boundary: try another split point
        else:
            break  # undecidable everywhere tried: keep the bracket proved so far
        if stable:
            stable_alpha = middle
        else:
            unstable_alpha, unstable_radius = middle, radius
    return DestabilisingStep(method, bound, stable_alpha, unstable_alpha, unstable_radius, tier)
