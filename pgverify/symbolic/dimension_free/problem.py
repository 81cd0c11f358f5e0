"""The LQR problem of the proofs for every n and m (tier exact): its symbols (sizes are the
letters n, m), the project's definitions as :class:`Premises` and a :class:`.rules.Context`
(docs/mathematics.md §LQR, §Discount and exploration noise), the cost, and how a proof
concludes: equal canonical forms prove a claim for all sizes; otherwise the claim is evaluated
exactly at random problems of the domain (:func:`pgverify.symbolic.domain.sample_lqr`,
n = m = 2) and a non-zero residual refutes it there, while a zero residual everywhere raises
:class:`pgverify.CertificationError` (neither proved nor refuted).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.symbolic.core import Derivation
from pgverify.symbolic.dimension_free.algebra import (
    Lyapunov,
    Matrix,
    MatrixSymbol,
    Scalar,
    trace,
)
from pgverify.symbolic.dimension_free.evaluate import Evaluator
from pgverify.symbolic.dimension_free.rules import (
    Context,
    LyapunovDefinition,
)
from pgverify.symbolic.domain import random_matrix, sample_lqr

FAZEL = "Fazel, Ge, Kakade & Mesbahi (ICML 2018), Lemmas 1 and 6"
HU = "B. Hu, lecture notes on policy-based RL, Lecture 13, eqs. 13.3-13.5"
COVERS = (
    "all n, m: every n, m >= 1 (dimension-free: matrix words, traces and Lyapunov operators, "
    "rules proved at n, m in {1, 2, 3})"
)

GAMMA = sympy.Symbol("gamma", positive=True)
SIGMA = sympy.Symbol("sigma", positive=True)


# the problem's symbols: sizes are letters, so every statement holds for all n, m
A = MatrixSymbol("A", "n", "n")
B = MatrixSymbol("B", "n", "m")
K = MatrixSymbol("K", "m", "n")
K_NEW = MatrixSymbol("K'", "m", "n")
R = MatrixSymbol("R", "m", "m", symmetric=True)
Q = MatrixSymbol("Q", "n", "n", symmetric=True)
SIGMA0 = MatrixSymbol("Sigma0", "n", "n", symmetric=True, latex=r"\Sigma_0")
SIGMA0_EFF = MatrixSymbol("Sigma0_eff", "n", "n", symmetric=True, latex=r"\Sigma_0^{\mathrm{eff}}")
CLOSED = MatrixSymbol("A_K", "n", "n", latex="A_K")
CLOSED_NEW = MatrixSymbol("A_K'", "n", "n", latex="A_{K'}")
P = MatrixSymbol("P_K", "n", "n", symmetric=True, latex="P_K")
P_NEW = MatrixSymbol("P_K'", "n", "n", symmetric=True, latex="P_{K'}")
SIGMA_K = MatrixSymbol("Sigma_K", "n", "n", symmetric=True, latex=r"\Sigma_K")
SIGMA_NEW = MatrixSymbol("Sigma_K'", "n", "n", symmetric=True, latex=r"\Sigma_{K'}")
CURVATURE = MatrixSymbol("W_K", "m", "m", symmetric=True, latex="W_K")
CURVATURE_INVERSE = MatrixSymbol(
    "W_K^-1", "m", "m", symmetric=True, inverse_of="W_K", latex="W_K^{-1}"
)
SIGMA_INVERSE = MatrixSymbol(
    "Sigma_K^-1", "n", "n", symmetric=True, inverse_of="Sigma_K", latex=r"\Sigma_K^{-1}"
)
E = MatrixSymbol("E_K", "m", "n", latex="E_K")
DK = MatrixSymbol("dK", "m", "n", latex=r"\mathrm{d}K")
X_DIR = MatrixSymbol("X", "m", "n")
Y_DIR = MatrixSymbol("Y", "m", "n")
STATE = MatrixSymbol("x", "n", "1")
ACTION = MatrixSymbol("u", "m", "1")
NOISE = MatrixSymbol("z", "m", "1")

a, b, k, k_new, r, q = (Matrix.of(s) for s in (A, B, K, K_NEW, R, Q))
p, p_new, s_k, s_new = (Matrix.of(s) for s in (P, P_NEW, SIGMA_K, SIGMA_NEW))


@dataclass
class Premises:
    """The definitions a proof starts from (replace one to watch the proof fail)."""

    discounted: bool = True
    noisy: bool = True
    value_recursion_stage: Callable[[Matrix], Matrix] = lambda gain: q + gain.T * r * gain
    gradient_residual: Callable[[Any], Matrix] | None = None  # E_K's definition (gamma given)
    curvature: Callable[[Any], Matrix] | None = None  # W_K = R + gamma B^T P B

    def __post_init__(self) -> None:
        if self.noisy and not self.discounted:
            raise InvalidProblemError(
                "Premises(noisy=True, discounted=False): exploration noise with gamma = 1 has "
                "infinite cost; expected discounted=True with noisy=True"
            )

    @property
    def gamma(self) -> Any:
        return GAMMA if self.discounted else sympy.Integer(1)

    @property
    def sigma(self) -> Any:
        return SIGMA if self.noisy else sympy.Integer(0)


def residual_definition(gamma: Any) -> Matrix:
    """E_K = (R + γBᵀP_KB)K − γBᵀP_KA (docs/mathematics.md §Discount and exploration noise)."""
    return (r + b.T * p * b * gamma) * k - b.T * p * a * gamma


def curvature_definition(gamma: Any) -> Matrix:
    """W_K = R + γBᵀP_KB."""
    return r + b.T * p * b * gamma


def context(premises: Premises) -> Context:
    """The definitions as a context: A_K, A_K', Σ0_eff, E_K, W_K (polynomial); P_K, Σ_K, P_K',
    Σ_K' (Lyapunov solutions); the variable K with direction dK."""
    gamma, sigma = premises.gamma, premises.sigma
    effective = Matrix.of(SIGMA0)
    if premises.noisy:
        effective = effective + (b * b.T).scale(gamma * sigma / (1 - gamma))
    stage = premises.value_recursion_stage
    residual = premises.gradient_residual or residual_definition
    curvature = premises.curvature or curvature_definition
    return Context(
        gamma=gamma,
        closed_loops={"K": CLOSED, "K'": CLOSED_NEW},
        definitions={
            "A_K": a - b * k,
            "A_K'": a - b * k_new,
            "Sigma0_eff": effective,
            E.name: residual(gamma),
            CURVATURE.name: curvature(gamma),
        },
        lyapunov_definitions={
            P.name: LyapunovDefinition(P, True, "K", stage(k)),
            SIGMA_K.name: LyapunovDefinition(SIGMA_K, False, "K", Matrix.of(SIGMA0_EFF)),
            P_NEW.name: LyapunovDefinition(P_NEW, True, "K'", stage(k_new)),
            SIGMA_NEW.name: LyapunovDefinition(SIGMA_NEW, False, "K'", Matrix.of(SIGMA0_EFF)),
        },
        variables={"K": Matrix.of(DK)},
    )


