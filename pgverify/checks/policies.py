"""Checks of Gaussian policy score functions and Fisher matrices (docs/checks.md; Williams
1992, Kakade 2002).

Canonical signatures (numpy float64 arrays in; ``sigma`` is a *variance*; vectors are 1-D):

* ``check_gaussian_score(fn)``: ``fn(K, sigma, x, u) -> ∇_K log π(u|x)`` (m, n) for
  ``π(·|x) = N(−Kx, σI)``: ``−σ⁻¹(u + Kx)xᵀ`` — exact (rational arithmetic);
* ``check_two_layer_score(fn, activation="tanh")``: ``fn(W0, W1, sigma, x, u) -> (dW0, dW1)``
  for ``π(·|x) = N(W1 h(W0x), σI)``: ``dW1 = σ⁻¹(u − μ)h(W0x)ᵀ``,
  ``dW0 = σ⁻¹ diag(h'(W0x)) W1ᵀ(u − μ)xᵀ`` — certified (balls) for tanh and sigmoid, exact
  for relu and identity;
* ``check_gaussian_fisher(fn)``: ``fn(K, sigma, state_second_moment) -> F`` (nm, nm),
  ``F = E[vec∇log π vec∇log πᵀ] = σ⁻¹(S ⊗ I_m)`` with θ = vec(K) column-major — exact.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np
from flint import arb, ctx
from hypothesis import strategies as st

from pgverify.checks._compare import Comparison, as_actual, as_reference, compare
from pgverify.checks._driver import document_options, run_check
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.errors import InvalidProblemError

BITS = 212
SIZES = st.integers(1, 4)
VARIANCES = st.sampled_from([0.5, 0.25, 2.0, 0.0625])


@dataclass
class ScoreContext:
    """One case: the arguments as float64 arrays, and the options (activation)."""

    arguments: dict[str, Any]
    activation: str = "tanh"
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["arguments"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc


def _eighths(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    size = int(np.prod(shape))
    return st.lists(st.integers(-12, 12), min_size=size, max_size=size).map(
        lambda values: np.array(values, dtype=float).reshape(shape) / 8.0
    )


def _sigma(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"sigma (a variance) must be a real number > 0, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise InvalidProblemError(f"sigma (a variance) must be finite and > 0, got {value!r}")
    return float(value)


def _matrix(value: Any, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != len(shape) or any(
        want is not None and have != want for have, want in zip(array.shape, shape, strict=True)
    ):
        wanted = tuple("any" if s is None else s for s in shape)
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected {wanted}")
    if not np.all(np.isfinite(array)):
        raise InvalidProblemError(f"{name} has non-finite entries")
    return array


def _exact(array: np.ndarray) -> np.ndarray:
    """The float64 array as an object array of exact Fractions."""
    return np.array([Fraction(float(v)) for v in array.reshape(-1)], dtype=object).reshape(
        array.shape
    )


# --------------------------------------------------------------------------------------------
# Linear Gaussian policy: score
# --------------------------------------------------------------------------------------------


def _linear_score(
    c: ScoreContext, *, sigma_power: float = 1.0, mean_sign: float = 1.0, factor: float = 1.0
) -> np.ndarray:
    residual = c.u + mean_sign * c.K @ c.x
    return -factor * np.outer(residual, c.x) / c.sigma**sigma_power


GAUSSIAN_SCORE_SLIPS = (
    Slip(
        "−(u + Kx)xᵀ/σ² — σ read as a standard deviation",
        lambda c: _linear_score(c, sigma_power=2.0),
    ),
    Slip("+σ⁻¹(u + Kx)xᵀ — the sign of the score flipped", lambda c: -_linear_score(c)),
    Slip(
        "−σ⁻¹(u − Kx)xᵀ — the mean taken as +Kx (the convention u = −Kx is this check's)",
        lambda c: _linear_score(c, mean_sign=-1.0),
    ),
    Slip("−(u + Kx)xᵀ — the factor σ⁻¹ left out", lambda c: _linear_score(c, sigma_power=0.0)),
    Slip(
        "−σ(u + Kx)xᵀ — multiplied by σ instead of divided",
        lambda c: _linear_score(c, sigma_power=-1.0),
    ),
    Slip(
        "−2σ⁻¹(u + Kx)xᵀ — a factor 2 (the ½ of the Gaussian exponent lost)",
        lambda c: _linear_score(c, factor=2.0),
    ),
    Slip("−σ⁻¹(u + Kx)xᵀ/2 — a spurious factor ½", lambda c: _linear_score(c, factor=0.5)),
)


class GaussianScoreSpec(CheckSpec):
    name = "check_gaussian_score"
    quantity = "the score ∇_K log π(u|x) = −σ⁻¹(u + Kx)xᵀ"
    parameters = ("K", "sigma", "x", "u")
    scalar_parameters = ("sigma",)
    axes = MappingProxyType({"K": ("m", "n"), "x": ("n",), "u": ("m",)})
    slips = GAUSSIAN_SCORE_SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(K: list, sigma: float, x: list, u: list) -> dict[str, Any]:
            return {
                "K": np.array(K, float),
                "sigma": sigma,
                "x": np.array(x, float),
                "u": np.array(u, float),
            }

        return [
            ("scalar", case([[0.5]], 0.25, [2.0], [-0.5])),
            (
                "more inputs than states",
                case([[1.0, -0.5], [0.25, 2.0], [0.0, 1.5]], 2.0, [1.0, -3.0], [0.5, 0.25, -1.0]),
            ),
            (
                "fewer inputs than states",
                case([[0.5, 0.25, -1.0]], 0.0625, [1.0, 2.0, -0.5], [3.0]),
            ),
            (
                "u = -Kx: the score vanishes",
                case([[1.0, 2.0], [0.5, -1.0]], 0.5, [1.0, 1.0], [-3.0, -0.5]),
            ),
            (
                "large variance",
                case([[0.125, 0.0], [0.0, 8.0]], 1024.0, [100.0, -0.01], [2.0, 7.0]),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            n, m = draw(SIZES), draw(SIZES)
            return {
                "K": draw(_eighths((m, n))),
                "sigma": draw(VARIANCES),
                "x": draw(_eighths((n,))),
                "u": draw(_eighths((m,))),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> ScoreContext:
        K = _matrix(arguments["K"], "K", (None, None))
        m, n = K.shape
        return ScoreContext(
            {
                "K": K,
                "sigma": _sigma(arguments["sigma"]),
                "x": _matrix(arguments["x"], "x", (n,)),
                "u": _matrix(arguments["u"], "u", (m,)),
            }
        )

    def expected(self, c: ScoreContext) -> Expected:
        K, x, u = _exact(c.K), _exact(c.x), _exact(c.u)
        residual = u + K.dot(x)
        score = -np.outer(residual, x) / Fraction(c.sigma)
        magnitude = (np.max(np.abs(c.u), initial=0) + np.sum(np.abs(c.K) @ np.abs(c.x))) * np.max(
            np.abs(c.x), initial=0
        )
        return Expected(score.tolist(), float(c.K.shape[1] + 1), magnitude / c.sigma)


# --------------------------------------------------------------------------------------------
# Two-layer Gaussian policy: score
# --------------------------------------------------------------------------------------------

ACTIVATIONS = ("tanh", "sigmoid", "relu", "identity")


def _activation_balls(name: str, z: arb) -> tuple[arb, arb]:
    """h(z) and h'(z) as balls."""
    if name == "tanh":
        value = z.tanh()
        return value, 1 - value * value
    if name == "sigmoid":
        value = 1 / (1 + (-z).exp())
        return value, value * (1 - value)
    if name == "relu":
        return (z, arb(1)) if z > 0 else (arb(0), arb(0))
    return z, arb(1)


