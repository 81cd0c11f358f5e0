"""check_pg_estimator and check_softmax_pg_estimator on the critic kinds ("q", "advantage",
"td", "gae"): right implementations (pgverify's references and independent loops written here)
pass; each deliberately wrong loop fails and its slip is named — by the exact bias when the slip
is biased, as a kind mismatch when it is unbiased but computes another Ψ_t."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import check_pg_estimator, check_softmax_pg_estimator
from pgverify.estimators import gaussian_critic_pg, softmax_critic_pg

KINDS = ("q", "advantage", "td", "gae")


def loop_psi(costs, kind, gamma, slip, values, q_values, terminated, lam, i):
    """Ψ_t of rollout i by plain loops, with one slip."""
    steps = costs.shape[1]
    if kind == "q":
        return list(q_values[i])
    if kind == "advantage":
        return [q_values[i, t] - (0.0 if slip == "Q for A" else values[i, t]) for t in range(steps)]
    deltas = []
    for t in range(steps):
        ends = terminated[i, t] and slip != "bootstrap through the end"
        bootstrap = 0.0 if ends else values[i, t + 1]
        delta = costs[i, t] + (1.0 if slip == "TD without gamma" else gamma) * bootstrap
        delta -= values[i, t]
        deltas.append(-delta if slip == "TD wrong sign" else delta)
    if kind == "td":
        return deltas
    factor = lam if slip == "trace by lambda" else gamma * lam
    psi, carried = [0.0] * steps, 0.0
    for t in reversed(range(steps)):
        carried = deltas[t] + (0.0 if terminated[i, t] else factor * carried)
        psi[t] = carried
    return psi


def loop_gaussian(
    states, actions, costs, K, sigma, gamma, *, kind, slip=None, values=None, q_values=None,
    terminated=None, lam=None,
):  # fmt: skip
    batch, steps = costs.shape
    estimate = np.zeros(K.shape)
    for i in range(batch):
        psi = loop_psi(costs, kind, gamma, slip, values, q_values, terminated, lam, i)
        for t in range(steps):
            x, u = states[i, t], actions[i, t]
            score = -np.outer(u + K @ x, x) / sigma
            weight = 1.0 if slip == "no gamma^t" else gamma**t
            estimate += weight * psi[t] * score
    return estimate / batch


def loop_softmax(
    states, actions, costs, logits, gamma, *, kind, slip=None, values=None, q_values=None,
    terminated=None, lam=None,
):  # fmt: skip
    policy = np.exp(logits - logits.max(axis=1, keepdims=True))
    policy /= policy.sum(axis=1, keepdims=True)
    batch, steps = costs.shape
    estimate = np.zeros_like(policy)
    for i in range(batch):
        psi = loop_psi(costs, kind, gamma, slip, values, q_values, terminated, lam, i)
        for t in range(steps):
            s, a = states[i, t], actions[i, t]
            score = np.zeros_like(policy)
            score[s] = -policy[s]
            score[s, a] += 1.0
            weight = 1.0 if slip == "no gamma^t" else gamma**t
            estimate += weight * psi[t] * score
    return estimate / batch


def test_reference_gae_passes_on_lqr():
    report = check_pg_estimator(partial(gaussian_critic_pg, kind="gae"), "gae")
    assert report.tier == "exact" and report.worst_ratio <= 1
    assert all(scenario.evaluations > 0 for scenario in report.scenarios)


@pytest.mark.parametrize("kind", KINDS)
def test_right_loop_critic_estimators_pass_on_lqr(kind):
    check_pg_estimator(partial(loop_gaussian, kind=kind), kind)


def test_a_float32_critic_estimator_passes_at_float32_precision():
    def single(*arguments, **critic):
        return loop_gaussian(*arguments, kind="gae", **critic).astype(np.float32)

    check_pg_estimator(single, "gae")


def single_precision_gaussian(states, actions, costs, K, sigma, gamma, *, kind, **critic):
    """The right estimator computed in float32 throughout (inputs, Ψ_t, scores and sums)."""
    f = np.float32
    states, actions, costs, K = (np.asarray(a, dtype=f) for a in (states, actions, costs, K))
    critic = {k: (v if k == "terminated" else np.asarray(v, dtype=f)) for k, v in critic.items()}
    sigma, gamma = f(sigma), f(gamma)
    batch, steps = costs.shape
    psi = np.array(
        [loop_psi(costs, kind, gamma, None, critic.get("values"), critic.get("q_values"),
                  critic.get("terminated"), critic.get("lam"), i) for i in range(batch)],
        dtype=f,
    )  # fmt: skip
    noise = actions + states[:, :steps] @ K.T
    scores = -noise[..., :, None] * states[:, :steps, None, :] / sigma
    weights = (gamma ** np.arange(steps, dtype=f) * psi)[..., None, None]
    return (weights * scores).sum(axis=(0, 1)) / f(batch)


@pytest.mark.parametrize("kind", KINDS)
def test_a_critic_estimator_computed_in_float32_throughout_passes(kind):
    # the node of zero action noise gives 0 exactly in the reference and a float32 rounding
    # residue of the batch's scale here: that residue must be allowed, not read as another Ψ_t
    check_pg_estimator(partial(single_precision_gaussian, kind=kind), kind)


@pytest.mark.parametrize("kind", ["td", "gae"])
def test_a_float32_estimator_bootstrapping_through_the_end_still_fails(kind):
    def wrong(*arguments, **critic):
        terminated = np.zeros_like(critic["terminated"])
        return single_precision_gaussian(
            *arguments, kind=kind, **{**critic, "terminated": terminated}
        )

    with pytest.raises(OracleMismatch, match="bootstrapping through the terminal step"):
        check_pg_estimator(wrong, kind)


BIASED = [
    ("td", "bootstrap through the end", "bootstrapping through the terminal step"),
    ("gae", "bootstrap through the end", "bootstrapping through the terminal step"),
    ("td", "TD wrong sign", "the TD residual with the wrong sign"),
    ("gae", "TD wrong sign", "the TD residual with the wrong sign"),
    ("td", "TD without gamma", "the TD residual without γ"),
    ("gae", "TD without gamma", "the TD residual without γ"),
    ("q", "no gamma^t", "no γ^t weight of step t"),
    ("advantage", "no gamma^t", "no γ^t weight of step t"),
    ("gae", "no gamma^t", "no γ^t weight of step t"),
]
UNBIASED_BUT_ANOTHER_KIND = [
    ("advantage", "Q for A", "the advantage taken as Q"),
    ("gae", "trace by lambda", "GAE's trace decaying by λ instead of γλ"),
]


@pytest.mark.parametrize(("kind", "slip", "words"), BIASED)
def test_biased_critic_estimator_fails_on_lqr_with_its_exact_bias_and_slip_named(kind, slip, words):
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(partial(loop_gaussian, kind=kind, slip=slip), kind)
    message = str(failure.value)
    assert "exact bias" in message
    assert f"equals that of {words}" in message


@pytest.mark.parametrize(("kind", "slip", "words"), UNBIASED_BUT_ANOTHER_KIND)
def test_unbiased_estimator_of_another_form_fails_on_lqr_as_a_kind_mismatch_named(
    kind, slip, words
):
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(partial(loop_gaussian, kind=kind, slip=slip), kind)
    message = str(failure.value)
    assert "kind mismatch" in message and "exact bias" not in message
    assert f"equals that of {words}" in message


def test_a_critic_estimator_matching_no_slip_is_said_to_match_none():
    def offset(states, actions, costs, K, sigma, gamma, **critic):
        return loop_gaussian(states, actions, costs, K, sigma, gamma, kind="q", **critic) + 0.125

    with pytest.raises(OracleMismatch, match="matches none of the known slips"):
        check_pg_estimator(offset, "q")


def test_a_constant_multiple_of_a_critic_estimate_is_named_with_its_factor():
    def doubled(*arguments, **critic):
        return 2 * loop_gaussian(*arguments, kind="q", **critic)

    with pytest.raises(OracleMismatch, match=r"your estimate is 2 × the 'q' estimate"):
        check_pg_estimator(doubled, "q")


def test_a_critic_estimator_reading_sigma_as_a_standard_deviation_is_named():
    def score_over_sigma_squared(states, actions, costs, K, sigma, gamma, **critic):
        return loop_gaussian(states, actions, costs, K, sigma**2, gamma, kind="gae", **critic)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(score_over_sigma_squared, "gae")
    diagnosis = [line for line in str(failure.value).splitlines() if "Diagnosis" in line]
    assert diagnosis and "σ read as a standard deviation" in diagnosis[0]


class Seen(Exception):
    """Raised by a recording estimator after its first call (the check need not run on)."""


def test_the_check_passes_each_kind_only_the_critic_arrays_it_reads():
    seen = {}

    def record(kind):
        def fn(states, actions, costs, K, sigma, gamma, **critic):
            M, T = costs.shape
            shapes = {"values": (M, T + 1), "q_values": (M, T), "terminated": (M, T), "lam": ()}
            assert all(np.shape(value) == shapes[name] for name, value in critic.items())
            if "terminated" in critic:  # the horizon ends every episode, nothing before it
                assert critic["terminated"][:, -1].all() and not critic["terminated"][:, :-1].any()
            seen[kind] = sorted(critic)
            raise Seen

        return fn

    for kind in KINDS:
        # the check reports fn's own exception (an assertion above failing would show instead)
        with pytest.raises(OracleMismatch, match=r"the implementation raised .*Seen"):
            check_pg_estimator(record(kind), kind)
    assert seen == {
        "q": ["q_values"],
        "advantage": ["q_values", "values"],
        "td": ["terminated", "values"],
        "gae": ["lam", "terminated", "values"],
    }


def test_an_unknown_kind_is_refused_with_the_supported_list():
    with pytest.raises(InvalidProblemError, match="supported kinds: v0, reinforce, baselined, q"):
        check_pg_estimator(partial(loop_gaussian, kind="q"), "critic")


def test_reference_gae_passes_on_finite_mdps():
    report = check_softmax_pg_estimator(partial(softmax_critic_pg, kind="gae"), "gae")
    assert report.tier == "exact" and report.worst_ratio <= 1
    assert all(scenario.evaluations > 0 for scenario in report.scenarios)


@pytest.mark.parametrize("kind", KINDS)
def test_right_loop_critic_estimators_pass_on_finite_mdps(kind):
    check_softmax_pg_estimator(partial(loop_softmax, kind=kind), kind)


@pytest.mark.parametrize(
    ("kind", "slip", "words"),
    [
        ("td", "bootstrap through the end", "bootstrapping through the terminal step"),
        ("gae", "TD without gamma", "the TD residual without γ"),
        ("q", "no gamma^t", "no γ^t weight of step t"),
    ],
)
def test_biased_softmax_critic_estimator_fails_with_its_slip_named(kind, slip, words):
    with pytest.raises(OracleMismatch, match="exact bias") as failure:
        check_softmax_pg_estimator(partial(loop_softmax, kind=kind, slip=slip), kind)
    assert f"equals that of {words}" in str(failure.value)


@pytest.mark.parametrize(("kind", "slip", "words"), UNBIASED_BUT_ANOTHER_KIND)
def test_softmax_estimator_of_another_form_fails_as_a_kind_mismatch_named(kind, slip, words):
    with pytest.raises(OracleMismatch, match="kind mismatch") as failure:
        check_softmax_pg_estimator(partial(loop_softmax, kind=kind, slip=slip), kind)
    assert f"equals that of {words}" in str(failure.value)


def test_a_rounding_level_error_passes_at_nodes_where_the_estimate_vanishes():
    # at the rule's centre (x_0 = 0, no noise) every score is 0 and so is the right estimate
    def with_rounding(*arguments, **critic):
        return loop_gaussian(*arguments, kind="q", **critic) + 1e-18

    check_pg_estimator(with_rounding, "q")


def test_the_truncated_scenarios_target_is_the_cut_policy_gradient_sum():
    from pgverify.checks.estimators_pg import SCENARIOS, _critic, _target
    from pgverify.expectation import critic_gradient_expectation
    from pgverify.lqr import LQR

    s = next(scenario for scenario in SCENARIOS if scenario.truncated)
    problem = LQR(s.A, s.B, s.Q, s.R, s.Sigma0, gamma=s.gamma, noise=s.sigma)
    formula = critic_gradient_expectation(problem, np.array(s.K), s.steps, _critic(s).matrices[0])
    assert (_target(s) == formula).all()  # exact Fractions on both sides


@pytest.mark.parametrize("kind", ["td", "gae"])
def test_a_time_limit_cut_treated_as_a_termination_fails_and_is_named(kind):
    def ends_every_segment(*arguments, **critic):
        terminated = critic["terminated"].copy()
        terminated[:, -1] = True
        return loop_gaussian(*arguments, kind=kind, **{**critic, "terminated": terminated})

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(ends_every_segment, kind)
    message = str(failure.value)
    assert "rollouts cut at T = 2 by a time limit" in message
    assert "a time-limit cut treated as a termination" in message
