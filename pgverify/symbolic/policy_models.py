"""Symbolic policies for users' own derivation scripts: linear Gaussian, two-layer Gaussian and
tabular softmax, with their scores and Fisher matrices *derived* (sympy differentiation, exact
Gaussian moments).

Tier: **exact**.  The Gaussian density is ``log π(u|x) = −‖u − μ(x)‖²/(2σ) − (m/2) log(2πσ)``
with σ a variance, written ``σ = ς²`` (``varsigma``) so that samples ``u = μ + ς z`` stay
rational.  Scores: the REINFORCE / policy gradient theorem's ``∇_θ log π`` (Sutton et al. 2000);
Fisher matrices: ``E[vec(score) vec(score)ᵀ]`` (Kakade 2001).  Guide: docs/symbolic-toolkit.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.assumptions import Assumption
from pgverify.symbolic.domain import positive_rational, rational
from pgverify.symbolic.matrices import (
    generic,
    gradient_matrix,
    second_moment_expectation,
    standard_gaussian_expectation,
    vec,
    vector,
)
from pgverify.symbolic.problems import _matrix, _scalar, _size

LogDensity = Callable[[sympy.Matrix, sympy.Matrix, Any], sympy.Expr]


def gaussian_log_density(u: sympy.Matrix, mean: sympy.Matrix, variance: Any) -> sympy.Expr:
    """log N(u; mean, variance · I): the policy density every score and Fisher matrix here is
    differentiated from (σ is a variance: docs/mathematics.md §Conventions)."""
    m = u.rows
    gap = u - mean
    return -(gap.T * gap)[0, 0] / (2 * variance) - sympy.Rational(m, 2) * sympy.log(
        2 * sympy.pi * variance
    )


def standard_normals(m: int) -> list[sympy.Symbol]:
    """The standard normal variables ``z_1 … z_m`` of a Gaussian action ``u = μ + ς z``."""
    return [sympy.Symbol(f"z_{i + 1}") for i in range(m)]


ACTIVATION = sympy.Function("h")
"""The generic activation h of the two-layer policy (any differentiable function)."""


def linear_policy_fisher(
    K: sympy.Matrix,
    moment: sympy.Matrix,
    root: sympy.Symbol,
    log_density: LogDensity = gaussian_log_density,
) -> tuple[sympy.Matrix, sympy.Matrix]:
    """(score, Fisher matrix) of the policy u ~ N(−Kx, ς² I), both *derived*: the score is the
    gradient of ``log_density`` in K (vec, column-major); the Fisher matrix is
    ``E_x E_u[vec(score) vec(score)ᵀ]`` with exact Gaussian moments (u = −Kx + ς z) and the state
    expectation taken through the second moment ``E[x xᵀ] = moment``."""
    m, n = K.shape
    x, u = vector("x", n), vector("u", m)
    z = standard_normals(m)
    score = vec(gradient_matrix(log_density(u, -K * x, root**2), K))
    sample = dict(zip(u, -K * x + root * sympy.Matrix(z), strict=True))
    at_sample = score.xreplace(sample).applyfunc(sympy.cancel)
    outer = at_sample * at_sample.T
    per_state = outer.applyfunc(lambda e: standard_gaussian_expectation(e, z))
    fisher = per_state.applyfunc(lambda e: second_moment_expectation(e, x, moment))
    return score, fisher


VARSIGMA = sympy.Symbol("varsigma", positive=True)
"""ς, the square root of the exploration variance σ = ς²."""


def _real_domain(symbols: set[Any], positive: set[Any], description: str) -> Assumption:
    ordered = sorted(symbols, key=str)

    def draw(rng: random.Random) -> dict[Any, Any]:
        return {s: positive_rational(rng) if s in positive else rational(rng) for s in ordered}

    return Assumption(
        frozenset(symbols), draw, description, frozenset(symbols - positive), frozenset(positive)
    )


@dataclass(frozen=True)
class LinearGaussianPolicy:
    """``u ~ N(−Kx, σI)`` with a generic gain ``K`` (m, n) of symbols ``k_ij``, state ``x``
    (n, 1), action ``u`` (m, 1) and ``σ = varsigma²`` (build with
    :func:`linear_gaussian_policy`).  Tier: exact."""

    n: int
    m: int
    K: sympy.Matrix
    x: sympy.Matrix
    u: sympy.Matrix
    varsigma: sympy.Symbol

    @property
    def sigma(self) -> Any:
        """The variance σ = ς²."""
        return self.varsigma**2

    def log_density(self) -> Any:
        """``log π(u|x) = −‖u + Kx‖²/(2σ) − (m/2) log(2πσ)`` (a scalar)."""
        return gaussian_log_density(self.u, -self.K * self.x, self.sigma)

    def score(self) -> sympy.Matrix:
        """``∇_K log π(u|x)`` (m, n), derived by differentiating :meth:`log_density`
        entrywise; it equals ``−σ⁻¹ (u + Kx) xᵀ`` (Sutton et al. 2000; docs/mathematics.md)."""
        return gradient_matrix(self.log_density(), self.K)

    def fisher(self, moment: sympy.Matrix) -> sympy.Matrix:
        """``F = E_x E_u[vec(score) vec(score)ᵀ]`` (mn, mn; vec column-major), derived with
        exact Gaussian moments (u = −Kx + ς z) and the state expectation taken through the
        second moment ``E[x xᵀ] = moment`` (n, n); it equals ``σ⁻¹ (moment ⊗ I_m)`` (Kakade
        2001)."""
        moment = _matrix(moment, (self.n, self.n), "moment")
        return linear_policy_fisher(self.K, moment, self.varsigma)[1]

    def domain(self) -> Assumption:
        """K, x, u any reals; ς > 0."""
        symbols = {*self.K, *self.x, *self.u, self.varsigma}
        return _real_domain(symbols, {self.varsigma}, "K, x, u any; varsigma > 0")


def linear_gaussian_policy(n: int, m: int) -> LinearGaussianPolicy:
    """The linear Gaussian policy ``u ~ N(−Kx, σI)`` of LQR policy gradients with n states and m
    inputs, generic ``K`` (symbols ``k_ij``), ``x`` (``x_i``), ``u`` (``u_i``) and
    ``σ = varsigma²``.  Tier: exact; Fazel et al. (2018), Kakade (2001)."""
    n, m = _size(n, "n"), _size(m, "m")
    return LinearGaussianPolicy(n, m, generic("k", m, n), vector("x", n), vector("u", m), VARSIGMA)


@dataclass(frozen=True)
class TwoLayerGaussianPolicy:
    """``u ~ N(W1 h(W0 x), σI)``: ``W0`` (hidden, n), ``W1`` (m, hidden) generic, ``h`` tanh or
    a generic differentiable function ``h`` (build with :func:`two_layer_gaussian_policy`).
    Tier: exact."""

    n: int
    m: int
    hidden: int
    W0: sympy.Matrix
    W1: sympy.Matrix
    x: sympy.Matrix
    u: sympy.Matrix
    varsigma: sympy.Symbol
    activation: str

    @property
    def sigma(self) -> Any:
        """The variance σ = ς²."""
        return self.varsigma**2

    def _h(self) -> Any:
        return sympy.tanh if self.activation == "tanh" else ACTIVATION

    def features(self) -> sympy.Matrix:
        """``h(W0 x)`` (hidden, 1)."""
        return (self.W0 * self.x).applyfunc(self._h())

    def mean(self) -> sympy.Matrix:
        """``μ(x) = W1 h(W0 x)`` (m, 1)."""
        return self.W1 * self.features()

    def log_density(self) -> Any:
        """``log π(u|x) = −‖u − W1 h(W0 x)‖²/(2σ) − (m/2) log(2πσ)``."""
        return gaussian_log_density(self.u, self.mean(), self.sigma)

    def score(self) -> tuple[sympy.Matrix, sympy.Matrix]:
        """``(∂ log π/∂W1, ∂ log π/∂W0)`` ((m, hidden), (hidden, n)), derived by sympy
        differentiation (backpropagation): ``σ⁻¹ (u − μ) h(W0x)ᵀ`` and
        ``σ⁻¹ (W1 diag(h'(W0x)))ᵀ (u − μ) xᵀ`` (docs/mathematics.md)."""
        log_density = self.log_density()
        derivative = (gradient_matrix(log_density, self.W1), gradient_matrix(log_density, self.W0))
        return derivative[0].applyfunc(lambda e: e.doit()), derivative[1].applyfunc(
            lambda e: e.doit()
        )

    def parameters(self) -> list[Any]:
        """θ = (vec W1, vec W0), column-major: the order of :meth:`fisher`'s rows."""
        return [*vec(self.W1), *vec(self.W0)]

    def fisher(self) -> sympy.Matrix:
        """``E_u[∇_θ log π ∇_θ log πᵀ]`` at the state x, θ = (vec W1, vec W0) (P, P with
        P = m·hidden + hidden·n), derived with exact Gaussian moments; it equals
        ``σ⁻¹ JᵀJ`` with J = ∂μ/∂θ (Amari 1998; Kakade 2001)."""
        z = standard_normals(self.m)
        log_density = self.log_density()
        score = sympy.Matrix([sympy.diff(log_density, p) for p in self.parameters()])
        mean = self.mean()
        sample = {self.u[i]: mean[i] + self.varsigma * z[i] for i in range(self.m)}
        at_sample = score.xreplace(sample)
        outer = at_sample * at_sample.T
        return outer.applyfunc(lambda e: standard_gaussian_expectation(sympy.expand(e), z))

    def domain(self) -> Assumption:
        """W0, W1, x, u any reals; ς > 0; a generic h drawn as a random cubic polynomial (the
        claims are for every differentiable h, so one cubic that breaks them refutes them)."""
        symbols: set[Any] = {*self.W0, *self.W1, *self.x, *self.u, self.varsigma}
        base = _real_domain(symbols, {self.varsigma}, "")
        if self.activation == "tanh":
            return Assumption(base.symbols, base.draw, "W0, W1, x, u any; varsigma > 0")
        y = sympy.Symbol("y")

        def draw(rng: random.Random) -> dict[Any, Any]:
            point = base.draw(rng)
            coefficients = [sympy.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(4)]
            point[ACTIVATION] = sympy.Lambda(y, sum(c * y**k for k, c in enumerate(coefficients)))
            return point

        return Assumption(
            base.symbols | {ACTIVATION},
            draw,
            "W0, W1, x, u any; varsigma > 0; h a random cubic polynomial",
        )


ACTIVATIONS = ("tanh", "generic")


def two_layer_gaussian_policy(
    n: int, m: int, hidden: int, *, activation: str = "tanh"
) -> TwoLayerGaussianPolicy:
    """The two-layer Gaussian policy ``u ~ N(W1 h(W0 x), σI)`` with generic ``W0 = (v_ij)``,
    ``W1 = (w_ij)``, ``x``, ``u``, ``σ = varsigma²``; ``activation`` ``"tanh"`` or
    ``"generic"`` (an undefined function ``h``).  Tier: exact; docs/symbolic-toolkit.md."""
    n, m, hidden = _size(n, "n"), _size(m, "m"), _size(hidden, "hidden")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise InvalidProblemError(
            f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}"
        )
    return TwoLayerGaussianPolicy(
        n,
        m,
        hidden,
        generic("v", hidden, n),
        generic("w", m, hidden),
        vector("x", n),
        vector("u", m),
        VARSIGMA,
        activation,
    )


@dataclass(frozen=True)
class SoftmaxPolicy:
    """The tabular softmax policy ``π(a|s) = exp θ_sa / Σ_b exp θ_sb`` with generic logits
    ``theta`` (S, A) of symbols ``theta_sa`` (build with :func:`softmax_policy`).
    Tier: exact (expressions in exp; ``prove`` writes exp θ as a positive symbol, so residuals
    are rational and refutations exact)."""

    states: int
    actions: int
    theta: sympy.Matrix

    def probabilities(self) -> list[list[Any]]:
        """``π(a|s)`` as S rows of A expressions (a policy for :class:`SymbolicMDP`)."""
        weights = self.theta.applyfunc(sympy.exp)
        return [
            [weights[s, a] / sum(weights.row(s)) for a in range(self.actions)]
            for s in range(self.states)
        ]

    def score(self, state: int, action: int) -> sympy.Matrix:
        """``∇_θ log π(action|state)`` (S, A), derived by differentiation; it equals
        ``e_state (e_action − π(·|state))ᵀ`` (Sutton et al. 2000)."""
        for value, bound, argument in (
            (state, self.states, "state"),
            (action, self.actions, "action"),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < bound:
                raise InvalidProblemError(
                    f"{argument} must be an int in [0, {bound}), got {value!r}"
                )
        log_probability = sympy.log(self.probabilities()[state][action])
        return gradient_matrix(log_probability, self.theta).applyfunc(sympy.simplify)

    def fisher(self, state_weights: Any) -> sympy.Matrix:
        """``F = Σ_s d(s) Σ_a π(a|s) vec(score) vec(score)ᵀ`` (SA, SA; vec column-major) for
        state weights ``d`` (a list of S expressions, e.g. a row of
        :meth:`SymbolicMDP.visitation`) — Kakade (2001)."""
        if (
            not isinstance(state_weights, (list, tuple, sympy.MatrixBase))
            or len(state_weights) != self.states
        ):
            raise InvalidProblemError(
                f"state_weights must be {self.states} expressions, got {state_weights!r}"
            )
        weights = [_scalar(weight, "state_weights entry") for weight in state_weights]
        pi = self.probabilities()
        size = self.states * self.actions
        total = sympy.zeros(size, size)
        for s in range(self.states):
            for a in range(self.actions):
                flat = vec(self.score(s, a))
                total += weights[s] * pi[s][a] * flat * flat.T
        return total

    def domain(self) -> Assumption:
        """The logits any reals."""
        return _real_domain(set(self.theta), set(), "theta any")


def softmax_policy(states: int, actions: int) -> SoftmaxPolicy:
    """The tabular softmax policy with generic logits ``theta_sa`` (S, A).  Tier: exact; Sutton
    et al. (2000); docs/symbolic-toolkit.md."""
    states, actions = _size(states, "states"), _size(actions, "actions")
    theta = sympy.Matrix(states, actions, lambda s, a: sympy.Symbol(f"theta_{s + 1}{a + 1}"))
    return SoftmaxPolicy(states, actions, theta)
