"""Symbolic derivations for LQR: ∇C(K), the update rules, the cost difference lemma.

A Lyapunov (Stein) equation ``X = F + op(X)`` has exactly one solution when ρ(A_K) < 1, and
``F ↦ X`` is a bijection.  So an identity that must hold "for the solution X of the equation with
data F" is proved for *generic* data by taking X generic (independent symbols) and *defining*
``F := X − op(X)``: the residual is then a polynomial in independent symbols, which must vanish
identically.  This is the seed's own argument (eq. 13.5's proof) made mechanical; the
``gradient-direct`` derivation checks the same result independently, solving P_K explicitly.
"""

from __future__ import annotations

import sympy

from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.matrices import (
    directional_derivative,
    generic,
    standard_gaussian_expectation,
    symmetric,
    trace,
    vector,
)
from pgverify.symbolic.polynomial import PolynomialAlgebra

SEED = "seed eqs. 13.3-13.5 (Lecture 13, B. Hu)"
FAZEL = "Fazel, Ge, Kakade & Mesbahi (ICML 2018), Lemma 6"


def _system(n: int, m: int) -> dict[str, sympy.Matrix]:
    return {
        "A": generic("a", n, n),
        "B": generic("b", n, m),
        "K": generic("k", m, n),
        "R": symmetric("r", m),
    }


def _gradient_lyapunov(n: int, m: int, variant: str) -> Derivation:
    s = _system(n, m)
    A, B, K, R = s["A"], s["B"], s["K"], s["R"]
    closed = A - B * K
    P = symmetric("p", n)  # the solution P_K: generic
    dK = generic("dk", m, n)
    E = (R + B.T * P * B) * K - B.T * P * A
    title = {
        "correct": "Gradient of the LQR cost via the Lyapunov equation",
        "no-factor-2": "Refutation: the LQR gradient without the factor 2",
        "sigma0": "Refutation: the LQR gradient with Sigma_0 in place of Sigma_K",
    }[variant]
    result = Derivation(
        name="",
        title=title,
        statement="grad C(K) = 2 E_K Sigma_K, E_K = (R + B^T P_K B) K - B^T P_K A",
        source=SEED,
        sizes={"n": n, "m": m},
    )
    Q = symmetric("q", n)

    def lyapunov_residual(gain: sympy.Matrix) -> sympy.Matrix:
        loop = A - B * gain
        return Q + gain.T * R * gain + loop.T * P * loop - P

    # Step 1: the total derivative of the Bellman equation with P held fixed (chain rule).
    derivative = directional_derivative(lyapunov_residual, K, dK)
    forcing = dK.T * E + E.T * dK
    result.steps.append(
        Step("differentiate P = Q + K^T R K + A_K^T P A_K along dK (P fixed)", "dK^T E + E^T dK")
    )
    residual_chain = derivative - forcing
    # Step 2: dP solves dP = dK^T E + E^T dK + A_K^T dP A_K; take dP generic, forcing := dP − op.
    dP = symmetric("dp", n)
    forcing_of_dP = dP - closed.T * dP * closed
    Sigma = symmetric("s", n)  # Σ_K generic; Σ0 := Σ − A_K Σ A_Kᵀ
    Sigma0 = Sigma - closed * Sigma * closed.T
    result.steps.append(
        Step("dC = tr(dP Sigma0) with Sigma0 = Sigma_K - A_K Sigma_K A_K^T", "tr(dP Sigma0)")
    )
    residual_duality = trace(dP * Sigma0) - trace(forcing_of_dP * Sigma)
    result.steps.append(
        Step("tr(dP Sigma0) = tr((dP - A_K^T dP A_K) Sigma_K) = tr((dK^T E + E^T dK) Sigma_K)")
    )
    if variant == "correct":
        claimed = 2 * E * Sigma
    elif variant == "no-factor-2":
        claimed = E * Sigma
    else:
        claimed = 2 * E * Sigma0
    residual_gradient = trace(forcing * Sigma) - trace(claimed * dK.T)
    result.steps.append(Step("= tr(G dK^T) with G the claimed gradient", claimed))
    return conclude(result, [residual_chain, residual_duality, residual_gradient])


@derivation(
    "gradient-lyapunov",
    "grad C(K) = 2 E_K Sigma_K by differentiating the Bellman equation (seed's proof)",
    n=3,
    m=2,
)
def gradient_lyapunov(n: int, m: int) -> Derivation:
    result = _gradient_lyapunov(n, m, "correct")
    result.name = "gradient-lyapunov"
    return result


