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

Tiers: the constants are proved in ball arithmetic (eigenvalue and norm bounds, certified costs,
gradients and ‖Σ_{K*}‖) and rounded to float64 in the conservative direction (step bounds and
rate margins down, norms up); iterates are float64 gains; in certified
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
from flint import arb, arb_mat, ctx

from pgverify.enclosure import Enclosure
from pgverify.errors import CertificationError, InvalidProblemError, NotStabilizingError
from pgverify.lqr import validation
from pgverify.lqr.certify import (
    largest_eigenvalue_upper,
    smallest_eigenvalue_lower,
    spectral_norm_upper,
)
from pgverify.lqr.problem import LQR
from pgverify.precision import (
    DEFAULT_CERTIFIED_BITS,
    BallArithmetic,
    Certified,
    PrecisionSpec,
    arithmetic_for,
    float_lower,
    float_upper,
)

METHODS: tuple[str, ...] = ("pg", "npg", "gn", "pi")
"""Policy gradient, natural policy gradient, Gauss–Newton, policy iteration."""

METHOD_NAMES: dict[str, str] = {
    "pg": "policy gradient",
    "npg": "natural policy gradient",
    "gn": "Gauss-Newton",
    "pi": "policy iteration",
}

CONSTANT_BITS = DEFAULT_CERTIFIED_BITS
"""Working precision of the ball computations behind the theorems' constants and step bounds."""

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

    ``mu`` = σ_min(Σ0_eff), ``sigma_min_q``, ``sigma_min_r`` (rigorous lower bounds);
    ``norm_r`` = ‖R‖₂, ``norm_b`` = √γ ‖B‖₂, ``optimal_covariance_norm`` = ‖Σ_{K*}‖₂ (rigorous
    upper bounds, proved in ball arithmetic); ``noise_cost`` = σ tr R / (1 − γ), the part of
    C(K) that no gain changes, and ``optimal_cost`` = C(K*) (nearest float64 values)."""

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


def _balls(matrix: np.ndarray) -> arb_mat:
    """A float64 matrix as an exact ball matrix."""
    return arb_mat(np.asarray(matrix, dtype=float).tolist())


def _positive_float_lower(value: arb, what: str) -> float:
    """A float64 lower bound of the ball ``value``, which must be proved positive."""
    bound = float_lower(value) if value > 0 else 0.0
    if not bound > 0.0:
        raise CertificationError(
            f"could not prove {what} > 0 in ball arithmetic at {CONSTANT_BITS} bits (or it "
            "lies below the float64 range); the theorems' constants need it"
        )
    return bound


def theorem_constants(problem: LQR) -> TheoremConstants:
    """The constants of the convergence theorems for ``problem``: eigenvalue and norm bounds
    proved in ball arithmetic (:func:`pgverify.lqr.certify.smallest_eigenvalue_lower` and
    friends) and rounded outward to float64, ‖Σ_{K*}‖ bounded over the certified enclosure of
    K*.  A float64 eigenvalue with a relative margin is no bound: its error is about u‖M‖,
    larger than any fixed relative margin of a small eigenvalue (an ill-conditioned Σ0).

    Raises InvalidProblemError when (A, B) is not stabilisable (no K* exists),
    CertificationError when a needed bound cannot be proved."""
    _check_problem(problem)
    gamma, noise = problem.gamma, problem.noise
    noise_cost = 0.0
    if noise != 0.0:
        noise_cost = noise * float(np.trace(problem.R)) / (1.0 - gamma)
    certified = BallArithmetic(CONSTANT_BITS, "arb")
    optimal_gain, _, engine = problem._optimum_native(certified)
    # Σ_K for every K in the enclosure of K* (one certificate covers the whole ball)
    covariance = problem._certified_evaluation(engine, optimal_gain).state_covariance
    with ctx.workprec(CONSTANT_BITS):
        B, R = _balls(problem.B), _balls(problem.R)
        effective = _balls(problem.Sigma0)
        if noise != 0.0:
            discount = arb(gamma)
            effective = effective + (B * B.transpose()) * (discount * arb(noise) / (1 - discount))
        covariance_balls = covariance.m
        covariance_balls = (covariance_balls + covariance_balls.transpose()) * arb(0.5)
        return TheoremConstants(
            mu=_positive_float_lower(smallest_eigenvalue_lower(effective), "sigma_min(Sigma0_eff)"),
            sigma_min_q=max(float_lower(smallest_eigenvalue_lower(_balls(problem.Q))), 0.0),
            sigma_min_r=_positive_float_lower(smallest_eigenvalue_lower(R), "sigma_min(R)"),
            norm_r=float_upper(largest_eigenvalue_upper(R)),
            norm_b=float_upper(arb(gamma).sqrt() * spectral_norm_upper(B)),
            optimal_covariance_norm=float_upper(largest_eigenvalue_upper(covariance_balls)),
            noise_cost=noise_cost,
            optimal_cost=float(problem.optimal_cost()),
        )


def _noiseless_cost_upper(problem: LQR, K: np.ndarray) -> arb:
    """An upper bound (exact ball) of the substituted problem's cost ``C(K) − σ tr R/(1 − γ)``,
    from the certified C(K)."""
    cost = problem.cost(K, Certified(bits=CONSTANT_BITS)).ball
    with ctx.workprec(CONSTANT_BITS):
        if problem.noise != 0.0:
            discount = arb(problem.gamma)
            trace = sum((arb(float(x)) for x in np.diag(problem.R)), arb(0))
            cost = cost - arb(problem.noise) * trace / (1 - discount)
        return arb(cost.upper())


def natural_gradient_step_bound(problem: LQR, K0: Any, constants: TheoremConstants) -> float:
    """The largest α the NPG theorem allows from K₀, in this library's form ``K − 2αE_K``:

        α ≤ ½ · 1 / (‖R‖ + ‖B‖² C(K₀) / μ)

    (Fazel et al. 2018, Theorem 7 and its NPG lemma, η ≤ 1 / (‖R‖ + ‖B‖²C(K₀)/μ), with α = η/2;
    the bound makes η ≤ 1/‖W_K‖ along the whole run because the cost only decreases).  C(K₀) is
    the certified cost's upper end; the result is rounded down."""
    _check_problem(problem)
    _check_constants(constants)
    cost = _noiseless_cost_upper(problem, problem.gain(K0, "K0"))
    with ctx.workprec(CONSTANT_BITS):
        norm_b = arb(constants.norm_b)
        denominator = arb(constants.norm_r) + norm_b * norm_b * cost / arb(constants.mu)
        return float_lower(arb(0.5) / arb(denominator.upper()))


