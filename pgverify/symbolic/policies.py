"""Symbolic derivations for Gaussian policies: score functions and Fisher matrices.

The Gaussian log-density ``log π(u|x) = −‖u − μ(x)‖² / (2σ) − (m/2) log(2πσ)`` (σ a variance) is
differentiated symbolically; expectations over u ~ N(μ, σI) are exact Gaussian moments
(u = μ + √σ z, Isserlis), so the Fisher matrices are *derived*, not sampled.
"""

from __future__ import annotations

import random
from typing import Any

import sympy

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.matrices import (
    generic,
    gradient_matrix,
    kron,
    solve_by_adjugate,
    standard_gaussian_expectation,
    symmetric,
    vec,
    vector,
)
from pgverify.symbolic.policy_models import (
    ACTIVATION,
    LogDensity,
    gaussian_log_density,
    linear_gaussian_policy,
    linear_policy_fisher,
    standard_normals,
    two_layer_gaussian_policy,
)

SEED = "Hu, lecture notes on policy-based RL (Gaussian policy and neural network policy score functions)"


GAUSSIAN_POLICY = (
    "policy density u ~ N(-Kx, sigma I): log pi = -|u + Kx|^2/(2 sigma) - (m/2) log(2 pi sigma)"
)
FISHER_DEFINITION = (
    "Fisher matrix F = sum_t E[vec(score) vec(score)^T], x_t from the state distribution "
    "(its second moment S = sum_t E x_t x_t^T is all that enters), u ~ pi(.|x_t)"
)


@derivation(
    "score-linear", "grad_K log pi(u|x) = -sigma^-1 (u + K x) x^T for u ~ N(-Kx, sigma I)", n=3, m=2
)
def score_linear(n: int, m: int) -> Derivation:
    K, x, u = generic("k", m, n), vector("x", n), vector("u", m)
    sigma = sympy.Symbol("sigma", positive=True)
    log_density = gaussian_log_density(u, -K * x, sigma)
    score = gradient_matrix(log_density, K)
    result = Derivation(
        "score-linear",
        "Score function of the linear Gaussian policy",
        "d log pi(u|x)/dK = -sigma^-1 (u + K x) x^T",
        SEED,
        {"n": n, "m": m},
    )
    result.steps.append(Step("differentiate the Gaussian log-density entrywise in K", "log pi"))
    return conclude(result, [score - (-(u + K * x) * x.T / sigma)], positive=[sigma])


def _two_layer(n: int, m: int, hidden: int, activation: str):
    policy = two_layer_gaussian_policy(n, m, hidden, activation=activation)
    W0, W1, x, u = policy.W0, policy.W1, policy.x, policy.u
    sigma = sympy.Symbol("sigma", positive=True)  # the variance itself, for the score claims
    h = sympy.tanh if activation == "tanh" else ACTIVATION
    pre = W0 * x
    features = policy.features()
    dummy = sympy.Symbol("y")
    derivative = sympy.diff(h(dummy), dummy)  # h'(y): tanh → 1 − tanh², generic → Derivative
    slopes = pre.applyfunc(lambda y: derivative.subs(dummy, y))
    mean = policy.mean()
    return W0, W1, x, u, sigma, features, slopes, mean


def _activation_domain(rng: random.Random) -> dict[Any, Any]:
    """A point of the two-layer derivations' domain: σ > 0 (the symbol is declared positive) and
    the generic activation h replaced by a random cubic — the claims are for every
    differentiable h, so one polynomial h at which they fail refutes them."""
    y = sympy.Symbol("y")
    coefficients = [sympy.Rational(rng.randint(-9, 9), rng.randint(1, 5)) for _ in range(4)]
    return {ACTIVATION: sympy.Lambda(y, sum(c * y**k for k, c in enumerate(coefficients)))}


