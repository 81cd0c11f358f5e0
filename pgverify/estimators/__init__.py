"""Reference estimators for policy-gradient RL (costs are minimised): returns and advantages.

* :func:`discounted_returns` — discounted costs-to-go cut at episode ends;
* :func:`td_residuals` — one-step TD errors with termination;
* :func:`gae` — GAE(γ, λ) with ``terminated`` (no bootstrap) and ``truncated`` (bootstrap from the
  true next state, no trace across), TorchRL's semantics;
* :func:`lambda_returns` — the λ-returns (value targets) consistent with :func:`gae`.

Vectorised float64 references (tier: float), checked against exact rational implementations by
the property tests; see docs/estimators.md.
"""

from pgverify.estimators.returns import discounted_returns, gae, lambda_returns, td_residuals

__all__ = ["discounted_returns", "gae", "lambda_returns", "td_residuals"]
