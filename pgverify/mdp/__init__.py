"""Finite MDPs in exact arithmetic: evaluation, the policy gradient theorem, the relative
performance identity and an exact trajectory engine (tiers exact and certified)."""

from pgverify.mdp.evaluation import Evaluation, evaluate, finite_horizon_cost
from pgverify.mdp.gradients import (
    direct_gradient,
    performance_difference,
    softmax_gradient,
    softmax_policy,
)
from pgverify.mdp.model import FiniteMDP, tabular_policy
from pgverify.mdp.trajectories import (
    EnumerationTooLarge,
    batch_law,
    discounted_cost,
    enumeration_size,
    exact_moments,
    trajectories,
)

__all__ = [
    "EnumerationTooLarge",
    "Evaluation",
    "FiniteMDP",
    "batch_law",
    "direct_gradient",
    "discounted_cost",
    "enumeration_size",
    "evaluate",
    "exact_moments",
    "finite_horizon_cost",
    "performance_difference",
    "softmax_gradient",
    "softmax_policy",
    "tabular_policy",
    "trajectories",
]
