"""LQR identities proved for every n and m (tier exact), registered as derivations.

Each proof starts from the project's definitions (docs/mathematics.md §LQR, §Discount and
exploration noise, §Score functions and Fisher matrices; :mod:`.problem`), applies the rules of
:mod:`.rules` step by step (recorded as the derivation's steps) and concludes by comparing
canonical forms (:mod:`.algebra`), or by an exact counterexample in the domain
(:func:`.problem.conclude`).  The fixed-size polynomial proofs of :mod:`pgverify.symbolic.lqr`
stay as independent cross-checks of the same identities.
"""

from __future__ import annotations

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.core import Derivation, Step, derivation
from pgverify.symbolic.dimension_free.algebra import (
    Letter,
    Lyapunov,
    Matrix,
    Scalar,
    lyapunov,
    trace,
)
from pgverify.symbolic.dimension_free.problem import (
    ACTION,
    COVERS,
    CURVATURE,
    CURVATURE_INVERSE,
    DK,
    FAZEL,
    HU,
    NOISE,
    P_NEW,
    SIGMA0,
    SIGMA0_EFF,
    SIGMA_INVERSE,
    SIGMA_NEW,
    STATE,
    X_DIR,
    Y_DIR,
    Claim,
    E,
    P,
    Premises,
    Q,
    a,
    b,
    conclude,
    context,
    cost_constant,
    effective_cost,
    k,
    k_new,
    lqr_values,
    numeric_links,
    p,
    p_new,
    premise_texts,
    q,
    r,
    s_k,
    s_new,
)
from pgverify.symbolic.dimension_free.rules import (
    Context,
    duality,
    expectation,
    gradient,
    product_of_numbers,
    replace_factor,
    scalar_differential,
)
from pgverify.symbolic.domain import LQR_DOMAIN


def derive_gradient(premises: Premises, steps: list[Step]) -> tuple[Matrix, Context]:
    """∇C(K) derived from the definitions by the rules (the steps are appended to ``steps``)."""
    ctx = context(premises)
    effective_form = effective_cost(premises, ctx)
    description = (
        "definition of Sigma0_eff, trace cyclicity: C(K) = tr(P_K Sigma0_eff) + "
        "sigma tr R/(1 - gamma) (the constant is free of K)"
        if premises.noisy
        else "definition of Sigma0_eff: C(K) = tr(P_K Sigma0_eff)"
    )
    steps.append(Step(description, effective_form))
    change = scalar_differential(effective_form, ctx)
    steps.append(
        Step(
            "Leibniz rule; Lyapunov derivative d L*_K(Y) = L*_K(dY + gamma dA_K^T P A_K + "
            "gamma A_K^T P dA_K) with dA_K = -B dK: dC = tr(dP Sigma0_eff)",
            change,
        )
    )
    moved = duality(change, "K")
    steps.append(Step("duality tr(L*_K(Z) Y) = tr(Z L_K(Y))", moved))
    folded = replace_factor(moved, Lyapunov(False, "K", (Letter(SIGMA0_EFF),)), s_k)
    steps.append(Step("definition Sigma_K = L_K(Sigma0_eff)", folded))
    derived = gradient(folded, DK)
    steps.append(
        Step("gradient: dC = tr(dK^T G) gives grad C = G (tr(X^T) = tr(X), cyclicity)", derived)
    )
    return ctx.expand(derived, ["A_K"]), ctx