def premise_texts(premises: Premises) -> list[str]:
    if premises.discounted and premises.noisy:
        cost = (
            "cost C(K) = tr(P_K Sigma0) + sigma (tr R + gamma tr(B^T P_K B))/(1 - gamma) "
            "(discount 0 < gamma < 1, exploration u = -Kx + w, w ~ N(0, sigma I))"
        )
        moment = "Sigma0_eff = Sigma0 + gamma sigma B B^T/(1 - gamma)"
    else:
        cost = "cost C(K) = tr(P_K Sigma0) (gamma = 1, no exploration noise)"
        moment = "Sigma0_eff = Sigma0"
    return [
        "A_K = A - BK; L_K(Y) is the Sigma with Sigma = Y + gamma A_K Sigma A_K^T, L*_K(Y) the "
        "P with P = Y + gamma A_K^T P A_K (unique: sqrt(gamma) A_K stable)",
        "value recursion P_K = L*_K(Q + K^T R K)",
        cost,
        moment + "; state moment Sigma_K = L_K(Sigma0_eff)",
    ]


@dataclass
class Claim:
    """``derived`` (from the definitions by the rules) must equal ``claimed``."""

    label: str
    derived: Matrix | Scalar
    claimed: Matrix | Scalar


Sampler = Callable[[random.Random], tuple[dict[str, int], dict[str, Any], dict[Any, Any]]]


