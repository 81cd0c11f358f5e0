"""Exact expectations of zeroth-order estimators over their random directions.

The estimator is a function of N directions (N, m, n): Gaussian (ε ~ N(0, I), the N·m·n entries
independent standard normals) or uniform on the unit sphere of R^{m×n} (one sphere per
direction). On a quadratic cost every form of :mod:`pgverify.estimators.zeroth_order` is a
polynomial of degree 3 in the directions, so a rule exact for degree 3
(:mod:`pgverify.expectation.rules`: 2Nmn + 1 nodes for Gaussian directions) gives its expectation
exactly; on a cubic cost the degree is 4 (a rule exact for degree 5: Gaussian, or the sphere rule
of degree 5 in :mod:`pgverify.expectation.rules`). Tiers as in :mod:`pgverify.expectation.lqr`.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import scalar
from pgverify.expectation.integrate import (
    DEFAULT_RELATIVE_ERROR,
    agree,
    arithmetic_name,
    integrate,
)
from pgverify.expectation.lqr import _flag, _positive_int
from pgverify.expectation.result import Expectation
from pgverify.expectation.rules import (
    DEFAULT_NODE_BUDGET,
    Factor,
    GaussianFactor,
    Key,
    SphereFactor,
    cubature,
)

DISTRIBUTIONS = ("gaussian", "sphere")


def directions_expectation(
    estimator: Callable[[np.ndarray], Any],
    shape: tuple[int, int],
    count: int,
    degree: int,
    *,
    distribution: str = "gaussian",
    variance: bool = False,
    arithmetic: str = "exact",
    node_budget: int = DEFAULT_NODE_BUDGET,
    relative_error: float = DEFAULT_RELATIVE_ERROR,
    check_degree: bool = False,
) -> Expectation:
    """The exact mean (and variance) of ``estimator(directions)`` over ``count`` independent
    directions of shape ``shape`` = (m, n), Gaussian or uniform on the unit sphere.

    ``degree``: the estimator's total degree in the directions (3 for the zeroth-order forms on a
    quadratic cost, 4 on a cubic one). The directions reach the estimator as an object array of
    Fractions (``arithmetic="exact"``) or float64 (``"float"``; every node is a float64). Other
    arguments as :func:`pgverify.expectation.lqr_expectation`."""
    if not callable(estimator):
        raise InvalidProblemError(f"estimator must be callable, got {estimator!r}")
    arithmetic = arithmetic_name(arithmetic)
    node_budget = _positive_int(node_budget, "node_budget")
    relative_error = float(scalar(relative_error, "relative_error", exact=False, positive=True))
    variance, check_degree = _flag(variance, "variance"), _flag(check_degree, "check_degree")
    if not isinstance(distribution, str) or distribution not in DISTRIBUTIONS:
        raise InvalidProblemError(
            f"distribution = {distribution!r}; expected one of {DISTRIBUTIONS}"
        )
    count = _positive_int(count, "count")
    if not isinstance(shape, tuple | list) or len(shape) != 2:
        raise InvalidProblemError(f"shape = {shape!r}; expected (m, n)")
    m, n = (_positive_int(s, "shape") for s in shape)
    size = m * n
    factors: list[Factor]
    if distribution == "gaussian":
        factors = [GaussianFactor.of(Fraction(1))] * (count * size)
    else:
        factors = [SphereFactor(size)] * count

    def evaluate(key: Key) -> Any:
        directions = np.empty(count * size, dtype=object)
        directions[:] = Fraction(0)
        for index, j in key:
            if distribution == "gaussian":
                directions[index] = j * factors[index].scale
            else:  # a unit vector of direction `index` (±e_a, or a point of the degree-5 rule)
                directions[index * size : (index + 1) * size] = factors[index].point(j)
        directions = directions.reshape(count, m, n)
        if arithmetic == "float":
            directions = directions.astype(np.float64)
        return estimator(directions)

    def run(rule_degree: int) -> Expectation:
        rule = cubature(factors, rule_degree, node_budget)
        return integrate(
            rule, evaluate, arithmetic=arithmetic, variance=variance, relative_error=relative_error
        )

    result = run(2 * degree if variance else degree)
    if check_degree:
        agree(result, run((2 * degree if variance else degree) + 2))
    return result