def _gradient_derivation(name: str, premises: Premises, *, with_sigma0: bool = False) -> Derivation:
    """``with_sigma0``: the negative control claiming 2 E_K Σ0 (the classic slip)."""
    noisy = premises.noisy
    title = (
        "Gradient of the discounted LQR cost with exploration noise, for every n and m"
        if noisy
        else "Gradient of the LQR cost, for every n and m"
    )
    if with_sigma0:
        title = "Refutation, for every n and m: the LQR gradient with Sigma_0 in place of Sigma_K"
    result = Derivation(
        name=name,
        title=title,
        statement=(
            "grad C(K) = 2 E_K Sigma_K, E_K = (R + gamma B^T P_K B) K - gamma B^T P_K A"
            if noisy
            else "grad C(K) = 2 E_K Sigma_K, E_K = (R + B^T P_K B) K - B^T P_K A"
        ),
        source=HU + "; " + FAZEL,
        sizes={},
        premises=[
            *premise_texts(premises),
            "E_K = (R + gamma B^T P_K B) K - gamma B^T P_K A"
            if premises.discounted
            else "E_K = (R + B^T P_K B) K - B^T P_K A",
        ],
        covers=COVERS,
        domain=LQR_DOMAIN,
    )
    derived, ctx = derive_gradient(premises, result.steps)
    result.derived = numeric_links(ctx, gradient=derived)
    moment = Matrix.of(SIGMA0) if with_sigma0 else s_k
    claimed = ctx.expand(Matrix.of(E) * moment * 2, [E.name])
    shown = "Sigma_0" if with_sigma0 else "Sigma_K"
    result.steps.append(Step(f"compare with 2 E_K {shown} (E_K by its definition)", claimed))
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_gradient_matches_central_differences_of_the_"
        "50_digit_cost; fixed-size cross-check: "
        + ("gradient-discounted-noisy" if noisy else "gradient-direct, gradient-lyapunov")
    )
    direction = Matrix.of(DK).T
    if with_sigma0:  # a number to show: the linear forms dK -> tr(dK^T G) at a random dK
        claim = Claim(
            "tr(dK^T grad C) = tr(dK^T 2 E_K Sigma_0)",
            trace(direction * derived),
            trace(direction * claimed),
        )
    else:
        claim = Claim("grad C = 2 E_K Sigma_K", derived, claimed)
    return conclude(result, [claim], ctx, lqr_values(premises))


@derivation(
    "all-sizes-gradient",
    "grad C(K) = 2 E_K Sigma_K for every n, m (noiseless, undiscounted; dimension-free algebra)",
)
def all_sizes_gradient(premises: Premises | None = None) -> Derivation:
    return _gradient_derivation(
        "all-sizes-gradient", premises or Premises(discounted=False, noisy=False)
    )


@derivation(
    "all-sizes-gradient-discounted-noisy",
    "grad C(K) = 2 E_K Sigma_K for every n, m with discount gamma and exploration variance sigma",
)
def all_sizes_gradient_discounted_noisy(premises: Premises | None = None) -> Derivation:
    return _gradient_derivation("all-sizes-gradient-discounted-noisy", premises or Premises())


@derivation(
    "refute-all-sizes-gradient-with-sigma0",
    "negative control for every n, m: 2 E_K Sigma_0 is refuted at a problem of the domain",
)
def refute_all_sizes_gradient_with_sigma0(premises: Premises | None = None) -> Derivation:
    return _gradient_derivation(
        "refute-all-sizes-gradient-with-sigma0", premises or Premises(), with_sigma0=True
    )


def _score_and_fisher(premises: Premises, steps: list[Step]) -> tuple[Matrix, Scalar, Context]:
    """The score of u ~ N(−Kx, σI) and the Fisher matrix as a bilinear form, derived."""
    ctx = context(premises)
    sigma = premises.sigma
    x, u, z = Matrix.of(STATE), Matrix.of(ACTION), Matrix.of(NOISE)
    gap = u + k * x
    log_density = trace(gap.T * gap).scale(-1 / (2 * sigma))
    steps.append(
        Step(
            "log pi(u|x) = -|u + Kx|^2/(2 sigma) + a constant free of K (the Gaussian density)",
            log_density,
        )
    )
    score = gradient(scalar_differential(log_density, ctx), DK)
    steps.append(Step("score: d log pi = tr(dK^T g) gives g = grad_K log pi (Leibniz)", score))
    sampled = score.substitute({"u": k * x * -1 + z * sympy.sqrt(sigma)})
    steps.append(Step("at u = -Kx + sqrt(sigma) z, z ~ N(0, I_m) independent of x", sampled))
    x_dir, y_dir = Matrix.of(X_DIR), Matrix.of(Y_DIR)
    outer = product_of_numbers(trace(x_dir.T * sampled), trace(y_dir.T * sampled), NOISE)
    steps.append(
        Step(
            "Fisher as a bilinear form: <vec X, F vec Y> = E[tr(X^T g) tr(Y^T g)] "
            "(1 x 1 traces multiplied)",
            outer,
        )
    )
    over_noise = expectation(outer, NOISE, Matrix.identity("m"), zero_mean=True)
    steps.append(Step("E_z: E[z z^T] = I_m", over_noise))
    form = expectation(over_noise, STATE, s_k, zero_mean=False)
    steps.append(
        Step("E_x: E[x x^T] = Sigma_K (the discounted state second moment the Fisher uses)", form)
    )
    return score, form, ctx