def policy_gradient_step_bound(problem: LQR, K: Any, constants: TheoremConstants) -> float:
    """The PG step α (= the paper's η: ``K' = K − η∇C(K)``) allowed at K by the one-step lemma
    for exact gradient descent of Fazel et al. (2018, the appendix's analysis of Theorem 7):

        η ≤ (1/16) min{ (σ_min(Q) μ / C(K))² / (‖B‖ ‖∇C(K)‖ (1 + ‖A − BK‖)),
                        σ_min(Q) / (2 C(K) ‖R + BᵀP_K B‖) },

    norms spectral, C the noiseless cost of the substituted problem.  Needs Q ≻ 0.  C(K), ∇C(K)
    and P_K are certified enclosures, the norms proved upper bounds; the result is rounded
    down."""
    _check_problem(problem)
    _check_constants(constants)
    if constants.sigma_min_q <= 0.0:
        raise InvalidProblemError(
            "the policy-gradient step-size bound needs Q positive definite; got "
            f"sigma_min(Q) = {constants.sigma_min_q!r}"
        )
    K = problem.gain(K)
    precision = Certified(bits=CONSTANT_BITS)
    cost = _noiseless_cost_upper(problem, K)
    gradient = problem.gradient(K, precision).ball
    P = problem.value_matrix(K, precision).ball
    with ctx.workprec(CONSTANT_BITS):
        discount = arb(problem.gamma)
        B = _balls(problem.B)
        gradient_norm = spectral_norm_upper(gradient)
        closed = _balls(problem.A) - B * _balls(K)
        closed_loop_norm = discount.sqrt() * spectral_norm_upper(closed)
        curvature = _balls(problem.R) + (B.transpose() * P * B) * discount
        curvature = (curvature + curvature.transpose()) * arb(0.5)
        curvature_norm = largest_eigenvalue_upper(curvature)
        sigma_q, mu = arb(constants.sigma_min_q), arb(constants.mu)
        first = (sigma_q * mu / cost) ** 2 / (
            arb(constants.norm_b) * gradient_norm * (1 + closed_loop_norm)
        )
        second = sigma_q / (2 * cost * curvature_norm)
        smaller = arb(first.lower()) if first.lower() < second.lower() else arb(second.lower())
        return max(float_lower(smaller / 16), 0.0)


