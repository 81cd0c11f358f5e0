"""Definitions the derivations start from that are shared between the LQR and the finite-MDP
derivations.  Each derivation takes them as parameters (defaulting to these), so a test can hand
it a wrong definition and watch the proof fail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Bellman = Callable[[Any, Any, Any], Any]


def bellman_target(cost: Any, next_value: Any, gamma: Any) -> Any:
    """The one-step Bellman target ``c(x, u) + γ V(x')`` (costs are minimised): the right side
    of ``V(x) = E_u[c(x, u) + γ V(x')]`` and the definition ``Q(x, u) = c(x, u) + γ E V(x')``."""
    return cost + gamma * next_value
