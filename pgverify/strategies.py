"""Hypothesis strategies for property tests of policy-optimisation code (public API).

The generators *build* valid cases instead of filtering them, so that shrinking stays inside the
valid set and no health check trips:

* :func:`lqr_problems` — stabilisable LQR problems, by construction ``A = A_cl + B K₀`` with
  ``‖A_cl‖₂ ≤ 0.9``, so that K₀ is a known stabilising gain; discounted or not, with or without
  exploration noise (by default all of these are drawn);
* :func:`lqr_problems_with_gains` — a problem and a stabilising gain K with ρ(A − BK) ≤ 0.95;
* :func:`stabilizing_gains` — stabilising gains of a given problem;
* :func:`finite_mdps`, :func:`tabular_policies`, :func:`softmax_logits` — finite MDPs with exact
  rational data and their policies; :func:`mdps_with_policies` and :func:`mdps_with_logits`
  draw an MDP together with a matching policy.

Conventions (the LQR class and ``docs/user-guide.md``): A (n, n), B (n, m), Q, Σ0 (n, n), R (m, m),
gains K (m, n) with ``u = −Kx``; an MDP has S states and A actions, transitions ``P[s][a][s']``,
costs ``c[s][a]``, a tabular policy ``π[s][a] = π(a|s)`` and logits ``θ[s][a]``.  Entries are
multiples of 1/8 (then scaled), so shrunk counterexamples are readable; everything shrinks towards
the simplest case (γ = 1, no noise, n = 1, uniform probabilities).

Every builder checks its arguments when it is called and raises
:class:`pgverify.InvalidProblemError` naming the argument; sizes or flags drawn from a
strategy the caller passes are checked when drawn.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.errors import InvalidProblemError
from pgverify.lqr import LQR
from pgverify.mdp import FiniteMDP

MAX_CLOSED_LOOP_NORM = 0.9
MAX_SPECTRAL_RADIUS = 0.95
DEFAULT_SIZES = st.integers(1, 4)
DISCOUNTS = (0.99, 0.9, 0.5)
"""The γ < 1 drawn for discounted LQR problems."""
NOISE_VARIANCES = (1 / 16, 1 / 4, 1.0)
"""The exploration-noise variances σ drawn for noisy LQR problems."""

SizeArgument = st.SearchStrategy[int] | int
FlagArgument = st.SearchStrategy[bool] | bool | None


# ------------------------------------------------------------------------------------------------
# Argument checks (at build time; values drawn from the caller's strategies at draw time)
# ------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _checked_size(value: Any, name: str) -> int:
    if not _is_int(value) or value < 1:
        raise InvalidProblemError(f"{name} must be an int >= 1, got {value!r}")
    return int(value)


def _size_strategy(value: Any, name: str) -> st.SearchStrategy[int]:
    """A size given as an int >= 1 or as a strategy of such ints."""
    if isinstance(value, st.SearchStrategy):
        return value.map(lambda drawn: _checked_size(drawn, f"{name} (drawn)"))
    return st.just(_checked_size(value, name))


def _checked_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidProblemError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _flag_strategy(value: Any, name: str) -> st.SearchStrategy[bool]:
    """A flag given as a bool, a strategy of bools, or None (both values are drawn)."""
    if value is None:
        return st.booleans()
    if isinstance(value, st.SearchStrategy):
        return value.map(lambda drawn: _checked_flag(drawn, f"{name} (drawn)"))
    return st.just(_checked_flag(value, name))


def _checked_mdp(mdp: Any) -> FiniteMDP:
    if not isinstance(mdp, FiniteMDP):
        raise InvalidProblemError(
            f"mdp must be a pgverify.FiniteMDP, got {type(mdp).__name__}; build one with "
            "FiniteMDP.create(...) or draw one from finite_mdps()"
        )
    return mdp


# ------------------------------------------------------------------------------------------------
# LQR problems
# ------------------------------------------------------------------------------------------------


def _eighths(rows: int, cols: int, bound: int = 12) -> st.SearchStrategy[np.ndarray]:
    return st.lists(st.integers(-bound, bound), min_size=rows * cols, max_size=rows * cols).map(
        lambda values: np.array(values, dtype=float).reshape(rows, cols) / 8.0
    )


def _scaled_to_norm(matrix: np.ndarray, norm: float) -> np.ndarray:
    size = float(np.linalg.norm(matrix, 2))
    return matrix if size <= norm else matrix * (norm / size)


def positive_definite_matrices(n: int, floor: float = 0.25) -> st.SearchStrategy[np.ndarray]:
    """Symmetric positive definite (n, n) float64 matrices ``MᵀM/n + floor·I`` (so
    λ_min ≥ floor); ``n`` an int >= 1, ``floor`` a finite real > 0."""
    size = _checked_size(n, "n")
    if (
        isinstance(floor, (bool, np.bool_))
        or not isinstance(floor, (int, float, np.integer, np.floating))
        or not (np.isfinite(floor) and floor > 0)
    ):
        raise InvalidProblemError(f"floor must be a finite real > 0, got {floor!r}")
    return _eighths(size, size, bound=8).map(
        lambda factor: factor.T @ factor / size + float(floor) * np.eye(size)
    )


def lqr_problems_with_gains(
    n: SizeArgument = DEFAULT_SIZES,
    m: SizeArgument | None = None,
    discounted: FlagArgument = None,
    noisy: FlagArgument = None,
) -> st.SearchStrategy[tuple[LQR, np.ndarray]]:
    """``(LQR, K)``: (A, B) stabilisable, Q, R, Σ0 ≻ 0 (λ_min ≥ 1/4) and a gain K of shape
    (m, n) with ρ(A − BK) ≤ 0.95.

    ``n``, ``m``: the state and input dimensions, ints >= 1 or strategies of them (``m``
    defaults to 1 … n).  ``discounted``: ``True`` draws γ from {0.99, 0.9, 0.5}, ``False`` gives
    γ = 1.  ``noisy``: ``True`` adds exploration noise of variance σ ∈ {1/16, 1/4, 1}, which
    needs γ < 1 (the infinite-horizon cost is infinite otherwise), so a noisy problem is always
    discounted.  Each flag is a bool, a strategy of bools, or None (the default: both values are
    drawn, shrinking towards γ = 1 without noise).  ``discounted=False`` with ``noisy=True`` is
    refused; with ``discounted=False`` no noise is drawn."""
    sizes = _size_strategy(n, "n")
    inputs = None if m is None else _size_strategy(m, "m")
    discount_flags = _flag_strategy(discounted, "discounted")
    noise_flags = _flag_strategy(noisy, "noisy")
    if discounted is False:
        if noisy is True:
            raise InvalidProblemError(
                "noisy=True needs a discounted problem (noise with gamma = 1 has an infinite "
                "cost); got discounted=False"
            )
        noise_flags = st.just(False)
    return _lqr_problems_with_gains(sizes, inputs, discount_flags, noise_flags)


@st.composite
def _lqr_problems_with_gains(
    draw: st.DrawFn,
    sizes: st.SearchStrategy[int],
    inputs: st.SearchStrategy[int] | None,
    discount_flags: st.SearchStrategy[bool],
    noise_flags: st.SearchStrategy[bool],
) -> tuple[LQR, np.ndarray]:
    size = draw(sizes)
    controls = draw(st.integers(1, size) if inputs is None else inputs)
    closed_loop = _scaled_to_norm(draw(_eighths(size, size)), MAX_CLOSED_LOOP_NORM)
    B = draw(_eighths(size, controls))
    base_gain = draw(_eighths(controls, size))
    A = closed_loop + B @ base_gain
    Q = draw(positive_definite_matrices(size))
    R = draw(positive_definite_matrices(controls))
    Sigma0 = draw(st.one_of(st.just(np.eye(size)), positive_definite_matrices(size)))
    is_noisy = draw(noise_flags)
    is_discounted = True if is_noisy else draw(discount_flags)
    gamma = draw(st.sampled_from(DISCOUNTS)) if is_discounted else 1.0
    noise = draw(st.sampled_from(NOISE_VARIANCES)) if is_noisy else 0.0
    problem = LQR(A, B, Q, R, Sigma0=Sigma0, gamma=gamma, noise=noise)
    gain = draw(_perturbed_gains(problem, base_gain))
    return problem, gain


def lqr_problems(
    n: SizeArgument = DEFAULT_SIZES,
    m: SizeArgument | None = None,
    discounted: FlagArgument = None,
    noisy: FlagArgument = None,
) -> st.SearchStrategy[LQR]:
    """Stabilisable LQR problems; the arguments are those of :func:`lqr_problems_with_gains`."""
    return lqr_problems_with_gains(n, m, discounted, noisy).map(lambda pair: pair[0])


def stabilizing_gains(
    problem: LQR, base_gain: np.ndarray | None = None
) -> st.SearchStrategy[np.ndarray]:
    """Stabilising (m, n) gains of ``problem``: a stabilising base gain plus a drawn
    perturbation, shrunk by halving until ρ(A − BK) ≤ 0.95 (the base gain itself if no
    perturbation qualifies).

    ``base_gain`` must have ρ(A − B·base_gain) ≤ 0.95; by default it is the LQR gain of
    (A, B) with unit weights (stabilising whenever (A, B) is stabilisable, whatever the
    problem's own weights and discount)."""
    if not isinstance(problem, LQR):
        raise InvalidProblemError(f"problem must be a pgverify.LQR, got {type(problem).__name__}")
    if base_gain is None:
        unit_weights = LQR(problem.A, problem.B, np.eye(problem.n), np.eye(problem.m))
        base_gain = unit_weights.optimal_gain()
    else:
        base_gain = problem.gain(base_gain, "base_gain")
        radius = problem.spectral_radius(base_gain)
        if not radius <= MAX_SPECTRAL_RADIUS:
            raise InvalidProblemError(
                f"base_gain has rho(A - B base_gain) = {radius:.6g}; expected a stabilising "
                f"gain with spectral radius <= {MAX_SPECTRAL_RADIUS}"
            )
    return _perturbed_gains(problem, base_gain)


@st.composite
def _perturbed_gains(draw: st.DrawFn, problem: LQR, base_gain: np.ndarray) -> np.ndarray:
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
MDP_DISCOUNTS = (Fraction(1, 2), Fraction(3, 4), Fraction(9, 10))


def rational_distributions(size: int, allow_zero: bool = True) -> st.SearchStrategy[list]:
    """Probability vectors: lists of ``size`` exact Fractions summing to 1 (integer weights over
    their sum), with zero entries unless ``allow_zero=False``; shrinks towards the uniform
    distribution."""
    length = _checked_size(size, "size")
    positive = not _checked_flag(allow_zero, "allow_zero")
    return st.lists(st.integers(int(positive), 6), min_size=length, max_size=length).map(
        _normalised
    )


def _normalised(weights: list[int]) -> list[Fraction]:
    # shrinking drives every weight to the minimum: all equal, i.e. uniform
    if sum(weights) == 0:
        weights = [1] * len(weights)
    total = sum(weights)
    return [Fraction(w, total) for w in weights]


def finite_mdps(
    states: SizeArgument = DEFAULT_STATES, actions: SizeArgument = DEFAULT_ACTIONS
) -> st.SearchStrategy[FiniteMDP]:
    """Finite MDPs with S = ``states`` states and A = ``actions`` actions (ints >= 1 or
    strategies of them): rational transition probabilities ``P[s][a][s']``, costs ``c[s][a]`` (in
    [-8, 8], denominators <= 4), γ ∈ {1/2, 3/4, 9/10} and an initial distribution."""
    return _finite_mdps(_size_strategy(states, "states"), _size_strategy(actions, "actions"))


@st.composite
def _finite_mdps(
    draw: st.DrawFn, states: st.SearchStrategy[int], actions: st.SearchStrategy[int]
) -> FiniteMDP:
    S, A = draw(states), draw(actions)
    transitions = [[draw(rational_distributions(S)) for _ in range(A)] for _ in range(S)]
    costs = [
        [Fraction(draw(st.integers(-8, 8)), draw(st.integers(1, 4))) for _ in range(A)]
        for _ in range(S)
    ]
    gamma = draw(st.sampled_from(MDP_DISCOUNTS))
    initial = draw(rational_distributions(S))
    return FiniteMDP.create(transitions, costs, gamma, initial)


def tabular_policies(mdp: FiniteMDP, allow_zero: bool = True) -> st.SearchStrategy[list]:
    """Tabular policies for ``mdp``: (S, A) nested lists of exact Fractions, ``π[s][a] = π(a|s)``,
    each row a probability vector (zero entries unless ``allow_zero=False``)."""
    checked = _checked_mdp(mdp)
    rows = rational_distributions(checked.actions, allow_zero=allow_zero)
    return st.lists(rows, min_size=checked.states, max_size=checked.states)


def softmax_logits(mdp: FiniteMDP) -> st.SearchStrategy[list]:
    """Logit tables for tabular softmax policies of ``mdp``: (S, A) nested lists of floats
    ``θ[s][a]``, multiples of 1/4 in [-3, 3], with ``π(a|s) = exp θ[s][a] / Σ_b exp θ[s][b]``."""
    checked = _checked_mdp(mdp)
    logit = st.integers(-12, 12).map(lambda k: k / 4)
    row = st.lists(logit, min_size=checked.actions, max_size=checked.actions)
    return st.lists(row, min_size=checked.states, max_size=checked.states)


def mdps_with_policies(
    states: SizeArgument = DEFAULT_STATES,
    actions: SizeArgument = DEFAULT_ACTIONS,
    allow_zero: bool = True,
) -> st.SearchStrategy[tuple[FiniteMDP, list]]:
    """``(mdp, policy)``: an MDP of :func:`finite_mdps` and a matching tabular policy of
    :func:`tabular_policies` (shape (S, A), exact Fractions)."""
    _checked_flag(allow_zero, "allow_zero")
    return finite_mdps(states, actions).flatmap(
        lambda mdp: st.tuples(st.just(mdp), tabular_policies(mdp, allow_zero=allow_zero))
    )


def mdps_with_logits(
    states: SizeArgument = DEFAULT_STATES, actions: SizeArgument = DEFAULT_ACTIONS
) -> st.SearchStrategy[tuple[FiniteMDP, list]]:
    """``(mdp, logits)``: an MDP of :func:`finite_mdps` and matching softmax logits of
    :func:`softmax_logits` (shape (S, A), floats)."""
    return finite_mdps(states, actions).flatmap(
        lambda mdp: st.tuples(st.just(mdp), softmax_logits(mdp))
    )
