"""Property suite for the returns and advantage references (pgverify.estimators).

Each float64 reference is compared with an independent implementation in exact rational
arithmetic written here from the definitions (plain loops over ``fractions.Fraction``, sharing no
code with pgverify), on hypothesis-generated segments with episode ends, terminations and
truncations, single (T,) and batched (B, T).

Tolerance (documented in pgverify/estimators/returns.py): the float64 result of the backward
recursion ``y_t = x_t + c y_{t+1}`` over an episode of L steps, fed residuals ``δ_k`` that are
three roundings away from exact, differs from the exact value of the formula at the same float64
inputs by at most ``γ_m · M_t`` with ``m = 3L + 4`` and ``γ_m = m u / (1 − m u)`` (Higham's
standard model, ``u = 2⁻⁵³``) where ``M_t = Σ_k (γλ)^{k−t} (|c_k| + γ|V′_k| + |V_k|)`` (+ ``|V_t|``
for λ-returns). The check allows ``2 m (u M_t + 2⁻¹⁰⁷⁴)``: twice the first-order bound, plus one
subnormal spacing per operation for gradual underflow. A wrong formula errs by O(|c|), some
10¹² times more.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pgverify.estimators import discounted_returns, gae, lambda_returns, td_residuals

UNIT_ROUNDOFF = Fraction(1, 2**53)
SMALLEST_SUBNORMAL = Fraction(1, 2**1074)

# ---------------------------------------------------------------------------------------------
# exact references: one segment (lists), plain loops over Fractions, written from the definitions


def exact_returns(costs, dones, gamma):
    """G_t = Σ_{k=t}^{e(t)} γ^{k−t} c_k, e(t) the first done step ≥ t or the segment's last."""
    returns = []
    for t in range(len(costs)):
        total, weight, k = Fraction(0), Fraction(1), t
        while True:
            total += weight * costs[k]
            if dones[k] or k == len(costs) - 1:
                break
            weight *= gamma
            k += 1
        returns.append(total)
    return returns


def exact_td_residuals(costs, values, next_values, terminated, gamma):
    """δ_t = c_t + γ V(x_{t+1}) − V(x_t), without the bootstrap when the episode ended at t."""
    residuals = []
    for t in range(len(costs)):
        bootstrap = 0 if terminated[t] else gamma * next_values[t]
        residuals.append(costs[t] + bootstrap - values[t])
    return residuals


def exact_gae_sum(costs, values, next_values, terminated, truncated, gamma, lam):
    """Schulman et al. 2016 eq. 16 cut at the episode's end: A_t = Σ_{k=t}^{e(t)} (γλ)^{k−t} δ_k."""
    deltas = exact_td_residuals(costs, values, next_values, terminated, gamma)
    advantages = []
    for t in range(len(costs)):
        total, weight, k = Fraction(0), Fraction(1), t
        while True:
            total += weight * deltas[k]
            if terminated[k] or truncated[k] or k == len(costs) - 1:
                break
            weight *= gamma * lam
            k += 1
        advantages.append(total)
    return advantages


def exact_gae_torchrl_recursion(costs, values, next_values, terminated, truncated, gamma, lam):
    """TorchRL's generalized_advantage_estimate loop, transcribed with reward = −cost and
    done = terminated | truncated, in Fractions; its advantage negated back to costs."""
    rewards = [-c for c in costs]
    state_value = [-v for v in values]
    next_state_value = [-v for v in next_values]
    done = [a or b for a, b in zip(terminated, truncated)]
    not_done = [0 if d else 1 for d in done]
    not_terminated = [0 if d else 1 for d in terminated]
    delta = [
        r + gamma * nt * nv - v
        for r, nt, nv, v in zip(rewards, not_terminated, next_state_value, state_value)
    ]
    advantage = [Fraction(0)] * len(costs)
    previous = Fraction(0)
    for t in reversed(range(len(costs))):
        previous = advantage[t] = delta[t] + previous * lam * gamma * not_done[t]
    return [-a for a in advantage]


def exact_gae_reading_next_row(costs, values, next_values, terminated, truncated, gamma, lam):
    """The classic form: V(x_{t+1}) read as values[t+1] inside an episode, next_values[t] only
    where t ends the episode or the segment (valid on consistent segments only)."""
    deltas = []
    for t in range(len(costs)):
        ends = terminated[t] or truncated[t] or t == len(costs) - 1
        following = next_values[t] if ends else values[t + 1]
        deltas.append(costs[t] + (0 if terminated[t] else gamma * following) - values[t])
    advantages, following_advantage = [Fraction(0)] * len(costs), Fraction(0)
    for t in reversed(range(len(costs))):
        ends = terminated[t] or truncated[t] or t == len(costs) - 1
        following_advantage = deltas[t] + (0 if ends else gamma * lam * following_advantage)
        advantages[t] = following_advantage
    return advantages


