"""The symbolic derivations (tier exact): each proves its identity at the default sizes, each
negative control is refuted with an exact counterexample, the docs page is current."""

from pathlib import Path

import pytest
import sympy

from pgverify import InvalidProblemError, cli
from pgverify.symbolic import available, derive
from pgverify.symbolic.core import check_zero
from pgverify.symbolic.docs import render_markdown

ROOT = Path(__file__).resolve().parent.parent
NAMES = [entry.name for entry in available()]
EXPECTED = {entry.name: entry.expected for entry in available()}


@pytest.fixture(scope="session")
def results():
    """Every derivation at its default sizes, run once for the whole session."""
    return {name: derive(name) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_derivation_reaches_its_expected_verdict(results, name):
    result = results[name]
    assert result.verdict == EXPECTED[name], result.to_text()
    assert result.tier == "exact"


@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("refute-")])
def test_negative_control_shows_an_exact_counterexample(results, name):
    result = results[name]
    assert result.counterexample, "a refutation must show the substitution that refutes it"
    assert result.counterexample_value != 0
    assert "REFUTED" in result.to_text() and "Refuted" in result.to_latex()


def test_there_is_a_negative_control_for_each_family():
    controls = {n for n in NAMES if n.startswith("refute-")}
    assert {"refute-gradient-without-factor-2", "refute-gradient-with-sigma0"} <= controls
    assert len(controls) >= 5


def test_generated_docs_page_is_current(results):
    page = render_markdown([results[name] for name in NAMES])
    committed = (ROOT / "docs" / "derivations.md").read_text()
    assert page == committed, "docs/derivations.md is stale: run python -m pgverify.symbolic.docs"


def test_zero_test_proves_an_identity_and_refutes_a_non_identity():
    x, y = sympy.symbols("x y")
    assert check_zero((x + y) ** 2 - x**2 - 2 * x * y - y**2).is_zero
    refutation = check_zero((x + y) ** 2 - x**2 - y**2)
    assert not refutation.is_zero
    assert refutation.value == 2 * refutation.counterexample[x] * refutation.counterexample[y]


def test_zero_test_handles_rational_functions():
    x = sympy.Symbol("x")
    assert check_zero(1 / (x - 1) - 1 / (x + 1) - 2 / (x**2 - 1)).is_zero


def test_unknown_derivation_is_refused_with_the_list():
    with pytest.raises(InvalidProblemError, match="unknown derivation 'nope'"):
        derive("nope")


def test_unknown_size_is_refused():
    with pytest.raises(InvalidProblemError, match="takes sizes"):
        derive("score-linear", hidden=3)


def test_cli_lists_the_derivations(capsys):
    assert cli.main(["derive", "--list"]) == 0
    out = capsys.readouterr().out
    assert "gradient-lyapunov" in out and "(refuted)" in out


def test_cli_runs_one_derivation_at_chosen_sizes(capsys):
    assert cli.main(["derive", "gradient-direct", "--n", "1", "--m", "1"]) == 0
    assert "[gradient-direct; n = 1, m = 1]" in capsys.readouterr().out


def test_cli_prints_latex(capsys):
    assert cli.main(["derive", "score-linear", "--n", "2", "--m", "1", "--latex"]) == 0
    assert "\\paragraph{Score function" in capsys.readouterr().out


def test_cli_exit_status_is_zero_for_a_refuted_negative_control(capsys):
    assert cli.main(["derive", "refute-gradient-without-factor-2", "--n", "1", "--m", "1"]) == 0
    assert "REFUTED" in capsys.readouterr().out


def test_cli_refuses_an_unknown_name(capsys):
    assert cli.main(["derive", "no-such-thing"]) == 2
    assert "unknown derivation" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "sizes"),
    [
        ("gradient-direct", {"n": 2, "m": 2}),
        ("gradient-discounted-noisy", {"n": 2, "m": 2}),
        ("cost-difference", {"n": 3, "m": 2}),
        ("relative-performance-lqr", {"n": 3, "m": 2}),
        ("performance-difference-symbolic", {"states": 3, "actions": 2}),
        ("score-two-layer", {"n": 3, "m": 2, "hidden": 3}),
    ],
)
def test_larger_sizes_are_proved_too(name, sizes):
    assert derive(name, **sizes).proved
