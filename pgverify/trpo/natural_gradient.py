"""The LQR natural gradient three ways (Kakade 2001; Fazel et al. 2018, §4):

1. closed form ``∇C(K) Σ_K⁻¹ = 2 E_K`` (:meth:`pgverify.LQR.natural_gradient`);
2. explicit Fisher solve: for the Gaussian policy ``N(−Kx, σI)`` with state second moment Σ_K,
   ``F = σ⁻¹ (Σ_K ⊗ I_m)`` (:func:`pgverify.trpo.fisher.linear_gaussian_fisher`) and
   ``F⁻¹ vec(∇C) = σ vec(∇C Σ_K⁻¹)``, so the natural gradient is ``σ⁻¹ F⁻¹ vec(∇C)``;
3. conjugate gradient on ``F x = vec(∇C)`` with the Fisher-vector products
   ``v ↦ σ⁻¹ vec(V Σ_K)``, m·n iterations (CG's finite termination), divided by σ.

σ cancels from routes 2 and 3: any positive variance gives the same natural gradient.  All three
run at the same mpmath precision; see ``docs/trpo.md`` for their measured agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np

from pgverify.trpo.conjugate_gradient import conjugate_gradient_run
from pgverify.trpo.fisher import (
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product_from_moment,
)
from pgverify.trpo.numbers import count, field_for, positive_scalar, unvec, vec
from pgverify.trpo.step import natural_direction


@dataclass(frozen=True)
class NaturalGradientRoutes:
    """The three (m, n) natural gradients (object arrays of mpf) and the CG steps taken."""

    closed_form: np.ndarray
    fisher_solve: np.ndarray
    conjugate_gradient: np.ndarray
    conjugate_gradient_steps: int

    def largest_relative_gap(self) -> Any:
        """``max ‖route − closed form‖_max / ‖closed form‖_max`` over routes 2 and 3."""
        scale = max(abs(entry) for entry in self.closed_form.flat)
        scale = scale if scale else mpmath.mpf(1)
        return max(
            max(abs(a - b) for a, b in zip(route.flat, self.closed_form.flat, strict=True)) / scale
            for route in (self.fisher_solve, self.conjugate_gradient)
        )


def lqr_natural_gradient_three_ways(
    problem: Any, K: Any, *, sigma: Any = 1, digits: int = 50
) -> NaturalGradientRoutes:
    """The natural gradient of ``problem`` (a :class:`pgverify.LQR`) at the stabilising gain K,
    by the closed form, the explicit Fisher solve and CG with Fisher-vector products, each at
    ``digits`` decimal digits (tier high-precision).  ``sigma`` is the policy variance of the
    Fisher matrix (it cancels)."""
    field = field_for(count(digits, "digits", minimum=1))
    with field.context():
        variance = positive_scalar(field, sigma, "sigma")
        covariance = field.array(problem.state_covariance(K, precision=digits), "Sigma_K", 2)
        gradient = field.array(problem.gradient(K, precision=digits), "grad C", 2)
        closed = field.array(problem.natural_gradient(K, precision=digits), "natural", 2)
        m, n = gradient.shape
        flat_gradient = vec(gradient)
        fisher = linear_gaussian_fisher(covariance, variance, m, precision=digits)
        solved = natural_direction(flat_gradient, fisher, precision=digits)
        run = conjugate_gradient_run(
            lambda v: linear_gaussian_fisher_vector_product_from_moment(
                covariance, variance, v, m, precision=digits
            ),
            flat_gradient,
            m * n,
            precision=digits,
        )
        return NaturalGradientRoutes(
            field.export(closed),
            field.export(unvec(solved, m, n) / variance),
            field.export(unvec(run.solution, m, n) / variance),
            run.steps,
        )
