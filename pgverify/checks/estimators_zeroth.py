"""``check_zeroth_order_estimator``: a zeroth-order gradient estimator judged by its exact
expectation over the directions the check supplies (docs/checks.md, "Zeroth-order estimators").

The user's ``fn(cost_fn, K, directions, smoothing) -> (m, n)`` receives a cost built by
:func:`pgverify.estimators.cubic_cost`, ``C(k) = Σ c_ijk k_i k_j k_k + ½ kᵀHk + gᵀk + c`` (k =
vec(K), float64; a quadratic when c = 0), the gain K, N directions (N, m, n) and μ. The
directions are the nodes of a cubature rule exact for the estimator's degree in them (3 on a
quadratic, 4 on a cubic; :func:`pgverify.expectation.directions_expectation`): Gaussian ε ~ N(0, I)
for ``"gaussian"``, ``"gaussian_shifted"`` and ``"antithetic"``, unit vectors of the sphere of
R^{m×n} for ``"sphere"``. The weighted sum of the user's float outputs is exact, so the check
knows the exact expectation of the user's function (up to the stated rounding allowance of its
float evaluations) and compares it with the exact **target: the gradient of the smoothed cost**
(:func:`pgverify.expectation.smoothed_gradient`): ``∇C_μ = ∇C + (μ²/2)∇ΔC`` for the Gaussian
forms (Nesterov & Spokoiny 2017), ``∇Ĉ_r = ∇C + r²/(2(mn + 2))∇ΔC`` for the sphere form, the
gradient of the ball-smoothed cost (Flaxman, Kalai & McMahan 2005; Fazel, Ge, Kakade & Mesbahi
2018, Algorithm 1). On a quadratic both equal ∇C(K) at every μ; on a cubic the O(μ²) term tells
a right scale from a wrong one (μ read as a variance, the radius squared, ...).

The verdict is about the expectation of a function that is a polynomial of that degree in the
directions (every right form is); a function that is not a polynomial is only judged at the nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.checks._compare import as_actual, compare
from pgverify.checks._driver import document_options, run_check
from pgverify.checks._exact_expectation import (
    FLOAT32_RELATIVE_ERROR,
    FLOAT64_RELATIVE_ERROR,
    exact_mean_comparison,
    read_estimate,
    relative_error_of,
    widened,
    with_target_rounding,
)
from pgverify.checks._format import python_literal
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip, float32_values
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import scalar
from pgverify.estimators.zeroth_order import ZEROTH_ORDER_KINDS, PolynomialCost, cubic_cost
from pgverify.expectation import directions_expectation, smoothed_gradient

MAX_DIRECTIONS = 4
MAX_ENTRIES = 4
"""Bounds of a case (N directions, mn entries of K): the rules stay within a few hundred nodes."""


@dataclass(frozen=True)
class Directions:
    """The N random directions of one case, which the check supplies at the nodes of an exact
    cubature rule (Gaussian ε ~ N(0, I), or uniform on the unit sphere of R^{m×n})."""

    count: int
    distribution: str = "gaussian"

    def __repr__(self) -> str:
        shape = "ε ~ N(0, I)" if self.distribution == "gaussian" else "u uniform on the sphere"
        return (
            f"Directions(count={self.count}, distribution={self.distribution!r})  # "
            f"(N, m, n), {shape}: the check supplies them at the nodes of an exact rule"
        )


@dataclass(frozen=True)
class ExactMean:
    """What the wrapped implementation returns to the driver: the exact expectation of the
    user's function over the rule's nodes and the allowance for its float evaluations."""

    mean: np.ndarray
    allowance: Fraction
    nodes: int
    rule: str
    single: bool = False
    """The allowance is already float32's (``dtype="float32"`` or a float32 output)."""
    float32_numbers: bool = False
    """Every entry of every evaluation is a float32 number (a float32 result cast to float64)."""


