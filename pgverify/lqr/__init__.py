"""LQR: the policy-optimisation oracle for linear quadratic regulators (see :class:`LQR`)."""

from pgverify.lqr.problem import LQR

__all__ = ["LQR"]
