"""Reference estimators for policy-gradient RL (costs are minimised).

* :func:`discounted_returns` — discounted costs-to-go cut at episode ends;
* :func:`td_residuals` — one-step TD errors with termination;
* :func:`gae` — GAE(γ, λ) with ``terminated`` (no bootstrap) and ``truncated`` (bootstrap from the
  true next state, no trace across), TorchRL's semantics;
* :func:`lambda_returns` — the λ-returns (value targets) consistent with :func:`gae`;
* score-function estimators (:mod:`pgverify.estimators.policy_gradient`): V0, REINFORCE and its
  baselines for the LQR Gaussian policy and the tabular softmax policy;
* critic-based estimators (:mod:`pgverify.estimators.critic_gradient`): Ψ_t = Q, A, TD residual,
  GAE, given the critic evaluated along the batch;
* zeroth-order estimators (:func:`zeroth_order_estimate`): Gaussian, shifted, antithetic, sphere;
  the costs :func:`quadratic_cost` and :func:`cubic_cost` they are judged on;
* learned critics (:mod:`pgverify.estimators.critics`): batch TD(0) and LSTD(λ) with quadratic
  (LQR) or one-hot (tabular) features, and the TD-residual actor-critic estimate;
* Σ_K from rollouts and the data-driven natural gradient ∇̂C Σ̂⁻¹
  (:mod:`pgverify.estimators.covariance`).

Vectorised float64 references (tier: float), checked against exact rational implementations by
the property tests; the score-function and zeroth-order ones also compute exactly on Fraction
inputs. See docs/estimators.md.
"""

from pgverify.estimators.covariance import natural_gradient_estimate, state_covariance_estimate
from pgverify.estimators.critic_gradient import (
    critic_advantages,
    critic_estimate,
    gaussian_critic_pg,
    softmax_critic_pg,
)
from pgverify.estimators.critics import (
    lstd,
    lstd_statistics,
    one_hot_features,
    quadratic_value_features,
    quadratic_value_parameters,
    td0,
    td_actor_critic,
)
from pgverify.estimators.policy_gradient import (
    gaussian_reinforce,
    gaussian_scores,
    gaussian_v0,
    score_function_estimate,
    softmax_policy_table,
    softmax_reinforce,
    softmax_scores,
    softmax_v0,
)
from pgverify.estimators.returns import discounted_returns, gae, lambda_returns, td_residuals
from pgverify.estimators.zeroth_order import cubic_cost, quadratic_cost, zeroth_order_estimate

__all__ = [
    "critic_advantages",
    "critic_estimate",
    "cubic_cost",
    "discounted_returns",
    "gae",
    "gaussian_critic_pg",
    "gaussian_reinforce",
    "gaussian_scores",
    "gaussian_v0",
    "lambda_returns",
    "lstd",
    "lstd_statistics",
    "natural_gradient_estimate",
    "one_hot_features",
    "quadratic_cost",
    "quadratic_value_features",
    "quadratic_value_parameters",
    "score_function_estimate",
    "softmax_critic_pg",
    "softmax_policy_table",
    "softmax_reinforce",
    "softmax_scores",
    "softmax_v0",
    "state_covariance_estimate",
    "td0",
    "td_actor_critic",
    "td_residuals",
    "zeroth_order_estimate",
]
