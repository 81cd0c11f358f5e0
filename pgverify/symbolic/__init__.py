"""Symbolic derivations (sympy, tier exact): each identity of policy-gradient RL and LQR policy optimisation derived and proved for
concrete sizes with generic symbolic entries, and wrong variants refuted.

``derive(name, **sizes)`` runs one; ``available()`` lists them.  The building blocks are public
for users' own derivation scripts (docs/symbolic-toolkit.md): generic symbolic problems
(``symbolic_lqr``, ``symbolic_mdp``), policies (``linear_gaussian_policy``,
``two_layer_gaussian_policy``, ``softmax_policy``) with their quantities as sympy expressions,
domains (``assume`` and the objects' ``domain()``), and ``prove(lhs, rhs, assumptions)``."""

from pgverify.symbolic.assumptions import Assumption, assume
from pgverify.symbolic.core import Derivation, available, derive
from pgverify.symbolic.policy_models import (
    LinearGaussianPolicy,
    SoftmaxPolicy,
    TwoLayerGaussianPolicy,
    linear_gaussian_policy,
    softmax_policy,
    two_layer_gaussian_policy,
)
from pgverify.symbolic.problems import SymbolicLQR, SymbolicMDP, symbolic_lqr, symbolic_mdp
from pgverify.symbolic.proving import prove

__all__ = [
    "Assumption",
    "Derivation",
    "LinearGaussianPolicy",
    "SoftmaxPolicy",
    "SymbolicLQR",
    "SymbolicMDP",
    "TwoLayerGaussianPolicy",
    "assume",
    "available",
    "derive",
    "linear_gaussian_policy",
    "prove",
    "softmax_policy",
    "symbolic_lqr",
    "symbolic_mdp",
    "two_layer_gaussian_policy",
]
