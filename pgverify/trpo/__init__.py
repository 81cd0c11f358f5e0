"""TRPO's machinery as references (Schulman et al. 2015, arXiv:1502.05477): conjugate gradient,
Fisher-vector products, the Gaussian KL, the maximal step and the backtracking line search, and
the natural gradient three ways (LQR, finite-MDP softmax).  Tiers exact (Fractions),
high-precision (mpmath digits) and float, chosen by ``precision=`` (see ``docs/trpo.md``).
The finite-MDP pieces (surrogate, expected KL and its Hessian, softmax Fisher) live in
:mod:`pgverify.mdp.trpo`.
"""

from pgverify.trpo.conjugate_gradient import (
    ConjugateGradientRun,
    conjugate_gradient,
    conjugate_gradient_run,
    float_rounding_allowance,
    residual_bound,
)
from pgverify.trpo.fisher import (
    linear_gaussian_fisher,
    linear_gaussian_fisher_vector_product,
    linear_gaussian_fisher_vector_product_from_moment,
    softmax_fisher_product,
    softmax_fisher_vector_product,
    state_second_moment,
    two_layer_gaussian_fisher,
    two_layer_gaussian_fisher_vector_product,
    two_layer_mean_jacobian,
)
from pgverify.trpo.kl import gaussian_kl
from pgverify.trpo.natural_gradient import (
    NaturalGradientRoutes,
    SoftmaxNaturalGradientRoutes,
    lqr_natural_gradient_three_ways,
    softmax_natural_gradient_three_ways,
)
from pgverify.trpo.step import (
    LineSearchOutcome,
    MaximalStep,
    Trial,
    backtracking_line_search,
    maximal_step,
    maximal_step_parts,
    natural_direction,
)

__all__ = [
    "ConjugateGradientRun",
    "LineSearchOutcome",
    "MaximalStep",
    "NaturalGradientRoutes",
    "SoftmaxNaturalGradientRoutes",
    "Trial",
    "backtracking_line_search",
    "conjugate_gradient",
    "conjugate_gradient_run",
    "float_rounding_allowance",
    "gaussian_kl",
    "linear_gaussian_fisher",
    "linear_gaussian_fisher_vector_product",
    "linear_gaussian_fisher_vector_product_from_moment",
    "lqr_natural_gradient_three_ways",
    "maximal_step",
    "maximal_step_parts",
    "natural_direction",
    "residual_bound",
    "softmax_fisher_product",
    "softmax_fisher_vector_product",
    "softmax_natural_gradient_three_ways",
    "state_second_moment",
    "two_layer_gaussian_fisher",
    "two_layer_gaussian_fisher_vector_product",
    "two_layer_mean_jacobian",
]