@derivation(
    "refute-gradient-without-factor-2", "negative control: E_K Sigma_K is refuted", n=2, m=1
)
def refute_gradient_without_factor_two(n: int, m: int) -> Derivation:
    result = _gradient_lyapunov(n, m, "no-factor-2")
    result.name = "refute-gradient-without-factor-2"
    return result


@derivation("refute-gradient-with-sigma0", "negative control: 2 E_K Sigma_0 is refuted", n=2, m=1)
def refute_gradient_with_sigma0(n: int, m: int) -> Derivation:
    result = _gradient_lyapunov(n, m, "sigma0")
    result.name = "refute-gradient-with-sigma0"
    return result


def _direct_gradient_residual(n: int, m: int, discounted: bool) -> sympy.Matrix:
    """``d² (1 − γ) (∇C − claimed gradient)`` as a polynomial matrix (see
    :mod:`pgverify.symbolic.polynomial`): P_K = N_P / d and S = N_S / d solved by Cramer's rule,
    C differentiated with the quotient rule, everything multiplied by d² (and by 1 − γ)."""
    s = _system(n, m)
    A, B, K, R = s["A"], s["B"], s["K"], s["R"]
    Q, Sigma0 = symmetric("q", n), symmetric("w", n)
    gamma, sigma = sympy.Symbol("gamma", positive=True), sympy.Symbol("sigma", positive=True)
    matrices = (A, B, K, R, Q, Sigma0)
    symbols = sorted(set().union(*(M.free_symbols for M in matrices)), key=str)
    if discounted:
        symbols += [gamma, sigma]
    algebra = PolynomialAlgebra(symbols)
    a, b, k, r, q, w = (algebra.matrix(M) for M in matrices)
    mul, add, tr, T = algebra.mul, algebra.add, algebra.trace, algebra.transpose
    g = algebra.scalar(gamma) if discounted else algebra.ring.one
    one_minus = algebra.ring.one - g if discounted else algebra.ring.one
    closed = add(a, mul(b, k), -1)
    stage = add(q, mul(T(k), mul(r, k)))
    N_P, d = algebra.solve_symmetric_stein(
        lambda X: algebra.scale(mul(T(closed), mul(X, closed)), g), stage
    )
    # S̃ = (1 − γ) S solves S̃ = (1 − γ) Σ0 + γσ BBᵀ + γ A_K S̃ A_Kᵀ
    forcing = algebra.scale(w, one_minus)
    if discounted:
        forcing = add(forcing, algebra.scale(mul(b, T(b)), g * algebra.scalar(sigma)))
    N_S, d_S = algebra.solve_symmetric_stein(
        lambda X: algebra.scale(mul(closed, mul(X, T(closed))), g), forcing
    )
    if d_S != d:
        raise ArithmeticError("the two Lyapunov systems share their determinant (adjoint maps)")
    # (1 − γ) C = [(1 − γ) tr(N_P Σ0) + σγ tr(Bᵀ N_P B)] / d + σ tr R
    numerator = one_minus * tr(mul(N_P, w))
    if discounted:
        numerator += algebra.scalar(sigma) * g * tr(mul(T(b), mul(N_P, b)))
    curvature_times_d = add(algebra.scale(r, d), algebra.scale(mul(T(b), mul(N_P, b)), g))
    E_times_d = add(mul(curvature_times_d, k), algebra.scale(mul(T(b), mul(N_P, a)), g), -1)
    claimed_times_d2 = algebra.scale(mul(E_times_d, N_S), 2)
    residual = sympy.zeros(m, n)
    for i in range(m):
        for j in range(n):
            variable = algebra.generator(K[i, j])
            quotient = d * numerator.diff(variable) - numerator * d.diff(variable)
            difference = quotient - claimed_times_d2[i][j]
            residual[i, j] = difference.as_expr() if difference != 0 else sympy.Integer(0)
    return residual


@derivation(
    "gradient-direct",
    "grad C(K) = 2 E_K Sigma_K by differentiating tr(P_K Sigma0) with P_K solved",
    n=2,
    m=1,
)
def gradient_direct(n: int, m: int) -> Derivation:
    result = Derivation(
        "gradient-direct",
        "Gradient of the LQR cost by direct differentiation",
        "d tr(P_K Sigma0)/dK = 2 E_K Sigma_K with P_K, Sigma_K solved symbolically",
        SEED,
        {"n": n, "m": m},
    )
    result.steps.append(
        Step(
            "solve P = Q + K^T R K + A_K^T P A_K and Sigma = Sigma0 + A_K Sigma A_K^T by "
            "Cramer's rule: P = N_P/d, Sigma = N_S/d"
        )
    )
    result.steps.append(Step("differentiate C(K) = tr(N_P Sigma0)/d entrywise in K"))
    result.steps.append(Step("d^2 (grad C - 2 E_K Sigma_K) expands to the zero polynomial"))
    return conclude(result, [_direct_gradient_residual(n, m, discounted=False)])


