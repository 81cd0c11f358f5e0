"""``check_zeroth_order_estimator``: a zeroth-order gradient estimator judged by its exact
expectation over the directions the check supplies (docs/checks.md, "Zeroth-order estimators").

The user's ``fn(cost_fn, K, directions, smoothing) -> (m, n)`` receives a quadratic cost
``C(K) = ½ vec(K)ᵀ H vec(K) + ⟨g, K⟩ + c`` (float64), the gain K, N directions (N, m, n) and μ.
The directions are the nodes of a cubature rule exact for degree 3
(:func:`pgverify.expectation.directions_expectation`): Gaussian ε ~ N(0, I) for ``"gaussian"``,
``"gaussian_shifted"`` and ``"antithetic"``, unit vectors of the sphere of R^{m×n} for
``"sphere"``. On a quadratic every form is a polynomial of degree 3 in the directions and its
expectation is exactly ``∇C(K) = H vec(K) + g`` at every μ (Nesterov & Spokoiny 2017; Fazel,
Ge, Kakade & Mesbahi 2018, Algorithm 1), so the exact expectation of the user's function (up to
the stated rounding tolerance of its float evaluations) is compared with the exact gradient.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.checks.estimators_pg import read_estimate, relative_error_of, widened
from pgverify.errors import InvalidProblemError, OracleMismatch
from pgverify.estimators.zeroth_order import ZEROTH_ORDER_KINDS, quadratic_cost
from pgverify.expectation import directions_expectation, quadratic_gradient


@dataclass(frozen=True)
class QuadraticScenario:
    label: str
    hessian: tuple
    gradient: tuple
    constant: float
    K: tuple
    count: int
    smoothing: float

    def as_python(self) -> str:
        return (
            f"cost_fn = quadratic_cost(hessian={list(map(list, self.hessian))}, "
            f"gradient={list(self.gradient)}, constant={self.constant}); "
            f"K = {list(map(list, self.K))}, N = {self.count} directions, "
            f"smoothing = {self.smoothing}"
        )


SCENARIOS = (
    QuadraticScenario(
        "K of shape (1, 3), μ = 0.25, N = 2",
        ((2.0, 0.5, 0.0), (0.5, 1.0, -0.25), (0.0, -0.25, 3.0)),
        (1.0, -0.5, 0.25),
        1.5,
        ((0.5, -1.0, 0.25),),
        2,
        0.25,
    ),
    QuadraticScenario(
        "K of shape (2, 2), μ = 0.2, N = 3",
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
)


def _named_factors(scenario: QuadraticScenario, kind: str) -> list[tuple[Fraction, str]]:
    mu = Fraction(scenario.smoothing)
    size = int(np.size(scenario.K))
    named = [
        (Fraction(-1), "the negative of the gradient (C(K − με) for C(K + με), or a sign flip)"),
        (mu, "μ × the gradient: the division by μ (or r) missing"),
        (1 / mu, "the gradient / μ: divided by μ (or r) once too often"),
    ]
    if kind == "antithetic":
        named.append((Fraction(2), "2 × the gradient: the 1/2 of the two-point form missing"))
    if kind == "sphere":
        named.append((Fraction(1, size), "the gradient / mn: the dimension factor mn missing"))
        named.append((Fraction(size), "mn × the gradient: the factor mn applied twice"))
    return named


def check_zeroth_order_estimator(fn: Any, kind: str, *, dtype: Any = None) -> dict[str, Any]:
    """Check ``fn(cost_fn, K, directions, smoothing) -> (m, n)``, a zeroth-order estimate of
    ∇C(K), by its exact expectation over the directions the check supplies, on quadratic costs.

    ``kind``: ``"gaussian"`` (mean ``C(K + με)ε/μ``), ``"gaussian_shifted"`` (mean ``(C(K + με)
    − C(K))ε/μ``), ``"antithetic"`` (mean ``(C(K + με) − C(K − με))ε/(2μ)``), ``"sphere"``
    (``(mn/r)·mean C(K + ru)u``, u unit; Fazel et al. 2018, Alg. 1). ``smoothing`` is μ (the
    Gaussian's standard deviation) or r (the sphere's radius).

    Tier: exact expectation of the user's float64 function at the rule's nodes, with the
    rounding tolerance of :func:`pgverify.expectation.directions_expectation` (assumption: each
    evaluation errs by at most 1e-9 of its largest entry; 1e-5 with ``dtype="float32"``).
    Returns a dict (scenario label → exact gradient, nodes); raises
    :class:`pgverify.OracleMismatch` with the exact bias and a diagnosis."""
    __tracebackhide__ = True
    if not callable(fn):
        raise InvalidProblemError(f"fn must be the callable to check, got {type(fn).__name__}")
    if not isinstance(kind, str) or kind not in ZEROTH_ORDER_KINDS:
        raise InvalidProblemError(
            f"kind = {kind!r} is not supported; supported kinds: {', '.join(ZEROTH_ORDER_KINDS)}"
        )
    relative_error = relative_error_of(dtype)
    seen: set[str] = set()  # "float32" once an output comes in single precision
    distribution = "sphere" if kind == "sphere" else "gaussian"
    report: dict[str, Any] = {}
    for scenario in SCENARIOS:
        K = np.array(scenario.K)
        cost_fn = quadratic_cost(
            np.array(scenario.hessian), np.array(scenario.gradient), scenario.constant
        )

        def user(
            directions: Any,
            K: Any = K,
            cost_fn: Any = cost_fn,
            smoothing: float = scenario.smoothing,
        ) -> Any:
            output = read_estimate(fn(cost_fn, K.copy(), directions.copy(), smoothing), seen)
            if output.shape != K.shape:
                raise InvalidProblemError(
                    f"fn returned shape {output.shape}; expected K's shape {K.shape} (m, n)"
                )
            return output

        try:
            result = directions_expectation(
                user,
                K.shape,
                scenario.count,
                3,
                distribution=distribution,
                arithmetic="float",
                relative_error=relative_error,
            )
        except InvalidProblemError as error:
            raise OracleMismatch(
                f"check_zeroth_order_estimator(kind={kind!r}): the implementation failed on "
                f"{scenario.label}:\n    {scenario.as_python()}\n{error}"
            ) from error
        exact = np.vectorize(Fraction, otypes=[object])
        target = quadratic_gradient(
            exact(np.array(scenario.hessian)), exact(np.array(scenario.gradient)), exact(K)
        )
        tolerance = widened(Fraction(result.rounding_tolerance), dtype, seen) + Fraction(
            1e-12
        ) * max(abs(v) for v in target.ravel())
        bias = result.mean - target
        if all(abs(b) <= tolerance for b in bias.ravel()):
            report[scenario.label] = {
                "expected_gradient": np.asarray(target, dtype=float),
                "nodes": result.nodes,
            }
            continue
        diagnosis = (
            "Diagnosis: the expectation matches none of the known slips (checked: "
            + ("; ".join(text for _, text in _named_factors(scenario, kind)))
            + ")."
        )
        for factor, text in _named_factors(scenario, kind):
            if all(
                abs(a - factor * b) <= tolerance
                for a, b in zip(result.mean.ravel(), target.ravel(), strict=True)
            ):
                diagnosis = f"Diagnosis: the expectation of your estimator is {text}."
                break
        raise OracleMismatch(
            "\n".join(
                [
                    f"check_zeroth_order_estimator(kind={kind!r}): the exact expectation of the "
                    f"implementation is not ∇C(K) (exact, {result.nodes} {distribution} "
                    "cubature directions).",
                    "",
                    f"Scenario: {scenario.label}:",
                    f"    {scenario.as_python()}",
                    "",
                    f"expected E[estimate] = ∇C(K): {np.asarray(target, dtype=float).tolist()}",
                    f"your E[estimate]: {np.asarray(result.mean, dtype=float).tolist()}",
                    f"exact bias: {np.asarray(bias, dtype=float).tolist()} "
                    f"(tolerance {float(tolerance):.3g} for the rounding of your float "
                    "evaluations)",
                    "",
                    diagnosis,
                ]
            )
        )
    return report
