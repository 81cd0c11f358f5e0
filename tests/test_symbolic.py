"""The symbolic derivations (tier exact): each proves its identity at the default sizes, each
negative control is refuted with an exact counterexample, the docs page is current."""

import functools
from pathlib import Path

import pytest
import sympy

from pgverify import InvalidProblemError, cli
from pgverify.symbolic import available, derive, prove
from pgverify.symbolic.core import GENERIC, REGISTRY, check_zero
from pgverify.symbolic.docs import render_markdown

ROOT = Path(__file__).resolve().parent.parent
NAMES = [entry.name for entry in available()]
EXPECTED = {entry.name: entry.expected for entry in available()}


@functools.cache
def default_result(name: str):
    """A derivation at its default sizes, run once per test session (shared by the test_symbolic*
    modules)."""
    return derive(name)


@pytest.fixture(scope="session")
def results():
    """Every derivation at its default sizes."""
    return {name: default_result(name) for name in NAMES}


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


FIXED_FROM_DEFINITIONS = [
    "natural-gradient",
    "natural-gradient-fisher",
    "relative-performance-lqr",
    "performance-difference-mdp",
    "performance-difference-symbolic",
]


@pytest.mark.parametrize("name", FIXED_FROM_DEFINITIONS)
def test_derivation_text_lists_its_premises(results, name):
    result = results[name]
    assert result.premises
    text = result.to_text()
    assert "premises:" in text
    assert all(premise in text for premise in result.premises)


def test_numeric_instance_says_it_is_an_instance(results):
    result = results["performance-difference-mdp"]
    assert "instance" in result.title and "one instance only" in result.covers
    assert "covers: one instance only" in result.to_text()


def test_symbolic_derivations_say_they_cover_every_value_at_their_sizes(results):
    assert results["natural-gradient"].covers == GENERIC


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


def test_cli_list_labels_sizes_as_the_derivation_header_does(capsys):
    assert cli.main(["derive", "--list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "[n = 2, m = 1]" in lines["gradient-direct"]
    assert "[every n, m]" in lines["all-sizes-gradient"]
    assert "[]" not in "".join(lines.values())


def test_a_dimension_free_derivation_header_says_every_n_m(capsys):
    assert cli.main(["derive", "refute-all-sizes-gradient-with-sigma0"]) == 0
    out = capsys.readouterr().out
    assert "[refute-all-sizes-gradient-with-sigma0; every n, m]" in out.splitlines()[0]


def test_a_dimension_free_derivation_latex_paragraph_names_its_sizes():
    result = derive("refute-all-sizes-gradient-with-sigma0")
    assert "(every n, m) \\\\" in result.to_latex().splitlines()[0]


def test_a_user_identity_header_says_its_shapes_are_as_given():
    x = sympy.Symbol("x")
    result = prove(x + x, 2 * x, {x: "real"}, name="doubling")
    assert result.to_text().splitlines()[0] == "doubling [doubling; shapes as given]"


def test_cli_prints_latex(capsys):
    assert cli.main(["derive", "score-linear", "--n", "2", "--m", "1", "--latex"]) == 0
    assert "\\paragraph{Score function" in capsys.readouterr().out


def test_cli_exit_status_is_zero_for_a_refuted_negative_control(capsys):
    assert cli.main(["derive", "refute-gradient-without-factor-2", "--n", "1", "--m", "1"]) == 0
    assert "REFUTED" in capsys.readouterr().out


def _two_entries(monkeypatch):
    """`derive --all` over two derivations only (one with sizes n, m; one without), to stay fast."""
    from pgverify.symbolic import core

    chosen = [REGISTRY["score-linear"], REGISTRY["baseline-softmax"]]
    monkeypatch.setattr(core, "available", lambda: chosen)


def test_cli_all_applies_n_and_m_to_the_derivations_that_take_them(monkeypatch, capsys):
    _two_entries(monkeypatch)
    assert cli.main(["derive", "--all", "--n", "1", "--m", "1"]) == 0
    out = capsys.readouterr().out
    assert "[score-linear; n = 1, m = 1]" in out
    assert "[baseline-softmax; actions = 3]" in out


def test_cli_all_markdown_prints_exactly_the_page(monkeypatch, capsys):
    _two_entries(monkeypatch)
    assert cli.main(["derive", "--all", "--markdown"]) == 0
    page = render_markdown([derive("score-linear"), derive("baseline-softmax")])
    assert capsys.readouterr().out == page


@pytest.mark.slow
def test_cli_all_markdown_redirected_to_a_file_is_the_committed_page(capsys):
    assert cli.main(["derive", "--all", "--markdown"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "derivations.md").read_text()


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