@derivation(
    "gradient-discounted-noisy",
    "the gradient REINFORCE estimates on LQR: discount gamma, exploration variance sigma",
    n=2,
    m=1,
)
def gradient_discounted_noisy(n: int, m: int) -> Derivation:
    gamma, sigma = sympy.Symbol("gamma", positive=True), sympy.Symbol("sigma", positive=True)
    result = Derivation(
        "gradient-discounted-noisy",
        "Gradient of the discounted LQR cost with Gaussian exploration",
        "d/dK [tr(P Sigma0) + sigma (tr R + gamma tr(B^T P B))/(1 - gamma)] = "
        "2 [(R + gamma B^T P B) K - gamma B^T P A] S, "
        "S = Sigma0 + gamma sigma B B^T/(1 - gamma) + gamma A_K S A_K^T",
        "DESIGN.md section 2 (u = -Kx + w, w ~ N(0, sigma I))",
        {"n": n, "m": m},
    )
    result.steps.append(
        Step("solve the discounted Lyapunov equations by Cramer's rule (S scaled by 1 - gamma)")
    )
    result.steps.append(Step("d^2 (1 - gamma)(grad C - claimed) expands to the zero polynomial"))
    residual = _direct_gradient_residual(n, m, discounted=True)
    return conclude(result, [residual], positive=[gamma, sigma])


@derivation(
    "natural-gradient",
    "grad C Sigma_K^-1 = 2 E_K, and the Gauss-Newton / policy-iteration / greedy-Q identities",
    n=3,
    m=2,
)
def update_rules(n: int, m: int) -> Derivation:
    s = _system(n, m)
    A, B, K, R = s["A"], s["B"], s["K"], s["R"]
    Q = symmetric("q", n)
    P = symmetric("p", n)
    Sigma = symmetric("s", n)
    curvature = R + B.T * P * B
    E = curvature * K - B.T * P * A
    gradient = 2 * E * Sigma
    result = Derivation(
        "natural-gradient",
        "Natural gradient, Gauss-Newton with alpha = 1/2 and policy iteration",
        "grad C Sigma^-1 = 2 E_K; K - (1/2)(R + B^T P B)^-1 grad C Sigma^-1 = (R + B^T P B)^-1 B^T P A "
        "= H_uu^-1 H_ux",
        "seed (natural policy gradient, Gauss-Newton); Hewer (1971); Bradtke, Ydstie & Barto (1994)",
        {"n": n, "m": m},
    )
    natural = 2 * E  # the claim; checked as  claim · Σ = ∇C  (Σ_K is invertible)
    result.steps.append(
        Step("natural gradient: (grad C Sigma^-1 - 2 E_K) Sigma = grad C - 2 E_K Sigma")
    )
    policy_iteration = generic("g", m, n)  # K⁺ := (R + BᵀPB)⁻¹BᵀPA, i.e. (R + BᵀPB) K⁺ = BᵀPA
    result.steps.append(Step("policy iteration gain G with (R + B^T P B) G = B^T P A"))
    gauss_newton_times_curvature = curvature * K - sympy.Rational(1, 2) * natural
    result.steps.append(
        Step(
            "(R + B^T P B)(K - (1/2)(R + B^T P B)^-1 grad C Sigma^-1) = (R + B^T P B) K - E_K = B^T P A"
        )
    )
    x, u = vector("x", n), vector("u", m)
    z = sympy.Matrix.vstack(x, u)
    following = A * x + B * u
    q_function = (x.T * Q * x + u.T * R * u + following.T * P * following)[0, 0]
    hessian = sympy.hessian(q_function, list(z)) / 2
    H_uu, H_ux = hessian[n:, n:], hessian[n:, :n]
    result.steps.append(
        Step(
            "H = (1/2) Hessian of Q^K(x, u) = x^T Q x + u^T R u + (Ax + Bu)^T P (Ax + Bu); greedy gain solves H_uu G = H_ux"
        )
    )
    del policy_iteration
    return conclude(
        result,
        [
            natural * Sigma - gradient,
            gauss_newton_times_curvature - B.T * P * A,
            H_uu - curvature,
            H_ux - B.T * P * A,
        ],
    )