@dataclass
class ZerothContext:
    """One case: the cost, K, N, μ, the kind, and the float64 pieces of the slips' closed forms
    (∇C(K), ∇ΔC) and the exact target."""

    cost: PolynomialCost
    K: np.ndarray
    count: int
    smoothing: float
    kind: str
    gradient: np.ndarray
    laplacian_gradient: np.ndarray
    target: np.ndarray
    float32_allowance: float | None = None
    """Set when the case is judged at float64: the allowance had the evaluations been float32
    (:func:`_within_float32_accuracy`)."""
    float32_numbers: bool = False

    @property
    def size(self) -> int:
        return int(self.K.size)

    @property
    def sphere(self) -> bool:
        return self.kind == "sphere"

    def smoothed(self, scale: float) -> np.ndarray:
        """The target with the smoothing ``scale`` in place of μ (float64)."""
        weight = scale**2 / (2 * (self.size + 2)) if self.sphere else scale**2 / 2
        return self.gradient + weight * self.laplacian_gradient

    def right(self) -> np.ndarray:
        return self.smoothed(self.smoothing)

    def is_cubic(self) -> bool:
        return bool(np.any(self.laplacian_gradient != 0))


def _target(cost: PolynomialCost, K: np.ndarray, smoothing: float, *, ball: bool) -> Any:
    """The exact target (an object array of Fractions)."""
    return smoothed_gradient(cost, K, smoothing, "ball" if ball else "gaussian")


# --------------------------------------------------------------------------------------------
# Slips: closed forms of the slipped estimators' expectations
# --------------------------------------------------------------------------------------------


def _slip(
    description: str,
    compute: Callable[[ZerothContext], Any],
    applies: Callable[[ZerothContext], bool] = lambda c: True,
) -> Slip:
    return Slip(description, compute, applies)


COMMON_SLIPS = (
    _slip(
        "the negative of the target (C(K − με) in place of C(K + με), or a sign flip)",
        lambda c: -c.right(),
    ),
    _slip("μ × the target: the division by μ (or r) missing", lambda c: c.smoothing * c.right()),
    _slip("the target / μ: divided by μ (or r) once too often", lambda c: c.right() / c.smoothing),
    _slip(
        "∇C(K), the gradient of the unsmoothed cost: the expectation carries no smoothing term, "
        "so the estimator is not the smoothed form it claims",
        lambda c: c.gradient,
        ZerothContext.is_cubic,
    ),
)
GAUSSIAN_SLIPS = (
    _slip(
        "the gradient of the cost smoothed at standard deviation √μ: the smoothing read as a "
        "variance (K + √μ·ε, divided by √μ)",
        lambda c: c.smoothed(np.sqrt(c.smoothing)),
    ),
    _slip(
        "the gradient of the cost smoothed at standard deviation μ²: a variance passed where the "
        "standard deviation belongs (K + μ²·ε, divided by μ²)",
        lambda c: c.smoothed(c.smoothing**2),
    ),
    _slip(
        "the perturbation √μ·ε divided by μ (the smoothing read as a variance on one side only)",
        lambda c: c.smoothed(np.sqrt(c.smoothing)) / np.sqrt(c.smoothing),
    ),
)
SPHERE_FORM_ON_GAUSSIAN_DIRECTIONS = _slip(
    "mn × the target: the sphere form's dimension factor mn applied to Gaussian directions "
    "((mn/μ)·C(K + με)ε; E[εεᵀ] = I, so a Gaussian form takes no factor mn, while a unit "
    "direction has E[uuᵀ] = I/mn)",
    lambda c: c.size * c.right(),
)
ANTITHETIC_SLIPS = (
    _slip("2 × the target: the 1/2 of the two-point form missing", lambda c: 2 * c.right()),
)


def _one_side_as_dimension(context: ZerothContext, output: np.ndarray) -> tuple[Any, str]:
    """The sphere form with m or n (one side of K's shape) in place of mn: the target × m/mn or
    × n/mn, whichever is nearer ``output``, and which side it is."""
    m, n = context.K.shape
    if m == n:  # the two sides cannot be told apart on a square K
        return context.right() / m, f"m = n = {m} (len(K) = K.shape[0], or K.shape[1])"
    sides = (
        (m, f"m = len(K) = K.shape[0] = {m}"),
        (n, f"n = K.shape[1] = {n}"),
    )
    values = [(context.right() * side / context.size, name) for side, name in sides]
    value, name = min(values, key=lambda pair: float(np.max(np.abs(pair[0] - output))))
    return value, name


