"""The one backward recursion behind returns-to-go, GAE and λ-returns, vectorised.

``y_t = x_t + c · y_{t+1}`` inside each episode, ``y_t = x_t`` at an episode's last step. The
episodes are grouped by their length rounded up to a power of two, each group is laid out reversed
in the rows of a zero-padded matrix, and ``scipy.signal.lfilter`` runs the first-order filter
``1 / (1 − c z⁻¹)`` along the rows: no Python loop over time steps, at most twice the memory of
the input, and per step exactly the floating-point operations of the sequential loop.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter


def reverse_discounted_sum(values: np.ndarray, ends: np.ndarray, coefficient: float) -> np.ndarray:
    """``y_t = Σ_{k=t}^{e(t)} c^{k−t} x_k``, ``e(t)`` the first ``k ≥ t`` with ``ends[..., k]``.

    Shapes: ``values`` and ``ends`` are (B, T) (time last); row ``b`` is a segment whose last step
    ends an episode implicitly (nothing carries across rows). ``values`` is float64, ``ends`` bool,
    ``coefficient`` a float ``c`` (any sign). Returns a new (B, T) float64 array.

    Computed as the backward recursion ``y_t = x_t + c · y_{t+1}`` (``y_{t+1}`` taken as 0 at an
    episode's last step), the same operations in the same order as a Python loop (bitwise the same
    results, tests/test_estimators_recursion.py), so its rounding is that loop's: at most
    ``(2L − 1) u Σ_k |c|^{k−t} |x_k|`` to first order in ``u = 2⁻⁵³`` for an episode of L steps.
    """
    rows, steps = values.shape
    result = np.empty((rows, steps), dtype=np.float64)
    if values.size == 0:
        return result
    episode_ends = ends.copy()
    episode_ends[:, -1] = True  # a segment's last step ends its trailing partial episode
    last_steps = np.flatnonzero(episode_ends.reshape(-1))
    lengths = np.diff(last_steps, prepend=-1)
    # group the episodes by padded width 2**e >= length (e from frexp: exact integer arithmetic)
    width_exponents = np.frexp(lengths - 1)[1]
    order = np.argsort(width_exponents, kind="stable")
    lengths, last_steps, width_exponents = lengths[order], last_steps[order], width_exponents[order]
    # in the grouped order each episode is laid out reversed: its last step first
    group_starts = np.cumsum(lengths) - lengths
    position_in_reversed_episode = np.arange(values.size) - np.repeat(group_starts, lengths)
    source_steps = np.repeat(last_steps, lengths) - position_in_reversed_episode
    reversed_values = values.reshape(-1)[source_steps]
    reversed_result = np.empty_like(reversed_values)
    denominator = np.array([1.0, -coefficient])
    exponents, first_episodes = np.unique(width_exponents, return_index=True)
    bounds = np.append(first_episodes, lengths.size)
    for exponent, first, stop in zip(exponents, bounds[:-1], bounds[1:], strict=True):
        width = 1 << int(exponent)
        first_step = group_starts[first]
        stop_step = group_starts[stop - 1] + lengths[stop - 1]
        episode_rank = np.repeat(np.arange(stop - first), lengths[first:stop])
        cells = episode_rank * width + position_in_reversed_episode[first_step:stop_step]
        grid = np.zeros((stop - first) * width)
        grid[cells] = reversed_values[first_step:stop_step]
        filtered = lfilter([1.0], denominator, grid.reshape(stop - first, width), axis=1)
        reversed_result[first_step:stop_step] = filtered.reshape(-1)[cells]
    result.reshape(-1)[source_steps] = reversed_result
    return result
