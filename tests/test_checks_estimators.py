"""The checks of returns, TD residuals, GAE and λ-returns pass right implementations (float64 and
float32 loops written here) and fail wrong ones with the slip named; check_unbiased accepts an
unbiased sampler and rejects a biased one."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import (
    CheckReport,
    check_discounted_returns,
    check_gae,
    check_lambda_returns,
    check_pg_estimator,
    check_softmax_pg_estimator,
    check_td_residuals,
    check_unbiased,
)

FEW = {"max_examples": 15}


def loop_gae(
    costs,
    values,
    next_values,
    terminated,
    truncated,
    gamma,
    lam,
    *,
    dtype=np.float64,
    slip=None,
):
    """GAE for costs by the textbook loop (Schulman et al. 2016, eq. 16), with one slip."""
    c = np.asarray(costs, dtype=dtype)
    v = np.asarray(values, dtype=dtype)
    nv = np.asarray(next_values, dtype=dtype)
    term = np.asarray(terminated, dtype=bool)
    trunc = np.asarray(truncated, dtype=bool)
    if slip == "off by one":
        term = np.append(term[1:], False)
        trunc = np.append(trunc[1:], False)
    if slip == "reward sign":
        c = -c
    g, decay = dtype(gamma), dtype(gamma) * dtype(lam)
    if slip == "gamma trace":
        decay = dtype(gamma)
    if slip == "lambda trace":
        decay = dtype(lam)
    if slip == "undiscounted bootstrap":
        g = dtype(1)
    if slip == "gamma one":  # γ ignored everywhere
        g, decay = dtype(1), dtype(lam)
    steps = len(c)
    advantages = np.zeros(steps, dtype=dtype)
    order = range(steps) if slip == "forward" else reversed(range(steps))
    for t in order:
        follow = v[t + 1] if slip == "values next" and t + 1 < steps else nv[t]
        no_bootstrap = term[t] and slip != "bootstrap terminal"
        if slip == "truncation terminates":
            no_bootstrap = no_bootstrap or trunc[t]
        delta = c[t] + (dtype(0) if no_bootstrap else g * follow) - v[t]
        if slip == "forward":
            previous_ends = t == 0 or term[t - 1] or trunc[t - 1]
            advantages[t] = delta + (dtype(0) if previous_ends else decay * advantages[t - 1])
            continue
        ends = term[t] or (trunc[t] and slip != "trace across truncation")
        if slip == "no cut":
            ends = False
        carry = dtype(0) if t == steps - 1 or ends else advantages[t + 1]
        advantages[t] = delta + decay * carry
    return advantages


def loop_lambda_returns(*arguments, dtype=np.float64, slip=None):
    advantages = loop_gae(*arguments, dtype=dtype, slip=slip)
    if slip == "no values added":
        return advantages
    return advantages + np.asarray(arguments[1], dtype=dtype)


def loop_returns(costs, dones, gamma, *, dtype=np.float64, slip=None):
    zeros = np.zeros(len(costs))
    no_flags = np.zeros(len(costs), dtype=bool)
    return loop_gae(costs, zeros, zeros, dones, no_flags, gamma, 1.0, dtype=dtype, slip=slip)


def loop_td(costs, values, next_values, terminated, gamma, *, dtype=np.float64, slip=None):
    no_flags = np.zeros(len(costs), dtype=bool)
    return loop_gae(
        costs, values, next_values, terminated, no_flags, gamma, 0.0, dtype=dtype, slip=slip
    )


def with_slip(function, slip, dtype=np.float64):
    return lambda *arguments: function(*arguments, dtype=dtype, slip=slip)


CHECKS = {
    "returns": (check_discounted_returns, loop_returns),
    "td": (check_td_residuals, loop_td),
    "gae": (check_gae, loop_gae),
    "lambda": (check_lambda_returns, loop_lambda_returns),
}


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_right_loop_implementation_passes(name, dtype):
    check, implementation = CHECKS[name]
    report = check(with_slip(implementation, None, dtype), **FEW)
    assert report.tier == "exact"
    assert report.cases >= 15


def test_the_reference_gae_passes():
    from pgverify.estimators import gae

    assert check_gae(gae, **FEW).worst_ratio <= 1


GAE_SLIPS = [
    ("gae", "no cut", "not cut at episode ends"),
    ("gae", "bootstrap terminal", "through a terminal step"),
    ("gae", "truncation terminates", "truncation treated as a termination"),
    ("gae", "trace across truncation", "trace carried across a truncation"),
    ("gae", "values next", "values[t+1]"),
    ("gae", "gamma trace", "γ instead of γλ"),
    ("gae", "lambda trace", "λ instead of γλ"),
    ("gae", "undiscounted bootstrap", "γ missing from the bootstrap"),
    ("gae", "off by one", "off-by-one dones"),
    ("gae", "forward", "forward recursion"),
    ("gae", "reward sign", "costs negated"),
    ("gae", "gamma one", "γ = 1 throughout"),
]

# (check, slip switch, words of the diagnosis)
SLIPS = [
    *GAE_SLIPS,
    ("returns", "no cut", "not cut at episode ends"),
    ("returns", "off by one", "off-by-one dones"),
    ("returns", "forward", "forward recursion"),
    ("returns", "reward sign", "costs negated"),
    ("returns", "gamma one", "γ = 1 throughout"),
    ("td", "bootstrap terminal", "through a terminal step"),
    ("td", "off by one", "off-by-one dones"),
    ("td", "reward sign", "costs negated"),
    ("td", "values next", "values[t+1]"),
    ("td", "undiscounted bootstrap", "γ missing from the bootstrap"),
    *[("lambda", slip, words) for name, slip, words in GAE_SLIPS],
    ("lambda", "no values added", "without + values[t]"),
]


@pytest.mark.parametrize(("name", "slip", "words"), SLIPS)
def test_wrong_implementation_fails_with_its_slip_named(name, slip, words):
    check, implementation = CHECKS[name]
    with pytest.raises(OracleMismatch) as failure:
        check(with_slip(implementation, slip), max_examples=0)
    assert words in str(failure.value)


@pytest.mark.parametrize(
    ("name", "slip", "words"),
    [
        ("returns", "no cut", "not cut at episode ends"),
        ("gae", "trace across truncation", "trace carried across a truncation"),
        ("gae", "values next", "values[t+1]"),
    ],
)
def test_the_shrunk_generated_case_still_names_the_slip(name, slip, words):
    check, implementation = CHECKS[name]
    with pytest.raises(OracleMismatch, match="Minimal failing case") as failure:
        check(with_slip(implementation, slip), **FEW)
    assert words in str(failure.value)


def test_a_user_case_with_non_flag_dones_is_refused():
    with pytest.raises(InvalidProblemError, match="dones"):
        check_discounted_returns(loop_returns, cases=[([1.0, 2.0], [0.5, 0.0], 0.9)])


def test_a_user_case_runs_first():
    report = check_discounted_returns(loop_returns, cases=[([1.0, 2.0], [1, 0], 0.9)], **FEW)
    assert report.fixed_cases >= 1


def test_check_unbiased_accepts_an_unbiased_sampler():
    verdict = check_unbiased(lambda rng: rng.normal([1.0, -2.0], 1.0), [1.0, -2.0], samples=4000)
    assert verdict.passed
    assert np.all(verdict.detectable_bias < 0.2)


def test_check_unbiased_reports_like_every_check_with_its_statistical_figures():
    report = check_unbiased(lambda rng: rng.normal([1.0, -2.0], 1.0), [1.0, -2.0], samples=4000)
    assert isinstance(report, CheckReport)
    assert (report.tier, report.cases, report.generated_cases) == ("statistical", 4000, 4000)
    assert 0 <= report.worst_ratio <= 1
    assert report.worst_ratio == report.largest_t / report.threshold
    assert "false-alarm probability <= 1e-06" in str(report)
    assert "bias detectable with probability 0.9" in str(report)


def test_check_unbiased_rejects_a_biased_sampler():
    with pytest.raises(OracleMismatch, match="detectable"):
        check_unbiased(lambda rng: rng.normal([1.2, -2.0], 1.0), [1.0, -2.0], samples=4000)


def test_check_unbiased_refuses_an_estimate_of_the_wrong_shape():
    with pytest.raises(InvalidProblemError, match="shape"):
        check_unbiased(lambda rng: rng.normal(size=3), [0.0, 0.0], samples=10)


# ----- check_pg_estimator: exact expectation on LQR -------------------------------------------


def loop_reinforce(states, actions, costs, K, sigma, gamma, *, dtype=np.float64, slip=None):
    """REINFORCE for u ~ N(−Kx, σI) by loops over rollouts and steps, with one slip."""
    states, actions, costs = (np.asarray(a, dtype=dtype) for a in (states, actions, costs))
    gain = np.asarray(K, dtype=dtype)
    batch, steps = costs.shape
    estimate = np.zeros(gain.shape, dtype=dtype)
    for i in range(batch):
        for t in range(steps):
            x, u = states[i, t], actions[i, t]
            divisor = np.sqrt(sigma) if slip == "score over root sigma" else sigma
            score = -np.outer(u + gain @ x, x) / dtype(divisor)
            to_go = sum(dtype(gamma) ** (k - t) * costs[i, k] for k in range(t, steps))
            weight = dtype(1) if slip == "no gamma^t" else dtype(gamma) ** t
            if slip == "baseline sees u_t":
                to_go = to_go - costs[i, t]
            if slip == "batch mean with own return":
                to_go = to_go - np.mean(
                    [
                        sum(gamma ** (k - t) * costs[j, k] for k in range(t, steps))
                        for j in range(batch)
                    ]
                )
            if slip == "leave one out" and batch > 1:
                to_go = to_go - np.mean(
                    [
                        sum(gamma ** (k - t) * costs[j, k] for k in range(t, steps))
                        for j in range(batch)
                        if j != i
                    ]
                )
            estimate += weight * to_go * score
    return estimate / batch


def pg_with(slip, dtype=np.float64):
    return lambda *arguments: loop_reinforce(*arguments, dtype=dtype, slip=slip)


@pytest.mark.parametrize("kind", ["v0", "reinforce", "baselined"])
def test_reference_score_function_estimators_pass(kind):
    from pgverify.estimators import gaussian_reinforce, gaussian_v0

    fn = gaussian_v0 if kind == "v0" else gaussian_reinforce
    report = check_pg_estimator(fn, kind)
    assert report.tier == "exact" and report.worst_ratio <= 1
    assert all(scenario.evaluations > 0 for scenario in report.scenarios)


@pytest.mark.parametrize(
    ("kind", "slip", "dtype"),
    [
        ("reinforce", None, np.float64),
        ("reinforce", None, np.float32),
        ("baselined", "leave one out", np.float64),
    ],
)
def test_right_loop_estimators_pass(kind, slip, dtype):
    check_pg_estimator(pg_with(slip, dtype), kind, dtype=dtype)


@pytest.mark.parametrize(
    ("slip", "words"),
    [
        ("no gamma^t", "without the γ^t weight"),
        ("baseline sees u_t", "a baseline that sees u_t"),
        ("batch mean with own return", "includes the rollout's own return"),
    ],
)
def test_biased_estimator_fails_with_its_exact_bias_and_slip_named(slip, words):
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(pg_with(slip), "baselined")
    message = str(failure.value)
    assert "exact bias" in message
    assert words in message


def test_a_score_divided_by_the_root_of_sigma_is_named_and_not_taken_for_a_batch_mean():
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(pg_with("score over root sigma"), "reinforce")
    diagnosis = [line for line in str(failure.value).splitlines() if "Diagnosis" in line]
    assert diagnosis and "divided by √σ" in diagnosis[0]
    assert "own return" not in diagnosis[0]


def test_an_unknown_pg_estimator_kind_is_refused_with_the_supported_list():
    with pytest.raises(InvalidProblemError, match="supported kinds: v0, reinforce, baselined"):
        check_pg_estimator(pg_with(None), "actor_critic")


# ----- check_softmax_pg_estimator: exact expectation by enumeration ----------------------------


def loop_softmax_reinforce(states, actions, costs, logits, gamma, *, slip=None):
    """REINFORCE for the tabular softmax policy by loops, with one slip."""
    policy = np.exp(logits - logits.max(axis=1, keepdims=True))
    policy /= policy.sum(axis=1, keepdims=True)
    batch, steps = costs.shape
    estimate = np.zeros_like(policy)
    for i in range(batch):
        for t in range(steps):
            s, a = states[i, t], actions[i, t]
            score = np.zeros_like(policy)
            score[s] = -policy[s]
            score[s, a] += 1.0
            to_go = sum(gamma ** (k - t) * costs[i, k] for k in range(t, steps))
            if slip == "baseline sees u_t":
                to_go -= costs[i, t]
            weight = 1.0 if slip == "no gamma^t" else gamma**t
            estimate += weight * to_go * score
    return estimate / batch


@pytest.mark.parametrize("kind", ["v0", "reinforce"])
def test_right_softmax_estimators_pass(kind):
    from pgverify.estimators import softmax_v0

    fn = softmax_v0 if kind == "v0" else loop_softmax_reinforce
    report = check_softmax_pg_estimator(fn, kind)
    assert report.tier == "exact" and report.worst_ratio <= 1
    assert all(scenario.evaluations > 0 for scenario in report.scenarios)


@pytest.mark.parametrize(
    ("slip", "words"),
    [("no gamma^t", "without the γ^t weight"), ("baseline sees u_t", "a baseline that sees u_t")],
)
def test_biased_softmax_estimator_fails_with_its_slip_named(slip, words):
    with pytest.raises(OracleMismatch, match="exact bias") as failure:
        check_softmax_pg_estimator(partial(loop_softmax_reinforce, slip=slip), "baselined")
    assert words in str(failure.value)


def test_softmax_pg_estimator_refuses_an_unknown_kind():
    with pytest.raises(InvalidProblemError, match="supported kinds"):
        check_softmax_pg_estimator(loop_softmax_reinforce, "advantages")


def test_a_float32_estimator_is_judged_at_float32_precision_without_being_told():
    check_pg_estimator(pg_with(None, np.float32), "reinforce")


def test_float32_accuracy_returned_as_float64_fails_at_the_float64_tolerance():
    def coarse(*arguments):  # float32 accuracy returned as float64: only dtype=None widens
        return loop_reinforce(*arguments, dtype=np.float32).astype(np.float64)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(coarse, "reinforce", dtype="float64")
    assert "right to the accuracy of float32 evaluations" in str(failure.value)


def test_a_segment_reduced_by_deleting_a_step_is_consistent_again():
    from pgverify.checks.estimators import GAESpec

    reduced = GAESpec().repair(
        {
            "costs": np.zeros(3),
            "values": np.array([1.0, 2.0, 3.0]),
            "next_values": np.array([5.0, 6.0, 7.0]),
            "terminated": np.array([False, False, False]),
            "truncated": np.array([False, True, False]),
            "gamma": 0.9,
            "lam": 0.5,
        }
    )
    # inside the episode next_values[0] = values[1]; after the truncation and at the end the
    # true next states' values stay
    assert reduced["next_values"].tolist() == [2.0, 6.0, 7.0]


def test_an_estimator_that_raises_is_reported_with_the_scenario_and_its_own_line():
    def raises(states, actions, costs, K, sigma, gamma):
        raise ValueError("my bug")

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(raises, "reinforce")
    message = str(failure.value)
    assert "the implementation raised ValueError: my bug" in message
    assert "test_checks_estimators.py:" in message  # located at the user's line
    assert "sigma = " in message  # the scenario, copy-pasteable


def test_an_estimator_lacking_a_kinds_keyword_is_told_which_keywords_the_kind_passes():
    from pgverify.checks._spec import CallMismatch

    def td_signature(states, actions, costs, K, sigma, gamma, *, values, terminated):
        return np.zeros_like(K)

    with pytest.raises(CallMismatch, match="values, terminated, lam as keywords"):
        check_pg_estimator(td_signature, "gae")


def test_a_softmax_estimator_raising_inside_numpy_is_located_at_its_own_line():
    def singular(states, actions, costs, logits, gamma):
        return np.linalg.solve(np.zeros((2, 2)), np.ones(2))

    with pytest.raises(OracleMismatch) as failure:
        check_softmax_pg_estimator(singular, "reinforce")
    message = str(failure.value)
    assert "LinAlgError" in message and "the implementation raised" in message
    assert "test_checks_estimators.py:" in message
