"""The pgverify pytest plugin (registered as the ``pytest11`` entry point ``pgverify``).

* ``--pgverify-profile fast|thorough`` — generated cases per check (40 or 1000; default: the
  ``PGVERIFY_PROFILE`` environment variable, else fast);
* ``--pgverify-database DIR`` — a hypothesis example database shared by every check (a
  directory; share it between workers and machines to replay counterexamples everywhere);
* fixtures for common oracle objects: ``pgverify_profile``, ``pgverify_dean_2017`` (the
  Dean et al. 2017 LQR) and ``pgverify_dean_2017_gain`` (a stabilising K for it),
  ``pgverify_scalar_lqr`` and ``pgverify_scalar_gain``, ``pgverify_random_lqr`` ((LQR, K) with
  n = 4, m = 2), ``pgverify_mdp`` (a 3-state, 2-action finite MDP with exact rational data);
* an :class:`pgverify.OracleMismatch` is reported as its message and the line of the test that
  raised it, without the traceback through pgverify.

Usage and the example database recipe: docs/checks.md.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from pgverify.checks._driver import PROFILES, set_database, set_profile
from pgverify.errors import InvalidProblemError, OracleMismatch


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pgverify", "pgverify checks")
    group.addoption(
        "--pgverify-profile",
        choices=sorted(PROFILES),
        default=os.environ.get("PGVERIFY_PROFILE") or "fast",  # an unknown name: refused below
        help="generated cases per pgverify check: fast (40, the default) or thorough (1000)",
    )
    group.addoption(
        "--pgverify-database",
        default=os.environ.get("PGVERIFY_DATABASE"),
        metavar="DIR",
        help="hypothesis example database directory shared by the pgverify checks",
    )


def pytest_configure(config: pytest.Config) -> None:
    try:
        set_profile(config.getoption("--pgverify-profile"))
        set_database(config.getoption("--pgverify-database"))
    except InvalidProblemError as exc:  # e.g. PGVERIFY_PROFILE=slow: a usage error, not a crash
        raise pytest.UsageError(f"pgverify: {exc}") from exc


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Show an OracleMismatch as its message and the test line, not a wall of traceback."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not call.excinfo.errisinstance(OracleMismatch):
        return
    location = ""
    for entry in reversed(call.excinfo.traceback):
        if str(entry.path) == str(item.path):
            location = f"{entry.path}:{entry.lineno + 1}: "
            break
    report.longrepr = f"{location}pgverify.OracleMismatch\n\n{call.excinfo.value}"


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture
def pgverify_profile(request: pytest.FixtureRequest) -> str:
    """The active profile name ("fast" or "thorough")."""
    return request.config.getoption("--pgverify-profile")


@pytest.fixture
def pgverify_dean_2017() -> Any:
    """The Dean, Mania, Matni, Recht & Tu (2017) 3-state LQR: B = I, Q = 1e-3 I, R = I
    (open-loop unstable; a stabilising gain: ``pgverify_dean_2017_gain``)."""
    from pgverify.lqr.examples import dean_2017

    return dean_2017()


@pytest.fixture
def pgverify_dean_2017_gain() -> np.ndarray:
    """K = I/2, a stabilising gain of ``pgverify_dean_2017`` (ρ(A − K) ≈ 0.52) away from the
    optimum, so that the gradient there is far from 0."""
    return 0.5 * np.eye(3)


@pytest.fixture
def pgverify_scalar_lqr() -> Any:
    """x' = 1.25x + u, Q = 1, R = 0.5 (open-loop unstable; a stabilising gain:
    ``pgverify_scalar_gain``)."""
    from pgverify import LQR

    return LQR([[1.25]], [[1.0]], [[1.0]], [[0.5]])


@pytest.fixture
def pgverify_scalar_gain() -> np.ndarray:
    """K = 0.75, a stabilising gain of ``pgverify_scalar_lqr`` (closed loop 0.5) away from the
    optimum."""
    return np.array([[0.75]])


@pytest.fixture
def pgverify_random_lqr() -> tuple[Any, np.ndarray]:
    """(LQR, K): a seeded random stabilisable system with n = 4, m = 2 and a stabilising gain
    near its optimum."""
    from pgverify.lqr.examples import random_stabilisable_system

    return random_stabilisable_system(4, 2, seed=0)


@pytest.fixture
def pgverify_mdp() -> Any:
    """A 3-state, 2-action finite MDP with exact rational data, γ = 9/10."""
    from pgverify import FiniteMDP

    half, quarter = Fraction(1, 2), Fraction(1, 4)
    transitions = [
        [[half, quarter, quarter], [0, half, half]],
        [[quarter, 1 - quarter, 0], [quarter, quarter, half]],
        [[0, 0, 1], [1 - quarter, Fraction(1, 8), Fraction(1, 8)]],
    ]
    costs = [[1, quarter], [-half, Fraction(3, 2)], [2, 0]]
    return FiniteMDP.create(transitions, costs, Fraction(9, 10), [half, quarter, quarter])