SPHERE_SLIPS = (
    Slip(
        "the target × (one side of K's shape)/mn: the sphere form's dimension factor {} in "
        "place of mn = K.size, the number of entries of K",
        _one_side_as_dimension,
        fitted=True,
    ),
    _slip(
        "the target / mn: the dimension factor mn missing (a Gaussian form such as "
        "C(K + ru)u/r applied to unit directions; E[uuᵀ] = I/mn, so the sphere form multiplies "
        "by mn)",
        lambda c: c.right() / c.size,
    ),
    _slip("mn × the target: the factor mn applied twice", lambda c: c.size * c.right()),
    _slip(
        "the gradient of the cost smoothed over the ball of radius r²: the radius squared "
        "(K + r²·u, divided by r²)",
        lambda c: c.smoothed(c.smoothing**2),
    ),
    _slip(
        "the gradient of the Gaussian-smoothed cost ∇C + (r²/2)∇ΔC, not the ball-smoothed one "
        "(the mean of the Gaussian form, not of (mn/r)·C(K + ru)u)",
        lambda c: c.gradient + c.smoothing**2 / 2 * c.laplacian_gradient,
    ),
    _slip(
        "the gradient of the cost smoothed over the ball of radius r·√mn: the unit directions "
        "rescaled to unit variance (√mn·u, the sphere of radius √mn) and the Gaussian form "
        "C(K + r√mn·u)·√mn·u/r applied to them",
        lambda c: c.smoothed(c.smoothing * np.sqrt(c.size)),
    ),
)


def _within_float32_accuracy(context: ZerothContext, output: np.ndarray) -> tuple[Any, str]:
    """The member nearest ``output`` of the values within the float32 allowance of the target
    (the output itself when it lies inside), and what that says (fills the slip's ``{}``)."""
    allowance = context.float32_allowance
    if allowance is None:
        raise ValueError("judged at float32 already")  # the slip then stays silent
    right = np.asarray(context.target, dtype=float)
    error = float(np.max(np.abs(output - right)))
    nearest = right + np.clip(output - right, -allowance, allowance)
    source = (
        "every value your function returned is a float32 number: a float32 computation "
        "returned as float64"
        if context.float32_numbers
        else "a float32 step inside your function (a float32 array or cast, e.g. of the cost "
        "values or the directions) or a comparable loss of accuracy"
    )
    return nearest, (
        f"its exact bias ({error:.3g}) is within the allowance for float32 evaluations "
        f"({allowance:.3g}, evaluations within {FLOAT32_RELATIVE_ERROR:g} of their largest "
        f"entry) but not for float64 ones (within {FLOAT64_RELATIVE_ERROR:g}): {source}"
    )


FLOAT32_ACCURACY = Slip(
    "the target to float32 accuracy — {}; return the float32 array or pass dtype='float32' to "
    "judge your function at float32 precision, or keep every step in float64",
    _within_float32_accuracy,
    fitted=True,
)
"""The float32 diagnosis of this check: its allowance is that of float32 evaluations (the
generic one of :func:`pgverify.checks._slips.generic_slips` does not apply, see
:meth:`ZerothOrderSpec.judge`)."""


def slips_of(kind: str) -> tuple[Slip, ...]:
    if kind == "sphere":
        return (FLOAT32_ACCURACY, *COMMON_SLIPS, *SPHERE_SLIPS)
    gaussian = (
        FLOAT32_ACCURACY,
        *COMMON_SLIPS,
        *GAUSSIAN_SLIPS,
        SPHERE_FORM_ON_GAUSSIAN_DIRECTIONS,
    )
    if kind == "antithetic":
        return (*gaussian, *ANTITHETIC_SLIPS)
    return gaussian


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


def _case(
    coefficients: Any, hessian: Any, gradient: Any, constant: float, K: Any, count: int, mu: float
) -> dict[str, Any]:
    size = int(np.size(K))
    cubic = np.zeros((size, size, size)) if coefficients is None else np.array(coefficients, float)
    return {
        "cost_fn": cubic_cost(cubic, np.array(hessian, float), np.array(gradient, float), constant),
        "K": np.array(K, dtype=float),
        "directions": count,
        "smoothing": mu,
    }


