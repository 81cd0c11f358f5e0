"""Checks of TRPO's machinery (docs/checks.md; Schulman et al. 2015, arXiv:1502.05477; the
references are :mod:`pgverify.trpo`, docs/trpo.md).

Canonical signatures (numpy float64 arrays in; vectors 1-D; ``sigma`` a *variance*; costs are
minimised and the update is ``θ − step``):

* ``check_conjugate_gradient(fn)``: ``fn(matvec, b, iterations) -> x_k``, the CG iterate after
  exactly ``iterations`` steps from x₀ = 0 — exact reference;
* ``check_fisher_vector_product(fn)``: ``fn(K, sigma, states, v) -> F v`` for
  ``π(·|x) = N(−Kx, σI)``, θ = vec(K) column-major; ``v`` and the result shaped like K (m, n),
  i.e. ``σ⁻¹ V S`` with ``S = mean_i x_i x_iᵀ`` — exact;
* ``check_gaussian_kl(fn)``: ``fn(mean_p, cov_p, mean_q, cov_q) -> KL(p‖q)`` — exact when
  det cov_p = det cov_q, else high-precision;
* ``check_trpo_step(fn)``: ``fn(gradient, fisher_vector_product, max_kl) -> s = β F⁻¹g``,
  ``β = √(2δ / gᵀF⁻¹g)`` — certified;
* ``check_backtracking_line_search(fn)``: ``fn(surrogate, kl, step, max_kl, backtrack_ratio,
  max_backtracks) -> r^j step or None`` as :func:`pgverify.trpo.backtracking_line_search` —
  exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import mpmath
import numpy as np
from flint import arb, fmpq
from hypothesis import strategies as st

from pgverify.checks._callables import (
    CallableArgumentsSpec,
    MatrixOperator,
    Quadratic,
    columns_of,
)
from pgverify.checks._compare import Comparison, Reference, as_actual, compare
from pgverify.checks._driver import document_options, run_check
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.errors import InvalidProblemError
from pgverify.trpo import conjugate_gradient, gaussian_kl

__all__ = [
    "MatrixOperator",
    "Quadratic",
    "check_backtracking_line_search",
    "check_conjugate_gradient",
    "check_fisher_vector_product",
    "check_gaussian_kl",
    "check_trpo_step",
]

KL_DIGITS = 40
SIZES = st.integers(1, 4)


@dataclass
class Context:
    """One case: the arguments (float64) and what the oracle derived from them."""

    arguments: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["arguments"][name]
        except KeyError:
            try:
                return self.__dict__["extra"][name]
            except KeyError as exc:
                raise AttributeError(name) from exc


def _eighths(shape: tuple[int, ...], low: int = -12, high: int = 12) -> st.SearchStrategy:
    size = int(np.prod(shape))
    return st.lists(st.integers(low, high), min_size=size, max_size=size).map(
        lambda values: np.array(values, dtype=float).reshape(shape) / 8.0
    )


def _spd(size: int) -> st.SearchStrategy[np.ndarray]:
    """MᵀM + I/4 with M in eighths: symmetric positive definite, exactly representable."""
    return _eighths((size, size)).map(lambda M: M.T @ M + np.eye(size) / 4)


def _exact(array: Any) -> np.ndarray:
    array = np.asarray(array, dtype=float)
    return np.array([Fraction(float(v)) for v in array.reshape(-1)], dtype=object).reshape(
        array.shape
    )


def _vector(value: Any, name: str, size: int | None = None) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 1 or (size is not None and array.shape != (size,)) or array.size == 0:
        wanted = f"({size},)" if size is not None else "a nonempty 1-D vector"
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected {wanted}")
    return array


def _spd_matrix(value: Any, name: str, size: int) -> np.ndarray:
    matrix = np.asarray(value, dtype=float)
    if matrix.shape != (size, size):
        raise InvalidProblemError(f"{name} has shape {matrix.shape}; expected ({size}, {size})")
    if not np.array_equal(matrix, matrix.T):
        raise InvalidProblemError(f"{name} is not symmetric")
    if not np.min(np.linalg.eigvalsh(matrix)) > 0:
        raise InvalidProblemError(f"{name} is not positive definite")
    return matrix


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"{name} must be a real number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise InvalidProblemError(f"{name} must be finite and > 0, got {value!r}")
    return float(value)


def _count(value: Any, name: str, low: int = 0) -> int:
    number = float(value)
    if not (number.is_integer() and number >= low):
        raise InvalidProblemError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(number)


# --------------------------------------------------------------------------------------------
# Conjugate gradient
# --------------------------------------------------------------------------------------------


def _cg_float(
    A: np.ndarray, b: np.ndarray, steps: int, *, beta_rule: str = "fr", update_residual: bool = True
) -> np.ndarray:
    """Float64 CG with one optional slip (for the diagnosis)."""
    x = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = r @ r
    for _ in range(steps):
        Ap = A @ p
        alpha = rr / (p @ Ap)
        x = x + alpha * p
        if update_residual:
            r = r - alpha * Ap
        rr_new = r @ r
        beta = {"fr": rr_new / rr, "minus": -rr_new / rr, "inverted": rr / rr_new}[beta_rule]
        p = r + beta * p
        rr = rr_new
    return x


def _steepest_descent(A: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    x = np.zeros_like(b)
    for _ in range(steps):
        r = b - A @ x
        x = x + (r @ r) / (r @ (A @ r)) * r
    return x


CG_SLIPS = (
    Slip(
        "steepest descent (x += (rᵀr / rᵀAr) r): the directions are not A-conjugated",
        lambda c: _steepest_descent(c.A, c.b, c.iterations),
    ),
    Slip(
        "CG with β = −r_{k+1}ᵀr_{k+1} / r_kᵀr_k (the sign of Fletcher–Reeves' β flipped)",
        lambda c: _cg_float(c.A, c.b, c.iterations, beta_rule="minus"),
    ),
    Slip(
        "CG with β = r_kᵀr_k / r_{k+1}ᵀr_{k+1} (Fletcher–Reeves' β upside down)",
        lambda c: _cg_float(c.A, c.b, c.iterations, beta_rule="inverted"),
    ),
    Slip(
        "the CG iterate after iterations − 1 steps (one step short)",
        lambda c: _cg_float(c.A, c.b, c.iterations - 1),
        lambda c: c.iterations >= 1,
    ),
    Slip(
        "the CG iterate after iterations + 1 steps (one step too many)",
        lambda c: _cg_float(c.A, c.b, c.iterations + 1),
    ),
    Slip(
        "CG with the residual never updated (r stays b)",
        lambda c: _cg_float(c.A, c.b, c.iterations, update_residual=False),
    ),
)


def _householder_spd(eigenvalues: list[float], direction: np.ndarray) -> np.ndarray:
    """H diag(λ) H with the rational reflection H = I − 2vvᵀ/vᵀv: eigenvalues (and so the
    condition number) known, entries exact dyadic-free rationals rounded once to float64."""
    size = len(eigenvalues)
    v = _exact(direction)
    norm = sum(e * e for e in v)
    H = np.array(
        [
            [Fraction(int(i == j)) - 2 * v[i] * v[j] / norm for j in range(size)]
            for i in range(size)
        ],
        dtype=object,
    )
    D = np.diag(_exact(eigenvalues))
    exact = H.dot(D).dot(H)
    matrix = np.array([[float(e) for e in row] for row in exact])
    return (matrix + matrix.T) / 2  # float rounding may differ by transposition: symmetrise


class ConjugateGradientSpec(CallableArgumentsSpec):
    name = "check_conjugate_gradient"
    quantity = "the conjugate-gradient iterate x_k (k = iterations, x₀ = 0)"
    parameters = ("matvec", "b", "iterations")
    scalar_parameters = ("iterations",)
    callable_parameters = ("matvec",)
    integer_parameters = ("iterations",)
    matrix_parameters = ("matvec",)
    slips = CG_SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(A: Any, b: list, iterations: int) -> dict[str, Any]:
            return {
                "matvec": MatrixOperator(np.array(A, float)),
                "b": np.array(b, float),
                "iterations": iterations,
            }

        A3 = [[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]]
        return [
            ("scalar, one step (the solution)", case([[4.0]], [2.0], 1)),
            ("3 x 3, one step", case(A3, [1.0, 2.0, 3.0], 1)),
            ("3 x 3, two steps", case(A3, [1.0, 2.0, 3.0], 2)),
            ("3 x 3, three steps = dim: the solution", case(A3, [1.0, 2.0, 3.0], 3)),
            (
                "4 x 4 with condition number 100, two steps",
                case(
                    _householder_spd([1.0, 4.0, 25.0, 100.0], np.array([1.0, 2.0, -1.0, 1.0])),
                    [1.0, -1.0, 2.0, 0.5],
                    2,
                ),
            ),
            ("zero steps", case(A3, [1.0, 2.0, 3.0], 0)),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            size = draw(st.integers(1, 5))
            eigenvalues = draw(
                st.lists(
                    st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 16.0, 64.0]),
                    min_size=size,
                    max_size=size,
                    unique=True,
                )
            )
            direction = draw(_eighths((size,), 1, 12))
            return {
                "matvec": MatrixOperator(_householder_spd(eigenvalues, direction)),
                "b": draw(_eighths((size,)).filter(lambda b: np.any(b != 0))),
                "iterations": draw(st.integers(1, size)),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Context:
        b = _vector(arguments["b"], "b")
        iterations = _count(arguments["iterations"], "iterations")
        if not callable(arguments["matvec"]):
            raise InvalidProblemError("matvec must be a callable p -> A p")
        A = _spd_matrix(
            columns_of(arguments["matvec"], b.size, "matvec"), "matvec's matrix", b.size
        )
        eigenvalues = np.linalg.eigvalsh(A)
        return Context(
            dict(arguments, iterations=iterations, b=b),
            {"A": A, "kappa": float(eigenvalues[-1] / eigenvalues[0])},
        )

    reference_label = "CG"

    def expected(self, c: Context) -> Expected:
        A = _exact(c.A)
        x = conjugate_gradient(lambda p: A.dot(p), _exact(c.b), c.iterations, precision="exact")
        regularised = _cg_exact(A, _exact(c.b), c.iterations, Fraction(REGULARISER))
        size, k, kappa = c.b.size, c.iterations, c.kappa
        # the float rounding allowance of pgverify.trpo (16 (k+1)(d+1) u (1+κ), a relative
        # residual), times κ for the iterate, expressed in units of SAFETY·eps (eps = 2u)
        condition = kappa * 16 * (k + 1) * (size + 1) * (1 + kappa) / (2 * 64)
        scale = float(np.linalg.norm(c.b) / np.min(np.linalg.eigvalsh(c.A)))
        return Expected(
            list(x),
            max(condition, 1.0),
            scale,
            ((f"CG with {REGULARISER:g} added to pᵀAp (Spinning Up's cg)", regularised),),
        )


REGULARISER = 1e-8
"""The ε that OpenAI Spinning Up adds to the denominators pᵀAp of CG and xᵀFx of the step:
a relative change of ε/pᵀAp, far above rounding; both checks accept it as a named form."""


def _cg_exact(A: np.ndarray, b: np.ndarray, steps: int, regulariser: Fraction) -> list[Any]:
    """CG in Fractions with ``regulariser`` added to pᵀAp (stopping at an exact zero
    residual, as the unregularised reference does)."""
    x = np.array([Fraction(0)] * len(b), dtype=object)
    r = b.copy()
    p = r.copy()
    rr = r.dot(r)
    for _ in range(steps):
        if rr == 0:
            break
        Ap = A.dot(p)
        alpha = rr / (p.dot(Ap) + regulariser)
        x = x + alpha * p
        r = r - alpha * Ap
        rr_new = r.dot(r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return list(x)


# --------------------------------------------------------------------------------------------
# Fisher-vector product of the linear Gaussian policy
# --------------------------------------------------------------------------------------------


def _second_moment(states: np.ndarray) -> np.ndarray:
    return states.T @ states / states.shape[0]


def _fvp(
    c: Context, *, power: float = 1.0, order: str = "F", kron: str = "S x I", total: bool = False
) -> np.ndarray:
    m, n = c.K.shape
    S = c.states.T @ c.states if total else _second_moment(c.states)
    F = np.kron(S, np.eye(m)) if kron == "S x I" else np.kron(np.eye(m), S)
    product = F @ c.v.reshape(-1, order=order) / c.sigma**power
    return product.reshape(m, n, order=order)


FVP_SLIPS = (
    Slip("σ V S — multiplied by σ instead of divided", lambda c: _fvp(c, power=-1.0)),
    Slip("V S / σ² — σ read as a standard deviation", lambda c: _fvp(c, power=2.0)),
    Slip("V S — the factor σ⁻¹ left out", lambda c: _fvp(c, power=0.0)),
    Slip(
        "σ⁻¹(S ⊗ I_m) applied to V flattened row-major (the check's θ = vec(K) is column-major)",
        lambda c: _fvp(c, order="C"),
    ),
    Slip(
        "σ⁻¹(I_m ⊗ S) vec(V) — the Kronecker factors swapped",
        lambda c: _fvp(c, kron="I x S"),
    ),
    Slip(
        "vec(σ⁻¹ V S) flattened row-major (a flat result is read as the column-major vec)",
        lambda c: (c.v @ _second_moment(c.states) / c.sigma).reshape(-1),
        lambda c: min(c.K.shape) > 1,
    ),
    Slip(
        "σ⁻¹ V Σ_i x_i x_iᵀ — the sum over states where the mean belongs",
        lambda c: _fvp(c, total=True),
        lambda c: c.states.shape[0] > 1,
    ),
)


class FisherVectorProductSpec(CheckSpec):
    name = "check_fisher_vector_product"
    quantity = "the Fisher-vector product σ⁻¹ V S (F = σ⁻¹(S ⊗ I_m), θ = vec(K) column-major)"
    parameters = ("K", "sigma", "states", "v")
    scalar_parameters = ("sigma",)
    axes = MappingProxyType({"K": ("m", "n"), "states": ("N", "n"), "v": ("m", "n")})
    slips = FVP_SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(K: list, sigma: float, states: list, v: list) -> dict[str, Any]:
            return {
                "K": np.array(K, float),
                "sigma": sigma,
                "states": np.array(states, float),
                "v": np.array(v, float),
            }

        return [
            ("scalar, one state", case([[0.5]], 0.25, [[2.0]], [[1.5]])),
            (
                "more inputs than states (m = 3, n = 2)",
                case(
                    [[1.0, 0.5], [0.0, 2.0], [1.5, -1.0]],
                    0.5,
                    [[1.0, 0.5], [-0.5, 2.0], [0.25, -1.0]],
                    [[1.0, -1.0], [0.5, 2.0], [-0.25, 0.75]],
                ),
            ),
            (
                "fewer inputs than states (m = 1, n = 3)",
                case(
                    [[0.5, 0.25, -1.0]],
                    2.0,
                    [[1.0, 0.0, 0.5], [0.25, 2.0, -1.0], [0.0, 0.5, 3.0], [1.0, 1.0, 1.0]],
                    [[0.5, -2.0, 1.0]],
                ),
            ),
            (
                "square K, correlated states",
                case(
                    [[1.0, 0.0], [0.5, 1.0]],
                    0.0625,
                    [[2.0, -1.0], [1.0, -0.5], [-1.5, 1.0]],
                    [[0.25, 1.0], [-1.0, 0.5]],
                ),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            n, m, count = draw(SIZES), draw(SIZES), draw(st.integers(1, 5))
            return {
                "K": draw(_eighths((m, n))),
                "sigma": draw(st.sampled_from([0.5, 0.25, 2.0, 0.0625])),
                "states": draw(_eighths((count, n))),
                "v": draw(_eighths((m, n))),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Context:
        K = np.asarray(arguments["K"], dtype=float)
        if K.ndim != 2 or K.size == 0:
            raise InvalidProblemError(f"K has shape {K.shape}; expected (m, n)")
        m, n = K.shape
        states = np.asarray(arguments["states"], dtype=float)
        if states.ndim != 2 or states.shape[1] != n or states.shape[0] == 0:
            raise InvalidProblemError(
                f"states has shape {states.shape}; expected (N, {n}), one state per row"
            )
        v = np.asarray(arguments["v"], dtype=float)
        if v.shape != (m, n):
            raise InvalidProblemError(f"v has shape {v.shape}; expected ({m}, {n}), shaped like K")
        sigma = _positive(arguments["sigma"], "sigma (a variance)")
        return Context({"K": K, "sigma": sigma, "states": states, "v": v})

    def expected(self, c: Context) -> Expected:
        states = _exact(c.states)
        S = states.T.dot(states) / len(c.states)
        product = _exact(c.v).dot(S) / Fraction(c.sigma)
        magnitude = np.max(np.abs(c.v)) * np.max(c.states**2) * c.K.shape[1] / c.sigma
        return Expected(product.tolist(), float(c.states.shape[0]), float(magnitude))

    reference_label = "shaped like K (m, n)"

    def judge(self, context: Context, expected: Expected, output: Any, dtype: Any) -> Comparison:
        flat = _flat_column_major(context, output)
        if flat is not None:
            comparison = super().judge(context, expected, flat, dtype)
            comparison.note = "flat vec(F v), column-major (length nm)"
            return comparison
        comparison = super().judge(context, expected, output, dtype)
        m, n = context.K.shape
        if comparison.problem.startswith("shape mismatch") and m * n > 1:
            try:
                size = as_actual(output).size
            except Exception:
                size = None
            if size == m * n:
                comparison.problem += (
                    f"; this check wants F v shaped like K ({m}, {n}) or as a flat vector of "
                    f"length {m * n} (column-major vec)"
                )
        return comparison

    def diagnosis_view(self, context: Context, value: Any) -> np.ndarray:
        flat = _flat_column_major(context, value)
        return as_actual(value if flat is None else flat).astype(float)


def _flat_column_major(context: Context, output: Any) -> np.ndarray | None:
    """A 1-D result of length nm read as vec (column-major) of an (m, n) matrix; else None."""
    m, n = context.K.shape
    try:
        array = as_actual(output)
    except Exception:
        return None
    if array.ndim == 1 and array.size == m * n and m * n > 1:
        return array.reshape(m, n, order="F")
    return None


# --------------------------------------------------------------------------------------------
# Gaussian KL
# --------------------------------------------------------------------------------------------


def _kl_terms(
    mean_p: np.ndarray, cov_p: np.ndarray, mean_q: np.ndarray, cov_q: np.ndarray
) -> dict[str, float]:
    inverse_q = np.linalg.inv(cov_q)
    gap = mean_q - mean_p
    return {
        "trace": float(np.trace(inverse_q @ cov_p)),
        "wrong trace": float(np.trace(np.linalg.solve(cov_p, cov_q))),
        "mahalanobis": float(gap @ inverse_q @ gap),
        "dimension": float(len(mean_p)),
        "logdet": float(np.linalg.slogdet(cov_q)[1] - np.linalg.slogdet(cov_p)[1]),
    }


def _kl_slip(c: Context, *, reverse: bool = False, **changes: float) -> float:
    arguments = (c.mean_p, c.cov_p, c.mean_q, c.cov_q)
    if reverse:
        arguments = (c.mean_q, c.cov_q, c.mean_p, c.cov_p)
    terms = _kl_terms(*arguments)
    half = changes.pop("half", 0.5)
    if changes.pop("wrong_trace", False):
        terms["trace"] = terms["wrong trace"]
    for name, weight in changes.items():
        terms[name] *= weight
    return half * (terms["trace"] + terms["mahalanobis"] - terms["dimension"] + terms["logdet"])


KL_SLIPS = (
    Slip("KL(q‖p) — the arguments of the KL reversed", lambda c: _kl_slip(c, reverse=True)),
    Slip("the KL without the log-determinant term", lambda c: _kl_slip(c, logdet=0.0)),
    Slip(
        "the KL with log det Σ_p − log det Σ_q (the log-determinant ratio inverted)",
        lambda c: _kl_slip(c, logdet=-1.0),
    ),
    Slip("the KL without the −k (dimension) term", lambda c: _kl_slip(c, dimension=0.0)),
    Slip("2 × KL — the factor ½ missing", lambda c: _kl_slip(c, half=1.0)),
    Slip(
        "the KL with tr(Σ_p⁻¹Σ_q) in place of tr(Σ_q⁻¹Σ_p)",
        lambda c: _kl_slip(c, wrong_trace=True),
    ),
    Slip(
        "the KL with tr(Σ_qΣ_p) in place of tr(Σ_q⁻¹Σ_p) (the inverse missing)",
        lambda c: _kl_slip(c, trace=0.0) + 0.5 * float(np.trace(c.cov_q @ c.cov_p)),
    ),
    Slip(
        "the KL with the Mahalanobis term in Σ_p⁻¹ in place of Σ_q⁻¹",
        lambda c: (
            _kl_slip(c, mahalanobis=0.0)
            + 0.5 * float((c.mean_q - c.mean_p) @ np.linalg.solve(c.cov_p, c.mean_q - c.mean_p))
        ),
    ),
)


class GaussianKLSpec(CheckSpec):
    name = "check_gaussian_kl"
    quantity = "KL(N(mean_p, cov_p) ‖ N(mean_q, cov_q))"
    parameters = ("mean_p", "cov_p", "mean_q", "cov_q")
    axes = MappingProxyType(
        {"mean_p": ("k",), "cov_p": ("k", "k"), "mean_q": ("k",), "cov_q": ("k", "k")}
    )
    slips = KL_SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(mean_p: list, cov_p: list, mean_q: list, cov_q: list) -> dict[str, Any]:
            return {
                "mean_p": np.array(mean_p, float),
                "cov_p": np.array(cov_p, float),
                "mean_q": np.array(mean_q, float),
                "cov_q": np.array(cov_q, float),
            }

        return [
            ("scalar, equal variances", case([0.0], [[2.0]], [1.0], [[2.0]])),
            ("scalar, different variances", case([0.5], [[0.25]], [-1.0], [[4.0]])),
            (
                "2-D, equal determinants (exact reference)",
                case([1.0, 0.0], [[2.0, 0.0], [0.0, 1.0]], [0.0, 1.0], [[1.0, 0.0], [0.0, 2.0]]),
            ),
            (
                "3-D, correlated covariances",
                case(
                    [0.5, -1.0, 2.0],
                    [[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 3.0]],
                    [0.0, 1.0, 1.5],
                    [[1.0, -0.25, 0.0], [-0.25, 0.5, 0.0], [0.0, 0.0, 4.0]],
                ),
            ),
            (
                "p = q: KL = 0",
                case([1.0, 2.0], [[1.0, 0.5], [0.5, 2.0]], [1.0, 2.0], [[1.0, 0.5], [0.5, 2.0]]),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            k = draw(st.integers(1, 3))
            return {
                "mean_p": draw(_eighths((k,))),
                "cov_p": draw(_spd(k)),
                "mean_q": draw(_eighths((k,))),
                "cov_q": draw(_spd(k)),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Context:
        mean_p = _vector(arguments["mean_p"], "mean_p")
        k = mean_p.size
        return Context(
            {
                "mean_p": mean_p,
                "cov_p": _spd_matrix(arguments["cov_p"], "cov_p", k),
                "mean_q": _vector(arguments["mean_q"], "mean_q", k),
                "cov_q": _spd_matrix(arguments["cov_q"], "cov_q", k),
            }
        )

    def expected(self, c: Context) -> Expected:
        arguments = (c.mean_p, c.cov_p, c.mean_q, c.cov_q)
        same_determinant = _exact_det(c.cov_p) == _exact_det(c.cov_q)
        with mpmath.workdps(KL_DIGITS + 10):
            value = gaussian_kl(*arguments, precision="exact" if same_determinant else KL_DIGITS)
        terms = _kl_terms(*arguments)
        scale = 0.5 * sum(abs(value) for name, value in terms.items() if name != "wrong trace")
        condition = float(np.linalg.cond(c.cov_q)) * c.mean_p.size
        return Expected(value, condition, scale)


def _exact_det(matrix: np.ndarray) -> Fraction:
    from flint import fmpq_mat

    exact = _exact(matrix)
    size = matrix.shape[0]
    determinant = fmpq_mat(
        size, size, [fmpq(e.numerator, e.denominator) for e in exact.reshape(-1)]
    ).det()
    return Fraction(int(determinant.p), int(determinant.q))


# --------------------------------------------------------------------------------------------
# The maximal TRPO step
# --------------------------------------------------------------------------------------------


def _trpo_step(
    c: Context, *, factor: float = 2.0, root: bool = True, direction: str = "natural"
) -> np.ndarray:
    F, g, delta = c.F, c.gradient, c.max_kl
    natural = np.linalg.solve(F, g)
    curvature = g @ natural
    ratio = factor * delta / curvature
    beta = math.sqrt(ratio) if root else ratio
    if direction == "gradient":
        return beta * g
    if direction == "gradient, own curvature":
        return math.sqrt(factor * delta / (g @ F @ g)) * g
    if direction == "F g":
        return beta * (F @ g)
    return beta * natural


STEP_SLIPS = (
    Slip(
        "√(δ / gᵀF⁻¹g) F⁻¹g — the factor 2 under the root missing",
        lambda c: _trpo_step(c, factor=1.0),
    ),
    Slip("(2δ / gᵀF⁻¹g) F⁻¹g — the square root missing", lambda c: _trpo_step(c, root=False)),
    Slip(
        "−β F⁻¹g — the ascent direction (costs are minimised: the update θ − s needs s = +β F⁻¹g)",
        lambda c: -_trpo_step(c),
    ),
    Slip(
        "√(2δ / gᵀF⁻¹g) g — the gradient g where the natural direction F⁻¹g belongs",
        lambda c: _trpo_step(c, direction="gradient"),
    ),
    Slip(
        "√(2δ / gᵀFg) g — a step along g (scaled to the KL ellipsoid) instead of F⁻¹g",
        lambda c: _trpo_step(c, direction="gradient, own curvature"),
    ),
    Slip("√(2δ / gᵀF⁻¹g) F g — F g in place of F⁻¹g", lambda c: _trpo_step(c, direction="F g")),
)


class TrpoStepSpec(CallableArgumentsSpec):
    name = "check_trpo_step"
    quantity = "TRPO's maximal step s = √(2δ / gᵀF⁻¹g) F⁻¹g"
    parameters = ("gradient", "fisher_vector_product", "max_kl")
    scalar_parameters = ("max_kl",)
    callable_parameters = ("fisher_vector_product",)
    matrix_parameters = ("fisher_vector_product",)
    slips = STEP_SLIPS
    reference_label = "β = √(2δ / xᵀFx)"

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(g: list, F: list, delta: float) -> dict[str, Any]:
            return {
                "gradient": np.array(g, float),
                "fisher_vector_product": MatrixOperator(np.array(F, float)),
                "max_kl": delta,
            }

        return [
            ("scalar", case([2.0], [[4.0]], 0.01)),
            ("2-D, diagonal Fisher", case([1.0, -2.0], [[2.0, 0.0], [0.0, 0.5]], 0.05)),
            (
                "3-D, correlated Fisher",
                case(
                    [0.5, 1.0, -1.5],
                    [[2.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 3.0]],
                    0.01,
                ),
            ),
            (
                "Fisher with condition number 1e4",
                case([1.0, 1.0], [[100.0, 0.0], [0.0, 0.01]], 0.1),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            size = draw(SIZES)
            return {
                "gradient": draw(_eighths((size,)).filter(lambda g: np.any(g != 0))),
                "fisher_vector_product": MatrixOperator(draw(_spd(size))),
                "max_kl": draw(st.sampled_from([0.01, 0.05, 0.001, 0.5])),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Context:
        g = _vector(arguments["gradient"], "gradient")
        if not np.any(g != 0):
            raise InvalidProblemError("gradient is zero; expected a nonzero gradient")
        operator = arguments["fisher_vector_product"]
        if not callable(operator):
            raise InvalidProblemError("fisher_vector_product must be a callable v -> F v")
        F = _spd_matrix(columns_of(operator, g.size, "fisher_vector_product"), "F", g.size)
        return Context(
            dict(arguments, gradient=g, max_kl=_positive(arguments["max_kl"], "max_kl")),
            {"F": F},
        )

    def expected(self, c: Context) -> Expected:
        from flint import fmpq_mat

        size = c.gradient.size
        F = fmpq_mat(size, size, [fmpq(*Fraction(float(e)).as_integer_ratio()) for e in c.F.flat])
        g = fmpq_mat(size, 1, [fmpq(*Fraction(float(e)).as_integer_ratio()) for e in c.gradient])
        natural = F.solve(g)
        curvature = sum((g[i, 0] * natural[i, 0] for i in range(size)), fmpq(0))
        delta = fmpq(*Fraction(c.max_kl).as_integer_ratio())
        regulariser = fmpq(*Fraction(REGULARISER).as_integer_ratio())
        steps = []
        for extra in (fmpq(0), regulariser):
            beta = (arb(2 * delta) / arb(curvature + extra)).sqrt()
            steps.append([beta * arb(natural[i, 0]) for i in range(size)])
        kappa = float(np.linalg.cond(c.F))
        scale = float(np.max(np.abs([float(s.mid()) for s in steps[0]])))
        label = f"β with {REGULARISER:g} added to xᵀFx (OpenAI baselines, Spinning Up)"
        return Expected(steps[0], kappa * size, scale, ((label, steps[1]),))


# --------------------------------------------------------------------------------------------
# Backtracking line search
# --------------------------------------------------------------------------------------------

MARGIN = 1e-6
"""Generated and fixed cases keep every candidate's KL and surrogate this far (relatively) from
their thresholds, so that rounding in a right implementation cannot flip a decision."""


def _search(
    c: Context,
    *,
    first: int = 0,
    last_offset: int = 0,
    use_kl: bool = True,
    use_surrogate: bool = True,
    last_on_failure: bool = False,
    increase: bool = False,
) -> np.ndarray:
    """The encoded outcome [accepted?, step...] of a line search with one optional slip."""
    baseline = float(c.surrogate(np.zeros_like(c.step)))
    candidate = None
    for j in range(first, c.max_backtracks + 1 + last_offset):
        candidate = c.backtrack_ratio**j * c.step
        kl_ok = not use_kl or float(c.kl(candidate)) <= c.max_kl
        loss = float(c.surrogate(candidate))
        improves = not use_surrogate or (loss > baseline if increase else loss < baseline)
        if kl_ok and improves:
            return np.concatenate([[1.0], candidate])
    if last_on_failure and candidate is not None:
        return np.concatenate([[1.0], candidate])
    return np.zeros(c.step.size + 1)


SEARCH_SLIPS = (
    Slip(
        "the search with max_backtracks candidates (j < max_backtracks; this check tries "
        "j = 0, …, max_backtracks)",
        lambda c: _search(c, last_offset=-1),
    ),
    Slip(
        "the search with max_backtracks + 2 candidates (one backtrack too many)",
        lambda c: _search(c, last_offset=1),
    ),
    Slip(
        "the search starting at r·step (the full step never tried)", lambda c: _search(c, first=1)
    ),
    Slip("the search ignoring the KL constraint", lambda c: _search(c, use_kl=False)),
    Slip(
        "the search accepting a step that does not improve the surrogate",
        lambda c: _search(c, use_surrogate=False),
    ),
    Slip(
        "the search accepting an increase of the surrogate (costs are minimised here)",
        lambda c: _search(c, increase=True),
    ),
    Slip(
        "the last candidate returned when every candidate is rejected (None is expected)",
        lambda c: _search(c, last_on_failure=True),
    ),
)


def _encode(value: Any, size: int) -> np.ndarray:
    if value is None:
        return np.zeros(size + 1)
    array = as_actual(value).astype(float).reshape(-1)
    return np.concatenate([[1.0], array])


class BacktrackingLineSearchSpec(CallableArgumentsSpec):
    name = "check_backtracking_line_search"
    quantity = "the accepted step r^j·step (or None)"
    parameters = ("surrogate", "kl", "step", "max_kl", "backtrack_ratio", "max_backtracks")
    scalar_parameters = ("max_kl", "backtrack_ratio", "max_backtracks")
    callable_parameters = ("surrogate", "kl")
    integer_parameters = ("max_backtracks",)
    slips = SEARCH_SLIPS
    expected_label = "expected [1 = accepted / 0 = None, accepted step...]"

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(
            g: list,
            F: list,
            curvature: float,
            step: list,
            delta: float,
            ratio: float,
            backtracks: int,
        ) -> dict[str, Any]:
            g_, F_ = np.array(g, float), np.array(F, float)
            return {
                "surrogate": Quadratic(-g_, curvature * F_),
                "kl": Quadratic(np.zeros_like(g_), F_),
                "step": np.array(step, float),
                "max_kl": delta,
                "backtrack_ratio": ratio,
                "max_backtracks": backtracks,
            }

        F2 = [[2.0, 0.5], [0.5, 1.0]]
        return [
            ("full step accepted", case([1.0], [[1.0]], 0.0, [0.1], 0.01, 0.5, 10)),
            (
                "KL too large at first: two backtracks",
                case([1.0, 1.0], F2, 0.0, [0.3, 0.2], 0.01, 0.5, 10),
            ),
            (
                "surrogate worse at first: one backtrack",
                case([1.0, 0.5], F2, 8.0, [0.2, 0.1], 1.0, 0.5, 10),
            ),
            ("accepted at the very last candidate", case([1.0], [[1.0]], 0.0, [0.4], 0.01, 0.5, 2)),
            ("every candidate rejected: None", case([1.0], [[1.0]], 0.0, [0.8], 0.01, 0.5, 2)),
            ("ascent step: never improves, None", case([1.0], [[1.0]], 0.0, [-0.1], 0.01, 0.5, 3)),
            ("no backtracking allowed, rejected", case([1.0], [[1.0]], 0.0, [0.4], 0.01, 0.8, 0)),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            size = draw(st.integers(1, 3))
            g = draw(_eighths((size,)).filter(lambda g: np.any(g != 0)))
            F = draw(_spd(size))
            delta = draw(st.sampled_from([0.01, 0.05, 0.1]))
            natural = np.linalg.solve(F, g)
            maximal = math.sqrt(2 * delta / (g @ natural)) * natural
            multiplier = draw(st.sampled_from([0.5, 1.5, 3.0, 10.0, 40.0, -1.0]))
            return {
                "surrogate": Quadratic(-g, draw(st.sampled_from([0.0, 1.0, 8.0, 64.0])) * F),
                "kl": Quadratic(np.zeros(size), F),
                "step": multiplier * maximal,
                "max_kl": delta,
                "backtrack_ratio": draw(st.sampled_from([0.5, 0.8, 0.25])),
                "max_backtracks": draw(st.integers(0, 8)),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Context:
        step = _vector(arguments["step"], "step")
        ratio = _positive(arguments["backtrack_ratio"], "backtrack_ratio")
        if not ratio < 1:
            raise InvalidProblemError(f"backtrack_ratio must lie in (0, 1), got {ratio!r}")
        for name in ("surrogate", "kl"):
            if not callable(arguments[name]):
                raise InvalidProblemError(f"{name} must be a callable s -> number")
        context = Context(
            dict(
                arguments,
                step=step,
                max_kl=_positive(arguments["max_kl"], "max_kl"),
                backtrack_ratio=ratio,
                max_backtracks=_count(arguments["max_backtracks"], "max_backtracks"),
            )
        )
        self._require_margin(context)
        return context

    def _require_margin(self, c: Context) -> None:
        """Refuse a case whose decisions rounding could flip (see :data:`MARGIN`)."""
        baseline = float(c.surrogate(np.zeros_like(c.step)))
        for j in range(c.max_backtracks + 3):
            candidate = c.backtrack_ratio**j * c.step
            divergence, loss = float(c.kl(candidate)), float(c.surrogate(candidate))
            if abs(divergence - c.max_kl) <= MARGIN * c.max_kl:
                raise InvalidProblemError(f"kl(s_{j}) = {divergence} is too close to max_kl")
            size = max(abs(loss), abs(baseline), float(np.max(np.abs(candidate))))
            if abs(loss - baseline) <= MARGIN * size:
                raise InvalidProblemError(f"surrogate(s_{j}) is too close to surrogate(0)")

    def expected(self, c: Context) -> Expected:
        outcome = _search(c)
        c.extra["accepted"] = bool(outcome[0])
        if not outcome[0]:
            return Expected([0] + [0] * c.step.size, 1.0, 1.0)
        exponent = next(
            j
            for j in range(c.max_backtracks + 1)
            if np.array_equal(c.backtrack_ratio**j * c.step, outcome[1:])
        )
        ratio = Fraction(c.backtrack_ratio) ** exponent
        return Expected(
            [1, *(ratio * Fraction(float(s)) for s in c.step)],
            float(exponent + 1),
            float(np.max(np.abs(outcome[1:]))),
        )

    def judge(self, context: Context, expected: Expected, output: Any, dtype: Any) -> Comparison:
        reference: Reference = expected.reference
        size = context.step.size
        if context.extra["accepted"] and output is None:
            comparison = compare(
                np.full(size + 1, np.nan), reference, dtype=dtype, what=self.quantity
            )
            comparison.problem = "the implementation returned None; a candidate is acceptable"
            comparison.actual = np.zeros(size + 1)
            return comparison
        try:
            encoded = _encode(output, size)
        except Exception:
            return compare(output, reference, dtype=dtype, what=self.quantity)
        if encoded.size != size + 1:
            return compare(
                as_actual(output),
                Reference(reference.mid[1:], reference.rad[1:], reference.tier),
                dtype=dtype,
                what=self.quantity,
            )
        comparison = compare(
            encoded,
            reference,
            dtype=dtype,
            what=self.quantity,
            condition=expected.condition,
            scale=expected.scale,
        )
        if not context.extra["accepted"] and output is not None:
            comparison.problem = (
                "every candidate fails (kl <= max_kl and a strict decrease of the surrogate); "
                "None is expected, the implementation returned a step"
            )
        return comparison

    def diagnosis_view(self, context: Context, value: Any) -> np.ndarray:
        if isinstance(value, np.ndarray) and value.size == context.step.size + 1:
            return value.astype(float)  # a slip's value, already encoded
        return _encode(value, context.step.size)


# --------------------------------------------------------------------------------------------
# The public checks
# --------------------------------------------------------------------------------------------


def _run(spec: CheckSpec, fn: Any, **options: Any) -> CheckReport:
    __tracebackhide__ = True
    return run_check(spec, fn, **options)


def check_conjugate_gradient(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(matvec, b, iterations) -> x_k``: conjugate gradient (Hestenes & Stiefel 1952)
    from x₀ = 0 on ``A x = b``, ``matvec(p) = A p`` for a symmetric positive definite A,
    exactly ``iterations`` steps (no early stop), the result of shape (d,).

    Reference: the k-th CG iterate computed exactly (Fractions,
    :func:`pgverify.trpo.conjugate_gradient`; unique in exact arithmetic; for k = d it is
    A⁻¹b).  Tolerance: docs/trpo.md's float rounding allowance ``16 (k+1)(d+1) u (1+κ)`` of the
    relative residual, times κ for the iterate, times ‖b‖/λ_min.  Generated systems:
    ``H diag(λ) H`` with a rational reflection H and distinct λ ∈ {¼, …, 64} (κ ≤ 256), d ≤ 5,
    1 ≤ k ≤ d.  A user case may give ``matvec`` as a symmetric matrix."""
    __tracebackhide__ = True
    return _run(
        ConjugateGradientSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_fisher_vector_product(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(K, sigma, states, v) -> F v`` for the linear Gaussian policy
    ``π(·|x) = N(−Kx, σI)`` (σ a variance), θ = vec(K) column-major,
    ``F = σ⁻¹(S ⊗ I_m)``, ``S = (1/N) Σ_i x_i x_iᵀ`` over the rows of ``states`` (N, n).

    Shapes: ``v`` is shaped like K, (m, n); the result either shaped like K — the matrix form
    ``σ⁻¹ V S`` = unvec(F vec V) — or flat, ``F vec(V)`` of length nm with vec column-major
    (the report says which form matched); any other shape is refused with a message naming
    both.  Reference: exact (Fractions)."""
    __tracebackhide__ = True
    return _run(
        FisherVectorProductSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_gaussian_kl(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(mean_p, cov_p, mean_q, cov_q) -> KL(p‖q)`` for p = N(mean_p, cov_p),
    q = N(mean_q, cov_q): ``½[tr(Σ_q⁻¹Σ_p) + (μ_q − μ_p)ᵀΣ_q⁻¹(μ_q − μ_p) − k +
    log det Σ_q − log det Σ_p]``, a scalar.  Reference: :func:`pgverify.trpo.gaussian_kl`,
    exact when det cov_p = det cov_q, else high-precision (40 digits)."""
    __tracebackhide__ = True
    return _run(
        GaussianKLSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_trpo_step(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(gradient, fisher_vector_product, max_kl) -> s``, TRPO's maximal step
    ``s = β F⁻¹g``, ``β = √(2δ / gᵀF⁻¹g)`` (δ = max_kl), so that ½ sᵀFs = δ.  Costs are
    minimised: g is the gradient of the cost and the update is θ − s (docs/trpo.md), so s points
    along +F⁻¹g.  ``fisher_vector_product(v) = F v`` on (d,) vectors.  Reference: certified
    (F⁻¹g exact, β a ball).  A CG solve inside ``fn`` passes with ≥ d iterations."""
    __tracebackhide__ = True
    return _run(
        TrpoStepSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_backtracking_line_search(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(surrogate, kl, step, max_kl, backtrack_ratio, max_backtracks) -> s or None``
    with the semantics of :func:`pgverify.trpo.backtracking_line_search`: try
    ``s_j = r^j · step`` for j = 0, 1, …, max_backtracks and return the first with
    ``kl(s_j) <= max_kl`` and ``surrogate(s_j) < surrogate(0)``; None if none qualifies.
    Reference: exact (r^j·step in rationals; the cases keep every decision a relative 1e-6 away
    from its threshold)."""
    __tracebackhide__ = True
    return _run(
        BacktrackingLineSearchSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


document_options(
    check_conjugate_gradient,
    check_fisher_vector_product,
    check_gaussian_kl,
    check_trpo_step,
    check_backtracking_line_search,
)
