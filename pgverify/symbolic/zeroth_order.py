"""Zeroth-order (evolution-strategies) gradient estimators, exactly.

``g(σ) = E_{ε ~ N(0, I)}[(C(k + σε) − C(k)) ε] / σ`` (the shifted estimator of the lecture notes).  For a
quadratic C it equals ∇C(k) exactly for every σ; for a cubic C it equals
``∇C(k) + (σ²/2) ∇(ΔC)(k)`` exactly (Stein's lemma: g is the gradient of the smoothed cost
``C_σ(k) = E C(k + σε) = C(k) + (σ²/2) ΔC(k)``).
"""

from __future__ import annotations

import itertools

import sympy

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.matrices import standard_gaussian_expectation, symmetric, vector

SEED = (
    "Hu, lecture notes on policy-based RL (zeroth-order optimization); Nesterov & Spokoiny (2017)"
)


def _estimator(cost, point: sympy.Matrix, sigma: sympy.Symbol) -> sympy.Matrix:
    size = point.rows
    noise = [sympy.Symbol(f"e_{i + 1}") for i in range(size)]
    epsilon = sympy.Matrix(noise)
    difference = cost(point + sigma * epsilon) - cost(point)
    return sympy.Matrix(
        [
            standard_gaussian_expectation(sympy.expand(difference * noise[i]), noise) / sigma
            for i in range(size)
        ]
    )


def _gradient(cost_expression: sympy.Expr, point: sympy.Matrix) -> sympy.Matrix:
    return sympy.Matrix([sympy.diff(cost_expression, p) for p in point])


@derivation(
    "zeroth-order-quadratic",
    "E[(C(k + sigma e) - C(k)) e]/sigma = grad C(k) exactly for quadratic C",
    dimension=3,
)
def zeroth_order_quadratic(dimension: int) -> Derivation:
    k = vector("k", dimension)
    H, g = symmetric("h", dimension), vector("g", dimension)
    constant = sympy.Symbol("c0")
    sigma = sympy.Symbol("sigma", positive=True)

    def cost(point: sympy.Matrix) -> sympy.Expr:
        return (point.T * H * point / 2 + g.T * point)[0, 0] + constant

    estimate = _estimator(cost, k, sigma)
    result = Derivation(
        "zeroth-order-quadratic",
        "Zeroth-order estimator is unbiased on quadratic costs",
        "E_{e ~ N(0, I)}[(C(k + sigma e) - C(k)) e] / sigma = grad C(k) for C(k) = k^T H k/2 + g^T k + c",
        SEED,
        {"dimension": dimension},
    )
    result.steps.append(Step("exact Gaussian moments up to order 3"))
    return conclude(result, [estimate - _gradient(cost(k), k)], positive=[sigma])


@derivation(
    "zeroth-order-cubic-bias",
    "for cubic C the estimator's exact bias is (sigma^2/2) grad(Laplacian C)",
    dimension=2,
)
def zeroth_order_cubic_bias(dimension: int) -> Derivation:
    k = vector("k", dimension)
    sigma = sympy.Symbol("sigma", positive=True)
    coefficients = {
        index: sympy.Symbol("t_" + "".join(str(i + 1) for i in index))
        for index in itertools.combinations_with_replacement(range(dimension), 3)
    }

    def cost(point: sympy.Matrix) -> sympy.Expr:
        return sum(c * point[i] * point[j] * point[k] for (i, j, k), c in coefficients.items())

    estimate = _estimator(cost, k, sigma)
    laplacian = sum(sympy.diff(cost(k), p, 2) for p in k)
    bias = sigma**2 / 2 * _gradient(laplacian, k)
    result = Derivation(
        "zeroth-order-cubic-bias",
        "Exact O(sigma^2) bias of the zeroth-order estimator on a cubic cost",
        "E[(C(k + sigma e) - C(k)) e] / sigma = grad C(k) + (sigma^2/2) grad(Laplacian C)(k)",
        SEED,
        {"dimension": dimension},
    )
    result.steps.append(Step("exact Gaussian moments up to order 4"))
    return conclude(result, [estimate - _gradient(cost(k), k) - bias], positive=[sigma])


@derivation(
    "refute-zeroth-order-unbiased-on-cubic",
    "negative control: 'unbiased on cubic costs' is refuted",
    dimension=2,
)
def refute_zeroth_order_unbiased(dimension: int) -> Derivation:
    k = vector("k", dimension)
    sigma = sympy.Symbol("sigma", positive=True)
    coefficients = [sympy.Symbol(f"t_{i + 1}") for i in range(dimension)]

    def cost(point: sympy.Matrix) -> sympy.Expr:
        return sum(c * p**3 for c, p in zip(coefficients, point, strict=True))

    estimate = _estimator(cost, k, sigma)
    result = Derivation(
        "refute-zeroth-order-unbiased-on-cubic",
        "Refutation: the zeroth-order estimator is biased on cubic costs",
        "E[(C(k + sigma e) - C(k)) e] / sigma = grad C(k) for C = sum t_i k_i^3 (wrong)",
        SEED,
        {"dimension": dimension},
        premises=["estimator g(sigma) = E_{e ~ N(0, I)}[(C(k + sigma e) - C(k)) e] / sigma"],
        domain="sigma > 0; k and the coefficients t any",
    )
    return conclude(result, [estimate - _gradient(cost(k), k)], positive=[sigma])