def exact_lambda_returns_stated(costs, values, next_values, terminated, truncated, gamma, lam):
    """The semantics stated by lambda_returns, for any inputs:
    G_t = c_t + γ(1 − term_t) V′_t + γλ(1 − done_t)(G_{t+1} − values[t+1])."""
    result = [Fraction(0)] * len(costs)
    for t in reversed(range(len(costs))):
        value = costs[t] + (0 if terminated[t] else gamma * next_values[t])
        if not (terminated[t] or truncated[t] or t == len(costs) - 1):
            value += gamma * lam * (result[t + 1] - values[t + 1])
        result[t] = value
    return result


def exact_truncated_lambda_return(costs, values, next_values, terminated, truncated, gamma, lam):
    """Sutton & Barto 2018 eq. 12.9 on a consistent segment: G^λ_{t:h} = (1 − λ) Σ_{n=1}^{h−t−1}
    λ^{n−1} G_{t:t+n} + λ^{h−t−1} G_{t:h}, h − 1 the episode's last step in the segment, with
    n-step returns G_{t:t+n} = Σ_{i<n} γ^i c_{t+i} + γ^n V(x_{t+n}) and the full return G_{t:h}
    bootstrapped from next_values[h − 1] unless the episode terminated there."""
    returns = []
    for t in range(len(costs)):
        h = t
        while not (terminated[h] or truncated[h] or h == len(costs) - 1):
            h += 1
        h += 1

        def n_step(n, t=t, h=h):
            total = sum((gamma**i * costs[t + i] for i in range(n)), Fraction(0))
            if t + n < h:
                return total + gamma**n * values[t + n]
            return total + (0 if terminated[h - 1] else gamma**n * next_values[h - 1])

        mixture = sum(
            ((1 - lam) * lam ** (n - 1) * n_step(n) for n in range(1, h - t)), Fraction(0)
        )
        returns.append(mixture + lam ** (h - t - 1) * n_step(h - t))
    return returns


# ---------------------------------------------------------------------------------------------
# the tolerance and the comparison


def magnitudes(case, lam, with_value=False):
    """M_t = Σ_{k=t}^{e(t)} (γλ)^{k−t} (|c_k| + γ|V′_k| + |V_k|) (+ |V_t|), exactly."""
    gamma = case.gamma
    result = []
    for t in range(len(case.costs)):
        total, weight, k = Fraction(0), Fraction(1), t
        while True:
            bootstrap = 0 if case.terminated[k] else gamma * abs(case.next_values[k])
            total += weight * (abs(case.costs[k]) + bootstrap + abs(case.values[k]))
            if case.terminated[k] or case.truncated[k] or k == len(case.costs) - 1:
                break
            weight *= gamma * lam
            k += 1
        result.append(total + (abs(case.values[t]) if with_value else 0))
    return result


def assert_matches_exact(actual, exact, magnitude):
    """|actual_t − exact_t| ≤ 2 m (u M_t + 2⁻¹⁰⁷⁴), m = 3T + 4 (T ≥ every episode's length)."""
    operations = 3 * len(exact) + 4
    for t, (got, want, size) in enumerate(zip(actual, exact, magnitude)):
        allowed = 2 * operations * (UNIT_ROUNDOFF * size + SMALLEST_SUBNORMAL)
        error = abs(Fraction(float(got)) - want)
        assert error <= allowed, (
            f"step {t}: got {float(got)!r}, exact {float(want)!r}, error {float(error):.3g} "
            f"> allowed {float(allowed):.3g}"
        )


# ---------------------------------------------------------------------------------------------
# generated segments


class Segment:
    """One segment as exact Fractions (for the references) and float64/bool arrays (for the
    code under test)."""

    def __init__(self, costs, values, next_values, terminated, truncated, gamma):
        self.costs = [Fraction(c) for c in costs]
        self.values = [Fraction(v) for v in values]
        self.next_values = [Fraction(v) for v in next_values]
        self.terminated = list(terminated)
        self.truncated = list(truncated)
        self.gamma = Fraction(gamma)
        self.gamma_float = gamma

    @property
    def dones(self):
        return [a or b for a, b in zip(self.terminated, self.truncated)]

    def arrays(self):
        return (
            np.array([float(c) for c in self.costs]),
            np.array([float(v) for v in self.values]),
            np.array([float(v) for v in self.next_values]),
            np.array(self.terminated, dtype=bool),
            np.array(self.truncated, dtype=bool),
        )


