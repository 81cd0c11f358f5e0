"""Finite MDPs in exact arithmetic: evaluation, the policy gradient theorem, the relative
performance identity, finite-horizon score-function estimators, Fisher matrices, TRPO's pieces
and an exact trajectory enumeration.

Tier exact: results are ``fractions.Fraction`` (vectors and tables: lists of them).  Tier
certified (softmax policies, irrational): results are :class:`pgverify.Enclosure` objects.
Every argument is validated by :mod:`pgverify.mdp.validation`; bad input raises
:class:`pgverify.InvalidProblemError` naming it.
"""

from pgverify.mdp import trpo
from pgverify.mdp.enumeration import (
    EnumerationTooLarge,
    batch_law,
    discounted_cost,
    enumeration_size,
    exact_moments,
    trajectories,
)
from pgverify.mdp.evaluation import Evaluation, evaluate, finite_horizon_cost
from pgverify.mdp.finite_horizon import finite_horizon_gradient, score_function_estimator
from pgverify.mdp.gradients import (
    direct_gradient,
    performance_difference,
    softmax_gradient,
    softmax_policy,
)
from pgverify.mdp.model import FiniteMDP, tabular_policy
from pgverify.mdp.policies import direct_fisher, direct_score, softmax_score

__all__ = [
    "EnumerationTooLarge",
    "Evaluation",
    "FiniteMDP",
    "batch_law",
    "direct_fisher",
    "direct_gradient",
    "direct_score",
    "discounted_cost",
    "enumeration_size",
    "evaluate",
    "exact_moments",
    "finite_horizon_cost",
    "finite_horizon_gradient",
    "performance_difference",
    "score_function_estimator",
    "softmax_gradient",
    "softmax_policy",
    "softmax_score",
    "tabular_policy",
    "trajectories",
    "trpo",
]
