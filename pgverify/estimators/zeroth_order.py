"""Zeroth-order (derivative-free) gradient estimators of a cost C(K) over gains K (m, n).

Given N directions ``d_i`` (an array N × m × n) and the smoothing scale μ:

* ``"gaussian"``:         ``mean_i C(K + μ ε_i) ε_i / μ``, ε_i ~ N(0, I);
* ``"gaussian_shifted"``: ``mean_i (C(K + μ ε_i) − C(K)) ε_i / μ`` (the same mean, less variance);
* ``"antithetic"``:       ``mean_i (C(K + μ ε_i) − C(K − μ ε_i)) ε_i / (2μ)``;
* ``"sphere"``:           ``(mn / r) mean_i C(K + r u_i) u_i``, u_i uniform on the unit sphere of
  R^{m×n} and μ = r the radius (Fazel, Ge, Kakade & Mesbahi, ICML 2018, Algorithm 1).

Each Gaussian form has mean ``∇C_μ(K)``, the gradient of the smoothed cost ``C_μ(K) = E C(K +
μ ε)`` (Nesterov & Spokoiny 2017); the sphere form has mean the gradient of the ball-smoothed
cost (Flaxman, Kalai & McMahan 2005). For a quadratic C both equal ∇C(K) exactly, at every μ;
for a cubic C (:func:`cubic_cost`) they differ from ∇C(K) by the known O(μ²) smoothing term
(:func:`pgverify.expectation.smoothed_gradient`).

The coefficient arrays of :func:`quadratic_cost` and :func:`cubic_cost` index the entries of K
in **row-major** order, ``k = K.ravel()``: ``k[i·n + j] = K[i, j]`` — not the column-major
``vec`` of docs/mathematics.md (``vec(K)[i + m·j] = K[i, j]``). The order is kept row-major
for users' existing coefficient arrays; ``K.ravel(order="F")`` is the column-major vec.

Tier: float for float64 inputs; exact when ``K`` or ``directions`` are object arrays of
Fractions and ``cost`` returns exact values (the exact-expectation engine's use). See
docs/estimators.md, section 5.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from pgverify.errors import InvalidProblemError
from pgverify.estimators.arrays import is_exact, numeric_array, scalar

ZEROTH_ORDER_KINDS = ("gaussian", "gaussian_shifted", "antithetic", "sphere")
UNIT_NORM_TOLERANCE = 1e-9
"""Float directions for ``"sphere"`` must have |‖u‖ − 1| ≤ this (exact ones: ‖u‖ = 1 exactly)."""


def zeroth_order_estimate(
    cost: Callable[[np.ndarray], Any], K: Any, directions: Any, smoothing: Any, kind: str
) -> np.ndarray:
    """The zeroth-order estimate of ∇C(K) of the given ``kind``, shape (m, n).

    Args:
        cost: C, called on gains of shape (m, n) and returning a real number.
        K: the gain (m, n).
        directions: (N, m, n): Gaussian samples ε_i, or unit vectors u_i for ``"sphere"``.
        smoothing: μ > 0, the Gaussian perturbation's standard deviation or the sphere's radius.
        kind: one of ``"gaussian"``, ``"gaussian_shifted"``, ``"antithetic"``, ``"sphere"``.

    Raises:
        InvalidProblemError: a bad kind, shape, μ, a non-unit sphere direction or a cost that is
            not a real number.
    """
    if not callable(cost):
        raise InvalidProblemError(f"cost must be a callable C(K), got {cost!r}")
    if not isinstance(kind, str) or kind not in ZEROTH_ORDER_KINDS:
        raise InvalidProblemError(f"kind = {kind!r}; expected one of {ZEROTH_ORDER_KINDS}")
    exact = is_exact(K, directions)
    gain = numeric_array(K, "K", (None, None), exact=exact)
    m, n = gain.shape
    steps = numeric_array(directions, "directions", (None, None, None), exact=exact)
    count = steps.shape[0]
    if steps.shape[1:] != (m, n) or count < 1:
        raise InvalidProblemError(
            f"directions has shape {steps.shape} and K {gain.shape}; expected directions "
            f"(N, m, n) with N >= 1 and K (m, n)"
        )
    mu = scalar(smoothing, "smoothing", exact=exact, positive=True)

    def evaluate(point: np.ndarray) -> Any:
        value = cost(point)
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        return scalar(value, "cost(K)", exact=exact)

    if kind == "sphere":
        norms = (steps * steps).sum(axis=(1, 2))
        tolerance = 0 if exact else UNIT_NORM_TOLERANCE
        off = [i for i, v in enumerate(norms) if abs(v - 1) > tolerance]
        if off:
            raise InvalidProblemError(
                f"directions[{off[0]}] has squared norm {float(norms[off[0]])!r}; the sphere "
                f"estimator expects unit directions"
            )
    centre = evaluate(gain) if kind == "gaussian_shifted" else 0
    terms = []
    for step in steps:
        if kind == "antithetic":
            weight = (evaluate(gain + mu * step) - evaluate(gain - mu * step)) / (2 * mu)
        elif kind == "sphere":
            weight = evaluate(gain + mu * step) * (m * n) / mu
        else:
            weight = (evaluate(gain + mu * step) - centre) / mu
        terms.append(weight * step)
    return sum(terms[1:], terms[0]) / count


def quadratic_cost(hessian: Any, gradient: Any, constant: Any = 0) -> Callable[[np.ndarray], Any]:
    """``C(K) = ½ kᵀ H k + gᵀk + c`` with ``k = K.ravel()`` **row-major**
    (``k[i·n + j] = K[i, j]``, not the column-major vec of docs/mathematics.md), so ∇C(K) =
    (H k + g) reshaped to (m, n) row-major (H symmetric): the cost on which every zeroth-order
    form is exactly unbiased. ``gradient`` g (d,), ``hessian`` H (d, d), ``constant`` c,
    d = mn; exact with Fraction data (object arrays). docs/estimators.md, section 5."""
    exact = is_exact(hessian, gradient)
    g = numeric_array(gradient, "gradient", (None,), exact=exact)
    size = g.shape[0]
    H = numeric_array(hessian, "hessian", (size, size), exact=exact)
    offset = scalar(constant, "constant", exact=exact)

    def cost(K: np.ndarray) -> Any:
        k = np.asarray(K).reshape(-1)
        if k.shape != (size,):
            raise InvalidProblemError(
                f"K has {k.size} entries; this quadratic cost is defined on {size} (len(gradient))"
            )
        return (k @ H @ k) / 2 + (g @ k) + offset

    return cost


def _exact(array: np.ndarray) -> np.ndarray:
    """An array as Fractions (floats convert exactly)."""
    return np.vectorize(Fraction, otypes=[object])(array) if array.dtype != object else array


class PolynomialCost:
    """``C(K) = Σ_ijk c_ijk k_i k_j k_k + ½ kᵀ H k + gᵀ k + c`` with ``k = K.ravel()``
    (row-major: ``k[i·n + j] = K[i, j]``): the callable :func:`cubic_cost` returns. Its
    ``repr`` rebuilds it exactly (float64 data) once ``pgverify`` is imported; exact on object
    arrays of Fractions, float64 on float input."""

    def __init__(
        self, coefficients: np.ndarray, hessian: np.ndarray, gradient: np.ndarray, constant: Any
    ) -> None:
        self.coefficients = coefficients
        self.hessian = hessian
        self.gradient = gradient
        self.constant = constant

    @property
    def size(self) -> int:
        """d = mn, the number of entries of the gains it takes."""
        return int(self.gradient.shape[0])

    @property
    def is_quadratic(self) -> bool:
        return not np.any(self.coefficients != 0)

    def __call__(self, K: Any) -> Any:
        k = np.asarray(K).reshape(-1)
        if k.shape != (self.size,):
            raise InvalidProblemError(
                f"K has {k.size} entries; this cost is defined on {self.size} (len(gradient))"
            )
        if k.dtype == object:
            c, H, g = (_exact(a) for a in (self.coefficients, self.hessian, self.gradient))
            constant: Any = Fraction(self.constant)
        else:
            c, H, g, constant = self.coefficients, self.hessian, self.gradient, self.constant
        cubic = ((c @ k) @ k) @ k
        return cubic + (k @ H @ k) / 2 + (g @ k) + constant

    def __repr__(self) -> str:
        from pgverify.checks._format import python_literal  # printing only

        return (
            f"pgverify.estimators.cubic_cost({python_literal(np.asarray(self.coefficients))}, "
            f"{python_literal(np.asarray(self.hessian))}, "
            f"{python_literal(np.asarray(self.gradient))}, {float(self.constant)!r})"
        )


def cubic_cost(coefficients: Any, hessian: Any, gradient: Any, constant: Any = 0) -> PolynomialCost:
    """``C(K) = Σ_ijk c_ijk k_i k_j k_k + ½ kᵀ H k + gᵀk + c`` with ``k = K.ravel()``
    **row-major** (``k[i·n + j] = K[i, j]``, not the column-major vec of docs/mathematics.md): a
    cost on which the zeroth-order forms carry the known O(μ²) smoothing bias (a quadratic when
    every c_ijk is 0). ``coefficients`` c (d, d, d), ``hessian`` H (d, d) symmetric, ``gradient`` g
    (d,), ``constant`` c; d = mn. Float64 data (or Fractions, as object arrays, for exact
    values). Gradient and smoothed gradient: :func:`pgverify.expectation.smoothed_gradient`
    (Nesterov & Spokoiny 2017; Flaxman, Kalai & McMahan 2005)."""
    exact = is_exact(coefficients, hessian, gradient)
    g = numeric_array(gradient, "gradient", (None,), exact=exact)
    size = g.shape[0]
    if size < 1:
        raise InvalidProblemError("gradient has no entries; expected a vector of length d = mn")
    H = numeric_array(hessian, "hessian", (size, size), exact=exact)
    if np.any(H != H.T):
        raise InvalidProblemError(f"hessian is not symmetric: {H!r}; expected H = Hᵀ")
    c = numeric_array(coefficients, "coefficients", (size, size, size), exact=exact)
    return PolynomialCost(c, H, g, scalar(constant, "constant", exact=exact))
