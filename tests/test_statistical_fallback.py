"""The statistical fallback keeps its stated false-alarm probability, reaches its stated power at
its reported detectable bias, and fails on a clearly biased estimator."""

import numpy as np
import pytest
from scipy import stats

from pgverify import InvalidProblemError
from pgverify.expectation import statistical_test

ALPHA = 1e-2  # small enough to calibrate with a few hundred seeded runs
RUNS = 400
SAMPLES = 30
TARGET = np.array([1.0, -2.0])


def gaussian_draw(shift):
    def draw(rng, count):
        return TARGET + shift + rng.standard_normal((count, TARGET.size)) * np.array([1.0, 3.0])

    return draw


def test_false_alarm_rate_over_seeded_runs_is_within_the_stated_probability():
    alarms = sum(
        not statistical_test(gaussian_draw(0.0), TARGET, SAMPLES, seed=s, false_alarm=ALPHA).passed
        for s in range(RUNS)
    )
    # at most the 0.999-quantile of Binomial(RUNS, ALPHA): a calibrated test stays below it
    assert alarms <= stats.binom.ppf(0.999, RUNS, ALPHA)


def test_reported_detectable_bias_is_detected_with_about_the_stated_power():
    pilot = statistical_test(gaussian_draw(0.0), TARGET, SAMPLES, seed=10_000, false_alarm=ALPHA)
    # shift the first entry by its reported detectable bias (σ known: use the pilot's scale)
    shift = np.array([pilot.detectable_bias[0], 0.0])
    detections = sum(
        not statistical_test(
            gaussian_draw(shift), TARGET, SAMPLES, seed=s, false_alarm=ALPHA
        ).passed
        for s in range(200)
    )
    assert detections >= 0.75 * 200  # power 0.9 stated; the pilot's scale is itself estimated


def test_a_clearly_biased_estimator_fails_and_the_verdict_is_seeded():
    first = statistical_test(gaussian_draw(1.0), TARGET, 10_000, seed=3)
    again = statistical_test(gaussian_draw(1.0), TARGET, 10_000, seed=3)
    assert not first.passed and first.largest_t == again.largest_t
    assert first.false_alarm == 1e-6 and first.power == 0.9


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        (dict(samples=1), "samples"),
        (dict(false_alarm=0.0), "false_alarm"),
        (dict(power=1.0), "power"),
    ],
)
def test_bad_arguments_are_refused(arguments, match):
    call = dict(samples=10, seed=0)
    call.update(arguments)
    with pytest.raises(InvalidProblemError, match=match):
        statistical_test(gaussian_draw(0.0), TARGET, **call)


def test_a_draw_of_the_wrong_shape_is_refused():
    with pytest.raises(InvalidProblemError, match="shape"):
        statistical_test(lambda rng, count: rng.standard_normal(count), TARGET, 10, seed=0)
