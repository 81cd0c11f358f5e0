"""Symbolic derivations for Gaussian policies: score functions and Fisher matrices.

The Gaussian log-density ``log π(u|x) = −‖u − μ(x)‖² / (2σ) − (m/2) log(2πσ)`` (σ a variance) is
differentiated symbolically; expectations over u ~ N(μ, σI) are exact Gaussian moments
(u = μ + √σ z, Isserlis), so the Fisher matrices are *derived*, not sampled.
"""

from __future__ import annotations

import sympy

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.matrices import (
    generic,
    gradient_matrix,
    kron,
    standard_gaussian_expectation,
    symmetric,
    vec,
    vector,
)

SEED = "seed (Gaussian policy and neural network policy score functions)"


def gaussian_log_density(u: sympy.Matrix, mean: sympy.Matrix, variance: sympy.Symbol) -> sympy.Expr:
    m = u.rows
    gap = u - mean
    return -(gap.T * gap)[0, 0] / (2 * variance) - sympy.Rational(m, 2) * sympy.log(
        2 * sympy.pi * variance
    )


def _noise(m: int) -> list[sympy.Symbol]:
    return [sympy.Symbol(f"z_{i + 1}") for i in range(m)]


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
    W0, W1 = generic("v", hidden, n), generic("w", m, hidden)
    x, u = vector("x", n), vector("u", m)
    sigma = sympy.Symbol("sigma", positive=True)
    h = sympy.tanh if activation == "tanh" else sympy.Function("h")
    pre = W0 * x
    features = pre.applyfunc(h)
    dummy = sympy.Symbol("y")
    derivative = sympy.diff(h(dummy), dummy)  # h'(y): tanh → 1 − tanh², generic → Derivative
    slopes = pre.applyfunc(lambda y: derivative.subs(dummy, y))
    mean = W1 * features
    return W0, W1, x, u, sigma, features, slopes, mean


@derivation(
    "score-two-layer",
    "two-layer Gaussian policy: scores w.r.t. W1 and W0 (generic activation h and tanh)",
    n=2,
    m=2,
    hidden=2,
)
def score_two_layer(n: int, m: int, hidden: int) -> Derivation:
    result = Derivation(
        "score-two-layer",
        "Score functions of the two-layer Gaussian policy",
        "d log pi/dW1 = sigma^-1 (u - W1 h(W0 x)) h(W0 x)^T; "
        "d log pi/dW0 = sigma^-1 (W1 diag(h'(W0 x)))^T (u - W1 h(W0 x)) x^T",
        SEED,
        {"n": n, "m": m, "hidden": hidden},
    )
    residuals = []
    for activation in ("generic", "tanh"):
        W0, W1, x, u, sigma, features, slopes, mean = _two_layer(n, m, hidden, activation)
        log_density = gaussian_log_density(u, mean, sigma)
        gap = u - mean
        score_1 = gradient_matrix(log_density, W1)
        score_0 = gradient_matrix(log_density, W0)
        claimed_1 = gap * features.T / sigma
        claimed_0 = (W1 * sympy.diag(*slopes)).T * gap * x.T / sigma
        result.steps.append(
            Step(f"activation {activation}: differentiate log pi in W1 and W0 (backpropagation)")
        )
        residuals += [
            (score_1 - claimed_1).applyfunc(lambda e: sympy.simplify(e.doit())),
            (score_0 - claimed_0).applyfunc(lambda e: sympy.simplify(e.doit())),
        ]
    return conclude(result, residuals)


@derivation(
    "fisher-linear",
    "Fisher matrix of the linear Gaussian policy: sigma^-1 (x x^T kron I_m)",
    n=2,
    m=2,
)
def fisher_linear(n: int, m: int) -> Derivation:
    K, x = generic("k", m, n), vector("x", n)
    sigma = sympy.Symbol("sigma", positive=True)
    root = sympy.Symbol("varsigma", positive=True)  # √σ
    z = _noise(m)
    u = -K * x + root * sympy.Matrix(z)
    score = vec(-(u + K * x) * x.T / root**2)
    outer = score * score.T
    fisher = outer.applyfunc(lambda e: standard_gaussian_expectation(e, z))
    claimed = kron(x * x.T, sympy.eye(m)) / root**2
    result = Derivation(
        "fisher-linear",
        "Fisher matrix of the linear Gaussian policy",
        "E_u[vec(score) vec(score)^T] = sigma^-1 (x x^T kron I_m), vec column-major",
        "seed (Fisher information matrix); DESIGN.md section 2",
        {"n": n, "m": m},
    )
    result.steps.append(Step("u = -Kx + sqrt(sigma) z, exact Gaussian moments of z"))
    del sigma
    return conclude(result, [fisher - claimed], positive=[root])


@derivation(
    "fisher-two-layer",
    "Fisher matrix of the two-layer Gaussian policy: sigma^-1 J^T J",
    n=2,
    m=2,
    hidden=2,
)
def fisher_two_layer(n: int, m: int, hidden: int) -> Derivation:
    W0, W1, _, u, sigma, _, _, mean = _two_layer(n, m, hidden, "tanh")
    root = sympy.Symbol("varsigma", positive=True)
    z = _noise(m)
    parameters = list(vec(W1)) + list(vec(W0))
    log_density = gaussian_log_density(u, mean, root**2)
    score = sympy.Matrix([sympy.diff(log_density, p) for p in parameters])
    sample = {u[i]: mean[i] + root * z[i] for i in range(m)}
    score = score.xreplace(sample)
    outer = score * score.T
    fisher = outer.applyfunc(lambda e: standard_gaussian_expectation(sympy.expand(e), z))
    jacobian = mean.jacobian(parameters)
    claimed = jacobian.T * jacobian / root**2
    result = Derivation(
        "fisher-two-layer",
        "Fisher matrix of the two-layer (tanh) Gaussian policy",
        "E_u[score score^T] = sigma^-1 J^T J, J = d mu / d theta, theta = (vec W1, vec W0)",
        "Amari (1998); seed (neural network policy)",
        {"n": n, "m": m, "hidden": hidden},
    )
    result.steps.append(Step("score by symbolic differentiation; exact Gaussian moments"))
    del sigma
    return conclude(result, [(fisher - claimed).applyfunc(sympy.simplify)], positive=[root])


@derivation(
    "natural-gradient-fisher",
    "F^-1 vec(grad C) = sigma vec(grad C S^-1) for F = sigma^-1 (S kron I): the Fisher NPG is 2 sigma E_K",
    n=3,
    m=2,
)
def natural_gradient_fisher(n: int, m: int) -> Derivation:
    S = symmetric("s", n)  # the (discounted) state second moment
    G = generic("g", m, n)  # any gradient
    sigma = sympy.Symbol("sigma", positive=True)
    fisher = kron(S, sympy.eye(m)) / sigma
    claimed = vec(sigma * G * S.inv())
    result = Derivation(
        "natural-gradient-fisher",
        "Fisher natural gradient of the linear Gaussian policy",
        "F vec(sigma G S^-1) = vec(G) for F = sigma^-1 (S kron I_m); with G = 2 E_K S_K this is "
        "2 sigma vec(E_K), the seed's natural gradient up to the sigma factor",
        "Kakade (2001); seed (natural policy gradient); DESIGN.md section 2",
        {"n": n, "m": m},
    )
    result.steps.append(Step("multiply the claimed F^-1 vec(G) by F"))
    residual = (fisher * claimed - vec(G)).applyfunc(lambda e: sympy.cancel(sympy.together(e)))
    return conclude(result, [residual], positive=[sigma])