def _activation_floats(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if name == "tanh":
        value = np.tanh(z)
        return value, 1 - value**2
    if name == "sigmoid":
        value = 1 / (1 + np.exp(-z))
        return value, value * (1 - value)
    if name == "relu":
        return np.maximum(z, 0.0), (z > 0).astype(float)
    return z, np.ones_like(z)


def _two_layer(c: ScoreContext, *, slip: str = "") -> tuple[np.ndarray, np.ndarray]:
    """(dW0, dW1) in float64, with one named slip."""
    z = c.W0 @ c.x
    h, dh = _activation_floats(c.activation, z)
    if slip == "h for h'":
        dh = h
    if slip == "1 - tanh":
        dh = 1 - h
    residual = c.u - c.W1 @ h
    variance = c.sigma**2 if slip == "std" else c.sigma
    dW1 = np.outer(residual, h) / variance
    back = c.W1 @ residual if slip == "W1 untransposed" else c.W1.T @ residual
    if slip != "no h'":
        back = dh * back
    dW0 = np.outer(back, c.x) / variance
    if slip == "sign":
        return -dW0, -dW1
    if slip == "swapped":
        return dW1, dW0
    return dW0, dW1


def _is_tanh(c: ScoreContext) -> bool:
    return c.activation == "tanh"


def _square_output_layer(c: ScoreContext) -> bool:
    return c.W1.shape[0] == c.W1.shape[1]


TWO_LAYER_SLIPS = (
    Slip(
        "the gradients without h'(W0x) in dW0 (the chain rule through the activation missed)",
        lambda c: _two_layer(c, slip="no h'"),
    ),
    Slip("the gradients with h(W0x) in place of h'(W0x)", lambda c: _two_layer(c, slip="h for h'")),
    Slip(
        "the gradients with h' = 1 − tanh instead of 1 − tanh²",
        lambda c: _two_layer(c, slip="1 - tanh"),
        _is_tanh,
    ),
    Slip(
        "the gradients with σ read as a standard deviation (σ² in place of σ)",
        lambda c: _two_layer(c, slip="std"),
    ),
    Slip("the negated gradients (a sign slip)", lambda c: _two_layer(c, slip="sign")),
    Slip(
        "the gradients with W1 in place of W1ᵀ in the backward pass",
        lambda c: _two_layer(c, slip="W1 untransposed"),
        _square_output_layer,
    ),
    Slip(
        "(dW1, dW0): the two gradients in the wrong order", lambda c: _two_layer(c, slip="swapped")
    ),
)


def _pair(value: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError("expected a pair (dW0, dW1)")
    return as_actual(value[0]), as_actual(value[1])


class TwoLayerScoreSpec(CheckSpec):
    name = "check_two_layer_score"
    quantity = "the score (∂/∂W0, ∂/∂W1) log π(u|x) of π = N(W1 h(W0x), σI)"
    parameters = ("W0", "W1", "sigma", "x", "u")
    scalar_parameters = ("sigma",)
    axes = MappingProxyType({"W0": ("k", "n"), "W1": ("m", "k"), "x": ("n",), "u": ("m",)})
    slips = TWO_LAYER_SLIPS
    expected_label = "expected dW0 and dW1, flattened row-major one after the other"

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        activation = options.get("activation")
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise InvalidProblemError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}"
            )
        return options

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(W0: list, W1: list, sigma: float, x: list, u: list) -> dict[str, Any]:
            return {
                "W0": np.array(W0, float),
                "W1": np.array(W1, float),
                "sigma": sigma,
                "x": np.array(x, float),
                "u": np.array(u, float),
            }

        return [
            ("scalar", case([[0.5]], [[2.0]], 0.25, [1.5], [-0.5])),
            (
                "3 hidden units, 2 inputs, 2 actions",
                case(
                    [[1.0, -0.5], [0.25, 2.0], [-1.5, 0.75]],
                    [[0.5, -1.0, 0.25], [2.0, 0.0, -0.5]],
                    0.5,
                    [0.5, -1.25],
                    [1.0, -2.0],
                ),
            ),
            (
                "square output layer",
                case(
                    [[0.5, 0.25], [-0.75, 1.0]],
                    [[1.0, 0.5], [-0.25, 2.0]],
                    2.0,
                    [1.0, 0.5],
                    [0.25, -0.75],
                ),
            ),
            (
                "saturated units",
                case([[4.0, 3.0], [-5.0, 2.5]], [[1.0, -1.0]], 0.0625, [1.5, 1.0], [0.5]),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            n, k, m = draw(SIZES), draw(SIZES), draw(SIZES)
            return {
                "W0": draw(_eighths((k, n))),
                "W1": draw(_eighths((m, k))),
                "sigma": draw(VARIANCES),
                "x": draw(_eighths((n,))),
                "u": draw(_eighths((m,))),
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> ScoreContext:
        W0 = _matrix(arguments["W0"], "W0", (None, None))
        k, n = W0.shape
        W1 = _matrix(arguments["W1"], "W1", (None, k))
        context = ScoreContext(
            {
                "W0": W0,
                "W1": W1,
                "sigma": _sigma(arguments["sigma"]),
                "x": _matrix(arguments["x"], "x", (n,)),
                "u": _matrix(arguments["u"], "u", (W1.shape[0],)),
            },
            options["activation"],
        )
        if context.activation == "relu" and np.any(W0 @ context.x == 0):
            # W0 @ x is exact here only if its float value is 0 exactly; relu' is undefined at 0
            raise InvalidProblemError("relu'(0) is undefined: a hidden pre-activation W0 x is 0")
        return context

    def expected(self, c: ScoreContext) -> Expected:
        with ctx.workprec(BITS):
            W0 = [[arb(float(v)) for v in row] for row in c.W0]
            W1 = [[arb(float(v)) for v in row] for row in c.W1]
            x = [arb(float(v)) for v in c.x]
            u = [arb(float(v)) for v in c.u]
            sigma = arb(c.sigma)
            z = [sum((W0[i][j] * x[j] for j in range(len(x))), arb(0)) for i in range(len(W0))]
            pairs = [_activation_balls(c.activation, value) for value in z]
            h = [p[0] for p in pairs]
            dh = [p[1] for p in pairs]
            residual = [
                u[i] - sum((W1[i][j] * h[j] for j in range(len(h))), arb(0)) for i in range(len(u))
            ]
            dW1 = [[residual[i] * h[j] / sigma for j in range(len(h))] for i in range(len(u))]
            back = [
                dh[j] * sum((W1[i][j] * residual[i] for i in range(len(u))), arb(0))
                for j in range(len(h))
            ]
            dW0 = [[back[j] * x[j_x] / sigma for j_x in range(len(x))] for j in range(len(h))]
        c.extra["reference"] = (dW0, dW1)
        scale = (
            (1 + np.max(np.abs(c.W1), initial=0) * c.W1.shape[1])
            * (np.max(np.abs(c.u), initial=0) + np.sum(np.abs(c.W1)) + 1)
            * (1 + np.max(np.abs(c.x), initial=0))
            / c.sigma
        )
        condition = float(1 + np.sum(np.abs(c.W0)) * (1 + np.max(np.abs(c.x), initial=0)))
        return Expected(_flat(dW0, dW1), condition, float(scale))

    def judge(
        self, context: ScoreContext, expected: Expected, output: Any, dtype: Any
    ) -> Comparison:
        """Each part against its reference; the worse comparison is returned."""
        dW0_ref, dW1_ref = context.extra["reference"]
        try:
            parts = _pair(output)
        except Exception:
            return compare(
                output,
                expected.reference,
                dtype=dtype,
                what="the pair (dW0, dW1): a tuple of two arrays was expected",
            )
        comparisons = [
            compare(
                part,
                reference,
                dtype=dtype,
                what=name,
                condition=expected.condition,
                scale=expected.scale,
            )
            for part, reference, name in zip(
                parts, (dW0_ref, dW1_ref), ("dW0 = ∂ log π/∂W0", "dW1 = ∂ log π/∂W1"), strict=True
            )
        ]
        failing = [comparison for comparison in comparisons if not comparison.passed]
        if failing:
            return failing[0]
        return max(comparisons, key=lambda comparison: comparison.worst_ratio)

    def diagnosis_view(self, context: ScoreContext, value: Any) -> np.ndarray:
        first, second = _pair(value)
        return np.concatenate([first.reshape(-1), second.reshape(-1)]).astype(float)

    def diagnosis_reference(self, outcome: Any) -> Any:
        dW0, dW1 = outcome.context.extra["reference"]
        return as_reference(_flat(dW0, dW1))


def _flat(first: list, second: list) -> list:
    return [entry for row in first for entry in row] + [entry for row in second for entry in row]


# --------------------------------------------------------------------------------------------
# Fisher matrix of the linear Gaussian policy
# --------------------------------------------------------------------------------------------


def _fisher(
    c: ScoreContext, *, order: str = "column", power: float = 1.0, inverse: bool = False
) -> np.ndarray:
    m = c.K.shape[0]
    S = np.linalg.inv(c.state_second_moment) if inverse else c.state_second_moment
    product = np.kron(S, np.eye(m)) if order == "column" else np.kron(np.eye(m), S)
    return product * (c.sigma if inverse else 1.0 / c.sigma**power)


FISHER_SLIPS = (
    Slip(
        "σ⁻¹(I_m ⊗ S) — θ = vec(K) taken row-major (the check's θ is column-major)",
        lambda c: _fisher(c, order="row"),
    ),
    Slip("(S ⊗ I_m)/σ² — σ read as a standard deviation", lambda c: _fisher(c, power=2.0)),
    Slip("S ⊗ I_m — the factor σ⁻¹ left out", lambda c: _fisher(c, power=0.0)),
    Slip("σ(S ⊗ I_m) — multiplied by σ instead of divided", lambda c: _fisher(c, power=-1.0)),
    Slip("σ(S⁻¹ ⊗ I_m) — the inverse Fisher matrix", lambda c: _fisher(c, inverse=True)),
)


class GaussianFisherSpec(CheckSpec):
    name = "check_gaussian_fisher"
    quantity = "the Fisher matrix σ⁻¹(S ⊗ I_m) of θ = vec(K) (column-major)"
    parameters = ("K", "sigma", "state_second_moment")
    scalar_parameters = ("sigma",)
    axes = MappingProxyType({"K": ("m", "n"), "state_second_moment": ("n", "n")})
    slips = FISHER_SLIPS

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        def case(K: list, sigma: float, S: list) -> dict[str, Any]:
            return {
                "K": np.array(K, float),
                "sigma": sigma,
                "state_second_moment": np.array(S, float),
            }

        return [
            ("scalar", case([[0.5]], 0.25, [[2.0]])),
            (
                "more inputs than states",
                case([[1.0, 0.5], [0.0, 2.0], [1.5, -1.0]], 0.5, [[2.0, 0.5], [0.5, 1.0]]),
            ),
            (
                "fewer inputs than states",
                case(
                    [[0.5, 0.25, -1.0]], 2.0, [[1.0, 0.25, 0.0], [0.25, 2.0, 0.5], [0.0, 0.5, 3.0]]
                ),
            ),
            (
                "two inputs, two states, correlated states",
                case([[1.0, 0.0], [0.5, 1.0]], 0.0625, [[4.0, -1.5], [-1.5, 1.0]]),
            ),
            (
                "state second moment with condition number 1e6",
                case([[1.0, 2.0], [0.0, 1.0]], 8.0, [[1e3, 0.0], [0.0, 1e-3]]),
            ),
        ]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        @st.composite
        def arguments(draw: st.DrawFn) -> dict[str, Any]:
            n, m = draw(SIZES), draw(SIZES)
            factor = draw(_eighths((n, n)))
            return {
                "K": draw(_eighths((m, n))),
                "sigma": draw(VARIANCES),
                "state_second_moment": factor.T @ factor + np.eye(n) / 4,
            }

        return arguments()

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> ScoreContext:
        K = _matrix(arguments["K"], "K", (None, None))
        n = K.shape[1]
        S = _matrix(arguments["state_second_moment"], "state_second_moment", (n, n))
        if np.max(np.abs(S - S.T), initial=0.0) > 0:
            raise InvalidProblemError("state_second_moment is not symmetric")
        return ScoreContext({"K": K, "sigma": _sigma(arguments["sigma"]), "state_second_moment": S})

    def expected(self, c: ScoreContext) -> Expected:
        m = c.K.shape[0]
        S = _exact(c.state_second_moment)
        identity = np.array(
            [[Fraction(int(i == j)) for j in range(m)] for i in range(m)], dtype=object
        )
        fisher = np.kron(S, identity) / Fraction(c.sigma)
        return Expected(
            fisher.tolist(), 1.0, float(np.max(np.abs(c.state_second_moment))) / c.sigma
        )


# --------------------------------------------------------------------------------------------
# The public checks
# --------------------------------------------------------------------------------------------


def _policy_check(spec: CheckSpec, fn: Callable[..., Any], **options: Any) -> CheckReport:
    __tracebackhide__ = True
    return run_check(spec, fn, **options)


def check_gaussian_score(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(K, sigma, x, u) -> ∇_K log π(u|x)`` (shape (m, n)) for the linear Gaussian
    policy ``π(·|x) = N(−Kx, σI)`` (σ a variance): ``−σ⁻¹(u + Kx)xᵀ``, exactly.  ``x`` and ``u``
    are 1-D arrays of lengths n and m."""
    __tracebackhide__ = True
    return _policy_check(
        GaussianScoreSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_two_layer_score(
    fn: Any,
    activation: str = "tanh",
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(W0, W1, sigma, x, u) -> (dW0, dW1)``, the score of the two-layer Gaussian
    policy ``π(·|x) = N(W1 h(W0x), σI)``: ``dW1 = σ⁻¹(u − μ)h(W0x)ᵀ`` (m, k) and
    ``dW0 = σ⁻¹ diag(h'(W0x)) W1ᵀ(u − μ)xᵀ`` (k, n), μ = W1 h(W0x).  ``activation``: "tanh"
    (default), "sigmoid", "relu" (cases with a zero pre-activation are skipped: relu'(0) is
    undefined) or "identity"."""
    __tracebackhide__ = True
    return _policy_check(
        TwoLayerScoreSpec(),
        fn,
        activation=activation,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


def check_gaussian_fisher(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(K, sigma, state_second_moment) -> F`` (shape (nm, nm)), the Fisher matrix
    ``E[vec∇_K log π vec∇_K log πᵀ] = σ⁻¹(S ⊗ I_m)`` of the linear Gaussian policy with
    θ = vec(K) column-major and S = E[xxᵀ], exactly."""
    __tracebackhide__ = True
    return _policy_check(
        GaussianFisherSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


document_options(check_gaussian_score, check_two_layer_score, check_gaussian_fisher)
