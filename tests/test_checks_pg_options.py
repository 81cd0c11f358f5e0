"""The options every check offers, on the exact-expectation policy-gradient checks:
``cases=`` (user rollout distributions / finite MDPs), ``seed=`` and ``max_examples=``
(generated ones), the minimal failing case printed as the call that replays it."""

from __future__ import annotations

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import check_pg_estimator, check_softmax_pg_estimator
from pgverify.checks._driver import DEFAULTS, PROFILES
from pgverify.estimators.policy_gradient import gaussian_reinforce, softmax_reinforce

LQR_CASE = {
    "A": [[1.0, 0.1], [0.0, 0.9]],
    "B": [[0.0], [1.0]],
    "Q": [[1.0, 0.0], [0.0, 2.0]],
    "R": [[0.5]],
    "Sigma0": [[1.0, 0.0], [0.0, 1.0]],
    "K": [[0.2, 0.4]],
    "sigma": 0.25,
    "gamma": 0.95,
    "steps": 3,
    "batch": 2,
}

MDP_CASE = {
    "transitions": [[[0.5, 0.5], [1.0, 0.0]], [[0.0, 1.0], [0.25, 0.75]]],
    "costs": [[1.0, -0.5], [2.0, 0.0]],
    "initial": [0.5, 0.5],
    "policy": [[0.3, 0.7], [0.6, 0.4]],  # not dyadic: the exact policy is the floats' values
    "gamma": 0.8,
    "steps": 2,
    "batch": 2,
}


def reinforce(states, actions, costs, K, sigma, gamma):
    return gaussian_reinforce(states, actions, costs, K, sigma, gamma)


def mean_over_at_most_two(states, actions, costs, K, sigma, gamma):
    """Right for batches of one or two rollouts, 3/2 × the right value for three: only a
    generated case (the fixed ones have M ≤ 2) shows it."""
    batch = costs.shape[0]
    return reinforce(states, actions, costs, K, sigma, gamma) * batch / min(batch, 2)


def test_a_user_rollout_distribution_is_run_beside_the_fixed_ones():
    report = check_pg_estimator(reinforce, "reinforce", cases=[LQR_CASE], max_examples=0)
    assert report.fixed_cases == 4 and report.generated_cases == 0
    assert any(s.label.startswith("2 states, 1 input, σ = 0.25") for s in report.scenarios)


def test_a_wrong_estimator_fails_on_the_users_case_named_as_such():
    def no_discount_weight(states, actions, costs, K, sigma, gamma):
        steps = costs.shape[1]
        return reinforce(states, actions, costs / gamma ** np.arange(steps), K, sigma, gamma)

    with pytest.raises(OracleMismatch, match=r"your case cases\[0\]"):
        check_pg_estimator(no_discount_weight, "reinforce", cases=[LQR_CASE], max_examples=0)


def test_generated_distributions_catch_a_slip_that_no_fixed_case_shows():
    check_pg_estimator(mean_over_at_most_two, "reinforce", max_examples=0)  # fixed ones pass
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(mean_over_at_most_two, "reinforce", max_examples=30, seed=1)
    message = str(failure.value)
    assert "generated from seed=1" in message and "batch = 3" in message
    assert "1.5 × the right value" in message


def test_the_printed_minimal_case_replays_the_failure():
    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(mean_over_at_most_two, "reinforce", max_examples=30, seed=1)
    message = str(failure.value)
    start = message.index("    import numpy as np")
    end = message.index("\n\n", start)
    code = "\n".join(line[4:] for line in message[start:end].splitlines())
    with pytest.raises(OracleMismatch, match=r"your case cases\[0\]"):
        exec(code, {"fn": mean_over_at_most_two})


def test_the_same_seed_gives_the_same_minimal_case():
    messages = []
    for _ in range(2):
        with pytest.raises(OracleMismatch) as failure:
            check_pg_estimator(mean_over_at_most_two, "reinforce", max_examples=30, seed=4)
        messages.append(str(failure.value).split("expected E[estimate]")[0])
    assert messages[0] == messages[1]


def test_the_default_count_is_a_fifth_of_the_profiles():
    report = check_pg_estimator(reinforce, "reinforce")
    assert report.generated_cases == PROFILES[DEFAULTS.profile] // 5
    assert "generated from seed 0" in str(report)


def test_a_biased_critic_estimator_is_shrunk_to_a_biased_case():
    from tests.test_checks_critic_kinds import loop_gaussian

    def td_without_gamma(*arguments, **critic):
        return loop_gaussian(*arguments, kind="td", slip="TD without gamma", **critic)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(td_without_gamma, "td", seed=2)
    message = str(failure.value)
    assert "exact bias" in message and "kind mismatch" not in message
    assert "the TD residual without γ" in message


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"K": [[0.2, 0.4, 0.1]]}, "K has shape (1, 3); expected (1, 2)"),
        ({"sigma": 0.0}, "expected a variance > 0"),
        ({"gamma": 1.5}, "expected 0 < gamma <= 1"),
        ({"steps": 2.5}, "['steps'] must be an int >= 1"),
        ({"truncated": True}, "truncated = True needs a critic kind"),
        ({"horizon": 3}, "unknown field(s) ['horizon']"),
    ],
)
def test_an_invalid_user_rollout_distribution_is_refused_with_its_field(change, words):
    with pytest.raises(InvalidProblemError) as refusal:
        check_pg_estimator(reinforce, "reinforce", cases=[{**LQR_CASE, **change}])
    assert "cases[0]" in str(refusal.value) and words in str(refusal.value)


