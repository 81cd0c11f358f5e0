"""Judge an implementation in one call: ``check_<thing>(fn)`` runs ``fn`` on fixed and generated
cases, compares every result with a certified or exact reference under one tolerance policy
(:func:`assert_close`), shrinks a failure to a minimal case and names the slip when it recognises
one.  Signatures, options and how to read a failure: docs/checks.md.
"""

from pgverify.checks._compare import Comparison, assert_close
from pgverify.checks._driver import set_database, set_profile
from pgverify.checks._report import CheckReport
from pgverify.checks.estimators import (
    StatisticalReport,
    check_discounted_returns,
    check_gae,
    check_lambda_returns,
    check_td_residuals,
    check_unbiased,
)
from pgverify.checks.estimators_pg import ExpectationReport, ScenarioResult, check_pg_estimator
from pgverify.checks.estimators_softmax import check_softmax_pg_estimator
from pgverify.checks.estimators_zeroth import check_zeroth_order_estimator
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
from pgverify.checks.lspi import check_lspi_step
from pgverify.checks.mdp import (
    check_discounted_visitation,
    check_policy_evaluation,
    check_q_function,
    check_softmax_natural_gradient,
    check_softmax_policy_gradient,
)
from pgverify.checks.policies import (
    check_gaussian_fisher,
    check_gaussian_score,
    check_two_layer_score,
)
from pgverify.checks.trpo import (
    check_backtracking_line_search,
    check_conjugate_gradient,
    check_fisher_vector_product,
    check_gaussian_kl,
    check_trpo_step,
)

__all__ = [
    "CheckReport",
    "Comparison",
    "ExpectationReport",
    "ScenarioResult",
    "StatisticalReport",
    "assert_close",
    "check_backtracking_line_search",
    "check_conjugate_gradient",
    "check_discounted_returns",
    "check_discounted_visitation",
    "check_fisher_vector_product",
    "check_gae",
    "check_gauss_newton_step",
    "check_gaussian_fisher",
    "check_gaussian_kl",
    "check_gaussian_score",
    "check_lambda_returns",
    "check_lqr_cost",
    "check_lqr_gradient",
    "check_lspi_step",
    "check_lyapunov_solver",
    "check_natural_gradient_step",
    "check_optimal_gain",
    "check_pg_estimator",
    "check_policy_evaluation",
    "check_policy_gradient_step",
    "check_policy_iteration_step",
    "check_q_function",
    "check_riccati_solver",
    "check_softmax_natural_gradient",
    "check_softmax_pg_estimator",
    "check_softmax_policy_gradient",
    "check_td_residuals",
    "check_trpo_step",
    "check_two_layer_score",
    "check_unbiased",
    "check_zeroth_order_estimator",
    "set_database",
    "set_profile",
]
