"""``pgverify derive NAME --check``: a derived expression evaluated exactly at a random problem
and compared with the certified numeric oracle (:class:`pgverify.LQR` at ``"certified"``).

The problem is drawn inside the derivation's domain with power-of-2 denominators, so float64
holds its data exactly and the oracle solves the very same problem; the symbolic side is exact
(rational), so the check is that the oracle's enclosure *contains* it
(:meth:`pgverify.Enclosure.contains`).  A miss means one of the two worlds is wrong.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.core import Derivation
from pgverify.symbolic.domain import LQRPoint, assign, sample_lqr


@dataclass(frozen=True)
class OracleLink:
    """A derived quantity (key of ``Derivation.derived``: a sympy expression, or a function of
    the symbols' exact values) and the oracle call computing the same quantity."""

    derived: str
    oracle_name: str
    oracle: Callable[[Any, LQRPoint], Any]


@dataclass
class Comparison:
    derived: str
    oracle_name: str
    exact: Any
    enclosure: Any
    contained: bool

    def to_text(self) -> str:
        verdict = "contained" if self.contained else "NOT CONTAINED"
        return (
            f"  {self.derived} vs {self.oracle_name}: exact value {verdict} in the certified "
            f"enclosure (radius <= {self.enclosure.max_radius:.1e})"
        )


def _gain(point: LQRPoint, name: str = "K") -> np.ndarray:
    return _floats(getattr(point, name))


LINKS: dict[str, tuple[dict[str, bool], list[OracleLink]]] = {
    "natural-gradient": (
        {},
        [
            OracleLink(
                "gradient",
                'LQR.gradient(K, "certified")',
                lambda lqr, p: lqr.gradient(_gain(p), "certified"),
            ),
            OracleLink(
                "fisher_natural_gradient_over_sigma",
                'LQR.natural_gradient(K, "certified")',
                lambda lqr, p: lqr.natural_gradient(_gain(p), "certified"),
            ),
            OracleLink(
                "gauss_newton_half",
                'LQR.gauss_newton_step(K, 0.5, "certified")',
                lambda lqr, p: lqr.gauss_newton_step(_gain(p), 0.5, "certified"),
            ),
            OracleLink(
                "gauss_newton_half",
                'LQR.policy_iteration_step(K, "certified")',
                lambda lqr, p: lqr.policy_iteration_step(_gain(p), "certified"),
            ),
        ],
    ),
    "gradient-direct": (
        {},
        [
            OracleLink(
                "gradient",
                'LQR.gradient(K, "certified")',
                lambda lqr, p: lqr.gradient(_gain(p), "certified"),
            ),
        ],
    ),
    "gradient-discounted-noisy": (
        {"discounted": True, "noisy": True},
        [
            OracleLink(
                "gradient",
                'LQR(gamma, noise).gradient(K, "certified")',
                lambda lqr, p: lqr.gradient(_gain(p), "certified"),
            ),
        ],
    ),
    "cost-difference": (
        {},
        [
            OracleLink(
                "cost_difference",
                'LQR.cost_difference(K, K2, "certified")',
                lambda lqr, p: lqr.cost_difference(_gain(p), _gain(p, "K2"), "certified"),
            ),
        ],
    ),
    "relative-performance-lqr": (
        {"discounted": True, "noisy": True},
        [
            OracleLink(
                "cost_difference",
                'LQR.cost_difference(K, K2, "certified")',
                lambda lqr, p: lqr.cost_difference(_gain(p), _gain(p, "K2"), "certified"),
            ),
        ],
    ),
}


def _all_sizes_links() -> dict[str, tuple[dict[str, bool], list[OracleLink]]]:
    """The proofs for every n, m (``all-sizes-...``) are checked at n = m = 2, on the same
    oracle calls as their fixed-size cross-checks."""
    noisy = {"discounted": True, "noisy": True}
    gradient, natural, gauss_newton, difference = (
        LINKS[name][1]
        for name in ("gradient-direct", "natural-gradient", "natural-gradient", "cost-difference")
    )
    return {
        "all-sizes-gradient": ({}, gradient),
        "all-sizes-gradient-discounted-noisy": (noisy, LINKS["gradient-discounted-noisy"][1]),
        "all-sizes-natural-gradient": (
            noisy,
            [
                OracleLink(
                    "natural_gradient",
                    'LQR(gamma, noise).natural_gradient(K, "certified")',
                    natural[1].oracle,
                )
            ],
        ),
        "all-sizes-gauss-newton": (noisy, gauss_newton[2:]),
        "all-sizes-cost-forms": (
            noisy,
            [
                OracleLink(
                    "cost",
                    'LQR(gamma, noise).cost(K, "certified")',
                    lambda lqr, p: lqr.cost(_gain(p), "certified"),
                )
            ],
        ),
        "all-sizes-cost-difference": (
            noisy,
            [OracleLink("cost_difference", difference[0].oracle_name, difference[0].oracle)],
        ),
    }


LINKS.update(_all_sizes_links())
ALL_SIZES_CHECKED_AT = {"n": 2, "m": 2}


def _floats(matrix: sympy.Matrix) -> np.ndarray:
    """A dyadic rational matrix as float64, exactly (refusing anything float64 cannot hold)."""
    values = np.array([[float(entry) for entry in row] for row in matrix.tolist()])
    for value, entry in zip(values.ravel(), list(matrix), strict=True):
        if sympy.Rational(Fraction(value)) != entry:
            raise ArithmeticError(f"{entry} is not exact in float64")
    return values


def _exact(value: Any) -> Any:
    """A sympy Rational (matrix) as Fractions (an object array for a matrix)."""
    if isinstance(value, sympy.MatrixBase):
        return np.array(
            [[Fraction(int(e.p), int(e.q)) for e in row] for row in value.tolist()], dtype=object
        )
    return Fraction(int(value.p), int(value.q))


def check(result: Derivation, seed: int = 0) -> list[Comparison]:
    """Compare ``result``'s derived quantities at one random problem with the certified oracle."""
    from pgverify import LQR

    if result.name not in LINKS or not result.derived:
        raise InvalidProblemError(
            f"derivation {result.name!r} has no link to a numeric oracle; --check supports "
            f"{sorted(LINKS)}"
        )
    options, links = LINKS[result.name]
    sizes = result.sizes or ALL_SIZES_CHECKED_AT
    n, m = sizes["n"], sizes["m"]
    point = sample_lqr(random.Random(seed), n, m, dyadic=True, **options)
    substitution: dict[Any, Any] = {}
    for field_name, symbolic in result.derived["symbols"].items():
        value = getattr(point, field_name)
        if isinstance(symbolic, sympy.Symbol):
            substitution[symbolic] = value
        else:
            substitution.update(assign(symbolic, value))
    lqr = LQR(
        _floats(point.A),
        _floats(point.B),
        _floats(point.Q),
        _floats(point.R),
        _floats(point.Sigma0),
        gamma=float(point.gamma),
        noise=float(point.sigma),
    )
    comparisons = []
    for link in links:
        expression = result.derived[link.derived]
        if callable(expression):  # evaluated by the derivation itself (e.g. on polynomials)
            exact = expression(substitution)
        elif isinstance(expression, sympy.MatrixBase):
            exact = expression.xreplace(substitution).applyfunc(sympy.cancel)
        else:
            exact = sympy.cancel(expression.xreplace(substitution))
        enclosure = link.oracle(lqr, point)
        comparisons.append(
            Comparison(
                link.derived, link.oracle_name, exact, enclosure, enclosure.contains(_exact(exact))
            )
        )
    return comparisons