def _score_two_layer(
    n: int,
    m: int,
    hidden: int,
    *,
    claim: str = "correct",
    log_density: LogDensity = gaussian_log_density,
) -> Derivation:
    with_slope = claim == "correct"
    result = Derivation(
        "score-two-layer" if with_slope else "refute-score-two-layer-without-slope",
        "Score functions of the two-layer Gaussian policy"
        if with_slope
        else "Refutation: the W0 score of the two-layer policy without the activation's slope",
        "d log pi/dW1 = sigma^-1 (u - W1 h(W0 x)) h(W0 x)^T; "
        + (
            "d log pi/dW0 = sigma^-1 (W1 diag(h'(W0 x)))^T (u - W1 h(W0 x)) x^T"
            if with_slope
            else "d log pi/dW0 = sigma^-1 W1^T (u - W1 h(W0 x)) x^T (wrong)"
        ),
        SEED,
        {"n": n, "m": m, "hidden": hidden},
        premises=[
            "policy density u ~ N(W1 h(W0 x), sigma I), log pi = -|u - W1 h(W0 x)|^2/(2 sigma) "
            "- (m/2) log(2 pi sigma)",
            "h a generic differentiable activation (and, separately, h = tanh)",
        ],
        domain="sigma > 0; W0, W1, x, u any; h a random cubic polynomial",
    )
    residuals = []
    for activation in ("generic", "tanh"):
        W0, W1, x, u, sigma, features, slopes, mean = _two_layer(n, m, hidden, activation)
        log_density_value = log_density(u, mean, sigma)
        gap = u - mean
        score_1 = gradient_matrix(log_density_value, W1)
        score_0 = gradient_matrix(log_density_value, W0)
        claimed_1 = gap * features.T / sigma
        slope_factor = sympy.diag(*slopes) if with_slope else sympy.eye(hidden)
        claimed_0 = (W1 * slope_factor).T * gap * x.T / sigma
        result.steps.append(
            Step(f"activation {activation}: differentiate log pi in W1 and W0 (backpropagation)")
        )
        residuals += [
            (score_1 - claimed_1).applyfunc(lambda e: e.doit()),
            (score_0 - claimed_0).applyfunc(lambda e: e.doit()),
        ]
    return conclude(result, residuals, positive=[sigma], domain=_activation_domain)


@derivation(
    "score-two-layer",
    "two-layer Gaussian policy: scores w.r.t. W1 and W0 (generic activation h and tanh)",
    n=2,
    m=2,
    hidden=2,
)
def score_two_layer(n: int, m: int, hidden: int) -> Derivation:
    return _score_two_layer(n, m, hidden)


@derivation(
    "refute-score-two-layer-without-slope",
    "negative control: the W0 score without diag(h'(W0 x)) is refuted",
    n=2,
    m=2,
    hidden=2,
)
def refute_score_two_layer_without_slope(n: int, m: int, hidden: int) -> Derivation:
    return _score_two_layer(n, m, hidden, claim="without-slope")


@derivation(
    "fisher-linear",
    "Fisher matrix of the linear Gaussian policy: sigma^-1 (x x^T kron I_m)",
    n=2,
    m=2,
)
def fisher_linear(n: int, m: int) -> Derivation:
    policy = linear_gaussian_policy(n, m)
    K, x, u, root = policy.K, policy.x, policy.u, policy.varsigma  # σ = ς²
    z = standard_normals(m)
    score = vec(policy.score())
    sample = dict(zip(u, -K * x + root * sympy.Matrix(z), strict=True))
    at_sample = score.xreplace(sample).applyfunc(sympy.cancel)
    outer = at_sample * at_sample.T
    fisher = outer.applyfunc(lambda e: standard_gaussian_expectation(e, z))
    claimed = kron(x * x.T, sympy.eye(m)) / root**2
    result = Derivation(
        "fisher-linear",
        "Fisher matrix of the linear Gaussian policy",
        "E_u[vec(score) vec(score)^T] = sigma^-1 (x x^T kron I_m), vec column-major",
        "Hu, lecture notes on policy-based RL (Fisher information matrix)",
        {"n": n, "m": m},
        premises=[GAUSSIAN_POLICY + " (sigma = varsigma^2)"],
    )
    result.steps.append(Step("score: differentiate log pi entrywise in K", score))
    result.steps.append(Step("u = -Kx + sqrt(sigma) z, exact Gaussian moments of z"))
    return conclude(result, [fisher - claimed], positive=[root])


