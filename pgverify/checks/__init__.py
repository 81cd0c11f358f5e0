"""Judge an implementation in one call: ``check_<thing>(fn)`` runs ``fn`` on fixed and generated
cases, compares every result with a certified or exact reference under one tolerance policy
(:func:`assert_close`), shrinks a failure to a minimal case and names the slip when it recognises
one.  Signatures, options and how to read a failure: docs/checks.md.
"""

from pgverify.checks._compare import Comparison, assert_close
from pgverify.checks._driver import CheckReport, set_database, set_profile
from pgverify.checks.lqr import (
    check_gauss_newton_step,
    check_lqr_cost,
    check_lqr_gradient,
    check_lyapunov_solver,
    check_natural_gradient_step,
    check_optimal_gain,
    check_policy_gradient_step,
    check_policy_iteration_step,
    check_riccati_solver,
)

__all__ = [
    "CheckReport",
    "Comparison",
    "assert_close",
    "check_gauss_newton_step",
    "check_lqr_cost",
    "check_lqr_gradient",
    "check_lyapunov_solver",
    "check_natural_gradient_step",
    "check_optimal_gain",
    "check_policy_gradient_step",
    "check_policy_iteration_step",
    "check_riccati_solver",
    "set_database",
    "set_profile",
]
