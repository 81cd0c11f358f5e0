"""Symbolic derivations (sympy, tier exact): each identity of policy-gradient RL and LQR policy optimisation derived and proved for
concrete sizes with generic symbolic entries, and wrong variants refuted.

``derive(name, **sizes)`` runs one; ``available()`` lists them."""

from pgverify.symbolic.core import Derivation, available, derive

__all__ = ["Derivation", "available", "derive"]
