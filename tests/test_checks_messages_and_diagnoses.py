"""A new user's trial of the checks (issue #9 follow-up): each wrong implementation is diagnosed
as what it is, and each message says the right thing — a signature mismatch, a None result, an
incomplete tuple case, the dtype judged at, an unknown profile."""

import collections
import inspect

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import (
    check_lqr_gradient,
    check_lyapunov_solver,
    check_policy_evaluation,
)
from pgverify.checks._driver import DEFAULTS
from tests.test_checks_implementations import LQRImplementation, MDPImplementation, lyapunov

RIGHT = LQRImplementation()


def diagnosis_of(failure: pytest.ExceptionInfo) -> str:
    return str(failure.value).split("Diagnosis: ", 1)[1]


# --------------------------------------------------------------------------------------------
# 1. Misdiagnoses
# --------------------------------------------------------------------------------------------


def test_a_gradient_ignoring_gamma_is_diagnosed_undiscounted_not_gamma_missing_from_sigma():
    with pytest.raises(OracleMismatch) as failure:
        check_lqr_gradient(LQRImplementation("undiscounted").gradient, gamma=0.9)
    diagnosis = diagnosis_of(failure)
    assert diagnosis.startswith("your result equals the gradient of the undiscounted problem")
    assert "equals the gradient with γ missing from Σ_K" not in diagnosis


def test_a_case_that_tells_apart_slips_coinciding_on_the_minimal_case_is_shown():
    # shrinking reaches B = 0, where ignoring γ everywhere and only in Σ_K coincide
    with pytest.raises(OracleMismatch) as failure:
        check_lqr_gradient(LQRImplementation("undiscounted").gradient, gamma=0.9)
    message = str(failure.value)
    assert "Minimal failing case" in message
    assert "On the case above it also coincides with: the gradient with γ missing" in message
    telling = message.split("A failing case on which only the diagnosis fits:)", 1)[1]
    B = telling.split("B = ", 1)[1].split("\n", 1)[0]
    assert np.any(eval(B, {"np": np}) != 0.0)  # that case has a B that matters


def test_gamma_missing_only_from_sigma_is_still_diagnosed_as_such():
    with pytest.raises(OracleMismatch) as failure:
        check_lqr_gradient(LQRImplementation("gamma missing in Sigma").gradient, gamma=0.9)
    assert diagnosis_of(failure).startswith(
        "your result equals the gradient with γ missing from Σ_K"
    )


def test_unconverged_policy_evaluation_is_diagnosed_with_its_sweep_count_not_as_float32():
    with pytest.raises(OracleMismatch) as failure:
        check_policy_evaluation(MDPImplementation("200 sweeps").value)
    diagnosis = diagnosis_of(failure)
    assert diagnosis.startswith("your result equals V after 200 sweeps")
    assert "float32" not in diagnosis


def test_a_float32_diagnosis_needs_entries_that_are_float32_numbers():
    def slightly_off(transitions, costs, policy, gamma):  # 1e-9 relative: not float32 numbers
        return MDPImplementation().value(transitions, costs, policy, gamma) * (1 + 1e-9)

    with pytest.raises(OracleMismatch) as failure:
        check_policy_evaluation(slightly_off, max_examples=0)
    diagnosis = diagnosis_of(failure)
    assert "a float32 computation returned as float64" not in diagnosis
    assert "not float32 numbers" in diagnosis


def test_a_float32_result_widened_to_float64_is_still_diagnosed_as_float32():
    def widened(transitions, costs, policy, gamma):
        single = MDPImplementation(dtype=np.float32)
        return single.value(transitions, costs, policy, gamma).astype(np.float64)

    with pytest.raises(OracleMismatch) as failure:
        check_policy_evaluation(widened, max_examples=0)
    assert "a float32 computation returned as float64" in diagnosis_of(failure)


# --------------------------------------------------------------------------------------------
# 2. Missing diagnoses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("check", "fn", "words"),
    [
        (check_lqr_gradient, LQRImplementation("sigma from I").gradient, "Σ_K computed from I"),
        (check_policy_evaluation, MDPImplementation("negated").value, "−V^π (the sign negated"),
        (
            check_policy_evaluation,
            MDPImplementation("uniform transitions").value,
            "transitions averaged uniformly over the actions",
        ),
    ],
    ids=["sigma from I", "negated V", "uniform transitions"],
)
def test_the_default_run_diagnoses_the_slips_the_trial_found_undiagnosed(check, fn, words):
    with pytest.raises(OracleMismatch) as failure:
        check(fn)
    assert words in diagnosis_of(failure).split("\n", 1)[0]


# --------------------------------------------------------------------------------------------
# 3. Messages: signature mismatch, None, user cases
# --------------------------------------------------------------------------------------------


def gradient_without_sigma0(A, B, Q, R, K):
    return RIGHT.gradient(A, B, Q, R, np.eye(len(A)), K)


def test_a_signature_mismatch_says_fn_could_not_be_called_and_points_at_fn():
    calls = []

    def recording(A, B, Q, R, K):
        calls.append(A)
        return K

    with pytest.raises(InvalidProblemError) as failure:
        check_lqr_gradient(recording)
    message = str(failure.value)
    assert "fn could not be called as fn(A, B, Q, R, Sigma0, K): TypeError" in message
    line = inspect.getsourcelines(recording)[1]
    assert f"fn is {recording.__qualname__}, defined at {__file__}:{line}" in message
    assert "with signature (A, B, Q, R, K)" in message
    assert calls == []  # refused before any case ran


