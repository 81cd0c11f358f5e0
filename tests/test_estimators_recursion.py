"""The vectorised backward recursion performs exactly the operations of the sequential loop."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pgverify.estimators.recursion import reverse_discounted_sum


def sequential_loop(values, ends, coefficient):
    """y_t = x_t + c y_{t+1}, restarted after every episode end and at every row's end."""
    result = np.empty_like(values)
    for row in range(values.shape[0]):
        following = 0.0
        for t in reversed(range(values.shape[1])):
            if ends[row, t] or t == values.shape[1] - 1:
                following = 0.0
            following = values[row, t] + coefficient * following
            result[row, t] = following
    return result


@st.composite
def batches(draw):
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 70)))
    values = draw(arrays(np.float64, shape, elements=st.floats(-1e6, 1e6)))
    ends = draw(arrays(np.bool_, shape, elements=st.booleans() | st.just(False)))
    return values, ends


@given(batches(), st.sampled_from([0.0, 1.0, 0.99]) | st.floats(-1, 1))
def test_the_vectorised_recursion_is_bitwise_the_sequential_loop(batch, coefficient):
    values, ends = batch
    np.testing.assert_array_equal(
        reverse_discounted_sum(values, ends, coefficient),
        sequential_loop(values, ends, coefficient),
    )


def test_long_and_short_episodes_in_one_segment_are_bitwise_the_sequential_loop():
    rng = np.random.default_rng(1)
    values = rng.normal(size=(3, 3000))
    ends = rng.random((3, 3000)) < 0.01
    ends[1] = False  # one episode of 3000 steps beside many short ones
    np.testing.assert_array_equal(
        reverse_discounted_sum(values, ends, 0.999), sequential_loop(values, ends, 0.999)
    )


def test_the_inputs_are_left_unchanged():
    values, ends = np.arange(6.0).reshape(2, 3), np.array([[True, False, False]] * 2)
    reverse_discounted_sum(values, ends, 0.5)
    np.testing.assert_array_equal(values, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(ends, [[True, False, False]] * 2)
