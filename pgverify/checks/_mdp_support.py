"""What the finite-MDP checks share: the case context (the exact MDP, the policy, float64 pieces
for conditioning and slips), the fixed regression cases and the case generators.

Conventions (docs/checks.md): ``transitions[s, a, s']``, ``costs[s, a]`` (minimised),
``initial[s]``, ``policy[s, a]``, ``logits[s, a]`` (tabular softmax), γ ∈ (0, 1).  Generated
probabilities are dyadic (multiples of 1/16), so the float64 arrays the implementation receives
are the exact MDP the reference is computed for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.errors import InvalidProblemError
from pgverify.mdp import FiniteMDP

RENORMALISATION_TOLERANCE = 1e-12
"""Float probability rows of user cases may miss 1 by this much (float rounding); the reference
is then computed for the rows divided exactly by their sum."""


def exact_rows(values: np.ndarray, name: str) -> list:
    """Nested lists of Fractions whose last-axis rows are probability vectors: the floats
    exactly, renormalised exactly when they sum to 1 only up to float rounding."""
    array = np.asarray(values, dtype=float)
    if np.any(array < 0):
        raise InvalidProblemError(f"{name} has a negative probability; expected entries >= 0")

    def convert(row: np.ndarray) -> list[Fraction]:
        entries = [Fraction(float(x)) for x in row]
        total = sum(entries)
        if total != 1:
            if abs(float(total) - 1.0) > RENORMALISATION_TOLERANCE * max(len(entries), 1):
                raise InvalidProblemError(
                    f"{name} has a row summing to {float(total)!r}; expected probabilities "
                    "summing to 1"
                )
            entries = [entry / total for entry in entries]
        return entries

    if array.ndim == 1:
        return convert(array)
    return [exact_rows(part, name) for part in array]


def float_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass
class MDPContext:
    """One finite-MDP case: the exact model, the policy (a table or softmax logits) and float64
    pieces (never the reference)."""

    mdp: FiniteMDP
    transitions: np.ndarray
    costs: np.ndarray
    initial: np.ndarray
    gamma: float
    policy_table: Any = None
    """The exact policy rows (Fractions) for a tabular policy."""
    logits: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def states(self) -> int:
        return self.transitions.shape[0]

    @property
    def actions(self) -> int:
        return self.transitions.shape[1]

    @cached_property
    def pi(self) -> np.ndarray:
        if self.logits is not None:
            return float_softmax(self.logits)
        return np.array([[float(p) for p in row] for row in self.policy_table])

    def transition_of(self, pi: np.ndarray, tensor: np.ndarray | None = None) -> np.ndarray:
        """``P_π[s, t] = Σ_a π(a|s) P(t|s, a)``."""
        tensor = self.transitions if tensor is None else tensor
        return np.einsum("sa,sat->st", pi, tensor)

    def value_of(
        self, pi: np.ndarray, gamma: float | None = None, transition: Any = None
    ) -> np.ndarray:
        g = self.gamma if gamma is None else gamma
        P = self.transition_of(pi) if transition is None else transition
        return np.linalg.solve(np.eye(self.states) - g * P, (pi * self.costs).sum(axis=1))

    def q_of(self, V: np.ndarray, gamma: float | None = None, tensor: Any = None) -> np.ndarray:
        g = self.gamma if gamma is None else gamma
        tensor = self.transitions if tensor is None else tensor
        return self.costs + g * np.einsum("sat,t->sa", tensor, V)

    @cached_property
    def V(self) -> np.ndarray:
        return self.value_of(self.pi)

    @cached_property
    def Q(self) -> np.ndarray:
        return self.q_of(self.V)

    @cached_property
    def advantage(self) -> np.ndarray:
        return self.Q - self.V[:, None]

    def occupancy(self, initial: np.ndarray | None = None, transition: Any = None) -> np.ndarray:
        """Unnormalised ``Σ_t γ^t Pr(x_t = ·) = ρᵀ(I − γP_π)⁻¹``."""
        rho = self.initial if initial is None else initial
        P = self.transition_of(self.pi) if transition is None else transition
        return np.linalg.solve((np.eye(self.states) - self.gamma * P).T, rho)

    @cached_property
    def d(self) -> np.ndarray:
        """Normalised discounted visitation ``(1 − γ)Σ_t γ^t Pr(x_t = ·)``."""
        return (1.0 - self.gamma) * self.occupancy()

    @cached_property
    def softmax_gradient(self) -> np.ndarray:
        """``∂C/∂θ[s, a] = d(s) π(a|s) A(s, a)/(1 − γ)`` (Agarwal et al. 2021)."""
        return self.d[:, None] * self.pi * self.advantage / (1.0 - self.gamma)

    def optimal_value(self) -> np.ndarray:
        """V* by policy iteration in float64 (greedy = argmin over actions)."""
        greedy = np.zeros(self.states, dtype=int)
        for _ in range(100):
            pi = np.eye(self.actions)[greedy]
            V = self.value_of(pi)
            following = np.argmin(self.q_of(V), axis=1)
            if np.array_equal(following, greedy):
                return V
            greedy = following
        return V

    @cached_property
    def condition(self) -> float:
        """``‖(I − γP_π)⁻¹‖∞ ‖I − γP_π‖∞ ≤ (1 + γ)/(1 − γ)`` (P_π is stochastic), times S for
        the dimension-dependent constants."""
        return self.states * (1.0 + self.gamma) / (1.0 - self.gamma)

    @cached_property
    def value_scale(self) -> float:
        """A bound on |V| and |Q|: max |c| / (1 − γ)."""
        return float(np.max(np.abs(self.costs))) / (1.0 - self.gamma)


def build_context(arguments: Mapping[str, Any]) -> MDPContext:
    """Validate the case and build its exact model (InvalidProblemError naming the argument)."""
    transitions = np.asarray(arguments["transitions"], dtype=float)
    costs = np.asarray(arguments["costs"], dtype=float)
    if transitions.ndim != 3 or transitions.shape[0] != transitions.shape[2]:
        raise InvalidProblemError(f"transitions must have shape (S, A, S), got {transitions.shape}")
    S, A = transitions.shape[:2]
    if costs.shape != (S, A):
        raise InvalidProblemError(f"costs has shape {costs.shape}; expected ({S}, {A})")
    gamma = arguments["gamma"]
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.integer, np.floating)):
        raise InvalidProblemError(f"gamma must be a real number in (0, 1), got {gamma!r}")
    if not 0.0 < float(gamma) < 1.0:
        raise InvalidProblemError(f"gamma must lie in (0, 1), got {gamma!r}")
    if "initial" in arguments:
        initial = np.asarray(arguments["initial"], dtype=float)
        if initial.shape != (S,):
            raise InvalidProblemError(f"initial has shape {initial.shape}; expected ({S},)")
    else:
        initial = np.eye(S)[0]  # V and Q do not depend on it
    mdp = FiniteMDP.create(
        exact_rows(transitions, "transitions"),
        costs,
        float(gamma),
        exact_rows(initial, "initial"),
    )
    context = MDPContext(mdp, transitions, costs, initial, float(gamma))
    if "policy" in arguments:
        policy = np.asarray(arguments["policy"], dtype=float)
        if policy.shape != (S, A):
            raise InvalidProblemError(f"policy has shape {policy.shape}; expected ({S}, {A})")
        context.policy_table = exact_rows(policy, "policy")
    if "logits" in arguments:
        logits = np.asarray(arguments["logits"], dtype=float)
        if logits.shape != (S, A):
            raise InvalidProblemError(f"logits has shape {logits.shape}; expected ({S}, {A})")
        context.logits = logits
    return context


# --------------------------------------------------------------------------------------------
# Fixed regression cases
# --------------------------------------------------------------------------------------------


def _case(
    transitions: list, costs: list, initial: list, policy: list, logits: list, gamma: float
) -> dict[str, Any]:
    return {
        "transitions": np.array(transitions, dtype=float),
        "costs": np.array(costs, dtype=float),
        "initial": np.array(initial, dtype=float),
        "policy": np.array(policy, dtype=float),
        "logits": np.array(logits, dtype=float),
        "gamma": gamma,
    }


def mdp_regression_cases() -> list[tuple[str, dict[str, Any]]]:
    """(label, arguments) with transitions, costs, initial, policy, logits, gamma."""
    return [
        (
            "one state, one action",
            _case([[[1.0]]], [[2.0]], [1.0], [[1.0]], [[0.0]], 0.9),
        ),
        (
            "two-state chain, gamma = 0.5",
            _case(
                [[[0.0, 1.0], [1.0, 0.0]], [[0.5, 0.5], [0.0, 1.0]]],
                [[1.0, -1.0], [0.5, 2.0]],
                [0.75, 0.25],
                [[0.25, 0.75], [0.5, 0.5]],
                [[0.5, -0.5], [1.0, 0.0]],
                0.5,
            ),
        ),
        (
            "three states, two actions, gamma = 0.99",
            _case(
                [
                    [[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]],
                    [[0.125, 0.875, 0.0], [0.25, 0.25, 0.5]],
                    [[0.0, 0.0, 1.0], [0.75, 0.125, 0.125]],
                ],
                [[1.0, 0.25], [-0.5, 1.5], [2.0, 0.0]],
                [0.5, 0.25, 0.25],
                [[0.5, 0.5], [0.125, 0.875], [1.0, 0.0]],
                [[1.0, -1.0], [0.25, 0.5], [-2.0, 1.5]],
                0.99,
            ),
        ),
        (
            "absorbing state and an unreachable state",
            _case(
                [
                    [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]],
                    [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
                    [[0.25, 0.25, 0.5], [0.0, 0.0, 1.0]],
                ],
                [[1.0, 2.0], [0.0, 0.0], [-1.0, 3.0]],
                [1.0, 0.0, 0.0],
                [[0.75, 0.25], [0.5, 0.5], [0.5, 0.5]],
                [[0.0, 0.25], [1.0, -1.0], [0.5, 0.5]],
                0.9,
            ),
        ),
        (
            "four states, three actions, large mixed-sign costs",
            _case(
                [
                    [[0.25, 0.25, 0.25, 0.25], [1.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5]],
                    [[0.0, 0.0, 0.5, 0.5], [0.125, 0.375, 0.25, 0.25], [0.0, 1.0, 0.0, 0.0]],
                    [[0.5, 0.0, 0.0, 0.5], [0.0, 0.0, 1.0, 0.0], [0.25, 0.25, 0.0, 0.5]],
                    [[0.0, 0.25, 0.75, 0.0], [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]],
                ],
                [[100.0, -50.0, 0.5], [-8.0, 3.0, 1.0], [0.0, 250.0, -1.0], [4.0, -4.0, 16.0]],
                [0.25, 0.25, 0.25, 0.25],
                [[0.5, 0.25, 0.25], [0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [0.125, 0.125, 0.75]],
                [[0.0, 1.0, -1.0], [2.0, 0.0, 0.5], [-0.5, -0.5, 3.0], [0.25, 0.0, -2.0]],
                0.75,
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------
# Generated cases
# --------------------------------------------------------------------------------------------

STATES = st.integers(1, 4)
ACTIONS = st.integers(1, 3)
DISCOUNTS = st.sampled_from([0.5, 0.9, 0.75, 0.99])


@st.composite
def dyadic_distributions(draw: st.DrawFn, size: int) -> list[float]:
    """Probability vectors of multiples of 1/16 (exact in float64); the last entry takes the
    remainder, so shrinking moves all mass to it."""
    weights = draw(st.lists(st.integers(0, 5), min_size=size - 1, max_size=size - 1))
    return [w / 16 for w in weights] + [1.0 - sum(weights) / 16]


@st.composite
def mdp_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """transitions, costs, initial, policy, logits and gamma of a random finite MDP."""
    S, A = draw(STATES), draw(ACTIONS)
    transitions = [[draw(dyadic_distributions(S)) for _ in range(A)] for _ in range(S)]
    costs = draw(st.lists(st.integers(-8, 8), min_size=S * A, max_size=S * A))
    logits = draw(st.lists(st.integers(-12, 12), min_size=S * A, max_size=S * A))
    return {
        "transitions": np.array(transitions, dtype=float),
        "costs": np.array(costs, dtype=float).reshape(S, A) / 4,
        "initial": np.array(draw(dyadic_distributions(S)), dtype=float),
        "policy": np.array([draw(dyadic_distributions(A)) for _ in range(S)], dtype=float),
        "logits": np.array(logits, dtype=float).reshape(S, A) / 4,
        "gamma": draw(DISCOUNTS),
    }


def keep(arguments: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: arguments[name] for name in names}


def repair_distributions(arguments: dict[str, Any]) -> dict[str, Any]:
    """After a state or action was deleted: the deleted mass moves to the first entry (exact for
    dyadic probabilities), so every row is a distribution again."""
    repaired = dict(arguments)
    for name in ("transitions", "initial", "policy"):
        if name in repaired:
            array = np.array(repaired[name], dtype=float)
            if array.size == 0:
                return repaired
            missing = 1.0 - array.sum(axis=-1)
            array[..., 0] += missing
            repaired[name] = array
    return repaired