def lqr_values(premises: Premises, n: int = 2, m: int = 2) -> Sampler:
    """Draws one problem of the domain (stabilising K and K', R, Q, Σ0 ≻ 0, 0 < γ < 1, σ > 0
    where they occur) and random directions dK, X, Y and vectors x, u, z."""

    def sample(rng: random.Random) -> tuple[dict[str, int], dict[str, Any], dict[Any, Any]]:
        point = sample_lqr(rng, n, m, discounted=premises.discounted, noisy=premises.noisy)
        values = {
            "A": point.A,
            "B": point.B,
            "K": point.K,
            "K'": point.K2,
            "R": point.R,
            "Q": point.Q,
            "Sigma0": point.Sigma0,
            "dK": random_matrix(rng, m, n),
            "X": random_matrix(rng, m, n),
            "Y": random_matrix(rng, m, n),
            "x": random_matrix(rng, n, 1),
            "u": random_matrix(rng, m, 1),
            "z": random_matrix(rng, m, 1),
        }
        scalars = {GAMMA: point.gamma} if premises.discounted else {}
        if premises.noisy:
            scalars[SIGMA] = point.sigma
        return {"n": n, "m": m}, values, scalars

    return sample


def conclude(
    result: Derivation,
    claims: list[Claim],
    ctx: Context,
    sampler: Sampler,
    *,
    trials: int = 3,
    seed: int = 0,
) -> Derivation:
    """Proved when every claim's canonical forms agree; otherwise the first differing claim is
    evaluated at random problems of the domain: a non-zero value refutes it there."""
    result.residuals = []
    for number, claim in enumerate(claims):
        residual = claim.derived - claim.claimed
        result.residuals.append(residual)
        if residual.is_zero:
            continue
        rng = random.Random(seed)
        for _ in range(trials):
            sizes, values, scalars = sampler(rng)
            evaluator = Evaluator(ctx, sizes, values, scalars)
            value = (
                evaluator.matrix(residual)
                if isinstance(residual, Matrix)
                else evaluator.scalar(residual)
            )
            if _nonzero(value):
                result.verdict = "refuted"
                result.refuted_residual = number
                shown = {**scalars, **{sympy.Symbol(k): v for k, v in values.items()}}
                result.counterexample = {
                    key: shown[key]
                    for key in sorted(shown, key=str)
                    if key in scalars or str(key) in _occurring(claim, ctx)
                }
                result.counterexample_value = value
                return result
        raise CertificationError(
            f"{result.name}: the claim {claim.label!r} is neither proved (canonical forms "
            f"differ by {residual}) nor refuted at {trials} random problems"
        )
    result.verdict = "proved"
    return result


def _nonzero(value: Any) -> bool:
    if isinstance(value, sympy.MatrixBase):
        return any(entry != 0 for entry in value)
    return value != 0