reals = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False) | st.integers(-20, 20).map(
    float
)
gammas = st.sampled_from([1.0, 0.99, 0.5]) | st.floats(0, 1, exclude_min=True)
lambdas = st.sampled_from([0.0, 1.0, 0.95]) | st.floats(0, 1)


@st.composite
def segments(draw, steps=st.integers(1, 12), consistent=None, truncations=True, gamma=gammas):
    """A segment with episode ends. ``consistent``: next_values[t] == values[t + 1] wherever
    step t ends no episode (None: drawn). At an episode's end next_values holds the value of the
    true next state, unrelated to values[t + 1] (the first state of the next episode)."""
    length = draw(steps)
    if consistent is None:
        consistent = draw(st.booleans())
    terminated = draw(st.lists(st.booleans(), min_size=length, max_size=length))
    truncated = (
        draw(st.lists(st.booleans(), min_size=length, max_size=length))
        if truncations
        else [False] * length
    )
    costs = draw(st.lists(reals, min_size=length, max_size=length))
    values = draw(st.lists(reals, min_size=length, max_size=length))
    next_values = draw(st.lists(reals, min_size=length, max_size=length))
    if consistent:
        for t in range(length - 1):
            if not (terminated[t] or truncated[t]):
                next_values[t] = values[t + 1]
    return Segment(costs, values, next_values, terminated, truncated, draw(gamma))


@st.composite
def batches(draw, **kwargs):
    """1 to 3 segments of a common length and γ, as a (B, T) batch."""
    rows = draw(st.integers(1, 3))
    first = draw(segments(**kwargs))
    length = len(first.costs)
    others = [
        draw(segments(steps=st.just(length), gamma=st.just(first.gamma_float), **kwargs))
        for _ in range(rows - 1)
    ]
    return [first, *others]


def stacked(rows):
    return tuple(np.stack(parts) for parts in zip(*(row.arrays() for row in rows)))


# ---------------------------------------------------------------------------------------------
# equality with the exact references


@given(segments(truncations=False))
def test_discounted_returns_equal_the_exact_returns_to_go_cut_at_episode_ends(case):
    costs, _, _, terminated, _ = case.arrays()
    actual = discounted_returns(costs, terminated, case.gamma_float)
    exact = exact_returns(case.costs, case.terminated, case.gamma)
    size = exact_returns([abs(c) for c in case.costs], case.terminated, case.gamma)
    assert_matches_exact(actual, exact, size)


@given(batches(truncations=False))
def test_batched_discounted_returns_equal_the_exact_returns_row_by_row(rows):
    costs, _, _, terminated, _ = stacked(rows)
    actual = discounted_returns(costs, terminated, rows[0].gamma_float)
    for row, case in zip(actual, rows):
        exact = exact_returns(case.costs, case.terminated, case.gamma)
        size = exact_returns([abs(c) for c in case.costs], case.terminated, case.gamma)
        assert_matches_exact(row, exact, size)


@given(segments())
def test_td_residuals_equal_the_exact_residuals_without_bootstrap_after_termination(case):
    costs, values, next_values, terminated, _ = case.arrays()
    actual = td_residuals(costs, values, next_values, terminated, case.gamma_float)
    exact = exact_td_residuals(
        case.costs, case.values, case.next_values, case.terminated, case.gamma
    )
    # λ = 0: M_t = |c_t| + γ|V′_t| + |V_t|
    assert_matches_exact(actual, exact, magnitudes(case, lam=0))


@given(segments(), lambdas)
def test_gae_equals_the_exact_discounted_sum_of_residuals_within_each_episode(case, lam):
    actual = gae(*case.arrays(), case.gamma_float, lam)
    exact = exact_gae_sum(*exact_arguments(case), case.gamma, Fraction(lam))
    assert_matches_exact(actual, exact, magnitudes(case, Fraction(lam)))


@given(segments(), lambdas)
def test_gae_equals_torchrl_recursion_with_done_and_terminated_in_exact_arithmetic(case, lam):
    actual = gae(*case.arrays(), case.gamma_float, lam)
    exact = exact_gae_torchrl_recursion(*exact_arguments(case), case.gamma, Fraction(lam))
    assert_matches_exact(actual, exact, magnitudes(case, Fraction(lam)))