def _natural_gradient_derivation(premises: Premises) -> Derivation:
    if not premises.noisy:
        raise InvalidProblemError(
            "the Fisher matrix of the Gaussian policy needs a variance sigma > 0; expected "
            "Premises with noisy=True"
        )
    result = Derivation(
        name="all-sizes-natural-gradient",
        title="Fisher matrix of the linear Gaussian policy and the natural gradient, for every "
        "n and m",
        statement=(
            "score = -(u + Kx) x^T/sigma; F = sigma^-1 (Sigma_K (x) I_m), i.e. <vec X, F vec Y> = "
            "tr(X^T Y Sigma_K)/sigma; F^-1 vec(grad C) = sigma vec(2 E_K); grad C Sigma_K^-1 = 2 E_K"
        ),
        source="Kakade (2001); " + FAZEL,
        sizes={},
        premises=[
            *premise_texts(premises),
            "E_K = (R + gamma B^T P_K B) K - gamma B^T P_K A",
            "policy u ~ N(-Kx, sigma I), sigma > 0: log pi = -|u + Kx|^2/(2 sigma) + const",
            "Fisher F = E[vec(score) vec(score)^T], x with E[x x^T] = Sigma_K, "
            "u ~ pi(.|x); Sigma_K > 0 so F > 0 is invertible",
            "grad C: derived as in all-sizes-gradient-discounted-noisy (re-derived here)",
        ],
        covers=COVERS,
        domain=LQR_DOMAIN,
    )
    score, form, ctx = _score_and_fisher(premises, result.steps)
    sigma = premises.sigma
    x = Matrix.of(STATE)
    claimed_score = (Matrix.of(ACTION) + k * x) * x.T * (-1 / sigma)
    claimed_form = trace(Matrix.of(X_DIR).T * Matrix.of(Y_DIR) * s_k).scale(1 / sigma)
    gradient_steps: list[Step] = []
    derived_gradient, _ = derive_gradient(premises, gradient_steps)
    result.steps.append(
        Step("grad C derived from the definitions (all-sizes-gradient's steps)", derived_gradient)
    )
    natural = ctx.expand(Matrix.of(E), [E.name]).scale(2 * sigma)
    applied = form.substitute({"Y": natural})
    result.steps.append(
        Step(
            "F (2 sigma E_K) as the form X -> <vec X, F vec(2 sigma E_K)>; it must equal "
            "tr(X^T grad C) for every X: then F^-1 grad C = 2 sigma E_K (F invertible)",
            applied,
        )
    )
    preconditioned = derived_gradient * Matrix.of(SIGMA_INVERSE)
    result.derived = numeric_links(ctx, natural_gradient=preconditioned)
    result.steps.append(Step("grad C Sigma_K^-1 (Sigma_K Sigma_K^-1 = I)", preconditioned))
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_natural_gradient_is_gradient_times_inverse_"
        "covariance; fixed-size cross-checks: fisher-linear, natural-gradient-fisher, "
        "natural-gradient"
    )
    claims = [
        Claim("score = -(u + Kx) x^T / sigma", score, claimed_score),
        Claim("<X, F Y> = tr(X^T Y Sigma_K)/sigma", form, claimed_form),
        Claim(
            "F (2 sigma E_K) = grad C",
            applied,
            trace(Matrix.of(X_DIR).T * derived_gradient),
        ),
        Claim("grad C Sigma_K^-1 = 2 E_K", preconditioned, natural.scale(1 / sigma)),
    ]
    return conclude(result, claims, ctx, lqr_values(premises))


@derivation(
    "all-sizes-natural-gradient",
    "Fisher matrix of the linear Gaussian policy derived from its score; F^-1 grad C = "
    "2 sigma E_K and grad C Sigma_K^-1 = 2 E_K, for every n, m",
)
def all_sizes_natural_gradient(premises: Premises | None = None) -> Derivation:
    return _natural_gradient_derivation(premises or Premises())


