"""Symbolic derivations for LQR: ∇C(K), the update rules, the cost difference lemma.

A Lyapunov (Stein) equation ``X = F + op(X)`` has exactly one solution when ρ(A_K) < 1, and
``F ↦ X`` is a bijection.  So an identity that must hold "for the solution X of the equation with
data F" is proved for *generic* data by taking X generic (independent symbols) and *defining*
``F := X − op(X)``: the residual is then a polynomial in independent symbols, which must vanish
identically.  This is the lecture notes' own argument (the proof of eq. 13.5) made mechanical; the
``gradient-direct`` derivation checks the same result independently, solving P_K explicitly.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.core import Derivation, Step, conclude, derivation
from pgverify.symbolic.definitions import Bellman, bellman_target
from pgverify.symbolic.domain import LQR_DOMAIN, lqr_sampler
from pgverify.symbolic.matrices import (
    directional_derivative,
    generic,
    second_moment_expectation,
    solve_by_adjugate,
    standard_gaussian_expectation,
    symmetric,
    trace,
    vec,
    vector,
)
from pgverify.symbolic.policies import (
    FISHER_DEFINITION,
    GAUSSIAN_POLICY,
    LogDensity,
    gaussian_log_density,
    linear_policy_fisher,
)
from pgverify.symbolic.polynomial import PolynomialAlgebra
from pgverify.symbolic.problems import symbolic_lqr, value_recursion

SEED = "B. Hu, lecture notes on policy-based RL, Lecture 13, eqs. 13.3-13.5"
FAZEL = "Fazel, Ge, Kakade & Mesbahi (ICML 2018), Lemma 6"


VALUE_RECURSION = (
    "value recursion P_K = Q + K^T R K + A_K^T P_K A_K, A_K = A - BK; V^K(x) = x^T P_K x, "
    "C(K) = E V^K(x_0) = tr(P_K Sigma0)"
)
STATE_MOMENT = (
    "state moment recursion Sigma_K = Sigma0 + A_K Sigma_K A_K^T (Sigma_K = sum_t E x_t x_t^T)"
)
STABLE = (
    "rho(A_K) < 1 and Sigma0 > 0: both recursions have unique solutions, Sigma_K > 0, "
    "and Q -> P_K, Sigma0 -> Sigma_K are bijections (so P, Sigma may be taken generic)"
)


def _gradient_lyapunov(n: int, m: int, variant: str) -> Derivation:
    problem = symbolic_lqr(n, m)
    A, B, K, R = problem.A, problem.B, problem.gain("k"), problem.R
    closed = A - B * K
    P = symmetric("p", n)  # the solution P_K: generic
    dK = generic("dk", m, n)
    E = problem.E(K, P)
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
        premises=[VALUE_RECURSION, STATE_MOMENT, STABLE],
        domain=LQR_DOMAIN,
    )
    Q = problem.Q

    def lyapunov_residual(gain: sympy.Matrix) -> sympy.Matrix:
        return problem.value_recursion(gain, P) - P

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
    sampler = lqr_sampler(n, m, {"A": A, "B": B, "K": K, "R": R, "Q": Q, "P": P, "Sigma": Sigma})
    return conclude(result, [residual_chain, residual_duality, residual_gradient], domain=sampler)


@derivation(
    "gradient-lyapunov",
    "grad C(K) = 2 E_K Sigma_K by differentiating the Bellman equation (the lecture notes' proof)",
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


def _direct_gradient_residual(
    n: int, m: int, discounted: bool
) -> tuple[sympy.Matrix, Callable[[dict], sympy.Matrix], dict[str, sympy.Matrix]]:
    """``d² (1 − γ) (∇C − claimed gradient)`` as a polynomial matrix (see
    :mod:`pgverify.symbolic.polynomial`): P_K = N_P / d and S = N_S / d solved by Cramer's rule,
    C differentiated with the quotient rule, everything multiplied by d² (and by 1 − γ).

    Also returns the derived ∇C as a function of exact values of the symbols (evaluated on the
    polynomials, for ``--check``) and the symbolic matrices standing for A, B, K, R, Q, Σ0."""
    problem = symbolic_lqr(n, m, discounted=True, noisy=True)  # γ, σ used only if discounted
    A, B, K, R = problem.A, problem.B, problem.gain("k"), problem.R
    Q, Sigma0 = problem.Q, problem.Sigma0
    gamma, sigma = problem.gamma, problem.sigma
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
    quotients = {}
    for i in range(m):
        for j in range(n):
            variable = algebra.generator(K[i, j])
            quotient = d * numerator.diff(variable) - numerator * d.diff(variable)
            quotients[i, j] = quotient
            difference = quotient - claimed_times_d2[i][j]
            residual[i, j] = difference.as_expr() if difference != 0 else sympy.Integer(0)

    def derived_gradient_at(values: dict) -> sympy.Matrix:
        """∇C = quotient / (d² (1 − γ)) at exact values of every symbol."""
        point = [(algebra.generator(symbol), values[symbol]) for symbol in algebra.symbols]
        domain = algebra.ring.domain

        def at(polynomial):
            return domain.to_sympy(polynomial.evaluate(point))

        scale = at(d) ** 2 * at(one_minus)
        return sympy.Matrix(m, n, lambda i, j: at(quotients[i, j]) / scale)

    names = {"A": A, "B": B, "K": K, "R": R, "Q": Q, "Sigma0": Sigma0}
    if discounted:
        names |= {"gamma": gamma, "sigma": sigma}
    return residual, derived_gradient_at, names


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
    residual, gradient_at, names = _direct_gradient_residual(n, m, discounted=False)
    result.derived = {"gradient": gradient_at, "symbols": names}
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_gradient_matches_central_differences_of_the_"
        "50_digit_cost"
    )
    return conclude(result, [residual])


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
        "exploration u = -Kx + w, w ~ N(0, sigma I); Fazel, Ge, Kakade & Mesbahi (ICML 2018), Lemma 1",
        {"n": n, "m": m},
    )
    result.steps.append(
        Step("solve the discounted Lyapunov equations by Cramer's rule (S scaled by 1 - gamma)")
    )
    result.steps.append(Step("d^2 (1 - gamma)(grad C - claimed) expands to the zero polynomial"))
    residual, gradient_at, names = _direct_gradient_residual(n, m, discounted=True)
    result.derived = {"gradient": gradient_at, "symbols": names}
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_gradient_matches_central_differences_of_the_"
        "50_digit_cost (its noisy, discounted cases)"
    )
    return conclude(result, [residual], positive=[gamma, sigma])


ValueRecursion = Callable[..., sympy.Matrix]


def lqr_value_recursion(
    A: sympy.Matrix,
    B: sympy.Matrix,
    K: sympy.Matrix,
    Q: sympy.Matrix,
    R: sympy.Matrix,
    P: sympy.Matrix,
) -> sympy.Matrix:
    """The right side of the value recursion ``P = Q + KᵀRK + A_Kᵀ P A_K`` (V^K(x) = xᵀPx):
    :func:`pgverify.symbolic.problems.value_recursion` undiscounted, the default premise."""
    return value_recursion(A, B, K, Q, R, P)


def derived_gradient(
    A: sympy.Matrix,
    B: sympy.Matrix,
    K: sympy.Matrix,
    Q: sympy.Matrix,
    R: sympy.Matrix,
    P: sympy.Matrix,
    Sigma: sympy.Matrix,
    value_recursion: ValueRecursion = lqr_value_recursion,
) -> tuple[sympy.Matrix, sympy.Expr]:
    """(∇C(K), duality residual), derived from the value recursion alone.

    Differentiating ``P_K = rec(K, P_K)`` along dK gives ``dP = ∂_K rec[dK] + ∂_P rec[dP]``
    (implicit differentiation; both partial derivatives computed by sympy).  Then
    ``dC = tr(dP Σ0) = tr((dP − ∂_P rec[dP]) Σ_K) = tr(∂_K rec[dK] Σ_K)`` — the middle equality is
    the Lyapunov duality with ``Σ0 = Σ_K − A_K Σ_K A_Kᵀ``, returned as a residual (generic dP,
    Σ_K) — and ∇C is the coefficient matrix of the linear form dK ↦ tr(∂_K rec[dK] Σ_K)."""
    m, n = K.shape
    dK, dP = generic("dk", m, n), symmetric("dp", n)
    closed = A - B * K
    Sigma0 = Sigma - closed * Sigma * closed.T
    forcing = directional_derivative(lambda gain: value_recursion(A, B, gain, Q, R, P), K, dK)
    transported = directional_derivative(lambda value: value_recursion(A, B, K, Q, R, value), P, dP)
    duality = trace(dP * Sigma0) - trace((dP - transported) * Sigma)
    # the linear form's coefficients: its value at each unit direction E_ij
    gradient = sympy.Matrix(
        m,
        n,
        lambda i, j: trace(
            forcing.xreplace({dK[a, b]: int((a, b) == (i, j)) for a in range(m) for b in range(n)})
            * Sigma
        ),
    )
    return gradient, duality


def _natural_gradient(
    n: int,
    m: int,
    *,
    value_recursion: ValueRecursion = lqr_value_recursion,
    log_density: LogDensity = gaussian_log_density,
) -> Derivation:
    problem = symbolic_lqr(n, m)
    A, B, K, R = problem.A, problem.B, problem.gain("k"), problem.R
    Q, P, Sigma = problem.Q, symmetric("p", n), symmetric("s", n)
    root = sympy.Symbol("varsigma", positive=True)  # sqrt(sigma)
    curvature = problem.curvature(K, P)
    E = problem.E(K, P)  # the right-hand side's E_K, used only in the claims
    result = Derivation(
        "natural-gradient",
        "Natural gradient (Sigma_K^-1 and Fisher forms), Gauss-Newton with alpha = 1/2 and "
        "policy iteration",
        "grad C Sigma_K^-1 = 2 E_K; F^-1 vec(grad C) = sigma vec(2 E_K); "
        "K - (1/2)(R + B^T P B)^-1 grad C Sigma_K^-1 minimises Q^K(x, u) over u at every x "
        "(= policy iteration's greedy gain (R + B^T P B)^-1 B^T P A)",
        "Hu, lecture notes on policy-based RL (natural policy gradient, Gauss-Newton); Kakade (2001); Hewer (1971); "
        "Bradtke, Ydstie & Barto (1994)",
        {"n": n, "m": m},
        premises=[
            VALUE_RECURSION,
            STATE_MOMENT,
            STABLE,
            GAUSSIAN_POLICY + " (sigma = varsigma^2)",
            FISHER_DEFINITION + "; here S = Sigma_K",
            "Q-function Q^K(x, u) = x^T Q x + u^T R u + V^K(Ax + Bu)",
            "Gauss-Newton step (lecture notes): K - alpha (R + B^T P_K B)^-1 grad C Sigma_K^-1",
        ],
    )
    gradient, duality = derived_gradient(A, B, K, Q, R, P, Sigma, value_recursion)
    result.steps.append(
        Step(
            "differentiate the value recursion implicitly along dK: "
            "dP = d_K rec[dK] + A_K^T dP A_K; dC = tr(dP Sigma0)"
        )
    )
    result.steps.append(
        Step(
            "Lyapunov duality tr(dP Sigma0) = tr((dP - A_K^T dP A_K) Sigma_K) gives "
            "dC = tr(d_K rec[dK] Sigma_K); grad C is its coefficient matrix",
            gradient,
        )
    )
    result.steps.append(Step("natural gradient grad C Sigma_K^-1: check grad C = 2 E_K Sigma_K"))
    _, fisher = linear_policy_fisher(K, Sigma, root, log_density)
    scaled = (root**2 * fisher).applyfunc(sympy.cancel)  # sigma F: polynomial in Sigma_K
    numerator, determinant = solve_by_adjugate(scaled, vec(gradient))
    result.steps.append(
        Step(
            "Fisher F derived from the score (natural-gradient-fisher's route, S = Sigma_K); "
            "F^-1 vec(grad C) = sigma adj(sigma F) vec(grad C)/det(sigma F): check it is "
            "sigma vec(2 E_K)"
        )
    )
    x, u = vector("x", n), vector("u", m)
    q_function = problem.q_function(x, u, P)
    z = sympy.Matrix.vstack(x, u)
    half_hessian = sympy.hessian(q_function, list(z)) / 2
    H_uu, H_ux = half_hessian[n:, n:], half_hessian[n:, :n]
    result.steps.append(
        Step(
            "Q^K(x, u) = [x; u]^T H [x; u] with H = (1/2) Hessian (derived); dQ/du = "
            "2 (H_uu u + H_ux x)"
        )
    )
    # K_GN = K − ½ N⁻¹ ∇C Σ⁻¹, N = R + BᵀPB.  ∂Q/∂u(x, −K_GN x) = 2(H_ux − H_uu K_GN) x vanishes
    # for every x iff (H_uu K_GN − H_ux) Σ_K = 0 (Σ_K invertible); times det N, with
    # N⁻¹ = adj N / det N, that is polynomial:
    determinant_N = curvature.det()
    greedy = determinant_N * (H_uu * K - H_ux) * Sigma - H_uu * curvature.adjugate() * gradient / 2
    result.steps.append(
        Step(
            "Gauss-Newton with alpha = 1/2, K_GN = K - (1/2)(R + B^T P B)^-1 grad C Sigma_K^-1: "
            "dQ^K/du (x, -K_GN x) = 0 for every x, i.e. (H_uu K_GN - H_ux) Sigma_K = 0 - the "
            "greedy step of policy iteration (Q^K is convex in u: H_uu = R + B^T P B > 0)"
        )
    )
    result.derived = {
        "gradient": gradient,
        # F⁻¹ vec(∇C) / σ, back in matrix shape (vec is column-major)
        "fisher_natural_gradient_over_sigma": sympy.Matrix(
            m, n, lambda i, j: numerator[j * m + i] / determinant
        ),
        "gauss_newton_half": K
        - curvature.adjugate() * gradient * Sigma.adjugate() / (2 * determinant_N * Sigma.det()),
        "symbols": {"A": A, "B": B, "K": K, "Q": Q, "R": R, "P": P, "Sigma": Sigma},
    }
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_natural_gradient_is_gradient_times_inverse_"
        "covariance and ::test_gauss_newton_with_half_step_is_policy_iteration"
    )
    return conclude(
        result,
        [
            duality,
            gradient - 2 * E * Sigma,
            numerator - determinant * vec(2 * E),
            greedy,
        ],
        positive=[root],
    )


@derivation(
    "natural-gradient",
    "grad C derived from the value recursion; grad C Sigma_K^-1 = 2 E_K = F^-1 grad C / sigma; "
    "GN(1/2) = greedy = policy iteration",
    n=3,
    m=2,
)
def natural_gradient(n: int, m: int) -> Derivation:
    return _natural_gradient(n, m)


@derivation(
    "cost-difference",
    "the cost difference lemma C(K') - C(K) = tr(Sigma_K' [D^T N D + 2 D^T E_K])",
    n=2,
    m=2,
)
def cost_difference(n: int, m: int) -> Derivation:
    problem = symbolic_lqr(n, m)
    A, B, K, R = problem.A, problem.B, problem.gain("k"), problem.R
    K2 = problem.gain("l")
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
    E = problem.E(K, P)
    lemma = trace(Sigma2 * (step.T * problem.curvature(K, P) * step + 2 * step.T * E))
    result.steps.append(Step("C(K') - C(K) - tr(Sigma_K' [...]) expands to 0"))
    result.derived = {
        "cost_difference": cost_K2 - cost_K,
        "symbols": {"A": A, "B": B, "K": K, "K2": K2, "R": R, "P": P, "Sigma2": Sigma2},
    }
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_cost_difference_lemma_holds_within_the_"
        "certified_radius"
    )
    return conclude(result, [duality, cost_K2 - cost_K - lemma])


def discounted_sum(
    expression: sympy.Expr, x: sympy.Matrix, moment: sympy.Matrix, gamma: sympy.Expr
) -> sympy.Expr:
    """``Σ_t γ^t E f(x_t)`` for ``f(x) = xᵀMx + c``: ``tr(M S) + c/(1 − γ)`` with
    ``S = Σ_t γ^t E x_t x_tᵀ`` (``= (1 − γ)⁻¹ E_{x ~ d} f(x)``, d the normalised discounted
    state visitation)."""
    constant = expression.xreplace({xi: 0 for xi in x})
    quadratic = second_moment_expectation(sympy.expand(expression - constant), x, moment)
    return quadratic + constant / (1 - gamma)


def _relative_performance(
    n: int, m: int, *, bellman: Bellman = bellman_target, visiting: str = "new"
) -> Derivation:
    problem = symbolic_lqr(n, m, discounted=True)
    A, B, K, R = problem.A, problem.B, problem.gain("k"), problem.R
    K2 = problem.gain("l")
    gamma = problem.gamma
    scale = sympy.Symbol("varsigma", positive=True)  # σ = ς², the exploration variance
    P, Q = symmetric("p", n), problem.Q
    v0 = sympy.Symbol("v_0")
    x = vector("x", n)
    z = [sympy.Symbol(f"z_{i + 1}") for i in range(m)]

    def action(gain: sympy.Matrix) -> sympy.Matrix:
        return -gain * x + scale * sympy.Matrix(z)

    def expectation(expression: sympy.Expr) -> sympy.Expr:
        return standard_gaussian_expectation(sympy.expand(expression), z)

    def stage(u: sympy.Matrix) -> sympy.Expr:
        return (x.T * Q * x + u.T * R * u)[0, 0]

    def value(state: sympy.Matrix) -> sympy.Expr:
        return (state.T * P * state)[0, 0] + v0

    def q_function(u: sympy.Matrix) -> sympy.Expr:
        return bellman(stage(u), value(A * x + B * u), gamma)

    result = Derivation(
        "relative-performance-lqr",
        "Relative performance identity for Gaussian policies on LQR",
        "E_{u ~ N(-K'x, sigma I)} A^K(x, u) = x^T (D^T N D + D^T E_K + E_K^T D) x, "
        "N = R + gamma B^T P_K B, D = K' - K; summed, (1-gamma)^-1 E_{x ~ d_K'} of it is "
        "C(K') - C(K) = tr(S_K' (D^T N D + D^T E_K + E_K^T D)), the cost difference lemma",
        "Hu, lecture notes on policy-based RL (relative policy performance identity); " + FAZEL,
        {"n": n, "m": m},
        premises=[
            "dynamics x' = Ax + Bu, stage cost c(x, u) = x^T Q x + u^T R u",
            "Gaussian policies u ~ N(-Kx, sigma I) (old) and N(-K'x, sigma I) (new), "
            "sigma = varsigma^2",
            "Bellman equation V^K(x) = E_{u ~ pi_K}[c(x, u) + gamma V^K(Ax + Bu)] with "
            "V^K(x) = x^T P x + v0: its quadratic part fixes Q given P, its constant part v0",
            "Q^K(x, u) = c(x, u) + gamma V^K(Ax + Bu), A^K = Q^K - V^K",
            "C(K) = E V^K(x_0) with E x_0 x_0^T = Sigma0; C(K') = sum_t gamma^t E c(x_t, u_t) "
            "along the new policy's trajectories",
            "S' = sum_t gamma^t E x_t x_t^T along the new policy: S' = Sigma0 + gamma sum_t "
            "gamma^t E x_{t+1} x_{t+1}^T; (1-gamma)^-1 E_{x ~ d_K'} f = sum_t gamma^t E f(x_t)",
            "0 < gamma < 1 and sqrt(gamma) A_K, sqrt(gamma) A_K' stable: Q -> P and "
            "Sigma0 -> S' are bijections, so P and S' are taken generic",
        ],
    )
    # the Bellman equation of V^K, coefficient by coefficient in x
    target = expectation(bellman(stage(action(K)), value(A * x + B * action(K)), gamma))
    mismatch = sympy.expand(value(x) - target)
    equations = sympy.Poly(mismatch, *x).coeffs()
    unknowns = [*sorted(Q.free_symbols, key=str), v0]
    solutions = sympy.solve(equations, unknowns, dict=True)
    if not solutions or set(solutions[0]) != set(unknowns):
        raise InvalidProblemError(
            "the Bellman equation given has no value function x^T P x + v0 with P generic; "
            f"solving its coefficients for {unknowns} gave {solutions}"
        )
    solution = solutions[0]
    result.steps.append(
        Step("solve the Bellman equation's coefficients for Q (given P) and v0", solution[v0])
    )
    advantage = expectation(q_function(action(K2)) - value(x)).xreplace(solution)
    result.steps.append(
        Step("E_{u ~ pi_K'} A^K(x, u): exact Gaussian moments over u = -K'x + sqrt(sigma) z")
    )
    curvature = problem.curvature(K, P)
    E = problem.E(K, P)
    step = K2 - K
    M = step.T * curvature * step + step.T * E + E.T * step
    first_half = sympy.expand(advantage) - (x.T * M * x)[0, 0]
    # the new policy's discounted state moment S' (generic) and the Σ0 it comes from
    S2 = symmetric("s", n)
    visitor = K2 if visiting == "new" else K
    following = A * x + B * action(visitor)
    one_step = (following * following.T).applyfunc(expectation)
    Sigma0 = S2 - gamma * one_step.applyfunc(lambda e: discounted_sum(e, x, S2, gamma))
    result.steps.append(
        Step("Sigma0 from S' = Sigma0 + gamma sum_t gamma^t E_z[x_{t+1} x_{t+1}^T]", Sigma0)
    )
    cost_new = discounted_sum(expectation(stage(action(K2))).xreplace(solution), x, S2, gamma)
    cost_old = second_moment_expectation(value(x) - v0, x, Sigma0) + solution[v0]
    summed = discounted_sum(advantage, x, S2, gamma)
    result.steps.append(
        Step(
            "C(K') = sum_t gamma^t E c(x_t, u_t), C(K) = E V^K(x_0); check sum_t gamma^t "
            "E A^K(x_t, u_t) = C(K') - C(K) and its closed form tr(S' M)"
        )
    )
    result.derived = {
        "cost_difference": summed,
        "symbols": {
            "A": A,
            "B": B,
            "K": K,
            "K2": K2,
            "R": R,
            "P": P,
            "Sigma2": S2,
            "gamma": gamma,
            "root": scale,
        },
    }
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_cost_difference_lemma_holds_within_the_"
        "certified_radius"
    )
    second_half = summed - (cost_new - cost_old)
    lemma = cost_new - cost_old - trace(S2 * M)
    return conclude(result, [first_half, second_half, lemma], positive=[gamma, scale])


@derivation(
    "relative-performance-lqr",
    "Gaussian-policy relative performance identity on LQR; summed over d_K' it is the cost "
    "difference lemma",
    n=2,
    m=1,
)
def relative_performance_lqr(n: int, m: int) -> Derivation:
    return _relative_performance(n, m)