@given(batches(), lambdas)
def test_batched_gae_equals_the_exact_advantages_row_by_row(rows, lam):
    actual = gae(*stacked(rows), rows[0].gamma_float, lam)
    for row, case in zip(actual, rows):
        exact = exact_gae_sum(*exact_arguments(case), case.gamma, Fraction(lam))
        assert_matches_exact(row, exact, magnitudes(case, Fraction(lam)))


@given(segments(consistent=True), lambdas)
def test_gae_on_consistent_segments_equals_the_form_that_reads_the_next_rows_value(case, lam):
    actual = gae(*case.arrays(), case.gamma_float, lam)
    exact = exact_gae_reading_next_row(*exact_arguments(case), case.gamma, Fraction(lam))
    assert_matches_exact(actual, exact, magnitudes(case, Fraction(lam)))


@given(segments(), lambdas)
def test_lambda_returns_equal_their_stated_recursion_exactly(case, lam):
    actual = lambda_returns(*case.arrays(), case.gamma_float, lam)
    exact = exact_lambda_returns_stated(*exact_arguments(case), case.gamma, Fraction(lam))
    assert_matches_exact(actual, exact, magnitudes(case, Fraction(lam), with_value=True))


@given(segments(consistent=True), lambdas)
def test_lambda_returns_on_consistent_segments_equal_the_truncated_lambda_return(case, lam):
    actual = lambda_returns(*case.arrays(), case.gamma_float, lam)
    exact = exact_truncated_lambda_return(*exact_arguments(case), case.gamma, Fraction(lam))
    assert_matches_exact(actual, exact, magnitudes(case, Fraction(lam), with_value=True))


def exact_arguments(case):
    return case.costs, case.values, case.next_values, case.terminated, case.truncated


# ---------------------------------------------------------------------------------------------
# relations between the estimators


@given(segments(truncations=False, consistent=True))
def test_gae_at_lambda_one_is_the_discounted_return_minus_the_value_without_truncation(case):
    case.terminated[-1] = True  # the last episode ends: no bootstrap is left over
    costs, values, next_values, terminated, truncated = case.arrays()
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, 1.0)
    returns = discounted_returns(costs, terminated, case.gamma_float)
    # both sides carry their own rounding, plus one for the subtraction
    size = [
        m + r + abs(Fraction(v))
        for m, r, v in zip(
            magnitudes(case, Fraction(1)),
            exact_returns([abs(c) for c in case.costs], case.terminated, case.gamma),
            values,
        )
    ]
    assert_matches_exact(
        advantages, [Fraction(r) - Fraction(v) for r, v in zip(returns, values)], size
    )


@given(segments())
def test_gae_at_lambda_zero_is_exactly_the_td_residual(case):
    costs, values, next_values, terminated, truncated = case.arrays()
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, 0.0)
    residuals = td_residuals(costs, values, next_values, terminated, case.gamma_float)
    np.testing.assert_array_equal(advantages, residuals)


@given(batches(), lambdas)
def test_a_batch_gives_bitwise_the_results_of_its_rows_one_at_a_time(rows, lam):
    batch = stacked(rows)
    together = gae(*batch, rows[0].gamma_float, lam)
    for b, row in enumerate(rows):
        np.testing.assert_array_equal(together[b], gae(*row.arrays(), row.gamma_float, lam))


@given(segments(), lambdas, reals)
def test_the_next_value_after_a_terminated_step_is_never_read(case, lam, placeholder):
    costs, values, next_values, terminated, truncated = case.arrays()
    replaced = np.where(terminated, placeholder, next_values)
    for function in (gae, lambda_returns):
        np.testing.assert_array_equal(
            function(costs, values, next_values, terminated, truncated, case.gamma_float, lam),
            function(costs, values, replaced, terminated, truncated, case.gamma_float, lam),
        )


# ---------------------------------------------------------------------------------------------
# one test per semantic edge


@given(segments(steps=st.integers(1, 8)), lambdas, reals)
def test_a_terminal_last_step_has_no_bootstrap(case, lam, next_value):
    case.terminated[-1] = True
    costs, values, next_values, terminated, truncated = case.arrays()
    next_values[-1] = next_value
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, lam)
    returns = discounted_returns(costs, terminated, case.gamma_float)
    assert advantages[-1] == costs[-1] - values[-1]
    assert returns[-1] == costs[-1]


@given(segments(steps=st.integers(1, 8)), lambdas)
def test_a_non_terminal_last_step_bootstraps_from_its_next_value(case, lam):
    case.terminated[-1] = False
    costs, values, next_values, terminated, truncated = case.arrays()
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, lam)
    assert advantages[-1] == costs[-1] + case.gamma_float * next_values[-1] - values[-1]


