"""Every bad input to pgverify.mdp raises InvalidProblemError naming the argument, the value seen
and what was expected: no policy row is silently cut off, no raw IndexError, TypeError or
ZeroDivisionError, no misspelt option silently replaced by another."""

from fractions import Fraction

import numpy as np
import pytest
from flint import arb_mat

from pgverify import Enclosure, InvalidProblemError
from pgverify.mdp import (
    FiniteMDP,
    direct_fisher,
    direct_gradient,
    direct_score,
    discounted_cost,
    evaluate,
    exact_moments,
    finite_horizon_cost,
    finite_horizon_gradient,
    performance_difference,
    score_function_estimator,
    softmax_gradient,
    softmax_policy,
    softmax_score,
    tabular_policy,
    trajectories,
    trpo,
)

HALF = Fraction(1, 2)
THIRD = Fraction(1, 3)
# two states, three actions: a transposed policy has the wrong shape, never a plausible one
MDP = FiniteMDP.create(
    transitions=[
        [[HALF, HALF], [1, 0], [0, 1]],
        [[0, 1], [HALF, HALF], [1, 0]],
    ],
    costs=[[1, 2, 3], [4, 5, 6]],
    gamma=Fraction(9, 10),
    initial=[HALF, HALF],
)
POLICY = [[THIRD, THIRD, THIRD], [HALF, 0, HALF]]
LOGITS = [[0.0, 1.0, -1.0], [0.5, 0.25, 2.0]]

# every public function that takes an exact tabular policy, called with `policy` replaced
POLICY_TAKERS = {
    "evaluate": lambda p: evaluate(MDP, p),
    "direct_gradient": lambda p: direct_gradient(MDP, p),
    "performance_difference": lambda p: performance_difference(MDP, p, POLICY),
    "performance_difference(old_policy)": lambda p: performance_difference(MDP, POLICY, p),
    "finite_horizon_cost": lambda p: finite_horizon_cost(MDP, p, 2),
    "finite_horizon_gradient": lambda p: finite_horizon_gradient(MDP, p, 2),
    "trpo.surrogate": lambda p: trpo.surrogate(MDP, POLICY, p),
    "trpo.surrogate(old_policy)": lambda p: trpo.surrogate(MDP, p, POLICY),
    "trpo.surrogate_gradient_direct": lambda p: trpo.surrogate_gradient_direct(MDP, p),
    "tabular_policy": lambda p: tabular_policy(MDP, p),
    "direct_fisher": lambda p: direct_fisher(MDP, p),
    "direct_score": lambda p: direct_score(MDP, p, 0, 0),
    "trajectories": lambda p: trajectories(MDP, p, 1),
    "exact_moments": lambda p: exact_moments(MDP, p, 1, lambda batch: 0),
    "score_function_estimator": lambda p: score_function_estimator(MDP, p, 1, "V1"),
}
policy_takers = pytest.mark.parametrize("call", POLICY_TAKERS.values(), ids=POLICY_TAKERS.keys())

LOGIT_TAKERS = {
    "softmax_gradient": lambda t: softmax_gradient(MDP, t),
    "trpo.expected_kl": lambda t: trpo.expected_kl(MDP, LOGITS, t),
    "trpo.expected_kl(old_logits)": lambda t: trpo.expected_kl(MDP, t, LOGITS),
    "trpo.expected_kl_hessian": lambda t: trpo.expected_kl_hessian(MDP, t),
    "trpo.softmax_fisher": lambda t: trpo.softmax_fisher(MDP, t),
    "trpo.softmax_natural_gradient": lambda t: trpo.softmax_natural_gradient(MDP, t),
}
logit_takers = pytest.mark.parametrize("call", LOGIT_TAKERS.values(), ids=LOGIT_TAKERS.keys())


def assert_refused(call, value, fragment):
    """Assert that ``call(value)`` raises InvalidProblemError whose message contains
    ``fragment`` (fails the test if it returns, raises anything else, or says something else)."""
    with pytest.raises(InvalidProblemError) as info:
        call(value)
    assert fragment in str(info.value), str(info.value)


def test_assert_refused_fails_when_a_valid_policy_is_accepted():
    with pytest.raises(pytest.fail.Exception):
        assert_refused(POLICY_TAKERS["evaluate"], POLICY, "has length")


def test_assert_refused_fails_when_the_message_says_something_else():
    with pytest.raises(AssertionError):
        assert_refused(POLICY_TAKERS["evaluate"], POLICY[:1], "a message nobody writes")


# ------------------------------------------------------------------------------------------------
# Policies
# ------------------------------------------------------------------------------------------------


