"""The LQR oracle: one validated problem, every closed form of policy optimisation on it, at
three tiers of truth (float, high-precision, certified)."""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import mpmath
import numpy as np
from flint import acb_mat, arb, ctx

from pgverify.errors import CertificationError, NotStabilizingError
from pgverify.fixedpoint import FixedPointArithmetic, FixedPointHighPrecision, Layout
from pgverify.lqr import riccati, validation
from pgverify.lqr.certify import (
    StabilityCertificate,
    certify_stability,
    certify_stability_float,
)
from pgverify.lqr.closed_forms import GainEvaluation, ModelData, finite_horizon
from pgverify.lqr.stein import SteinSolver
from pgverify.precision import (
    Arithmetic,
    BallArithmetic,
    BallMatrix,
    MpmathArithmetic,
    PrecisionSpec,
    arithmetic_for,
)

EVALUATION_CACHE_SIZE = 8

BLAS_ENGINE_MIN_DIMENSION = 20
"""``Certified(engine="auto")`` uses the float64-BLAS engine when max(n, m) reaches this size:
below it Arb's ball products are faster than the engine's fixed per-operation cost (measured
here: n = 10, 21 ms vs 8 ms; n = 20, 26 ms vs 29 ms; n = 30, 30 ms vs 63 ms)."""