@given(segments(steps=st.integers(3, 10)), st.data(), lambdas)
def test_a_truncation_bootstraps_from_the_true_next_state_and_no_trace_crosses_it(case, data, lam):
    cut = data.draw(st.integers(0, len(case.costs) - 2), label="truncated step")
    case.terminated[cut], case.truncated[cut] = False, True
    costs, values, next_values, terminated, truncated = case.arrays()
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, lam)
    # the new episode's data (from cut + 1 on, its first value included) cannot reach steps ≤ cut
    later = data.draw(st.lists(reals, min_size=3, max_size=3), label="new episode's data")
    changed = [array.copy() for array in (costs, values, next_values)]
    for array, replacement in zip(changed, later):
        array[cut + 1 :] = replacement
    changed_advantages = gae(*changed, terminated, truncated, case.gamma_float, lam)
    np.testing.assert_array_equal(advantages[: cut + 1], changed_advantages[: cut + 1])
    assert advantages[cut] == costs[cut] + case.gamma_float * next_values[cut] - values[cut]


@given(segments(), lambdas)
def test_when_every_step_is_done_returns_are_the_costs_and_advantages_the_residuals(case, lam):
    costs, values, next_values, terminated, truncated = case.arrays()
    truncated = ~terminated  # every step ends an episode, by termination or truncation
    advantages = gae(costs, values, next_values, terminated, truncated, case.gamma_float, lam)
    residuals = td_residuals(costs, values, next_values, terminated, case.gamma_float)
    np.testing.assert_array_equal(advantages, residuals)
    np.testing.assert_array_equal(discounted_returns(costs, np.ones_like(terminated), 0.5), costs)


@given(segments(), lambdas)
def test_a_step_both_terminated_and_truncated_counts_as_terminated(case, lam):
    costs, values, next_values, terminated, truncated = case.arrays()
    both = terminated | truncated
    np.testing.assert_array_equal(
        gae(costs, values, next_values, both, both, case.gamma_float, lam),
        gae(costs, values, next_values, both, np.zeros_like(both), case.gamma_float, lam),
    )


# ---------------------------------------------------------------------------------------------
# negative controls: the exact comparison refutes the field's typical slips


def refuted(actual, case, lam):
    try:
        assert_matches_exact(
            actual,
            exact_gae_sum(*exact_arguments(case), case.gamma, Fraction(lam)),
            magnitudes(case, Fraction(lam)),
        )
    except AssertionError:
        return True
    return False


@given(segments(steps=st.integers(1, 6), gamma=st.floats(0.5, 1)), lambdas, st.data())
def test_bootstrapping_through_a_terminal_step_is_refuted(case, lam, data):
    step = data.draw(st.integers(0, len(case.costs) - 1), label="terminal step")
    case.terminated[step], case.next_values[step] = True, Fraction(data.draw(st.integers(1, 9)))
    costs, values, next_values, terminated, truncated = case.arrays()
    slip = gae(
        costs,
        values,
        next_values,
        np.zeros_like(terminated),
        terminated | truncated,
        case.gamma_float,
        lam,
    )
    assert refuted(slip, case, lam)


@given(segments(steps=st.integers(1, 6), gamma=st.floats(0.5, 1)), lambdas, st.data())
def test_treating_a_truncation_as_a_termination_is_refuted(case, lam, data):
    step = data.draw(st.integers(0, len(case.costs) - 1), label="truncated step")
    case.terminated[step], case.truncated[step] = False, True
    case.next_values[step] = Fraction(data.draw(st.integers(1, 9)))
    costs, values, next_values, terminated, truncated = case.arrays()
    slip = gae(costs, values, next_values, terminated | truncated, truncated, case.gamma_float, lam)
    assert refuted(slip, case, lam)


@given(segments(steps=st.integers(2, 6), gamma=st.floats(0.5, 1)), st.data())
def test_a_trace_across_a_truncation_is_refuted(case, data):
    step = data.draw(st.integers(0, len(case.costs) - 2), label="truncated step")
    case.terminated[step], case.truncated[step] = False, True
    case.terminated[step + 1], case.truncated[step + 1] = True, False
    case.costs[step + 1], case.values[step + 1] = (
        Fraction(data.draw(st.integers(1, 9))),
        Fraction(0),
    )
    costs, values, next_values, terminated, truncated = case.arrays()
    slip = gae(
        costs, values, next_values, terminated, np.zeros_like(truncated), case.gamma_float, 1.0
    )
    assert refuted(slip, case, 1.0)