def _regression_cases() -> list[tuple[str, dict[str, Any]]]:
    cube = np.zeros((2, 2, 2))
    cube[0, 0, 0], cube[0, 1, 1], cube[1, 1, 0] = 1.0, -0.5, 0.25
    return [
        (
            "a quadratic, K of shape (1, 3), μ = 0.25, N = 2",
            _case(
                None,
                ((2.0, 0.5, 0.0), (0.5, 1.0, -0.25), (0.0, -0.25, 3.0)),
                (1.0, -0.5, 0.25),
                1.5,
                ((0.5, -1.0, 0.25),),
                2,
                0.25,
            ),
        ),
        (
            "a quadratic, K of shape (2, 2), μ = 0.2, N = 3",
            _case(
                None,
                (
                    (1.0, 0.0, 0.25, 0.0),
                    (0.0, 2.0, 0.0, 0.5),
                    (0.25, 0.0, 1.5, 0.0),
                    (0.0, 0.5, 0.0, 1.0),
                ),
                (0.5, 0.0, -1.0, 0.25),
                -2.0,
                ((1.0, 0.5), (-0.5, 0.75)),
                3,
                0.2,
            ),
        ),
        (
            "a cubic k³ + k²/2, K of shape (1, 1), μ = 0.5, N = 1",
            _case([[[1.0]]], [[1.0]], [0.0], 0.0, [[0.25]], 1, 0.5),
        ),
        (
            "a cubic on K of shape (1, 2), μ = 0.25, N = 2",
            _case(cube, ((1.0, 0.25), (0.25, 2.0)), (0.5, -1.0), 0.5, ((0.5, -0.25),), 2, 0.25),
        ),
    ]


SHAPES = ((1, 1), (1, 2), (2, 1), (1, 3), (2, 2))
SMOOTHINGS = (0.25, 0.5, 0.1, 1.0, 0.2)
_eighths = st.integers(-16, 16).map(lambda k: k / 8.0)