def contraction_factor(method: str, alpha: float, constants: TheoremConstants) -> float:
    """The proven linear rate ρ with ``C(K') − C* ≤ ρ (C(K) − C*)`` for a step α within the
    method's bound (Fazel et al. 2018; η = 2α for NPG and GN, η = α for PG):

    * PG:  ``1 − 2α μ² σ_min(R) / ‖Σ_{K*}‖``
    * NPG: ``1 − 2α μ σ_min(R) / ‖Σ_{K*}‖``
    * GN:  ``1 − 2α μ / ‖Σ_{K*}‖``; PI is GN with α = ½: ``1 − μ / ‖Σ_{K*}‖`` (its rate is
      quadratic near K* (Hewer 1971); this is the global linear guarantee).

    Computed in balls from the constants' bounds and rounded up (a larger factor is a weaker
    claim).  The caller must keep α within the method's bound (:func:`step_bound`): outside it
    nothing is proven."""
    _check_method(method)
    _check_constants(constants)
    step = 0.5 if method == "pi" else _positive_step(alpha)
    with ctx.workprec(CONSTANT_BITS):
        mu, sigma_r = arb(constants.mu), arb(constants.sigma_min_r)
        sigma_star = arb(constants.optimal_covariance_norm)
        if method == "pg":
            gain = 2 * arb(step) * mu * mu * sigma_r / sigma_star
        elif method == "npg":
            gain = 2 * arb(step) * mu * sigma_r / sigma_star
        else:
            gain = 2 * arb(step) * mu / sigma_star
        return min(1.0, float_upper(1 - arb(gain.lower())))


def gradient_domination_constant(constants: TheoremConstants) -> float:
    """``‖Σ_{K*}‖ / (μ² σ_min(R))``: ``C(K) − C(K*) ≤ this · ‖∇C(K)‖_F²`` (Fazel et al. 2018,
    Lemma 3, gradient domination).  The lemma's own proof gives a quarter of it
    (``‖∇C‖_F ≥ 2μ‖E_K‖_F``); the stated constant is the one returned (rounded up)."""
    _check_constants(constants)
    with ctx.workprec(CONSTANT_BITS):
        mu = arb(constants.mu)
        value = arb(constants.optimal_covariance_norm) / (mu * mu * arb(constants.sigma_min_r))
        return float_upper(value)


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
    mode; a last ``False`` is either proved instability or, in certified mode, a verdict that
    could not be decided, and ``stopped`` says which), ``alphas[l]`` the step taken from K_l
    (None for PI), ``step_radii[l]`` the largest
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
            undecided = False
        except CertificationError:
            stable, undecided = False, True
        run.stabilizing.append(stable)
        if not stable:
            # an undecided verdict is not a proof of instability: say which one stopped the run
            run.stopped = (
                "stability of the iterate could not be decided rigorously"
                if undecided
                else "iterate not stabilising"
            )
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
