"""The statistical fallback: a seeded test of ``E[estimate] = target`` for a black box.

N independent estimates are drawn from a seeded generator; each entry j of the mean is compared
with the target by Student's t statistic ``t_j = (mean_j − target_j) / (s_j / √N)``. The verdict
fails when some ``|t_j|`` exceeds ``t_{N−1}(1 − α / (2p))`` over p entries (Bonferroni), so the
false-alarm probability is at most α — exactly for Gaussian estimates, asymptotically (central
limit theorem) otherwise. Alongside the verdict: the smallest bias per entry detected with
probability ``power``, ``(t_{N−1}(1 − α/(2p)) + t_{N−1}(power)) s_j / √N`` (the usual normal
approximation of the non-central t), as TensorFlow Probability's DKWM-based assertions report
their detectable discrepancy. Tier: statistical — the verdict is a test, not a proof.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from pgverify.errors import InvalidProblemError

DEFAULT_FALSE_ALARM = 1e-6
DEFAULT_POWER = 0.9


@dataclass(frozen=True)
class StatisticalVerdict:
    """``passed``: no entry's |t| exceeded ``threshold``. ``detectable_bias``: per entry, the
    bias found with probability ``power`` at this sample size. ``mean``, ``standard_error``:
    per entry. ``false_alarm``: the stated bound of P(fail | unbiased)."""

    passed: bool
    mean: np.ndarray
    standard_error: np.ndarray
    largest_t: float
    threshold: float
    detectable_bias: np.ndarray
    false_alarm: float
    power: float
    samples: int
    seed: int


def validate_test_options(seed: Any, false_alarm: Any, power: Any) -> None:
    """``seed`` an int, ``false_alarm`` and ``power`` real numbers in (0, 1)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidProblemError(f"seed must be an int, got {seed!r}")
    for name, value in (("false_alarm", false_alarm), ("power", power)):
        real = isinstance(value, (int, float, np.integer, np.floating))
        if isinstance(value, bool) or not real or not 0 < value < 1:
            raise InvalidProblemError(f"{name} = {value!r}; expected a number in (0, 1)")


def read_target(target: Any) -> np.ndarray:
    """``target`` as a float64 array of finite real numbers (InvalidProblemError otherwise)."""
    if isinstance(target, (str, bytes, bool)) or target is None:
        raise InvalidProblemError(f"target must be an array of real numbers, got {target!r}")
    try:
        if np.asarray(target).dtype.kind in "bcUSM":  # checked first: casting complex warns
            raise InvalidProblemError(f"target must hold real numbers, got {target!r}")
        goal = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(
            f"target must be an array of real numbers, got {target!r}"
        ) from exc
    if not np.all(np.isfinite(goal)):
        raise InvalidProblemError(f"target must be finite, got {target!r}")
    return goal


def statistical_test(
    draw: Callable[[np.random.Generator, int], Any],
    target: Any,
    samples: int,
    *,
    seed: int,
    false_alarm: float = DEFAULT_FALSE_ALARM,
    power: float = DEFAULT_POWER,
) -> StatisticalVerdict:
    """Test ``E[estimate] = target`` from ``samples`` estimates ``draw(rng, samples)`` (an array
    (samples, *shape)) with ``rng = numpy.random.default_rng(seed)``.

    Raises InvalidProblemError on a bad sample count, α, power, or a draw of the wrong shape."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise InvalidProblemError(f"samples must be an int >= 2, got {samples!r}")
    if not callable(draw):
        raise InvalidProblemError(f"draw must be a callable draw(rng, count), got {draw!r}")
    validate_test_options(seed, false_alarm, power)
    goal = read_target(target)
    drawn = draw(np.random.default_rng(seed), samples)
    try:
        values = np.asarray(drawn, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(
            f"draw(rng, {samples}) must return an array of real numbers, got {drawn!r}"
        ) from exc
    if values.shape != (samples, *goal.shape):
        raise InvalidProblemError(
            f"draw(rng, {samples}) returned shape {values.shape}; expected "
            f"{(samples, *goal.shape)} (samples, *target.shape)"
        )
    if not np.all(np.isfinite(values)):
        raise InvalidProblemError("draw returned a non-finite estimate")
    mean = values.mean(axis=0)
    standard_error = values.std(axis=0, ddof=1) / np.sqrt(samples)
    entries = max(goal.size, 1)
    threshold = float(stats.t.ppf(1 - false_alarm / (2 * entries), samples - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_values = np.where(
            standard_error > 0,
            np.abs(mean - goal) / standard_error,
            np.where(mean == goal, 0.0, np.inf),
        )
    largest = float(np.max(t_values)) if t_values.size else 0.0
    detectable = (threshold + float(stats.t.ppf(power, samples - 1))) * standard_error
    return StatisticalVerdict(
        largest <= threshold,
        mean,
        standard_error,
        largest,
        threshold,
        detectable,
        false_alarm,
        power,
        samples,
        seed,
    )
