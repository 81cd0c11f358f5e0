"""The result of an exact expectation: the mean (and variance), how it was obtained, its tier."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Expectation:
    """``mean`` (and ``variance`` when requested, entrywise) of an estimator, as numpy object
    arrays of Fractions (0-d for a scalar estimator).

    * ``tier == "exact"``: the estimator was evaluated in exact rational arithmetic at the nodes of
      a rule exact for its degree (or on every trajectory of a finite MDP): ``mean`` *is* the
      expectation; ``rounding_tolerance`` is 0.
    * ``tier == "float"``: the estimator was evaluated in float64 at the nodes; the weighted sum
      is exact, so ``mean`` is the exact expectation of the float function the rule saw, and
      ``|mean − E| ≤ rounding_tolerance`` (entrywise) holds **under the stated assumption** that
      each evaluation errs by at most ``relative_error · max_entry |f(node)|`` (see
      :func:`pgverify.expectation.lqr_expectation`); this is not proved.

    ``nodes`` is the number of evaluations, ``rule`` describes the rule (or the enumeration).
    """

    mean: np.ndarray
    variance: np.ndarray | None
    nodes: int
    rule: str
    tier: str
    rounding_tolerance: float = 0.0

    def mean_float(self) -> np.ndarray:
        """The mean rounded to float64 (for display)."""
        return np.asarray(self.mean, dtype=float)


def to_fraction_array(value: Any, name: str) -> np.ndarray:
    """An estimator's output (exact or float) as an object array of Fractions (exact
    conversion: a float64 is a dyadic rational)."""
    from pgverify.estimators.arrays import numeric_array

    array = np.asarray(value)
    return numeric_array(array, name, array.shape, exact=True)


def zeros_like_fraction(shape: tuple[int, ...]) -> np.ndarray:
    result = np.empty(shape, dtype=object)
    result.ravel()[:] = [Fraction(0)] * int(np.prod(shape, dtype=int))
    return result