class LQR:
    """A discrete-time linear quadratic regulator and its policy-optimisation oracle.

    ``x_{t+1} = A x_t + B u_t``, ``u_t = −K x_t + w_t`` with ``w_t ~ N(0, noise·I)`` (noise is a
    *variance*; docs/mathematics.md #conventions), cost
    ``C(K) = E Σ_t γ^t (x_tᵀQx_t + u_tᵀRu_t)``, ``x_0`` with second moment
    ``E[x_0 x_0ᵀ] = Σ0`` (identity by default).  docs/mathematics.md §LQR; Fazel, Ge, Kakade &
    Mesbahi, ICML 2018.

    Shapes: A (n, n), B (n, m), Q (n, n) symmetric ⪰ 0, R (m, m) symmetric ≻ 0, Σ0 (n, n)
    symmetric ≻ 0, gains K (m, n).  γ ∈ (0, 1]; noise ≥ 0.

    Every quantity takes ``precision=``: ``"float"`` (numpy float64, the default), an ``int`` N
    (mpmath at N decimal digits, tier high-precision) or ``"certified"`` /
    ``pgverify.Certified(bits=...)`` (an :class:`pgverify.Enclosure` proved to contain the true
    value).

    Domain.  The (discounted) cost at K is finite iff ``√γ·ρ(A − BK) < 1``
    (:meth:`has_finite_cost`); every infinite-horizon quantity at a gain requires it and raises
    :class:`pgverify.NotStabilizingError` otherwise, naming the value of √γ·ρ seen (certified
    mode *proves* the inequality first).  For γ = 1 this is ρ(A − BK) < 1, i.e.
    :meth:`is_stabilizing`; for γ < 1 the domain also holds gains that do not stabilise.  With
    γ = 1 and noise > 0 the infinite-horizon cost is infinite for every gain: only the
    finite-horizon quantities are defined (the others raise InvalidProblemError).
    """

    def __init__(
        self,
        A: Any,
        B: Any,
        Q: Any,
        R: Any,
        Sigma0: Any = None,
        gamma: float = 1.0,
        noise: float = 0.0,
    ) -> None:
        self.A = validation.as_real_matrix(A, "A", (None, None))
        n = self.A.shape[0]
        if self.A.shape[1] != n:
            raise validation.InvalidProblemError(
                f"A must be square, got shape {self.A.shape}; expected shape ({n}, {n})"
            )
        self.B = validation.as_real_matrix(B, "B", (n, None))
        m = self.B.shape[1]
        self.n, self.m = n, m
        Q_matrix = validation.symmetric_matrix(validation.as_real_matrix(Q, "Q", (n, n)), "Q")
        self.Q = validation.definite_matrix(Q_matrix, "Q", strict=False)
        R_matrix = validation.symmetric_matrix(validation.as_real_matrix(R, "R", (m, m)), "R")
        self.R = validation.definite_matrix(R_matrix, "R", strict=True)
        if Sigma0 is None:
            Sigma0 = np.eye(n)
        S_matrix = validation.as_real_matrix(Sigma0, "Sigma0", (n, n))
        S_matrix = validation.symmetric_matrix(S_matrix, "Sigma0")
        self.Sigma0 = validation.definite_matrix(S_matrix, "Sigma0", strict=True)
        self.gamma = validation.discount(gamma)
        self.noise = validation.noise_variance(noise)
        self._evaluations: OrderedDict[tuple, GainEvaluation] = OrderedDict()
        self._optima: dict[tuple, tuple[Any, Any, Arithmetic]] = {}

    def __repr__(self) -> str:
        """Python source that rebuilds this problem exactly.

        ``eval(repr(problem), {"LQR": pgverify.LQR})`` has bit for bit the same A, B, Q, R,
        Sigma0, gamma and noise: matrices are written as nested lists (no numpy import needed)
        and every float with ``repr``, the shortest text that reads back to the same double
        (negative zeros and subnormals included).  So a failing hypothesis example can be
        pasted into a regression test as it is printed."""
        matrices = ", ".join(
            f"{name}={self._python_matrix(getattr(self, name))}"
            for name in ("A", "B", "Q", "R", "Sigma0")
        )
        return f"LQR({matrices}, gamma={float(self.gamma)!r}, noise={float(self.noise)!r})"

    @staticmethod
    def _python_matrix(matrix: np.ndarray) -> str:
        """A float64 matrix as a nested-list literal that reads back to the same doubles."""
        rows = (", ".join(repr(float(entry)) for entry in row) for row in matrix)
        return "[" + ", ".join(f"[{row}]" for row in rows) + "]"

    # ----------------------------------------------------------------------------------------
    # Stability
    # ----------------------------------------------------------------------------------------

    def gain(self, K: Any, name: str = "K") -> np.ndarray:
        """``K`` validated as a finite real (m, n) float64 matrix."""
        return validation.as_real_matrix(K, name, (self.m, self.n))

    def closed_loop(self, K: Any) -> np.ndarray:
        """``A − BK`` in float64 (for information; the tiers compute it in their arithmetic)."""
        return self.A - self.B @ self.gain(K)

    def spectral_radius(self, K: Any) -> float:
        """ρ(A − BK) in float64 (tier float)."""
        closed_loop = self.closed_loop(K)
        if not np.all(np.isfinite(closed_loop)):
            raise CertificationError(
                "A - BK overflows float64 (an entry beyond 1.8e308), so its float64 spectral "
                "radius cannot be computed; rescale the state or the gain"
            )
        return float(np.max(np.abs(np.linalg.eigvals(closed_loop))))

    def is_stabilizing(self, K: Any, precision: PrecisionSpec = "float") -> bool:
        """Is ρ(A − BK) < 1?  (Whatever γ: for the domain of the discounted cost see
        :meth:`has_finite_cost`.)

        float: numpy eigenvalues.  high-precision: mpmath eigenvalues at the digits asked.
        certified: ``True`` is proved by a Lyapunov certificate checked in ball arithmetic
        (:func:`pgverify.lqr.certify.certify_stability`); ``False`` is proved by a rigorous
        eigenvalue enclosure (Arb) outside the unit disc; when neither can be proved a
        :class:`pgverify.CertificationError` says so.
        """
        return self._decide_radius_below(K, precision, 1.0)

    def has_finite_cost(self, K: Any, precision: PrecisionSpec = "float") -> bool:
        """Is the infinite-horizon (discounted) cost C(K) finite, i.e. ``√γ·ρ(A − BK) < 1``?

        This is the domain of every quantity at a gain (cost, gradient, P_K, Σ_K, ...); for
        γ = 1 it is :meth:`is_stabilizing`.  With γ = 1 and noise > 0 the answer is always
        ``False`` (the noise is paid at every step forever).  Decided like
        :meth:`is_stabilizing`: ``γ·|λ|² < 1`` for the eigenvalues λ (float64, mpmath), or
        proved in certified mode (a Lyapunov certificate of ``W − γA_KᵀWA_K ≻ 0``; an Arb
        eigenvalue enclosure with ``γ|λ|² > 1``), else CertificationError.
        """
        if self._noise_without_discount:
            self.gain(K)
            arithmetic_for(precision)  # validated like every other precision argument
            return False
        return self._decide_radius_below(K, precision, self.gamma)

    @property
    def _noise_without_discount(self) -> bool:
        return self.gamma == 1.0 and self.noise > 0.0

    def _decide_radius_below(self, K: Any, precision: PrecisionSpec, gamma: float) -> bool:
        """Decide ``γ·ρ(A − BK)² < 1`` in the tier of ``precision`` (see :meth:`is_stabilizing`)."""
        K = self.gain(K)
        ar = arithmetic_for(precision)
        if ar.tier == "float":
            return gamma * self.spectral_radius(K) ** 2 < 1.0
        if ar.tier == "high-precision":
            with ar.context():
                closed = ar.matrix(self.A) - ar.matrix(self.B) @ ar.matrix(K)
                eigenvalues = mpmath.eig(closed, left=False, right=False)
                if isinstance(eigenvalues, tuple):  # mpmath returns (E, ER, EL) for 1×1
                    eigenvalues = eigenvalues[0]
                largest = max(abs(value) for value in eigenvalues)
                return bool(ar.scalar(gamma) * largest**2 < 1)
        try:
            if gamma == self.gamma and not self._noise_without_discount:
                self._evaluation(K, ar)  # the certificate of the domain; cached for later use
            else:
                self._stability_certificate(K, ar, gamma)
            return True
        except (CertificationError, NotStabilizingError) as failure:
            if self._proved_outside(K, ar, gamma):
                return False
            raise CertificationError(
                f"could not decide {_domain_text(gamma)} rigorously (float estimate "
                f"{_radius_text(self.spectral_radius(K), gamma)}): {failure}"
            ) from failure

    def _proved_outside(self, K: np.ndarray, ar: Arithmetic, gamma: float) -> bool:
        """Does an Arb eigenvalue enclosure prove ``γ|λ|² > 1`` for some eigenvalue of A − BK?"""
        with ar.context():
            closed = (ar.matrix(self.A) - ar.matrix(self.B) @ ar.matrix(K)).m
        return _closed_loop_proved_outside(closed, gamma, ar.working_bits)

    def _stability_certificate(self, K: Any, ar: Arithmetic, gamma: float) -> StabilityCertificate:
        """A certificate of ``√γ·ρ(A − BK) < 1`` in ball arithmetic; raises NotStabilizingError
        when the float64 estimate is already outside, CertificationError when nothing is
        proved."""
        float_K = ar.to_float(K) if not isinstance(K, np.ndarray) else K
        radius = self.spectral_radius(float_K)
        _require_in_domain(radius, gamma)
        with ar.context(), _float_estimate_on_failure(radius, gamma):
            gain = ar.matrix(K) if isinstance(K, np.ndarray) else K
            closed = ar.matrix(self.A) - ar.matrix(self.B) @ gain
            return self._certify_closed_loop(closed, ar, None, gamma)

    def _certify_closed_loop(
        self, closed: Any, ar: Arithmetic, solver: SteinSolver | None, gamma: float
    ) -> StabilityCertificate:
        """A certificate of ``√γ·ρ < 1`` for every matrix in the enclosure ``closed``.

        On the BLAS engine (a fixed-point enclosure: a float matrix and a Frobenius radius) the
        float64 certificate with rigorous error bounds comes first, its weight from ``solver``
        (a SteinSolver of a nearby float matrix; built here if None); ball arithmetic at the
        working precision is the fallback, and the only route for Arb ball matrices."""
        float_closed = ar.to_float(closed)
        if isinstance(ar, FixedPointArithmetic):
            with ar.context():
                deviation = (closed - ar.matrix(float_closed)).norm_upper().to_float_upper()
            if solver is None:
                solver = SteinSolver(float_closed, gamma)
            try:
                return certify_stability_float(float_closed, deviation, solver, gamma)
            except CertificationError:
                with ar.context():
                    return certify_stability(closed.to_arb_mat(), float_closed, gamma)
        with ar.context():
            return certify_stability(closed.m, float_closed, gamma, ar.working_bits)

    def _require_stabilizing(self, K: Any, ar: Arithmetic, name: str = "K") -> None:
        """(float and high-precision tiers) NotStabilizingError unless the float64 estimate of
        ``√γ·ρ(A − BK)`` is below 1."""
        float_K = ar.to_float(K) if not isinstance(K, np.ndarray) else K
        _require_in_domain(self.spectral_radius(float_K), self.gamma, name)

    def _require_infinite_horizon(self) -> None:
        """InvalidProblemError for γ = 1 with noise: every infinite-horizon quantity is infinite."""
        if self._noise_without_discount:
            raise validation.InvalidProblemError(
                f"noise = {self.noise!r} > 0 with gamma = 1 gives an infinite cost for every "
                "gain (the noise is paid at every step forever), so the infinite-horizon "
                "quantities are undefined; expected gamma < 1, or use finite_horizon_cost / "
                "finite_horizon_gradient"
            )

    def _evaluation(
        self, K: Any, ar: Arithmetic, *, approximate: bool = False, name: str = "K"
    ) -> GainEvaluation:
        """The closed forms at K in ``ar``; the last few (gain, arithmetic) pairs are cached, so
        asking for P_K, Σ_K, ∇C, ... at the same K certifies and solves only once.  ``name`` is
        the gain's argument name, for the messages."""
        self._require_infinite_horizon()
        key = None
        if isinstance(K, np.ndarray) and not approximate:
            key = (K.shape, K.tobytes(), ar.tier, ar.working_bits, getattr(ar, "engine", None))
            cached = self._evaluations.get(key)
            if cached is not None:
                self._evaluations.move_to_end(key)
                return cached
        if (
            isinstance(ar, MpmathArithmetic)
            and isinstance(K, np.ndarray)
            and Layout.supports(ar.working_bits, max(self.n, self.m))
        ):
            # the high-precision tier at a float gain: the same closed forms on exact limb
            # products (BLAS speed), exported as mpmath numbers at the digits asked
            if not approximate:
                self._require_stabilizing(K, ar, name)
            fast = FixedPointHighPrecision(ar.digits, max(self.n, self.m))
            with fast.context():
                evaluation = GainEvaluation(ModelData(fast, self), K, None, approximate=approximate)
        elif approximate or not isinstance(ar, BallArithmetic):
            if not approximate:
                self._require_stabilizing(K, ar, name)
            with ar.context():
                model = ModelData(ar, self)
            evaluation = GainEvaluation(model, K, None, approximate=approximate)
        elif key is not None and self._use_blas_engine(ar):
            engine = FixedPointArithmetic(ar.working_bits, max(self.n, self.m))
            evaluation = self._certified_evaluation(engine, K, name=name)
        else:
            evaluation = self._certified_evaluation(ar, K, name=name)
        if key is not None:
            self._evaluations[key] = evaluation
            while len(self._evaluations) > EVALUATION_CACHE_SIZE:
                self._evaluations.popitem(last=False)
        return evaluation

    def _use_blas_engine(self, ar: BallArithmetic) -> bool:
        if ar.engine == "auto":
            size = max(self.n, self.m)
            return size >= BLAS_ENGINE_MIN_DIMENSION and Layout.supports(ar.working_bits, size)
        return ar.engine == "blas"

    def _certified_evaluation(
        self, engine: Arithmetic, K: Any, solver: SteinSolver | None = None, name: str = "K"
    ) -> GainEvaluation:
        """The certified closed forms at K (a float array or a point of ``engine``) in a
        certified arithmetic: Arb balls, or exact limb products on float64 BLAS
        (:class:`pgverify.fixedpoint.FixedPointArithmetic`), with the certificate of
        :meth:`_certify_closed_loop`.  ``solver`` (a SteinSolver of a nearby float closed loop)
        spares the eigendecomposition."""
        with engine.context():
            model = ModelData(engine, self)
            evaluation = GainEvaluation(model, K, None, solver=solver)
        radius = evaluation.solver.spectral_radius  # float64 estimate of ρ(A − BK)
        try:
            _require_in_domain(radius, self.gamma, name)
        except NotStabilizingError as outside:
            # a float64 eigenvalue of a badly scaled matrix can be far off: in certified mode
            # "not stabilising" is said only when an eigenvalue enclosure proves it
            closed = evaluation.closed_loop
            closed = closed.m if isinstance(closed, BallMatrix) else closed.to_arb_mat()
            if _closed_loop_proved_outside(closed, self.gamma, engine.working_bits):
                raise
            raise CertificationError(
                f"could not certify {_domain_text(self.gamma, name)}: the float64 estimate "
                f"{_radius_text(radius, self.gamma, name)} lies outside the domain, but no "
                f"eigenvalue of A - B{name} is proved to (a badly scaled or nearly defective "
                "closed loop); rescaling the state may help"
            ) from outside
        with _float_estimate_on_failure(radius, self.gamma, name):
            evaluation.certificate = self._certify_closed_loop(
                evaluation.closed_loop, engine, evaluation.solver, self.gamma
            )
        return evaluation

    def _compute(
        self, K: Any, precision: PrecisionSpec, what: Callable[[GainEvaluation], Any]
    ) -> Any:
        evaluation = self._evaluation(self.gain(K), arithmetic_for(precision))
        ar = evaluation.ar
        with ar.context():
            return ar.export(what(evaluation))

    # ----------------------------------------------------------------------------------------
    # Closed forms at a gain K
    # ----------------------------------------------------------------------------------------

    def cost(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``C(K) = tr(P_K Σ0) + σ (tr R + γ tr(BᵀP_K B)) / (1 − γ)`` (docs/mathematics.md
        #lqr-cost)."""
        return self._compute(K, precision, lambda e: e.cost())

    def value_matrix(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``P_K``, the solution of ``P = Q + KᵀRK + γ (A − BK)ᵀ P (A − BK)``
        (docs/mathematics.md #lqr-cost); shape (n, n)."""
        return self._compute(K, precision, lambda e: e.value_matrix)

    def state_covariance(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``Σ_K = Σ_t γ^t E[x_t x_tᵀ]``, i.e. ``Σ = Σ0_eff + γ (A − BK) Σ (A − BK)ᵀ`` with
        ``Σ0_eff = Σ0 + γσBBᵀ/(1 − γ)``; shape (n, n)."""
        return self._compute(K, precision, lambda e: e.state_covariance)

    def gradient(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``∇C(K) = 2 E_K Σ_K``, ``E_K = (R + γBᵀP_K B)K − γBᵀP_K A`` (Fazel
        et al. 2018, Lemma 1); shape (m, n)."""
        return self._compute(K, precision, lambda e: e.gradient())

    def natural_gradient(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``∇C(K) Σ_K⁻¹ = 2 E_K`` (the natural policy gradient direction); shape (m, n)."""
        return self._compute(K, precision, lambda e: e.natural_gradient())

    def gauss_newton_direction(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``(R + γBᵀP_K B)⁻¹ ∇C(K) Σ_K⁻¹ = 2 (K − γ(R + γBᵀP_K B)⁻¹BᵀP_K A)``; shape (m, n)."""
        return self._compute(K, precision, lambda e: e.gauss_newton_direction())

    def policy_gradient_step(self, K: Any, alpha: float, precision: PrecisionSpec = "float") -> Any:
        """``K − α ∇C(K)``."""
        step = validation.step_size(alpha)
        return self._compute(K, precision, lambda e: e.K - e.gradient() * e.ar.scalar(step))

    def natural_gradient_step(
        self, K: Any, alpha: float, precision: PrecisionSpec = "float"
    ) -> Any:
        """``K − α ∇C(K) Σ_K⁻¹ = K − 2α E_K`` (docs/mathematics.md #lqr-updates)."""
        step = validation.step_size(alpha)
        return self._compute(K, precision, lambda e: e.K - e.natural_gradient() * e.ar.scalar(step))

    def gauss_newton_step(self, K: Any, alpha: float, precision: PrecisionSpec = "float") -> Any:
        """``K − 2α (K − γ(R + γBᵀP_K B)⁻¹BᵀP_K A)``; α = ½ is policy iteration."""
        step = validation.step_size(alpha)
        return self._compute(
            K, precision, lambda e: e.K - e.gauss_newton_direction() * e.ar.scalar(step)
        )

    def policy_iteration_step(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``K⁺ = γ (R + γBᵀP_K B)⁻¹ BᵀP_K A``, the greedy gain of Q^K (Hewer 1971)."""
        return self._compute(K, precision, lambda e: e.policy_iteration_gain())

    def q_matrix(self, K: Any, precision: PrecisionSpec = "float") -> Any:
        """``H_K`` with ``Q^K(x, u) = [x; u]ᵀ H_K [x; u] + const``; shape (n + m, n + m).

        ``H_K = [[Q + γAᵀPA, γAᵀPB], [γBᵀPA, R + γBᵀPB]]`` (Bradtke, Ydstie & Barto 1994); the
        constant is ``γσ (tr R + γ tr(BᵀPB)) / (1 − γ)`` with exploration noise, 0 without.
        The greedy gain ``H_uu⁻¹ H_ux`` is :meth:`policy_iteration_step`."""
        return self._compute(K, precision, lambda e: e.q_matrix())

    def cost_difference(self, K: Any, K2: Any, precision: PrecisionSpec = "float") -> Any:
        """``C(K2) − C(K) = tr(Σ_{K2} [Δᵀ(R + γBᵀP_K B)Δ + 2ΔᵀE_K])``, ``Δ = K2 − K``
        (Fazel et al. 2018, Lemma 6: the relative performance identity for LQR)."""
        ar = arithmetic_for(precision)
        first = self._evaluation(self.gain(K), ar)
        second = self._evaluation(self.gain(K2, "K2"), ar, name="K2")
        with first.ar.context():
            return first.ar.export(first.cost_difference_to(second))

    def with_error_estimate(self, quantity: str, *arguments: Any, digits: int) -> tuple[Any, Any]:
        """A high-precision value and its error estimate (tier high-precision).

        ``quantity`` names a method (``"gradient"``, ``"cost"``, ...) called with ``arguments``
        at ``digits`` and at ``digits + 10`` decimal digits; the estimate is the largest entrywise
        difference of the two (an estimate, not a bound — use ``precision="certified"`` for one).
        """
        method = validation.error_estimate_method(self, quantity, arguments)
        if isinstance(digits, bool) or not isinstance(digits, int) or digits < 1:
            raise validation.InvalidProblemError(f"digits must be a positive int, got {digits!r}")
        value = method(*arguments, precision=digits)
        finer = method(*arguments, precision=digits + 10)
        with mpmath.workdps(digits + 10):
            # an mpf, or an object ndarray of mpf (what the high-precision tier returns)
            differences = np.ravel(
                np.asarray(finer, dtype=object) - np.asarray(value, dtype=object)
            )
            estimate = max(abs(difference) for difference in differences)
        return value, estimate

    # ----------------------------------------------------------------------------------------
    # Finite horizon
    # ----------------------------------------------------------------------------------------

    def finite_horizon_cost(self, K: Any, horizon: int, precision: PrecisionSpec = "float") -> Any:
        """``C_N(K) = E Σ_{t=0}^{N} γ^t c(x_t, u_t)`` ("V0"; docs/mathematics.md
        #lqr-finite-horizon); any K."""
        return self._finite_horizon(K, horizon, precision)[0]

    def finite_horizon_gradient(
        self, K: Any, horizon: int, precision: PrecisionSpec = "float"
    ) -> Any:
        """``∇C_N(K) = 2 Σ_{t=0}^{N} γ^t [(R + γBᵀV_{t+1}B)K − γBᵀV_{t+1}A] S_t`` with the
        backward values ``V_{N+1} = 0, V_t = Q_K + γA_KᵀV_{t+1}A_K`` and forward second moments
        ``S_0 = Σ0, S_{t+1} = A_K S_t A_Kᵀ + σBBᵀ``; shape (m, n); any K."""
        return self._finite_horizon(K, horizon, precision)[1]

    def _finite_horizon(self, K: Any, horizon: int, precision: PrecisionSpec) -> tuple[Any, Any]:
        K = self.gain(K)
        steps = validation.horizon_length(horizon)
        ar = arithmetic_for(precision)
        with ar.context():
            model = ModelData(ar, self)
            cost, gradient = finite_horizon(model, K, steps)
            return ar.export(cost), ar.export(gradient)

    # ----------------------------------------------------------------------------------------
    # Optimum
    # ----------------------------------------------------------------------------------------

    def optimal_gain(self, precision: PrecisionSpec = "float") -> Any:
        """K* = γ(R + γBᵀX*B)⁻¹BᵀX*A for the stabilising solution X* of the DARE (stabilising:
        ``√γ·ρ(A − BK*) < 1``; K* minimises C over that domain).

        Needs (√γA, B) stabilisable and (√γA, Q) detectable (Q ⪰ 0 may be singular, e.g.
        Q = CᵀC); InvalidProblemError names the offending mode otherwise.  Certified mode
        returns an enclosure proved by the order-interval argument of
        :mod:`pgverify.lqr.riccati` or raises CertificationError.  The optimum is computed once
        per precision and kept."""
        return self._optimum(precision)[0]

    def optimal_value_matrix(self, precision: PrecisionSpec = "float") -> Any:
        """X*, the stabilising solution of the DARE (= P_{K*}); shape (n, n)."""
        return self._optimum(precision)[1]

    def optimal_cost(self, precision: PrecisionSpec = "float") -> Any:
        """C(K*) = tr(X* Σ0) (+ the noise constant)."""
        _, value, ar = self._optimum_native(arithmetic_for(precision))
        with ar.context():
            model = ModelData(ar, self)
            total = ar.trace(value @ model.Sigma0)
            if model.has_noise:
                total = total + model.noise_constant(value)
            return ar.export(total)

    def _optimum(self, precision: PrecisionSpec) -> tuple[Any, Any]:
        gain, value, ar = self._optimum_native(arithmetic_for(precision))
        with ar.context():
            return ar.export(gain), ar.export(value)

    def _optimum_native(self, ar: Arithmetic) -> tuple[Any, Any, Arithmetic]:
        """(K*, X*, the arithmetic they are in), cached per tier, bits and engine (the report
        and users ask for K*, X* and C(K*) in turn)."""
        self._require_infinite_horizon()
        key = (ar.tier, ar.working_bits, getattr(ar, "engine", None))
        if key not in self._optima:
            self._optima[key] = riccati.optimal_solution(self, ar)
        return self._optima[key]


def _closed_loop_proved_outside(closed: Any, gamma: float, bits: int) -> bool:
    """Does an Arb eigenvalue enclosure of the ball matrix ``closed`` (an arb_mat holding
    A − BK) prove ``γ|λ|² > 1`` for some eigenvalue, at ``bits`` bits?"""
    with ctx.workprec(bits):
        try:
            eigenvalues = acb_mat(closed).eig(multiple=True)
        except ValueError:
            return False
        discount = arb(gamma)
        return any(discount * abs(value) ** 2 > 1 for value in eigenvalues)


def _domain_text(gamma: float, name: str = "K") -> str:
    closed = f"rho(A - B{name})"
    return f"{closed} < 1" if gamma == 1.0 else f"sqrt(gamma) {closed} < 1"


def _radius_text(radius: float, gamma: float, name: str = "K") -> str:
    closed = f"rho(A - B{name})"
    if gamma == 1.0:
        return f"{closed} = {radius:.17g}"
    return (
        f"sqrt(gamma) {closed} = {math.sqrt(gamma) * radius:.17g} (gamma = {gamma!r}, "
        f"{closed} = {radius:.17g})"
    )


def _require_in_domain(radius: float, gamma: float, name: str = "K") -> None:
    """NotStabilizingError unless the float64 estimate of ρ(A − B·gain) satisfies γρ² < 1;
    ``name`` is the gain's argument name."""
    if not gamma * radius * radius < 1.0:
        if gamma == 1.0:
            message = (
                f"{name} is not stabilising: {_radius_text(radius, gamma, name)}; expected a "
                "spectral radius < 1 (the LQR cost is infinite otherwise)"
            )
        else:
            message = (
                f"{name} is outside the domain of the discounted cost: "
                f"{_radius_text(radius, gamma, name)}; expected {_domain_text(gamma, name)} "
                "(the discounted cost is infinite otherwise)"
            )
        raise NotStabilizingError(message, spectral_radius=radius)


@contextlib.contextmanager
def _float_estimate_on_failure(radius: float, gamma: float, name: str = "K") -> Iterator[None]:
    """Add the float64 estimate of (√γ·)ρ(A − B·gain) to a CertificationError's message."""
    try:
        yield
    except CertificationError as failure:
        raise CertificationError(
            f"{failure} (float estimate {_radius_text(radius, gamma, name)})"
        ) from failure