@policy_takers
def test_a_policy_with_an_extra_row_is_refused_not_cut_off(call):
    assert_refused(call, [*POLICY, [1, 0, 0]], "has length 3; expected 2 (one entry per state)")


@policy_takers
def test_a_policy_with_a_missing_row_is_refused_without_an_index_error(call):
    assert_refused(call, POLICY[:1], "has length 1; expected 2 (one entry per state)")


@policy_takers
def test_a_policy_with_an_extra_column_is_refused_not_cut_off(call):
    assert_refused(call, [[*row, 0] for row in POLICY], "[0] has length 4; expected 3")


@policy_takers
def test_a_policy_with_a_missing_column_is_refused(call):
    assert_refused(call, [[HALF, HALF], [HALF, HALF]], "[0] has length 2; expected 3")


@policy_takers
def test_a_policy_row_summing_to_three_halves_is_refused(call):
    assert_refused(call, [POLICY[0], [1, 0, HALF]], "[1] sums to 3/2")


@policy_takers
def test_a_negative_probability_is_refused(call):
    assert_refused(
        call, [POLICY[0], [Fraction(3, 2), -HALF, 0]], "[1][1] is a negative probability -1/2"
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@policy_takers
def test_a_non_finite_probability_is_refused(call, bad):
    assert_refused(call, [POLICY[0], [bad, 0, 1]], "[1][0] must be finite")


@policy_takers
def test_bool_probabilities_are_refused(call):
    assert_refused(
        call, [POLICY[0], [True, False, False]], "[1][0] must be a real number, got the bool"
    )


@policy_takers
def test_a_bool_array_policy_is_refused(call):
    assert_refused(call, np.array([[True, False, False]] * 2), "dtype bool")


@policy_takers
def test_string_probabilities_are_refused(call):
    assert_refused(call, [POLICY[0], ["1", "0", "0"]], "[1][0] must be a real number, got str")


@policy_takers
def test_a_string_array_policy_is_refused(call):
    assert_refused(call, np.array([["1", "0", "0"]] * 2), "dtype <U1")


@policy_takers
def test_a_ragged_policy_is_refused(call):
    assert_refused(call, [POLICY[0], [1, 0]], "[1] has length 2; expected 3")


@policy_takers
def test_complex_probabilities_are_refused(call):
    assert_refused(call, np.array(POLICY, dtype=float).astype(complex), "dtype complex128")


@policy_takers
def test_a_missing_policy_is_refused(call):
    assert_refused(call, None, "is required, got None")


@policy_takers
def test_a_flat_policy_is_refused(call):
    assert_refused(call, np.array([THIRD, THIRD, THIRD, HALF, 0, HALF], dtype=object), "2-D table")


def test_float32_probabilities_are_converted_exactly_not_refused():
    exact = evaluate(MDP, [[Fraction(1, 4), Fraction(1, 4), HALF], [1, 0, 0]]).cost()
    single = np.array([[0.25, 0.25, 0.5], [1, 0, 0]], dtype=np.float32)
    assert evaluate(MDP, single).cost() == exact


def test_small_integer_dtypes_are_accepted_for_deterministic_policies():
    exact = evaluate(MDP, [[0, 1, 0], [0, 0, 1]]).cost()
    assert evaluate(MDP, np.array([[0, 1, 0], [0, 0, 1]], dtype=np.int8)).cost() == exact


def test_float32_rows_that_do_not_sum_to_one_exactly_are_refused():
    """float32(0.1) + float32(0.9) is not exactly 1 once each is read exactly."""
    single = np.array([[0.1, 0.9, 0.0], [1, 0, 0]], dtype=np.float32)
    assert_refused(lambda p: evaluate(MDP, p), single, "policy[0] sums to")


def test_an_enclosure_is_refused_where_exact_probabilities_are_needed():
    assert_refused(
        lambda p: direct_gradient(MDP, p), softmax_policy(LOGITS), "got an Enclosure (balls)"
    )


def test_a_certified_policy_of_the_wrong_shape_is_refused():
    assert_refused(
        lambda p: evaluate(MDP, p), softmax_policy([[0.0, 1.0]]), "Enclosure of shape (1, 2)"
    )


def test_a_certified_policy_whose_row_sum_excludes_one_is_refused():
    balls = Enclosure(arb_mat([[0.5, 0.5, 0.5], [1, 0, 0]]))
    assert_refused(lambda p: evaluate(MDP, p), balls, "policy[0] sums to")


def test_a_certified_policy_with_a_provably_negative_entry_is_refused():
    balls = Enclosure(arb_mat([[1.5, -0.5, 0], [1, 0, 0]]))
    assert_refused(lambda p: evaluate(MDP, p), balls, "policy[0][1]")


# ------------------------------------------------------------------------------------------------
# Logits
# ------------------------------------------------------------------------------------------------


@logit_takers
def test_logits_with_an_extra_row_are_refused(call):
    assert_refused(call, [*LOGITS, [0, 0, 0]], "logits has length 3; expected 2")


@logit_takers
def test_logits_with_an_extra_column_are_refused(call):
    assert_refused(call, [[*row, 0.0] for row in LOGITS], "[0] has length 4; expected 3")


@logit_takers
def test_logits_with_a_missing_column_are_refused(call):
    assert_refused(call, [row[:2] for row in LOGITS], "[0] has length 2; expected 3")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@logit_takers
def test_non_finite_logits_are_refused_without_a_zero_division(call, bad):
    assert_refused(call, [LOGITS[0], [bad, 0.0, 0.0]], "[1][0] must be finite")


def test_ragged_logits_are_refused_by_softmax_policy():
    assert_refused(softmax_policy, [[0.0, 1.0], [0.0]], "logits[1] has length 1; expected 2")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_logits_are_refused_by_softmax_policy(bad):
    assert_refused(softmax_policy, [[bad, 1.0]], "logits[0][0] must be finite")


def test_huge_logits_give_a_certified_policy_instead_of_an_overflow():
    policy = softmax_policy([[1e300, 0.0]])
    assert np.array_equal(policy.mid, [[1.0, 0.0]])  # exp(-1e300) / (1 + exp(-1e300)) ≈ 0
    assert policy.max_radius < 1e-60


def test_softmax_score_refuses_a_state_outside_the_logits():
    assert_refused(lambda s: softmax_score(LOGITS, s, 0), 2, "state must be an int in 0..1, got 2")


# ------------------------------------------------------------------------------------------------
# Options, integers and other arguments
# ------------------------------------------------------------------------------------------------


def test_a_misspelt_direct_route_is_refused_listing_the_routes():
    assert_refused(
        lambda r: direct_gradient(MDP, POLICY, r), "theorm", "'theorem', 'bellman'; got str"
    )


def test_a_misspelt_softmax_route_is_refused_listing_the_routes():
    assert_refused(
        lambda r: softmax_gradient(MDP, LOGITS, r), "closed_form", "'closed-form'; got str"
    )


def test_a_misspelt_estimator_form_is_refused():
    assert_refused(
        lambda f: score_function_estimator(MDP, [[THIRD] * 3] * 2, 1, f), "v1", "'V0', 'V1', 'V2'"
    )


def test_a_baseline_with_a_form_that_ignores_it_is_refused():
    assert_refused(
        lambda f: score_function_estimator(MDP, [[THIRD] * 3] * 2, 1, f, baseline=lambda t, x: 0),
        "V2",
        "baseline is used by form 'V1' only",
    )


HORIZON_TAKERS = {
    "finite_horizon_cost": lambda n: finite_horizon_cost(MDP, POLICY, n),
    "finite_horizon_gradient": lambda n: finite_horizon_gradient(MDP, POLICY, n),
    "trajectories": lambda n: trajectories(MDP, POLICY, n),
    "exact_moments": lambda n: exact_moments(MDP, POLICY, n, lambda batch: 0),
    "score_function_estimator": lambda n: score_function_estimator(MDP, [[THIRD] * 3] * 2, n, "V1"),
}
horizon_takers = pytest.mark.parametrize("call", HORIZON_TAKERS.values(), ids=HORIZON_TAKERS.keys())


@horizon_takers
def test_a_negative_horizon_is_refused_not_answered_with_zero(call):
    assert_refused(call, -1, "horizon must be an int >= 0, got -1")


@pytest.mark.parametrize("bad", [2.0, True, "2", None])
@horizon_takers
def test_a_horizon_that_is_not_an_int_is_refused(call, bad):
    assert_refused(call, bad, "horizon must be an int, got")


def test_a_numpy_integer_horizon_is_accepted():
    assert finite_horizon_cost(MDP, POLICY, np.int8(2)) == finite_horizon_cost(MDP, POLICY, 2)


@pytest.mark.parametrize("bad", [32, 64.0, True, "212"])
def test_a_working_precision_below_64_bits_or_not_an_int_is_refused(bad):
    assert_refused(lambda b: softmax_policy(LOGITS, bits=b), bad, "bits must be an int")


@pytest.mark.parametrize("bad", [None, "mdp", [[[1]]]])
def test_an_mdp_argument_that_is_not_a_finite_mdp_is_refused(bad):
    assert_refused(lambda m: evaluate(m, POLICY), bad, "mdp must be a pgverify.mdp.FiniteMDP")


@pytest.mark.parametrize(("state", "action"), [(2, 0), (0, 3), (-1, 0), (True, 0), (0, 1.0)])
def test_q_value_refuses_a_state_or_action_outside_the_mdp(state, action):
    with pytest.raises(InvalidProblemError, match=r"(state|action) must be an int"):
        evaluate(MDP, POLICY).q_value(state, action)


@pytest.mark.parametrize(
    "trajectory", [[(2, 0)], [(0, 3)], [(0,)], [], "ab", [(0, 0.5)], None, [(0, None)]]
)
def test_discounted_cost_refuses_a_trajectory_outside_the_mdp(trajectory):
    with pytest.raises(InvalidProblemError, match="trajectory"):
        discounted_cost(MDP, trajectory)


def test_trajectories_checks_its_arguments_when_called_not_when_iterated():
    with pytest.raises(InvalidProblemError, match="policy"):
        trajectories(MDP, [[1, 1, 1]] * 2, 1)  # no next(): the call itself raises


@pytest.mark.parametrize("value", [float("nan"), "x", None, [1, "a"]])
def test_a_statistic_returning_a_non_number_is_refused_by_name(value):
    with pytest.raises(InvalidProblemError, match=r"statistic\(batch\)"):
        exact_moments(MDP, POLICY, 1, lambda batch: value)


def test_a_statistic_that_is_not_callable_is_refused():
    assert_refused(
        lambda s: exact_moments(MDP, POLICY, 1, s), 3, "statistic must be a function, got int"
    )


def test_a_baseline_returning_a_non_number_is_refused_by_name():
    estimator = score_function_estimator(
        MDP, [[THIRD] * 3] * 2, 1, "V1", baseline=lambda t, x: "zero"
    )
    assert_refused(
        lambda e: exact_moments(MDP, [[THIRD] * 3] * 2, 1, e), estimator, "baseline(t, x)"
    )


@pytest.mark.parametrize("bad", [1, "yes", None])
def test_reverse_must_be_a_bool(bad):
    assert_refused(
        lambda r: trpo.expected_kl(MDP, LOGITS, LOGITS, reverse=r), bad, "reverse must be"
    )


def test_fisher_times_refuses_a_vector_of_another_size():
    fisher = trpo.softmax_fisher(MDP, LOGITS)
    assert_refused(
        lambda v: trpo.fisher_times(fisher, v), softmax_policy([[0.0, 1.0]]), "fisher has shape"
    )


# ------------------------------------------------------------------------------------------------
# The MDP itself
# ------------------------------------------------------------------------------------------------


def test_the_constructor_validates_like_create():
    with pytest.raises(InvalidProblemError, match=r"transitions\[0\]\[0\] sums to 3/2"):
        FiniteMDP([[[1, HALF]]] * 2, [[0], [0]], HALF, [1, 0])


def test_float32_mdp_data_are_converted_exactly():
    mdp = FiniteMDP.create(
        np.array([[[0.5, 0.5]], [[0.25, 0.75]]], dtype=np.float32),
        np.array([[1.5], [2.0]], dtype=np.float32),
        np.float32(0.5),
        np.array([1.0, 0.0], dtype=np.float32),
    )
    assert mdp.transitions[1][0] == (Fraction(1, 4), Fraction(3, 4))
    assert mdp.gamma == HALF


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("costs", [[1, 2, 3]], "costs has length 1; expected 2"),
        ("costs", [[1, 2], [3, 4]], "costs[0] has length 2; expected 3"),
        ("costs", [[1, 2, np.nan], [3, 4, 5]], "costs[0][2] must be finite"),
        ("costs", [[1, 2, 3j], [3, 4, 5]], "costs[0][2] must be a real number, got the complex"),
        ("initial", [1, 0, 0], "initial has length 3; expected 2"),
        ("initial", [HALF, Fraction(1, 4)], "initial sums to 3/4"),
        ("gamma", 1, "gamma must lie in (0, 1), got 1"),
        ("gamma", "0.9", "gamma must be a real number, got str"),
        ("transitions", None, "transitions is required, got None"),
        ("transitions", [[[HALF, HALF]] * 3, [[1, 0]] * 2], "transitions[1] has length 2"),
    ],
)
def test_bad_mdp_data_are_refused_by_name(name, value, fragment):
    arguments = dict(
        transitions=[[[HALF, HALF], [1, 0], [0, 1]], [[0, 1], [HALF, HALF], [1, 0]]],
        costs=[[1, 2, 3], [4, 5, 6]],
        gamma=Fraction(9, 10),
        initial=[HALF, HALF],
    )
    arguments[name] = value
    with pytest.raises(InvalidProblemError) as info:
        FiniteMDP.create(**arguments)
    assert fragment in str(info.value)