def _gauss_newton_derivation(premises: Premises) -> Derivation:
    result = Derivation(
        name="all-sizes-gauss-newton",
        title="Gauss-Newton with step 1/2 is policy iteration, for every n and m",
        statement=(
            "K - (1/2) W_K^-1 grad C Sigma_K^-1 = gamma W_K^-1 B^T P_K A, W_K = R + gamma B^T P_K B"
        ),
        source="Hu, lecture notes on policy-based RL (Gauss-Newton); Hewer (1971); " + FAZEL,
        sizes={},
        premises=[
            *premise_texts(premises),
            "W_K = R + gamma B^T P_K B (positive definite: R > 0, P_K > 0), so W_K^-1 exists",
            "Sigma_K > 0, so Sigma_K^-1 exists",
            "Gauss-Newton step K - alpha W_K^-1 grad C Sigma_K^-1 (alpha = 1/2); policy "
            "iteration K' = gamma W_K^-1 B^T P_K A",
            "grad C: derived as in all-sizes-gradient-discounted-noisy (re-derived here)",
        ],
        covers=COVERS,
        domain=LQR_DOMAIN,
    )
    derived_gradient, ctx = derive_gradient(premises, [])
    result.steps.append(Step("grad C derived from the definitions", derived_gradient))
    gamma = premises.gamma
    curvature, inverse = Matrix.of(CURVATURE), Matrix.of(CURVATURE_INVERSE)
    gauss_newton = k - inverse * derived_gradient * Matrix.of(SIGMA_INVERSE) * sympy.Rational(1, 2)
    iteration = inverse * b.T * p * a * gamma
    result.steps.append(Step("K_GN = K - (1/2) W^-1 grad C Sigma^-1", gauss_newton))
    result.derived = numeric_links(ctx, gauss_newton_half=gauss_newton)
    residual_form = curvature * k - ctx.expand(Matrix.of(E), [E.name])
    left, right = curvature * gauss_newton, curvature * iteration
    result.steps.append(
        Step(
            "multiply both gains by W_K (injective: W_K invertible); W W^-1 = I, "
            "Sigma Sigma^-1 = I",
            left - right,
        )
    )
    result.steps.append(
        Step(
            "the table's form: W_K K_GN = W_K K - E_K (E_K by its definition)", left - residual_form
        )
    )
    left, right, residual_form = (
        ctx.expand(side, [CURVATURE.name]) for side in (left, right, residual_form)
    )
    result.steps.append(Step("definition W_K = R + gamma B^T P_K B", left - right))
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_gauss_newton_with_half_step_is_policy_"
        "iteration; fixed-size cross-check: natural-gradient"
    )
    claims = [
        Claim("W K_GN = W K - E_K", left, residual_form),
        Claim("W K_GN = W K_PI", left, right),
    ]
    return conclude(result, claims, ctx, lqr_values(premises))


@derivation(
    "all-sizes-gauss-newton",
    "Gauss-Newton with alpha = 1/2 equals policy iteration gamma W_K^-1 B^T P_K A, for every n, m",
)
def all_sizes_gauss_newton(premises: Premises | None = None) -> Derivation:
    return _gauss_newton_derivation(premises or Premises())


def _cost_difference_derivation(premises: Premises) -> Derivation:
    result = Derivation(
        name="all-sizes-cost-difference",
        title="Cost difference lemma, for every n and m",
        statement=(
            "C(K') - C(K) = 2 tr(Sigma_K' D^T E_K) + tr(Sigma_K' D^T W_K D), D = K' - K, "
            "W_K = R + gamma B^T P_K B, Sigma_K' = L_K'(Sigma0_eff)"
        ),
        source=FAZEL,
        sizes={},
        premises=[
            *premise_texts(premises),
            "the same definitions for the gain K': A_K' = A - BK', P_K' = L*_K'(Q + K'^T R K'), "
            "Sigma_K' = L_K'(Sigma0_eff); both gains stabilising",
            "E_K = (R + gamma B^T P_K B) K - gamma B^T P_K A, W_K = R + gamma B^T P_K B",
        ],
        covers=COVERS,
        domain=LQR_DOMAIN,
    )
    ctx = context(premises)
    new_cost = effective_cost(premises, ctx, p_new) - cost_constant(premises)
    old_cost = effective_cost(premises, ctx, p) - cost_constant(premises)
    result.steps.append(
        Step(
            "C = tr(P Sigma0_eff) + sigma tr R/(1 - gamma) for both gains (definition of "
            "Sigma0_eff, cyclicity): C(K') - C(K) = tr(P_K' Sigma0_eff) - tr(P_K Sigma0_eff)",
            new_cost - old_cost,
        )
    )
    definition = ctx.lyapunov_definitions[P_NEW.name]
    new_cost = new_cost.substitute(
        {P_NEW.name: lyapunov(definition.adjoint, definition.gain, definition.argument)}
    )
    new_cost = duality(new_cost, "K'")
    new_cost = replace_factor(new_cost, Lyapunov(False, "K'", (Letter(SIGMA0_EFF),)), s_new)
    result.steps.append(
        Step(
            "P_K' = L*_K'(Q + K'^T R K'); duality; Sigma_K' = L_K'(Sigma0_eff)",
            new_cost,
        )
    )
    old_cost = old_cost.substitute({"Sigma0_eff": ctx.fixed_point(SIGMA_NEW.name)})
    result.steps.append(
        Step("fixed point of Sigma_K': Sigma0_eff = Sigma' - gamma A_K' Sigma' A_K'^T", old_cost)
    )
    difference = (new_cost - old_cost).substitute({"Q": ctx.solve_fixed_point_for(P.name, Q)})
    result.steps.append(Step("fixed point of P_K: Q = P - gamma A_K^T P A_K - K^T R K", difference))
    difference = ctx.expand(difference, ["A_K", "A_K'"])
    result.derived = numeric_links(ctx, cost_difference=difference)
    step = k_new - k
    claimed = trace(s_new * step.T * Matrix.of(E)).scale(2) + trace(
        s_new * step.T * Matrix.of(CURVATURE) * step
    )
    claimed = ctx.expand(claimed, [E.name, CURVATURE.name])
    result.steps.append(Step("A_K, A_K', E_K, W_K by their definitions", difference - claimed))
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_cost_difference_lemma_holds_within_the_"
        "certified_radius; fixed-size cross-checks: cost-difference, relative-performance-lqr"
    )
    return conclude(
        result, [Claim("cost difference lemma", difference, claimed)], ctx, lqr_values(premises)
    )