def test_an_unexpected_gamma_keyword_is_a_signature_mismatch():
    with pytest.raises(InvalidProblemError, match=r"fn\(A, B, Q, R, Sigma0, K, gamma=0\.9\)"):
        check_lqr_gradient(gradient_six, gamma=0.9)


def gradient_six(A, B, Q, R, Sigma0, K):
    return RIGHT.gradient(A, B, Q, R, Sigma0, K)


class UninspectableSolver:
    """A callable whose signature cannot be read: the mismatch shows on the first call."""

    __signature__ = "not a signature"

    def __call__(self, A):
        return A


def test_a_mismatch_of_an_uninspectable_callable_is_found_on_the_first_call():
    with pytest.raises(InvalidProblemError, match=r"fn could not be called as fn\(A, Q\)"):
        check_lyapunov_solver(UninspectableSolver())


def test_a_type_error_inside_fn_is_a_failure_of_fn_not_a_signature_mismatch():
    def broken(A, Q):
        return lyapunov(A, Q) + None  # TypeError raised inside fn's own frame

    with pytest.raises(OracleMismatch, match="raised TypeError"):
        check_lyapunov_solver(broken, max_examples=0)


def test_fn_returning_none_is_said_plainly_without_the_slip_list():
    def forgot_to_return(A, B, Q, R, Sigma0, K):
        RIGHT.gradient(A, B, Q, R, Sigma0, K)

    with pytest.raises(OracleMismatch) as failure:
        check_lqr_gradient(forgot_to_return, max_examples=0)
    message = str(failure.value)
    assert "actual: fn returned None; expected an array of shape (1, 1)" in message
    assert "object array" not in message
    assert "checked:" not in message  # no list of every slip for an output that is not numbers


def test_a_tuple_case_of_the_wrong_length_is_refused_with_the_field_names():
    A, B, Q, R = np.eye(2) * 0.5, np.eye(2), np.eye(2), np.eye(2)
    with pytest.raises(InvalidProblemError) as failure:
        check_lqr_gradient(gradient_six, cases=[(A, B, Q, R, 0.1 * np.eye(2))])
    message = str(failure.value)
    assert "a tuple case must give all 6 arguments in order (A, B, Q, R, Sigma0, K)" in message
    assert "lacks the argument" not in message
    assert "pass a dict" in message


def test_a_namedtuple_case_is_read_by_name_and_may_leave_sigma0_out():
    Case = collections.namedtuple("Case", "A B Q R K")
    case = Case(np.eye(2) * 0.5, np.eye(2), np.eye(2), np.eye(2), 0.1 * np.eye(2))
    report = check_lqr_gradient(gradient_six, cases=[case], max_examples=0)
    assert report.fixed_cases == 8  # the user case and the 7 fixed ones


# --------------------------------------------------------------------------------------------
# 4. dtype, profile, fixtures
# --------------------------------------------------------------------------------------------


def test_the_report_says_the_precision_it_judged_at():
    single = LQRImplementation(dtype=np.float32)
    report = check_lqr_gradient(single.gradient, max_examples=2)
    assert report.judged_at == "float32"
    assert "judged at float32" in str(report)
    assert check_lqr_gradient(gradient_six, max_examples=2).judged_at == "float64"


@pytest.mark.parametrize("dtype", ["float16", np.float16, "longdouble"])
def test_a_dtype_outside_float32_and_float64_is_refused_naming_the_supported_ones(dtype):
    with pytest.raises(InvalidProblemError, match="judged at float32 or float64"):
        check_lqr_gradient(gradient_six, dtype=dtype)


def test_a_float16_result_fails_saying_float16_is_not_judged():
    def half(A, B, Q, R, Sigma0, K):
        return gradient_six(A, B, Q, R, Sigma0, K).astype(np.float16)

    with pytest.raises(OracleMismatch, match="dtype float16, which is not judged"):
        check_lqr_gradient(half, max_examples=0)


def test_an_unknown_profile_from_the_environment_is_refused_with_the_known_names(monkeypatch):
    monkeypatch.setenv("PGVERIFY_PROFILE", "thorugh")
    monkeypatch.setattr(DEFAULTS, "profile", "thorugh")
    with pytest.raises(InvalidProblemError) as failure:
        check_lqr_gradient(gradient_six)
    message = str(failure.value)
    assert "'thorugh' (from the environment variable PGVERIFY_PROFILE) is unknown" in message
    assert "fast (40 generated cases per check), thorough (1000" in message


def test_an_error_raised_inside_numpy_is_located_at_the_line_of_fn_that_called_numpy():
    def wrong_shapes(A, Q):
        return np.linalg.solve(A, np.ones(len(A) + 1))  # ValueError raised inside numpy

    with pytest.raises(OracleMismatch) as failure:
        check_lyapunov_solver(wrong_shapes, max_examples=0)
    line = inspect.getsourcelines(wrong_shapes)[1] + 1
    assert f"(at {__file__}:{line}, raised inside " in str(failure.value)
