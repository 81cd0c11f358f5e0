"""Exact expectations of estimators, their targets, and a statistical fallback.

* :func:`lqr_expectation` — the exact mean (and variance) of an estimator over LQR rollouts with
  Gaussian initial state and exploration noise, by a rational cubature rule exact for the
  estimator's polynomial degree (tier exact; float evaluations get a stated rounding tolerance);
* :func:`directions_expectation` — the same over the random directions of zeroth-order
  estimators (Gaussian or on the sphere);
* :func:`mdp_expectation` — the same over finite-MDP trajectory batches, by enumeration;
  :func:`additive_moments` — mean and variance of additive statistics by dynamic programming;
* targets — :func:`lqr_gradient_target`, :func:`softmax_gradient_target`,
  :func:`batch_mean_baseline_expectation`, :func:`quadratic_gradient`,
  :func:`smoothed_gradient` (zeroth order on cubic costs);
* the exact critic of a policy — :func:`lqr_critic`, :func:`mdp_critic` (finite horizon),
  :func:`lqr_discounted_critic`, :func:`mdp_discounted_critic` (discounted, stationary) — for the
  critic-based estimators;
* learned critics and covariance estimates — :func:`discounted_state_moment`,
  :func:`critic_gradient_expectation`, :func:`critic_error_bias`, :func:`population_lstd`,
  :func:`population_lstd_tabular` (docs/estimators.md, section 8);
* :func:`stability_radius` — the certified radius of gain perturbations that keep A − BK stable
  (the sphere-smoothing rule of zeroth-order estimators);
* :func:`statistical_test` — a seeded t-test with a stated false-alarm probability and the
  smallest detectable bias, for estimators that cannot be weighed exactly.

See docs/estimators.md, section 6.
"""

from pgverify.expectation.actor_critic import (
    critic_error_bias,
    critic_gradient_expectation,
    discounted_state_moment,
    population_lstd,
    population_lstd_tabular,
)
from pgverify.expectation.critic import (
    lqr_critic,
    lqr_discounted_critic,
    mdp_critic,
    mdp_discounted_critic,
)
from pgverify.expectation.lqr import lqr_expectation
from pgverify.expectation.mdp import additive_moments, mdp_expectation
from pgverify.expectation.result import Expectation
from pgverify.expectation.rules import CubatureTooLarge, cubature
from pgverify.expectation.stability import stability_radius
from pgverify.expectation.statistical import StatisticalVerdict, statistical_test
from pgverify.expectation.targets import (
    batch_mean_baseline_expectation,
    lqr_gradient_target,
    quadratic_gradient,
    smoothed_gradient,
    softmax_gradient_target,
)
from pgverify.expectation.zeroth_order import directions_expectation

__all__ = [
    "CubatureTooLarge",
    "Expectation",
    "StatisticalVerdict",
    "additive_moments",
    "batch_mean_baseline_expectation",
    "critic_error_bias",
    "critic_gradient_expectation",
    "cubature",
    "directions_expectation",
    "discounted_state_moment",
    "lqr_critic",
    "lqr_discounted_critic",
    "lqr_expectation",
    "lqr_gradient_target",
    "mdp_critic",
    "mdp_discounted_critic",
    "mdp_expectation",
    "population_lstd",
    "population_lstd_tabular",
    "quadratic_gradient",
    "smoothed_gradient",
    "softmax_gradient_target",
    "stability_radius",
    "statistical_test",
]