@derivation(
    "cost-difference",
    "the cost difference lemma C(K') - C(K) = tr(Sigma_K' [D^T N D + 2 D^T E_K])",
    n=2,
    m=2,
)
def cost_difference(n: int, m: int) -> Derivation:
    s = _system(n, m)
    A, B, K, R = s["A"], s["B"], s["K"], s["R"]
    K2 = generic("l", m, n)
    P = symmetric("p", n)  # P_K generic; Q := P − KᵀRK − A_KᵀPA_K
    closed, closed2 = A - B * K, A - B * K2
    Q = P - K.T * R * K - closed.T * P * closed
    Sigma2 = symmetric("s", n)  # Σ_{K'} generic; Σ0 := Σ' − A_{K'} Σ' A_{K'}ᵀ
    Sigma0 = Sigma2 - closed2 * Sigma2 * closed2.T
    P2 = symmetric("v", n)  # P_{K'} generic for the duality step
    Q2_of_P2 = P2 - closed2.T * P2 * closed2
    result = Derivation(
        "cost-difference",
        "Cost difference lemma (relative performance identity for LQR)",
        "C(K') - C(K) = tr(Sigma_K' [D^T (R + B^T P_K B) D + 2 D^T E_K]), D = K' - K",
        FAZEL,
        {"n": n, "m": m},
    )
    duality = trace(P2 * Sigma0) - trace(Q2_of_P2 * Sigma2)
    result.steps.append(Step("duality: tr(P_K' Sigma0) = tr((Q + K'^T R K') Sigma_K')"))
    cost_K = trace(P * Sigma0)
    cost_K2 = trace((Q + K2.T * R * K2) * Sigma2)
    step = K2 - K
    E = (R + B.T * P * B) * K - B.T * P * A
    lemma = trace(Sigma2 * (step.T * (R + B.T * P * B) * step + 2 * step.T * E))
    result.steps.append(Step("C(K') - C(K) - tr(Sigma_K' [...]) expands to 0"))
    return conclude(result, [duality, cost_K2 - cost_K - lemma])


@derivation(
    "relative-performance-lqr",
    "Gaussian-policy relative performance identity on LQR reduces to the cost difference lemma",
    n=2,
    m=1,
)
def relative_performance_lqr(n: int, m: int) -> Derivation:
    s = _system(n, m)
    A, B, K, R = s["A"], s["B"], s["K"], s["R"]
    K2 = generic("l", m, n)
    gamma = sympy.Symbol("gamma", positive=True)
    scale = sympy.Symbol("varsigma", positive=True)  # σ = ς², the exploration variance
    P = symmetric("p", n)
    closed = A - B * K
    Q = P - K.T * R * K - gamma * closed.T * P * closed
    curvature = R + gamma * B.T * P * B
    noise_value = scale**2 * trace(curvature) / (1 - gamma)
    x = vector("x", n)
    z = [sympy.Symbol(f"z_{i + 1}") for i in range(m)]
    u = -K2 * x + scale * sympy.Matrix(z)
    following = A * x + B * u
    q_value = (x.T * Q * x + u.T * R * u + gamma * following.T * P * following)[
        0, 0
    ] + gamma * noise_value
    v_value = (x.T * P * x)[0, 0] + noise_value
    advantage = standard_gaussian_expectation(q_value - v_value, z)
    step = K2 - K
    E = curvature * K - gamma * B.T * P * A
    M = step.T * curvature * step + step.T * E + E.T * step
    result = Derivation(
        "relative-performance-lqr",
        "Relative performance identity for Gaussian policies on LQR",
        "E_{u ~ N(-K'x, sigma I)} A^K(x, u) = x^T (D^T N D + D^T E_K + E_K^T D) x; summed with "
        "(1-gamma)^-1 E_{x ~ d_K'} it is the cost difference lemma",
        "seed (relative policy performance identity); " + FAZEL,
        {"n": n, "m": m},
    )
    result.steps.append(
        Step(
            "Q^K(x,u) = c(x,u) + gamma V^K(Ax + Bu), V^K(x) = x^T P x + v0, v0 = sigma tr(R + gamma B^T P B)/(1 - gamma)"
        )
    )
    result.steps.append(Step("exact Gaussian expectation over u = -K'x + sqrt(sigma) z"))
    return conclude(result, [advantage - (x.T * M * x)[0, 0]], positive=[gamma, scale])
