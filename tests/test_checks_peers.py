"""Peers: scipy's and python-control's solvers pass the checks through thin adapters (the
conventions differ: both solve X = A X Aᵀ + Q, so the adapters pass Aᵀ).  python-control is the
``peers`` extra; its tests skip with the reason when it is absent.  The ≥ 1000-case campaigns are
marked slow (``pytest -m slow``); their results are recorded in benchmarks/RESULTS.md."""

import numpy as np
import pytest
import scipy.linalg

from pgverify.checks import check_lyapunov_solver, check_optimal_gain, check_riccati_solver

CAMPAIGN_CASES = 1000


def scipy_dlyap(A, Q):
    """scipy solves A X Aᴴ − X + Q = 0: P = Q + AᵀPA needs Aᵀ."""
    return scipy.linalg.solve_discrete_lyapunov(A.T, Q)


def scipy_dare(A, B, Q, R):
    return scipy.linalg.solve_discrete_are(A, B, Q, R)


def scipy_dlqr(A, B, Q, R):
    X = scipy.linalg.solve_discrete_are(A, B, Q, R)
    return np.linalg.solve(R + B.T @ X @ B, B.T @ X @ A)


def _control():
    return pytest.importorskip(
        "control", reason="python-control is not installed (pip install 'pgverify[peers]')"
    )


def control_dlyap(A, Q):
    """python-control's dlyap solves A X Aᵀ − X + Q = 0 too."""
    return _control().dlyap(A.T, Q)


def control_dare(A, B, Q, R):
    return _control().dare(A, B, Q, R)[0]


def control_dlqr(A, B, Q, R):
    return _control().dlqr(A, B, Q, R)[0]


SCIPY = [
    (check_lyapunov_solver, scipy_dlyap),
    (check_riccati_solver, scipy_dare),
    (check_optimal_gain, scipy_dlqr),
]
CONTROL = [
    (check_lyapunov_solver, control_dlyap),
    (check_riccati_solver, control_dare),
    (check_optimal_gain, control_dlqr),
]


def _ids(value):
    return getattr(value, "__name__", str(value))


@pytest.mark.parametrize(("check", "fn"), SCIPY, ids=_ids)
def test_scipy_passes_the_default_run(check, fn):
    assert check(fn).worst_ratio <= 1


@pytest.mark.parametrize(("check", "fn"), CONTROL, ids=_ids)
def test_python_control_passes_the_default_run(check, fn):
    _control()
    assert check(fn).worst_ratio <= 1


def test_python_control_without_the_adapter_is_caught_and_diagnosed():
    control = _control()
    with pytest.raises(AssertionError, match="transposed convention"):
        check_lyapunov_solver(control.dlyap)


@pytest.mark.slow
@pytest.mark.parametrize(("check", "fn"), SCIPY + CONTROL, ids=_ids)
def test_campaign_no_false_alarm_in_1000_generated_cases(check, fn):
    if fn in (control_dlyap, control_dare, control_dlqr):
        _control()
    report = check(fn, max_examples=CAMPAIGN_CASES, seed=2026)
    print(report)  # recorded in benchmarks/RESULTS.md
    assert report.generated_cases >= CAMPAIGN_CASES
    assert report.worst_ratio <= 1
