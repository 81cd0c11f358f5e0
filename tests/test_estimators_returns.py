"""Returns and advantages on small segments whose results are worked out by hand (dyadic numbers,
so every value below is exact in float64 and compared with ==)."""

import numpy as np
import pytest

from pgverify.estimators import discounted_returns, gae, lambda_returns, td_residuals


def test_returns_to_go_stop_at_the_episode_end_and_the_partial_episode_sums_to_the_segment_end():
    # episode 1 = steps 0-1 (done at 1); steps 2-3 are a partial episode
    returns = discounted_returns([1, 2, 3, 4], [0, 1, 0, 0], 0.5)
    np.testing.assert_array_equal(returns, [1 + 0.5 * 2, 2, 3 + 0.5 * 4, 4])


def test_undiscounted_returns_to_go_are_reverse_cumulative_sums():
    np.testing.assert_array_equal(discounted_returns([1, 2, 3], [0, 0, 0], 1), [6, 5, 3])


def test_td_residual_bootstraps_unless_terminated():
    deltas = td_residuals([1, 1], [2, 2], [4, 4], [False, True], 0.5)
    np.testing.assert_array_equal(deltas, [1 + 0.5 * 4 - 2, 1 - 2])


# γ = 0.5, λ = 0.5. Step 1 is truncated: the true next state has value 16, while values[2] = 8 is
# the value of the first state of the next episode (after the reset).
COSTS = [1.0, 2.0, 4.0]
VALUES = [2.0, 4.0, 8.0]
NEXT_VALUES = [4.0, 16.0, 8.0]
NOT_TERMINATED = [False, False, False]
TRUNCATED_AT_1 = [False, True, False]
# δ = [1 + 2 − 2, 2 + 8 − 4, 4 + 4 − 8] = [1, 6, 0]; A₂ = 0, A₁ = 6 (no trace across the
# truncation), A₀ = 1 + 0.25 · 6
ADVANTAGES = [2.5, 6.0, 0.0]


def test_gae_after_a_truncation_bootstraps_from_the_true_next_state_and_cuts_the_trace():
    advantages = gae(COSTS, VALUES, NEXT_VALUES, NOT_TERMINATED, TRUNCATED_AT_1, 0.5, 0.5)
    np.testing.assert_array_equal(advantages, ADVANTAGES)


def test_lambda_returns_are_the_advantages_plus_the_values():
    returns = lambda_returns(COSTS, VALUES, NEXT_VALUES, NOT_TERMINATED, TRUNCATED_AT_1, 0.5, 0.5)
    np.testing.assert_array_equal(returns, [4.5, 10.0, 8.0])


def test_gae_at_a_terminal_last_step_ignores_the_next_value():
    advantages = gae(COSTS, VALUES, NEXT_VALUES, [False, False, True], TRUNCATED_AT_1, 0.5, 0.5)
    np.testing.assert_array_equal(advantages, [2.5, 6.0, 4.0 - 8.0])


def test_gae_without_the_truncation_carries_the_trace_through():
    advantages = gae(COSTS, VALUES, [4.0, 8.0, 8.0], NOT_TERMINATED, [False] * 3, 0.5, 0.5)
    # δ = [1, 2 + 4 − 4, 0] = [1, 2, 0]; A₁ = 2, A₀ = 1 + 0.25 · 2
    np.testing.assert_array_equal(advantages, [1.5, 2.0, 0.0])


def test_rows_of_a_batch_are_separate_segments():
    returns = discounted_returns(np.ones((2, 2)), np.zeros((2, 2), dtype=bool), 0.5)
    np.testing.assert_array_equal(returns, [[1.5, 1.0], [1.5, 1.0]])


def test_flags_may_be_bools_or_zero_one_integers_or_floats():
    as_bools = gae(COSTS, VALUES, NEXT_VALUES, NOT_TERMINATED, TRUNCATED_AT_1, 0.5, 0.5)
    as_ints = gae(COSTS, VALUES, NEXT_VALUES, [0, 0, 0], [0, 1, 0], 0.5, 0.5)
    as_floats = gae(COSTS, VALUES, NEXT_VALUES, [0.0, 0.0, 0.0], [0.0, 1.0, 0.0], 0.5, 0.5)
    np.testing.assert_array_equal(as_ints, as_bools)
    np.testing.assert_array_equal(as_floats, as_bools)


def test_a_reward_based_estimate_is_the_negative_of_the_cost_based_one():
    rewards, reward_values, reward_next_values = (
        -np.array(COSTS),
        -np.array(VALUES),
        -np.array(NEXT_VALUES),
    )
    from_rewards = gae(
        rewards, reward_values, reward_next_values, NOT_TERMINATED, TRUNCATED_AT_1, 0.5, 0.5
    )
    np.testing.assert_array_equal(-from_rewards, ADVANTAGES)


@pytest.mark.parametrize("function", [discounted_returns, td_residuals, gae, lambda_returns])
def test_empty_segments_give_empty_results(function):
    arguments = {
        discounted_returns: lambda e: (e, e, 0.9),
        td_residuals: lambda e: (e, e, e, e, 0.9),
        gae: lambda e: (e, e, e, e, e, 0.9, 0.9),
        lambda_returns: lambda e: (e, e, e, e, e, 0.9, 0.9),
    }[function]
    for shape in [(0,), (2, 0)]:
        assert function(*arguments(np.zeros(shape))).shape == shape


def test_inputs_are_not_modified():
    costs, values, next_values = np.array(COSTS), np.array(VALUES), np.array(NEXT_VALUES)
    terminated, truncated = np.array(NOT_TERMINATED), np.array(TRUNCATED_AT_1)
    originals = [a.copy() for a in (costs, values, next_values, terminated, truncated)]
    gae(costs, values, next_values, terminated, truncated, 0.5, 0.5)
    discounted_returns(costs, truncated, 0.5)
    for array, original in zip((costs, values, next_values, terminated, truncated), originals):
        np.testing.assert_array_equal(array, original)
