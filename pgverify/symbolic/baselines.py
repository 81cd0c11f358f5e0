"""Baseline unbiasedness, exactly: ``E_u[b(x) ∇ log π(u|x)] = 0`` when b does not depend on u.

Gaussian policies: exact Gaussian moments (u = μ + √σ z).  Tabular softmax: an exact finite sum
with symbolic logits.  Negative control: a baseline that depends on the action, ``b = cᵀu``, has
the exact non-zero value ``E[cᵀu ∇_K log π] = −c xᵀ`` — the claim "it is 0" is refuted.
"""

from __future__ import annotations

import sympy

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.matrices import (
    generic,
    gradient_matrix,
    standard_gaussian_expectation,
    vector,
)
from pgverify.symbolic.policies import _two_layer, gaussian_log_density

SEED = "Hu, lecture notes on policy-based RL (Baseline: E[b(x_t) grad log pi(u_t|x_t)] = 0)"


def _expectation(matrix: sympy.Matrix, noise: list[sympy.Symbol]) -> sympy.Matrix:
    return matrix.applyfunc(lambda entry: standard_gaussian_expectation(sympy.expand(entry), noise))


def _linear_score_times(baseline_of: str, n: int, m: int):
    K, x = generic("k", m, n), vector("x", n)
    root = sympy.Symbol("varsigma", positive=True)  # √σ
    noise = [sympy.Symbol(f"z_{i + 1}") for i in range(m)]
    u_symbol = vector("u", m)
    log_density = gaussian_log_density(u_symbol, -K * x, root**2)
    score = gradient_matrix(log_density, K)
    sample = -K * x + root * sympy.Matrix(noise)
    score = score.xreplace(dict(zip(u_symbol, sample, strict=True)))
    if baseline_of == "state":
        baseline = sympy.Function("b")(*x)
    else:
        baseline = (vector("c", m).T * sample)[0, 0]
    return K, x, root, noise, _expectation(baseline * score, noise)


@derivation(
    "baseline-linear",
    "E[b(x) grad_K log pi] = 0 for the linear Gaussian policy, any b(x)",
    n=3,
    m=2,
)
def baseline_linear(n: int, m: int) -> Derivation:
    _, _, root, _, expectation = _linear_score_times("state", n, m)
    result = Derivation(
        "baseline-linear",
        "Baseline unbiasedness, linear Gaussian policy",
        "E_{u ~ N(-Kx, sigma I)}[b(x) grad_K log pi(u|x)] = 0 for every function b of the state",
        SEED,
        {"n": n, "m": m},
    )
    result.steps.append(
        Step("score at u = -Kx + sqrt(sigma) z; exact Gaussian moments; b(x) generic")
    )
    return conclude(result, [expectation], positive=[root])


@derivation(
    "baseline-two-layer",
    "E[b(x) grad log pi] = 0 for the two-layer Gaussian policy (W1 and W0)",
    n=2,
    m=2,
    hidden=2,
)
def baseline_two_layer(n: int, m: int, hidden: int) -> Derivation:
    W0, W1, x, u, sigma, _, _, mean = _two_layer(n, m, hidden, "generic")
    root = sympy.Symbol("varsigma", positive=True)
    noise = [sympy.Symbol(f"z_{i + 1}") for i in range(m)]
    log_density = gaussian_log_density(u, mean, root**2)
    baseline = sympy.Function("b")(*x)
    sample = dict(zip(u, mean + root * sympy.Matrix(noise), strict=True))
    residuals = []
    for weights in (W1, W0):
        score = gradient_matrix(log_density, weights).xreplace(sample)
        residuals.append(_expectation(baseline * score, noise))
    result = Derivation(
        "baseline-two-layer",
        "Baseline unbiasedness, two-layer Gaussian policy",
        "E_u[b(x) d log pi/dW1] = 0 and E_u[b(x) d log pi/dW0] = 0 (generic activation h)",
        SEED,
        {"n": n, "m": m, "hidden": hidden},
    )
    result.steps.append(Step("scores by symbolic differentiation; exact Gaussian moments"))
    del sigma
    return conclude(result, residuals, positive=[root])


@derivation(
    "baseline-softmax",
    "sum_a pi(a|s) b(s) grad_theta log pi(a|s) = 0 for a tabular softmax policy",
    actions=3,
)
def baseline_softmax(actions: int) -> Derivation:
    logits = [sympy.Symbol(f"theta_{a + 1}") for a in range(actions)]
    baseline = sympy.Symbol("b")
    partition = sum(sympy.exp(t) for t in logits)
    probabilities = [sympy.exp(t) / partition for t in logits]
    total = sympy.zeros(actions, 1)
    for a in range(actions):
        score = sympy.Matrix([sympy.diff(sympy.log(probabilities[a]), t) for t in logits])
        total += probabilities[a] * baseline * score
    result = Derivation(
        "baseline-softmax",
        "Baseline unbiasedness, tabular softmax policy",
        "sum_a pi_theta(a|s) b(s) grad_theta log pi_theta(a|s) = 0",
        SEED,
        {"actions": actions},
    )
    result.steps.append(Step("exact finite sum over the actions with symbolic logits"))
    return conclude(result, [total.applyfunc(lambda e: sympy.simplify(sympy.together(e)))])


@derivation(
    "baseline-action-dependent",
    "negative control's exact value: E[c^T u grad_K log pi] = -c x^T, not 0",
    n=3,
    m=2,
)
def baseline_action_dependent(n: int, m: int) -> Derivation:
    _, x, root, _, expectation = _linear_score_times("action", n, m)
    c = vector("c", m)
    result = Derivation(
        "baseline-action-dependent",
        "An action-dependent baseline is biased: its exact bias",
        "E_{u ~ N(-Kx, sigma I)}[(c^T u) grad_K log pi(u|x)] = -c x^T",
        SEED,
        {"n": n, "m": m},
    )
    result.steps.append(Step("exact Gaussian moments: E[z z^T] = I"))
    return conclude(result, [expectation - (-c * x.T)], positive=[root])


@derivation(
    "refute-action-dependent-baseline-unbiased",
    "negative control: 'E[c^T u grad_K log pi] = 0' is refuted",
    n=2,
    m=1,
)
def refute_action_dependent_baseline(n: int, m: int) -> Derivation:
    _, _, root, _, expectation = _linear_score_times("action", n, m)
    result = Derivation(
        "refute-action-dependent-baseline-unbiased",
        "Refutation: a baseline depending on the action is not unbiased",
        "E[(c^T u) grad_K log pi(u|x)] = 0 (wrong)",
        SEED,
        {"n": n, "m": m},
        premises=["policy density u ~ N(-Kx, sigma I), sigma = varsigma^2; baseline b = c^T u"],
        domain="sigma > 0 (varsigma = sqrt(sigma) > 0); K, x, c any",
    )
    result.steps.append(Step("exact Gaussian moments"))
    return conclude(result, [expectation], positive=[root])
