"""The returns/TD/GAE/λ-returns checks with ``batched=True``: (B, T) batches of independent
segments. Row-by-row implementations and the vectorised references pass; implementations that
mix rows (a scan over the flattened batch, a bootstrap across rows, the batch axis taken for
time) fail with the slip named."""

from __future__ import annotations

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import (
    check_discounted_returns,
    check_gae,
    check_lambda_returns,
    check_td_residuals,
)
from pgverify.estimators import discounted_returns, gae, lambda_returns, td_residuals
from tests.test_checks_estimators import (
    loop_gae,
    loop_lambda_returns,
    loop_returns,
    loop_td,
)

FEW = {"max_examples": 8}
CHECKS = {
    "returns": (check_discounted_returns, loop_returns, discounted_returns),
    "td": (check_td_residuals, loop_td, td_residuals),
    "gae": (check_gae, loop_gae, gae),
    "lambda": (check_lambda_returns, loop_lambda_returns, lambda_returns),
}


def row_by_row(segment_fn, **keywords):
    """A batched implementation: the 1-D function on each row."""

    def batched(*arguments):
        arrays = [a for a in arguments if np.ndim(a) == 2]
        rows = arrays[0].shape[0]
        return np.stack(
            [
                segment_fn(*(a[b] if np.ndim(a) == 2 else a for a in arguments), **keywords)
                for b in range(rows)
            ]
        )

    return batched


def flattened(segment_fn, **keywords):
    """The slip: the batch flattened row-major and scanned as one segment."""

    def batched(*arguments):
        shape = np.shape(arguments[0])
        flat = [np.reshape(a, -1) if np.ndim(a) == 2 else a for a in arguments]
        return np.reshape(segment_fn(*flat, **keywords), shape)

    return batched


def time_major(segment_fn):
    """The slip: the recursion run down the columns (the batch read as (T, B))."""

    def batched(*arguments):
        columns = np.shape(arguments[0])[1]
        return np.stack(
            [
                segment_fn(*(a[:, j] if np.ndim(a) == 2 else a for a in arguments))
                for j in range(columns)
            ],
            axis=1,
        )

    return batched


@pytest.mark.parametrize("name", CHECKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_row_by_row_implementation_passes_on_batches(name, dtype):
    check, segment_fn, _ = CHECKS[name]
    report = check(row_by_row(segment_fn, dtype=dtype), batched=True, **FEW)
    assert report.tier == "exact"
    assert "(B, T) batches" in str(report)


@pytest.mark.parametrize("name", CHECKS)
def test_the_vectorised_reference_passes_on_batches(name):
    check, _, reference = CHECKS[name]
    assert check(reference, batched=True, **FEW).worst_ratio <= 1


@pytest.mark.parametrize("name", ["returns", "gae", "lambda"])
def test_a_scan_over_the_flattened_batch_is_caught_and_named(name):
    check, segment_fn, _ = CHECKS[name]
    with pytest.raises(OracleMismatch) as failure:
        check(flattened(segment_fn), batched=True, max_examples=0)
    assert "the batch flattened into one segment" in str(failure.value)


@pytest.mark.parametrize("name", ["gae"])
def test_the_shrunk_generated_batch_still_names_the_row_mixing(name):
    check, segment_fn, _ = CHECKS[name]
    with pytest.raises(OracleMismatch, match="Minimal failing case") as failure:
        check(flattened(segment_fn), batched=True, max_examples=15)
    assert "the batch flattened into one segment" in str(failure.value)


def td_bootstrapping_across_rows(costs, values, next_values, terminated, gamma):
    """The slip: next_values of a row's last step taken from the flattened batch's values[t+1]
    (the next row's first state)."""
    following = np.array(next_values, dtype=float)
    following[:-1, -1] = values[1:, 0]
    return row_by_row(loop_td)(costs, values, following, terminated, gamma)


def test_a_bootstrap_across_rows_is_caught_and_named():
    with pytest.raises(OracleMismatch) as failure:
        check_td_residuals(td_bootstrapping_across_rows, batched=True, max_examples=0)
    assert "a bootstrap across rows" in str(failure.value)


@pytest.mark.parametrize("name", ["returns", "gae"])
def test_the_batch_axis_taken_for_time_is_caught_and_named(name):
    check, segment_fn, _ = CHECKS[name]
    with pytest.raises(OracleMismatch) as failure:
        check(time_major(segment_fn), batched=True, max_examples=0)
    assert "over the batch axis (axis 0) instead of time" in str(failure.value)


def test_a_time_major_implementation_passes_through_the_documented_adapter():
    def time_major_gae(costs, values, next_values, terminated, truncated, gamma, lam):
        # (T, B) in and out, as Stable-Baselines3's rollout buffer holds them
        return row_by_row(loop_gae)(
            costs.T, values.T, next_values.T, terminated.T, truncated.T, gamma, lam
        ).T

    def adapter(*arguments):
        return time_major_gae(*(a.T if np.ndim(a) == 2 else a for a in arguments)).T

    check_gae(adapter, batched=True, **FEW)


def test_a_one_dimensional_case_is_refused_with_batched_and_vice_versa():
    segment = ([1.0, 2.0], [1, 0], 0.9)
    with pytest.raises(InvalidProblemError, match=r"\(B, T\)"):
        check_discounted_returns(loop_returns, cases=[segment], batched=True, max_examples=0)
    batch = ([[1.0, 2.0]], [[1, 0]], 0.9)
    with pytest.raises(InvalidProblemError, match="batched=True"):
        check_discounted_returns(loop_returns, cases=[batch], max_examples=0)


def test_batched_must_be_a_bool():
    with pytest.raises(InvalidProblemError, match="batched must be True"):
        check_gae(gae, batched="yes")


def test_a_batch_reduced_by_deleting_a_step_is_consistent_again():
    from pgverify.checks.estimators import GAESpec

    reduced = GAESpec().repair(
        {
            "costs": np.zeros((2, 3)),
            "values": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]),
            "next_values": np.array([[9.0, 9.0, 9.0], [9.0, 9.0, 9.0]]),
            "terminated": np.array([[False, True, False], [False, False, False]]),
            "truncated": np.zeros((2, 3), dtype=bool),
        }
    )
    assert reduced["next_values"].tolist() == [[2.0, 9.0, 9.0], [5.0, 6.0, 9.0]]