@st.composite
def _cases(draw: st.DrawFn) -> dict[str, Any]:
    m, n = draw(st.sampled_from(SHAPES))
    size = m * n

    def entries(shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        return np.array(draw(st.lists(_eighths, min_size=count, max_size=count))).reshape(shape)

    half = entries((size, size))
    cubic = draw(st.booleans())
    return _case(
        entries((size, size, size)) if cubic else None,
        half + half.T,
        entries((size,)),
        draw(_eighths),
        entries((m, n)),
        draw(st.integers(1, 3)),
        draw(st.sampled_from(SMOOTHINGS)),
    )


# --------------------------------------------------------------------------------------------
# The spec
# --------------------------------------------------------------------------------------------

TARGETS = {
    "gaussian": (
        "the gradient of the Gaussian-smoothed cost C_μ(K) = E C(K + με), ε ~ N(0, I): "
        "∇C(K) + (μ²/2)∇ΔC(K) (= ∇C(K) on a quadratic)"
    ),
    "sphere": (
        "the gradient of the ball-smoothed cost Ĉ_r(K) = E C(K + rv), v uniform in the unit "
        "ball: ∇C(K) + r²/(2(mn + 2))∇ΔC(K) (= ∇C(K) on a quadratic)"
    ),
}


class ZerothOrderSpec(CheckSpec):
    name = "check_zeroth_order_estimator"
    parameters = ("cost_fn", "K", "directions", "smoothing")
    scalar_parameters = ("smoothing",)

    def __init__(self, kind: str, relative_error: float, dtype: Any = None) -> None:
        self.kind = kind
        self.relative_error = relative_error
        self.dtype = dtype
        self.distribution = "sphere" if kind == "sphere" else "gaussian"
        self.target_text = TARGETS[self.distribution]
        self.quantity = (
            f"the exact expectation E[estimate] of the {kind!r} estimator over the directions"
        )
        self.expected_label = f"expected E[estimate] = target: {self.target_text}"
        self.slips = slips_of(kind)

    def evaluate(
        self, fn: Any, context: Any, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> ExactMean:
        """The exact expectation of ``fn`` over the rule's directions (an :class:`ExactMean`):
        ``fn`` is called at every node with the case's cost, K and smoothing."""
        cost_fn, K, smoothing = arguments["cost_fn"], arguments["K"], arguments["smoothing"]
        directions = arguments["directions"]
        count = directions.count if isinstance(directions, Directions) else int(directions)
        seen: set[str] = set()  # "float32" once an output comes in single precision
        shape = K.shape
        float32_numbers = True

        def user(nodes: np.ndarray) -> np.ndarray:
            nonlocal float32_numbers
            output = read_estimate(fn(cost_fn, K.copy(), nodes.copy(), smoothing), seen)
            if output.shape != shape:
                raise InvalidProblemError(
                    f"fn returned shape {output.shape}; expected K's shape {shape} (m, n)"
                )
            if not np.all(np.isfinite(output)):
                raise InvalidProblemError(non_finite_at(output, nodes))
            float32_numbers = float32_numbers and float32_values(output)
            return output

        result = directions_expectation(
            user,
            shape,
            count,
            expectation_degree(cost_fn),
            distribution=self.distribution,
            arithmetic="float",
            relative_error=self.relative_error,
        )
        allowance = widened(Fraction(result.rounding_tolerance), self.dtype, seen)
        single = self.relative_error == FLOAT32_RELATIVE_ERROR or "float32" in seen
        return ExactMean(
            np.asarray(result.mean, dtype=object),
            allowance,
            result.nodes,
            result.rule,
            single,
            float32_numbers,
        )

    def _with_directions(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The count N as a :class:`Directions` (printed as such in a failing case)."""
        count = arguments["directions"]
        count = count.count if isinstance(count, Directions) else int(count)
        return {**arguments, "directions": Directions(count, self.distribution)}

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        return [(label, self._with_directions(case)) for label, case in _regression_cases()]

    def case_text(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        """A failing case as Python that runs on its own once ``fn`` is defined: the cost, K and
        μ, then the exact expectation of ``fn`` over the check's directions (the very rule the
        check weighs it by), through :func:`pgverify.expectation.directions_expectation`."""
        cost, K = arguments["cost_fn"], np.asarray(arguments["K"], dtype=float)
        count = arguments["directions"]
        count = count.count if isinstance(count, Directions) else int(count)
        law = "ε ~ N(0, I)" if self.distribution == "gaussian" else "u uniform on the sphere"
        return "\n".join(
            [
                "import numpy as np",
                "import pgverify",
                f"cost_fn = {python_literal(cost)}",
                f"K = {python_literal(K)}",
                f"smoothing = {python_literal(float(arguments['smoothing']))}",
                f"# directions (N, m, n), N = {count}, {law}: fn runs at each node of a rule",
                "result = pgverify.expectation.directions_expectation(",
                "    lambda directions: fn(cost_fn, K, directions, smoothing),",
                f"    K.shape, {count}, {expectation_degree(cost)}, "
                f"distribution={self.distribution!r}, arithmetic='float',",
                ").mean  # E[fn(cost_fn, K, directions, smoothing)], exact (Fractions)",
            ]
        )

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return _cases().map(self._with_directions)

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        return (
            f"target: {self.target_text}",
            "verdict by the exact expectation over the nodes of a cubature rule exact for the "
            "estimator's degree (3 on quadratic costs, 4 on cubic ones); your float evaluations "
            f"assumed within {self.relative_error:g} of their largest entry",
        )

    def arguments_from(self, case: Any, index: int) -> dict[str, Any]:
        where = f"cases[{index}]"
        if isinstance(case, Mapping):
            unknown = sorted(set(case) - set(self.parameters))
            if unknown:
                raise InvalidProblemError(
                    f"{where} has unknown argument(s) {unknown}; a case holds "
                    f"{', '.join(self.parameters)}"
                )
            given = dict(case)
        elif isinstance(case, (tuple, list)) and len(case) <= len(self.parameters):
            given = dict(zip(self.parameters, case, strict=False))
        else:
            raise InvalidProblemError(
                f"{where} must be a dict (or tuple) of {', '.join(self.parameters)}, got "
                f"{type(case).__name__}"
            )
        for name in ("cost_fn", "K", "smoothing"):
            if name not in given:
                raise InvalidProblemError(f"{where} lacks the argument {name!r}")
        if not isinstance(given["cost_fn"], PolynomialCost):
            raise InvalidProblemError(
                f"{where}['cost_fn'] must be built by pgverify.estimators.cubic_cost (the check "
                f"needs its coefficients for the exact target), got "
                f"{type(given['cost_fn']).__name__}"
            )
        directions = given.get("directions", 2)
        if isinstance(directions, Directions):
            directions = directions.count
        if isinstance(directions, bool) or not isinstance(directions, (int, np.integer)):
            raise InvalidProblemError(
                f"{where}['directions'] must be the number N of directions (an int in 1.."
                f"{MAX_DIRECTIONS}), got {directions!r}"
            )
        try:
            K = np.array(given["K"], dtype=float)
        except (TypeError, ValueError) as exc:
            raise InvalidProblemError(f"{where}['K'] could not be read as a float array") from exc
        smoothing = given["smoothing"]
        if isinstance(smoothing, bool) or not isinstance(
            smoothing, (int, float, np.integer, np.floating)
        ):
            raise InvalidProblemError(f"{where}['smoothing'] must be a real number > 0")
        return self._with_directions(
            {
                "cost_fn": given["cost_fn"],
                "K": K,
                "directions": int(directions),
                "smoothing": float(smoothing),
            }
        )

    def prepare(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> ZerothContext:
        cost, K = arguments["cost_fn"], np.asarray(arguments["K"], dtype=float)
        if K.ndim != 2 or K.size < 1 or not np.all(np.isfinite(K)):
            raise InvalidProblemError(f"K must be a finite (m, n) array, got {K!r}")
        if K.size > MAX_ENTRIES:
            raise InvalidProblemError(
                f"K has {K.size} entries; the check's cases have at most {MAX_ENTRIES} (the rule's "
                "node count grows with N·mn)"
            )
        count = arguments["directions"]
        count = count.count if isinstance(count, Directions) else count
        if not 1 <= count <= MAX_DIRECTIONS:
            raise InvalidProblemError(
                f"directions = {count}; expected N in 1..{MAX_DIRECTIONS} directions"
            )
        mu = float(scalar(arguments["smoothing"], "smoothing", exact=False, positive=True))
        target = _target(cost, K, mu, ball=self.kind == "sphere")
        gradient = _unsmoothed(cost, K)
        # ∇C_1 = ∇C + ½∇ΔC (the Gaussian target at μ = 1)
        laplacian_gradient = 2 * (_target(cost, K, 1.0, ball=False) - gradient)
        return ZerothContext(
            cost,
            K,
            int(count),
            mu,
            self.kind,
            np.asarray(gradient, dtype=float),
            np.asarray(laplacian_gradient, dtype=float),
            target,
        )

    def expected(self, context: ZerothContext) -> Expected:
        scale = max(float(np.max(np.abs(np.asarray(context.target, dtype=float)))), 1e-300)
        return Expected(context.target, 1.0, scale)

    def judge(self, context: ZerothContext, expected: Expected, output: Any, dtype: Any) -> Any:
        if not isinstance(output, ExactMean):  # the wrapper always returns one
            return compare(output, expected.reference, dtype=dtype, what=self.quantity)
        comparison = exact_mean_comparison(
            self.quantity,
            output.mean,
            context.target,
            expected,
            output.allowance,
            dtype,
            self.relative_error,
            f"exact expectation over {output.nodes} nodes ({output.rule})",
        )
        # FLOAT32_ACCURACY judges with float32 evaluations' allowance (see
        # exact_mean_comparison for why the generic float32 diagnosis stays away)
        if not output.single:
            context.float32_allowance = float(
                with_target_rounding(widened(output.allowance, None, {"float32"}), context.target)
            )
            context.float32_numbers = output.float32_numbers
        return comparison

    def diagnosis_view(self, context: Any, value: Any) -> np.ndarray:
        if isinstance(value, ExactMean):
            return np.asarray(value.mean, dtype=float)
        return as_actual(value).astype(float)


def expectation_degree(cost: PolynomialCost) -> int:
    """The degree in the directions of every zeroth-order form on ``cost``: 3 on a quadratic
    (C(K + με) quadratic in ε, times ε), 4 on a cubic."""
    return 3 if cost.is_quadratic else 4


def _unsmoothed(cost: PolynomialCost, K: np.ndarray) -> np.ndarray:
    """∇C(K) exactly: the Gaussian target's μ² term removed (∇C_μ − ∇C is (μ²/2)∇ΔC)."""
    at_one = smoothed_gradient(cost, K, 1.0, "gaussian")
    at_two = smoothed_gradient(cost, K, 2.0, "gaussian")
    # ∇C_1 = ∇C + ½∇ΔC, ∇C_2 = ∇C + 2∇ΔC  ⇒  ∇C = (4∇C_1 − ∇C_2)/3
    return (4 * at_one - at_two) / 3


def non_finite_at(output: np.ndarray, nodes: np.ndarray) -> str:
    """Why an output at the directions ``nodes`` (N, m, n) is refused: non-finite — at a zero
    direction (the Gaussian rule's centre node) most likely a division by its norm."""
    zero = [i for i, direction in enumerate(nodes) if not np.any(direction)]
    text = f"fn returned a non-finite estimate {np.array2string(output)}"
    if not zero:
        return f"{text}; expected finite values at every direction"
    return (
        f"{text} where directions[{zero[0]}] is the zero direction ε = 0 (the centre node of the "
        "Gaussian rule, the mean of N(0, I)): a division by ‖ε‖? The Gaussian forms use ε "
        "as it is; normalising it to ε/‖ε‖ makes a sphere estimator (kind 'sphere', whose "
        "directions the check supplies on the unit sphere)"
    )


def check_zeroth_order_estimator(
    fn: Any,
    kind: str,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
) -> CheckReport:
    """Check ``fn(cost_fn, K, directions, smoothing) -> (m, n)``, a zeroth-order gradient
    estimate, by its exact expectation over the directions the check supplies, on quadratic and
    cubic costs (:func:`pgverify.estimators.cubic_cost`).

    ``kind``: ``"gaussian"`` (mean ``C(K + με)ε/μ``), ``"gaussian_shifted"`` (mean ``(C(K + με)
    − C(K))ε/μ``), ``"antithetic"`` (mean ``(C(K + με) − C(K − με))ε/(2μ)``), ``"sphere"``
    (``(mn/r)·mean C(K + ru)u``, u unit; Fazel et al. 2018, Alg. 1). ``smoothing`` is μ (the
    Gaussian's standard deviation) or r (the sphere's radius); ``directions`` (N, m, n).

    Target (stated in the report): the gradient of the smoothed cost,
    ``∇C(K) + (μ²/2)∇ΔC(K)`` for the Gaussian kinds and ``∇C(K) + r²/(2(mn + 2))∇ΔC(K)`` (the
    ball-smoothed cost) for ``"sphere"``: :func:`pgverify.expectation.smoothed_gradient`
    (Nesterov & Spokoiny 2017; Flaxman, Kalai & McMahan 2005).

    Tier: exact expectation of the user's float64 function at the rule's nodes, with the
    rounding allowance of :func:`pgverify.expectation.directions_expectation` (assumption: each
    evaluation errs by at most 1e-9 of its largest entry; 1e-5 with ``dtype="float32"`` or a
    float32 output). The rule integrates polynomials of degree ≤ 5 in the directions exactly —
    every right form is one (degree 3 on a quadratic, 4 on a cubic); a function that is not a
    polynomial in them (clipped or normalised directions) is judged at the nodes only. A user
    case: ``{"cost_fn": cubic_cost(...), "K": ..., "directions": N, "smoothing": μ}``. A failing
    case is printed as Python that runs once ``fn`` is defined (the cost rebuilt, the exact
    expectation recomputed by :func:`pgverify.expectation.directions_expectation`); an estimate
    right only to float32 accuracy is diagnosed as such (docs/checks.md, "Zeroth-order
    estimators")."""
    __tracebackhide__ = True
    if not isinstance(kind, str) or kind not in ZEROTH_ORDER_KINDS:
        raise InvalidProblemError(
            f"kind = {kind!r} is not supported; supported kinds: {', '.join(ZEROTH_ORDER_KINDS)}"
        )
    relative_error = relative_error_of(dtype)
    if not callable(fn):
        raise InvalidProblemError(
            f"fn must be the callable to check, got {type(fn).__name__} {fn!r}"
        )
    return run_check(
        ZerothOrderSpec(kind, relative_error, dtype),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
    )


document_options(check_zeroth_order_estimator, cases_note="; see above")
