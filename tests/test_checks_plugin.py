"""The pytest plugin, tried in throwaway projects with pytester."""

import tomllib
from pathlib import Path

import pytest

from pgverify.checks import _driver

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run(pytester, monkeypatch, request):
    """Run pytest in-process on the throwaway project with the plugin loaded once (by the
    entry point when pgverify is installed with it, else by -p); the plugin's process-wide
    defaults are restored afterwards."""
    monkeypatch.setattr(_driver.DEFAULTS, "profile", _driver.DEFAULTS.profile)
    monkeypatch.setattr(_driver.DEFAULTS, "database", _driver.DEFAULTS.database)
    loaded = request.config.pluginmanager.has_plugin("pgverify")
    extra = [] if loaded else ["-p", "pgverify.checks.plugin"]

    def runner(*arguments):
        return pytester.runpytest(*extra, "-p", "no:cacheprovider", *arguments)

    return runner


def test_the_entry_point_registers_the_plugin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"pgverify": "pgverify.checks.plugin"}


def test_an_oracle_mismatch_is_shown_as_its_message_without_a_traceback_wall(pytester, run):
    pytester.makepyfile(
        test_user="""
        from pgverify.checks import check_lyapunov_solver

        def solve(A, Q):
            import scipy.linalg
            return scipy.linalg.solve_discrete_lyapunov(A, Q)  # the transposed convention

        def test_my_solver():
            check_lyapunov_solver(solve, max_examples=5)
        """
    )
    result = run()
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "test_user.py:8: pgverify.OracleMismatch" in output
    assert "Diagnosis: your result equals the solution of the transposed convention" in output
    assert "_driver.py" not in output  # no frames from inside pgverify


def test_the_profile_option_sets_the_case_count_and_the_fixture(pytester, run):
    pytester.makepyfile(
        test_profile="""
        from pgverify.checks._driver import DEFAULTS, PROFILES

        def test_profile(pgverify_profile):
            assert pgverify_profile == "thorough" == DEFAULTS.profile
            assert PROFILES[DEFAULTS.profile] == 1000
        """
    )
    run("--pgverify-profile", "thorough").assert_outcomes(passed=1)
    refused = run("--pgverify-profile", "slow")
    assert refused.ret != 0
    assert "invalid choice: 'slow'" in refused.stderr.str()


def test_an_unknown_profile_in_the_environment_is_a_usage_error_naming_the_known_ones(
    pytester, run, monkeypatch
):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    monkeypatch.setenv("PGVERIFY_PROFILE", "thorugh")
    refused = run()
    assert refused.ret != 0
    assert "'thorugh'" in refused.stderr.str()
    assert "fast (40 generated cases per check), thorough (1000" in refused.stderr.str()


def test_the_oracle_fixtures_are_available(pytester, run):
    pytester.makepyfile(
        test_fixtures="""
        def test_fixtures(pgverify_dean_2017, pgverify_scalar_lqr, pgverify_random_lqr,
                          pgverify_mdp, pgverify_dean_2017_gain, pgverify_scalar_gain):
            assert pgverify_dean_2017.n == 3
            assert pgverify_scalar_lqr.is_stabilizing([[1.0]])
            assert pgverify_scalar_lqr.is_stabilizing(pgverify_scalar_gain)
            assert pgverify_dean_2017.is_stabilizing(pgverify_dean_2017_gain)
            problem, gain = pgverify_random_lqr
            assert problem.is_stabilizing(gain)
            assert pgverify_mdp.states == 3 and pgverify_mdp.actions == 2
        """
    )
    run().assert_outcomes(passed=1)


def test_the_database_option_stores_counterexamples(pytester, run, tmp_path):
    database = tmp_path / "examples"
    pytester.makepyfile(
        test_database="""
        import pytest
        from pgverify import OracleMismatch
        from pgverify.checks import check_gaussian_score

        def score(K, sigma, x, u):
            import numpy as np
            return -np.outer(u + K @ x, x) / sigma**2  # sigma read as a standard deviation

        def test_fails():
            with pytest.raises(OracleMismatch):
                check_gaussian_score(score, max_examples=10)
        """
    )
    run("--pgverify-database", str(database)).assert_outcomes(passed=1)
    assert any(path.is_file() for path in database.rglob("*"))
