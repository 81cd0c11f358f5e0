"""Bad input to the iteration runs, the theorem constants and LSPI: a PgverifyError naming the
argument, the value seen and what was expected."""

import math

import numpy as np
import pytest

from pgverify import LQR, InvalidProblemError, NotStabilizingError
from pgverify.lqr import iterations, lspi
from pgverify.lqr.examples import dean_2017

DEAN_GAIN = 0.5 * np.eye(3)


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(method="sgd"), "method must be one of pg, npg, gn, pi; got 'sgd'"),
        (dict(method="pi", alpha=0.5), "policy iteration takes no step size"),
        (dict(alpha=-0.1), "alpha must be > 0"),
        (dict(alpha="big"), "alpha must be a real number"),
        (dict(steps=-1), "steps must be an int >= 0"),
        (dict(gap_tolerance=-1.0), "gap_tolerance must be >= 0"),
        (dict(precision=30), "float or certified arithmetic"),
    ],
)
def test_run_iterations_rejects_bad_arguments_by_name(arguments, message):
    settings = dict(method="npg", alpha=None) | arguments
    method, alpha = settings.pop("method"), settings.pop("alpha")
    with pytest.raises(InvalidProblemError, match=message.replace("(", r"\(")):
        iterations.run_iterations(dean_2017(), method, DEAN_GAIN, alpha, **settings)


def test_run_iterations_refuses_a_start_that_does_not_stabilise():
    with pytest.raises(NotStabilizingError, match="K0 is not stabilising"):
        iterations.run_iterations(dean_2017(), "pi", np.zeros((3, 3)))


def test_a_step_outside_the_bound_has_no_proven_rate():
    run = iterations.run_iterations(dean_2017(), "gn", DEAN_GAIN, 0.9, steps=2)
    assert all(math.isnan(rate) for rate in run.rates)
    inside = iterations.run_iterations(dean_2017(), "gn", DEAN_GAIN, 0.4, steps=2)
    assert all(0.0 < rate < 1.0 for rate in inside.rates)


def test_policy_gradient_bound_needs_q_positive_definite():
    problem = LQR([[0.5]], [[1.0]], [[0.0]], [[1.0]])
    with pytest.raises(InvalidProblemError, match=r"needs Q positive definite"):
        iterations.step_bound("pg", problem, [[0.1]])


def test_policy_iteration_has_no_step_to_push_past_a_bound():
    with pytest.raises(InvalidProblemError, match="no step size"):
        iterations.find_destabilising_step(dean_2017(), "pi", DEAN_GAIN)


@pytest.mark.parametrize("n, message", [(0, "0 < n < n \\+ m"), (2.0, "must be an int")])
def test_greedy_gain_rejects_a_bad_state_dimension(n, message):
    with pytest.raises(InvalidProblemError, match=message):
        lspi.greedy_gain(np.eye(4), n)


def test_lstd_q_rejects_costs_of_the_wrong_length():
    data = lspi.rollouts(dean_2017(), DEAN_GAIN, episodes=3, horizon=10, exploration=1.0, seed=0)
    short = lspi.Transitions(data.states, data.actions, data.costs[:-1], data.next_states)
    with pytest.raises(InvalidProblemError, match="costs must be 30 finite numbers"):
        lspi.lstd_q(short, DEAN_GAIN)