def test_a_user_case_lacking_a_field_is_refused_naming_it():
    case = {name: value for name, value in LQR_CASE.items() if name != "Sigma0"}
    with pytest.raises(InvalidProblemError, match=r"cases\[0\] lacks the field 'Sigma0'"):
        check_pg_estimator(reinforce, "reinforce", cases=[case])


def test_a_case_needing_too_many_nodes_is_refused_up_front():
    big = {**LQR_CASE, "steps": 6, "batch": 3}
    with pytest.raises(InvalidProblemError, match=r"cases\[0\]"):
        check_pg_estimator(reinforce, "reinforce", cases=[big])


def softmax(states, actions, costs, logits, gamma):
    return softmax_reinforce(states, actions, costs, logits, gamma)


def test_a_user_finite_mdp_is_run_beside_the_fixed_ones():
    report = check_softmax_pg_estimator(softmax, "reinforce", cases=[MDP_CASE], max_examples=0)
    assert report.fixed_cases == 3


def test_the_softmax_check_catches_a_slip_that_only_generated_mdps_show():
    def one_state_only(states, actions, costs, logits, gamma):
        estimate = softmax(states, actions, costs, logits, gamma)
        # drops the gradient of every state but the first: the fixed cases have two states
        # with cost differences in both, so they catch it too; a generated case must as well
        estimate[1:] = 0.0
        return estimate

    with pytest.raises(OracleMismatch) as failure:
        check_softmax_pg_estimator(one_state_only, "reinforce", cases=[MDP_CASE], seed=0)
    assert "generated from seed=0" in str(failure.value)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"policy": [[0.3, 0.6], [0.6, 0.4]]}, "must sum to 1"),
        ({"policy": [[1.0, 0.0], [0.6, 0.4]]}, "positive probabilities"),
        ({"steps": 5}, "enumerated batches"),
    ],
)
def test_an_invalid_user_mdp_is_refused_with_what_was_wrong(change, words):
    with pytest.raises(InvalidProblemError) as refusal:
        check_softmax_pg_estimator(softmax, "reinforce", cases=[{**MDP_CASE, **change}])
    assert "cases[0]" in str(refusal.value) and words in str(refusal.value)


def test_a_bias_that_is_no_constant_multiple_is_said_to_match_no_slip():
    def offset(states, actions, costs, K, sigma, gamma):
        return reinforce(states, actions, costs, K, sigma, gamma) + 0.01

    with pytest.raises(OracleMismatch, match="matches none of the known slips"):
        check_pg_estimator(offset, "reinforce", max_examples=5)


def test_a_sign_flip_on_every_failing_case_is_named_as_a_constant_factor():
    def wrong_sign(states, actions, costs, K, sigma, gamma):
        return -reinforce(states, actions, costs, K, sigma, gamma)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(wrong_sign, "reinforce")
    diagnosis = [line for line in str(failure.value).splitlines() if "Diagnosis" in line]
    assert diagnosis and "-1 × the right value" in diagnosis[0]


def test_twice_the_estimate_is_a_factor_not_a_slip_that_fits_one_case():
    # at σ = 0.5 twice the estimate equals the score with σ read as a standard deviation
    # (1/σ = 2); the factor 2 on every failing case is the better explanation
    def doubled(states, actions, costs, K, sigma, gamma):
        return 2 * reinforce(states, actions, costs, K, sigma, gamma)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(doubled, "reinforce")
    diagnosis = [line for line in str(failure.value).splitlines() if "Diagnosis" in line]
    assert diagnosis and "2 × the right value" in diagnosis[0]


def test_a_wrong_shape_of_b_is_blamed_on_b():
    with pytest.raises(InvalidProblemError, match=r"B has shape \(1, 2\); expected \(2, 1\)"):
        check_pg_estimator(reinforce, "reinforce", cases=[{**LQR_CASE, "B": [[0.0, 1.0]]}])


def test_a_case_given_as_a_namedtuple_is_read_by_its_field_names():
    from collections import namedtuple

    Case = namedtuple("Case", list(LQR_CASE))
    report = check_pg_estimator(reinforce, "reinforce", cases=[Case(**LQR_CASE)], max_examples=0)
    assert report.fixed_cases == 4


def test_an_estimator_returning_none_is_told_the_expected_shape():
    def forgot_return(states, actions, costs, K, sigma, gamma):
        reinforce(states, actions, costs, K, sigma, gamma)

    with pytest.raises(OracleMismatch) as failure:
        check_pg_estimator(forgot_return, "reinforce", max_examples=0)
    message = str(failure.value)
    assert "fn returned NoneType" in message and "expected an array of K's shape" in message
    assert "UnreadableResult" not in message