@derivation(
    "fisher-two-layer",
    "Fisher matrix of the two-layer Gaussian policy: sigma^-1 J^T J",
    n=2,
    m=2,
    hidden=2,
)
def fisher_two_layer(n: int, m: int, hidden: int) -> Derivation:
    policy = two_layer_gaussian_policy(n, m, hidden)
    root = policy.varsigma
    fisher = policy.fisher()  # E_u[score score^T], exact Gaussian moments
    jacobian = policy.mean().jacobian(policy.parameters())
    claimed = jacobian.T * jacobian / root**2
    result = Derivation(
        "fisher-two-layer",
        "Fisher matrix of the two-layer (tanh) Gaussian policy",
        "E_u[score score^T] = sigma^-1 J^T J, J = d mu / d theta, theta = (vec W1, vec W0)",
        "Amari (1998); Hu's lecture notes (neural network policy)",
        {"n": n, "m": m, "hidden": hidden},
    )
    result.steps.append(Step("score by symbolic differentiation; exact Gaussian moments"))
    return conclude(result, [fisher - claimed], positive=[root])


def _natural_gradient_fisher(
    n: int, m: int, *, log_density: LogDensity = gaussian_log_density
) -> Derivation:
    K = generic("k", m, n)
    S = symmetric("s", n)  # the state second moment sum_t E x_t x_t^T (Sigma_K, or S discounted)
    G = generic("g", m, n)  # any gradient
    root = sympy.Symbol("varsigma", positive=True)  # sqrt(sigma)
    result = Derivation(
        "natural-gradient-fisher",
        "Fisher matrix and Fisher natural gradient of the linear Gaussian policy",
        "F = E_x E_u[vec(score) vec(score)^T] = sigma^-1 (S kron I_m) and "
        "F^-1 vec(G) = sigma vec(G S^-1); with G = 2 E_K S this is 2 sigma vec(E_K), the lecture notes' "
        "natural gradient up to the sigma factor",
        "Kakade (2001); Hu's lecture notes (natural policy gradient, Fisher information matrix)",
        {"n": n, "m": m},
        premises=[
            GAUSSIAN_POLICY,
            FISHER_DEFINITION,
            "S positive definite (so F is invertible); vec column-major",
        ],
    )
    score, fisher = linear_policy_fisher(K, S, root, log_density)
    result.steps.append(Step("score: differentiate log pi entrywise in K", score))
    result.steps.append(
        Step("Fisher: u = -Kx + sqrt(sigma) z, exact Gaussian moments, then x x^T -> S", fisher)
    )
    scaled = (root**2 * fisher).applyfunc(sympy.cancel)  # sigma F: polynomial in S
    numerator, determinant = solve_by_adjugate(scaled, vec(G))
    result.steps.append(
        Step("F^-1 vec(G) = sigma adj(sigma F) vec(G) / det(sigma F) (Cramer's rule)")
    )
    claimed = vec(G * S.adjugate())  # vec(G S^-1) det S
    det_S = S.det()
    result.steps.append(
        Step(
            "compare with sigma vec(G S^-1) = sigma vec(G adj S)/det S, cross-multiplied by "
            "both determinants (a polynomial identity)"
        )
    )
    return conclude(
        result,
        [
            fisher - kron(S, sympy.eye(m)) / root**2,
            numerator * det_S - determinant * claimed,
        ],
        positive=[root],
    )


@derivation(
    "natural-gradient-fisher",
    "F = sigma^-1 (S kron I) derived from the score; F^-1 vec(G) = sigma vec(G S^-1)",
    n=3,
    m=2,
)
def natural_gradient_fisher(n: int, m: int) -> Derivation:
    return _natural_gradient_fisher(n, m)
