"""Hypothesis strategies for property tests of policy-optimisation code (public API).

The generators *build* valid cases instead of filtering them, so that shrinking stays inside the
valid set and no health check trips:

* :func:`lqr_problems` — stabilisable LQR problems, by construction ``A = A_cl + B K₀`` with
  ``‖A_cl‖₂ ≤ 0.9``, so that K₀ is a known stabilising gain;
* :func:`lqr_problems_with_gains` — a problem and a stabilising gain K with ρ(A − BK) ≤ 0.95;
* :func:`stabilizing_gains` — stabilising gains of a given problem;
* :func:`finite_mdps`, :func:`tabular_policies`, :func:`softmax_logits` — finite MDPs with exact
  rational data and their policies.

Entries are multiples of 1/8 (then scaled), so shrunk counterexamples are readable.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.lqr import LQR

MAX_CLOSED_LOOP_NORM = 0.9
MAX_SPECTRAL_RADIUS = 0.95
DEFAULT_SIZES = st.integers(1, 4)


def _eighths(rows: int, cols: int, bound: int = 12) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(-bound, bound), min_size=rows * cols, max_size=rows * cols).map(
        lambda values: np.array(values, dtype=float).reshape(rows, cols) / 8.0
    )


def _scaled_to_norm(matrix: np.ndarray, norm: float) -> np.ndarray:
    size = float(np.linalg.norm(matrix, 2))
    return matrix if size <= norm else matrix * (norm / size)


@st.composite
def positive_definite_matrices(draw: st.DrawFn, n: int, floor: float = 0.25) -> np.ndarray:
    """Symmetric positive definite (n, n) matrices ``MᵀM/n + floor·I`` (λ_min ≥ floor)."""
    factor = draw(_eighths(n, n, bound=8))
    return factor.T @ factor / n + floor * np.eye(n)


@st.composite
def lqr_problems_with_gains(
    draw: st.DrawFn,
    n: st.SearchStrategy[int] | int = DEFAULT_SIZES,
    m: st.SearchStrategy[int] | int | None = None,
    discounted: bool | None = False,
    noisy: bool = False,
) -> tuple[LQR, np.ndarray]:
    """``(LQR, K)`` with (A, B) stabilisable, Q, R, Σ0 ≻ 0 and ρ(A − BK) ≤ 0.95.

    ``discounted=None`` draws γ from {1, 0.99, 0.9, 0.5}; ``True`` draws γ < 1; ``noisy=True``
    adds exploration noise σ ∈ {1/16, 1/4, 1} (and forces γ < 1)."""
    size = draw(n) if isinstance(n, st.SearchStrategy) else n
    if m is None:
        inputs = draw(st.integers(1, size))
    else:
        inputs = draw(m) if isinstance(m, st.SearchStrategy) else m
    closed_loop = _scaled_to_norm(draw(_eighths(size, size)), MAX_CLOSED_LOOP_NORM)
    B = draw(_eighths(size, inputs))
    base_gain = draw(_eighths(inputs, size))
    A = closed_loop + B @ base_gain
    Q = draw(positive_definite_matrices(size))
    R = draw(positive_definite_matrices(inputs))
    Sigma0 = draw(st.one_of(st.just(np.eye(size)), positive_definite_matrices(size)))
    if noisy or discounted:
        gamma = draw(st.sampled_from([0.99, 0.9, 0.5]))
    elif discounted is None:
        gamma = draw(st.sampled_from([1.0, 0.99, 0.9, 0.5]))
    else:
        gamma = 1.0
    noise = draw(st.sampled_from([1 / 16, 1 / 4, 1.0])) if noisy else 0.0
    problem = LQR(A, B, Q, R, Sigma0=Sigma0, gamma=gamma, noise=noise)
    gain = draw(stabilizing_gains(problem, base_gain=base_gain))
    return problem, gain


def lqr_problems(**kwargs: Any) -> st.SearchStrategy[LQR]:
    """Stabilisable LQR problems (see :func:`lqr_problems_with_gains` for the options)."""
    return lqr_problems_with_gains(**kwargs).map(lambda pair: pair[0])


@st.composite
def stabilizing_gains(
    draw: st.DrawFn, problem: LQR, base_gain: np.ndarray | None = None
) -> np.ndarray:
    """Stabilising gains: a stabilising base gain (the float LQR gain of the problem unless
    given) plus a drawn perturbation, shrunk by halving until ρ(A − BK) ≤ 0.95 (the base gain
    itself if no perturbation qualifies)."""
    if base_gain is None:
        base_gain = problem.optimal_gain()
    direction = draw(_eighths(problem.m, problem.n))
    scale = draw(st.sampled_from([0.0, 0.125, 0.5, 1.0]))
    gain = base_gain + scale * direction
    for _ in range(60):
        if problem.spectral_radius(gain) <= MAX_SPECTRAL_RADIUS:
            return gain
        scale /= 2
        gain = base_gain + scale * direction
    return base_gain


# ------------------------------------------------------------------------------------------------
# Finite MDPs (exact rationals)
# ------------------------------------------------------------------------------------------------

DEFAULT_STATES = st.integers(1, 4)
DEFAULT_ACTIONS = st.integers(1, 3)


@st.composite
def rational_distributions(draw: st.DrawFn, size: int, allow_zero: bool = True) -> list:
    """Probability vectors of ``size`` exact Fractions (integer weights over their sum);
    shrinks towards the uniform distribution."""
    from fractions import Fraction

    # shrinking drives every weight to the minimum: all equal, i.e. uniform
    weights = draw(st.lists(st.integers(0 if allow_zero else 1, 6), min_size=size, max_size=size))
    if sum(weights) == 0:
        weights = [1] * size
    total = sum(weights)
    return [Fraction(w, total) for w in weights]


@st.composite
def finite_mdps(
    draw: st.DrawFn,
    states: st.SearchStrategy[int] | int = DEFAULT_STATES,
    actions: st.SearchStrategy[int] | int = DEFAULT_ACTIONS,
) -> Any:
    """Random finite MDPs with rational probabilities and costs and γ ∈ {1/2, 3/4, 9/10}."""
    from fractions import Fraction

    from pgverify.mdp import FiniteMDP

    S = draw(states) if isinstance(states, st.SearchStrategy) else states
    A = draw(actions) if isinstance(actions, st.SearchStrategy) else actions
    transitions = [[draw(rational_distributions(S)) for _ in range(A)] for _ in range(S)]
    costs = [
        [Fraction(draw(st.integers(-8, 8)), draw(st.integers(1, 4))) for _ in range(A)]
        for _ in range(S)
    ]
    gamma = draw(st.sampled_from([Fraction(1, 2), Fraction(3, 4), Fraction(9, 10)]))
    initial = draw(rational_distributions(S))
    return FiniteMDP.create(transitions, costs, gamma, initial)


def tabular_policies(mdp: Any, allow_zero: bool = True) -> st.SearchStrategy[list]:
    """Tabular policies π[s, a] with exact rational probabilities for ``mdp``."""
    return st.lists(
        rational_distributions(mdp.actions, allow_zero=allow_zero),
        min_size=mdp.states,
        max_size=mdp.states,
    )


def softmax_logits(mdp: Any) -> st.SearchStrategy[list]:
    """Logit tables θ[s, a] (multiples of 1/4 in [-3, 3]) for tabular softmax policies."""
    return st.lists(
        st.lists(
            st.integers(-12, 12).map(lambda k: k / 4), min_size=mdp.actions, max_size=mdp.actions
        ),
        min_size=mdp.states,
        max_size=mdp.states,
    )
