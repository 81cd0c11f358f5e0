"""`pgverify derive NAME --check`: the derived expressions, evaluated exactly at a random problem,
lie inside the certified oracle's enclosures — and a wrong expression does not."""

import dataclasses

import pytest

from pgverify import InvalidProblemError, cli
from pgverify.symbolic import derive
from pgverify.symbolic.check import LINKS, check
from tests.test_symbolic import default_result


@pytest.fixture(scope="module")
def natural_gradient():
    return derive("natural-gradient", n=2, m=1)


def test_derived_gradient_natural_gradient_and_gauss_newton_lie_in_the_certified_enclosures(
    natural_gradient,
):
    comparisons = check(natural_gradient, seed=1)
    assert {c.oracle_name.split("(")[0] for c in comparisons} == {
        "LQR.gradient",
        "LQR.natural_gradient",
        "LQR.gauss_newton_step",
        "LQR.policy_iteration_step",
    }
    assert all(c.contained for c in comparisons)


def test_derived_summed_advantage_lies_in_the_certified_cost_difference():
    (comparison,) = check(default_result("relative-performance-lqr"), seed=2)
    assert comparison.oracle_name.startswith("LQR.cost_difference")
    assert comparison.contained


@pytest.mark.parametrize("name", sorted(LINKS))
def test_every_linked_derivation_agrees_with_the_certified_oracle(name):
    comparisons = check(default_result(name), seed=4)
    assert comparisons and all(c.contained for c in comparisons)


@pytest.mark.parametrize("name", sorted(LINKS))
def test_every_linked_derivation_names_its_numeric_counterpart(name):
    assert default_result(name).numeric_test.startswith("properties/")


def test_check_catches_a_derived_gradient_off_by_a_factor_of_two(natural_gradient):
    derived = {**natural_gradient.derived, "gradient": 2 * natural_gradient.derived["gradient"]}
    wrong = dataclasses.replace(natural_gradient, derived=derived)
    comparisons = {c.derived: c for c in check(wrong, seed=1)}
    assert not comparisons["gradient"].contained
    assert "NOT CONTAINED" in comparisons["gradient"].to_text()


def test_check_refuses_a_derivation_without_an_oracle_link():
    with pytest.raises(InvalidProblemError, match="no link to a numeric oracle"):
        check(derive("score-linear", n=1, m=1))


def test_cli_check_prints_each_comparison(capsys):
    assert cli.main(["derive", "natural-gradient", "--n", "1", "--m", "1", "--check"]) == 0
    out = capsys.readouterr().out
    assert "check against the certified oracle" in out
    assert out.count("contained in the certified enclosure") == 4


def test_cli_check_fails_for_a_derivation_without_an_oracle_link(capsys):
    assert cli.main(["derive", "score-linear", "--n", "1", "--m", "1", "--check"]) == 1
    assert "no link to a numeric oracle" in capsys.readouterr().out