@derivation(
    "all-sizes-cost-difference",
    "cost difference lemma C(K') - C(K) = tr(Sigma_K' [2 D^T E_K + D^T W_K D]), for every n, m",
)
def all_sizes_cost_difference(premises: Premises | None = None) -> Derivation:
    return _cost_difference_derivation(premises or Premises())


def _cost_forms_derivation(premises: Premises) -> Derivation:
    result = Derivation(
        name="all-sizes-cost-forms",
        title="The LQR cost through P_K and through Sigma_K, for every n and m",
        statement=(
            "C(K) = tr(P_K Sigma0) + sigma (tr R + gamma tr(B^T P_K B))/(1 - gamma) = "
            "tr((Q + K^T R K) Sigma_K) + sigma tr R/(1 - gamma)"
        ),
        source=FAZEL,
        sizes={},
        premises=premise_texts(premises),
        covers=COVERS,
        domain=LQR_DOMAIN,
    )
    ctx = context(premises)
    form = effective_cost(premises, ctx)
    result.steps.append(
        Step(
            "definition of Sigma0_eff, cyclicity: C = tr(P_K Sigma0_eff) + sigma tr R/(1 - gamma)",
            form,
        )
    )
    definition = ctx.lyapunov_definitions[P.name]
    form = form.substitute({P.name: lyapunov(True, "K", definition.argument)})
    result.steps.append(Step("value recursion P_K = L*_K(Q + K^T R K)", form))
    form = duality(form, "K")
    result.steps.append(Step("duality tr(L*_K(Z) Y) = tr(Z L_K(Y))", form))
    form = replace_factor(form, Lyapunov(False, "K", (Letter(SIGMA0_EFF),)), s_k)
    result.steps.append(Step("definition Sigma_K = L_K(Sigma0_eff)", form))
    claimed = trace((q + k.T * r * k) * s_k) + cost_constant(premises)
    result.derived = numeric_links(ctx, cost=form)
    result.numeric_test = (
        "properties/test_lqr_identities.py::test_three_tiers_agree_on_the_cost (the oracle's "
        "cost through P_K; `--check` compares this form through Sigma_K with it); fixed-size "
        "cross-check: the duality step of gradient-lyapunov"
    )
    return conclude(
        result, [Claim("C = tr(Q_K Sigma_K) + constant", form, claimed)], ctx, lqr_values(premises)
    )


@derivation(
    "all-sizes-cost-forms",
    "C(K) = tr(P_K Sigma0) (+ noise terms) = tr((Q + K^T R K) Sigma_K) (+ sigma tr R/(1 - gamma)), "
    "for every n, m",
)
def all_sizes_cost_forms(premises: Premises | None = None) -> Derivation:
    return _cost_forms_derivation(premises or Premises())