def _occurring(claim: Claim, ctx: Context) -> set[str]:
    """The data symbols a claim depends on (through the definitions too)."""
    data = {"A", "B", "K", "K'", "R", "Q", "Sigma0", "dK", "X", "Y", "x", "u", "z"}
    seen: set[str] = set()
    stack = [claim.derived, claim.claimed]
    while stack:
        expression = stack.pop()
        for word in expression.terms:
            for factor in _factors(word):
                name = factor.symbol.name
                if name in seen:
                    continue
                seen.add(name)
                if name in ctx.definitions:
                    stack.append(ctx.definitions[name])
                if name in ctx.lyapunov_definitions:
                    stack.append(ctx.lyapunov_definitions[name].argument)
                if factor.symbol.inverse_of:
                    seen.add(factor.symbol.inverse_of)
    closed = {"A", "B", "K"} if {"A_K", P.name, SIGMA_K.name} & seen else set()
    closed |= {"A", "B", "K'"} if {"A_K'", P_NEW.name, SIGMA_NEW.name} & seen else set()
    return (seen | closed) & data


def _factors(word: tuple) -> list[Any]:
    found = []
    for factor in word:
        if isinstance(factor, Lyapunov):
            found += _factors(factor.argument)
        elif hasattr(factor, "symbol"):
            found.append(factor)
    return found


ORACLE_FIELDS = {"A": "A", "B": "B", "K": "K", "K2": "K'", "R": "R", "Q": "Q", "Sigma0": "Sigma0"}
"""The :class:`pgverify.symbolic.domain.LQRPoint` field each data symbol is read from."""


def numeric_links(ctx: Context, **expressions: Matrix | Scalar) -> dict[str, Any]:
    """``Derivation.derived`` for ``pgverify derive NAME --check``: each derived expression as a
    function of the problem's exact values (evaluated with :class:`.Evaluator`), and the
    symbols standing for the problem's fields."""

    def evaluation(expression: Matrix | Scalar) -> Callable[[dict[Any, Any]], Any]:
        def at(values: dict[Any, Any]) -> Any:
            data = {name: values[sympy.Symbol(field)] for field, name in ORACLE_FIELDS.items()}
            scalars = {symbol: values[symbol] for symbol in (GAMMA, SIGMA) if symbol in values}
            sizes = {"n": data["A"].rows, "m": data["B"].cols}
            evaluator = Evaluator(ctx, sizes, data, scalars)
            if isinstance(expression, Matrix):
                return evaluator.matrix(expression)
            return evaluator.scalar(expression)

        return at

    derived: dict[str, Any] = {name: evaluation(value) for name, value in expressions.items()}
    derived["symbols"] = {field: sympy.Symbol(field) for field in ORACLE_FIELDS} | {
        "gamma": GAMMA,
        "sigma": SIGMA,
    }
    return derived


def cost(premises: Premises, value: Matrix = p) -> Scalar:
    """C(K) in the project's convention (docs/mathematics.md §Discount and exploration noise),
    for the gain whose value matrix is ``value`` (P_K or P_K')."""
    total = trace(value * Matrix.of(SIGMA0))
    if premises.noisy:
        gamma, sigma = premises.gamma, premises.sigma
        noise = trace(r) + trace(b.T * value * b).scale(gamma)
        total = total + noise.scale(sigma / (1 - gamma))
    return total


def cost_constant(premises: Premises) -> Scalar:
    """The part of C free of the gain: σ tr R/(1 − γ) (0 without noise)."""
    if not premises.noisy:
        return Scalar()
    return trace(r).scale(premises.sigma / (1 - premises.gamma))


def effective_cost(premises: Premises, ctx: Context, value: Matrix = p) -> Scalar:
    """C = tr(P Σ0_eff) + σ tr R/(1 − γ): the cost with its noise terms gathered into the
    effective second moment, checked against :func:`cost` by the definition of Σ0_eff and trace
    cyclicity (raises :class:`CertificationError` if the two differ)."""
    form = trace(value * Matrix.of(SIGMA0_EFF)) + cost_constant(premises)
    if not cost(premises, value).equals(ctx.expand(form, ["Sigma0_eff"])):
        raise CertificationError(
            f"the cost {cost(premises, value)} is not tr(P Sigma0_eff) + sigma tr R/(1 - gamma) "
            "for the Sigma0_eff defined"
        )
    return form
