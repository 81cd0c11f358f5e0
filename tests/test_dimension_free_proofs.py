"""The LQR identities proved for every n and m (pgverify/symbolic/dimension_free/lqr.py): each
is proved from the project's definitions (dimension_free/problem.py), says it covers all sizes,
and fails — refuted by an exact counterexample inside the domain — when one premise is replaced
by a wrong one."""

import numpy as np
import pytest

from pgverify import CertificationError, InvalidProblemError
from pgverify.symbolic import derive
from pgverify.symbolic.check import check
from pgverify.symbolic.core import Derivation
from pgverify.symbolic.dimension_free import lqr, problem
from pgverify.symbolic.dimension_free.algebra import Matrix, trace
from pgverify.symbolic.dimension_free.problem import Claim, Premises, a, b, k, p, q, r

ALL_SIZES = [
    "all-sizes-gradient",
    "all-sizes-gradient-discounted-noisy",
    "all-sizes-natural-gradient",
    "all-sizes-gauss-newton",
    "all-sizes-cost-difference",
    "all-sizes-cost-forms",
]


def residual_without_discount_on_the_curvature(gamma):
    """E_K with R + BᵀPB in place of R + γBᵀPB (wrong when γ < 1)."""
    return (r + b.T * p * b) * k - b.T * p * a * gamma


def residual_with_a_flipped_sign(gamma):
    return (r + b.T * p * b * gamma) * k + b.T * p * a * gamma


def curvature_without_discount(gamma):
    return r + b.T * p * b


def stage_cost_without_control_weight(gain):
    return q + gain.T * gain


@pytest.mark.parametrize("name", ALL_SIZES)
def test_all_sizes_derivation_is_proved_and_says_it_covers_every_n_and_m(name):
    result = derive(name)
    assert result.proved, result.to_text()
    assert result.sizes == {}
    assert f"[{name}; every n, m]" in result.to_text()
    assert "covers: all n, m: every n, m >= 1" in result.to_text()
    assert result.numeric_test and "cross-check" in result.numeric_test


@pytest.mark.parametrize("name", ALL_SIZES)
def test_all_sizes_derivation_lists_its_premises_and_steps(name):
    result = derive(name)
    assert any("value recursion" in premise for premise in result.premises)
    assert len(result.steps) >= 3


BROKEN = [
    (
        lqr.all_sizes_gradient,
        Premises(False, False, gradient_residual=residual_with_a_flipped_sign),
    ),
    (
        lqr.all_sizes_gradient_discounted_noisy,
        Premises(gradient_residual=residual_without_discount_on_the_curvature),
    ),
    (
        lqr.all_sizes_gradient_discounted_noisy,
        Premises(value_recursion_stage=stage_cost_without_control_weight),
    ),
    (
        lqr.all_sizes_natural_gradient,
        Premises(gradient_residual=residual_without_discount_on_the_curvature),
    ),
    (lqr.all_sizes_gauss_newton, Premises(curvature=curvature_without_discount)),
    (
        lqr.all_sizes_gauss_newton,
        Premises(gradient_residual=residual_without_discount_on_the_curvature),
    ),
    (
        lqr.all_sizes_cost_difference,
        Premises(gradient_residual=residual_without_discount_on_the_curvature),
    ),
    (lqr.all_sizes_cost_difference, Premises(curvature=curvature_without_discount)),
    (lqr.all_sizes_cost_forms, Premises(value_recursion_stage=stage_cost_without_control_weight)),
]


def _label(case):
    builder, premises = case
    broken = [
        field
        for field in ("gradient_residual", "curvature", "value_recursion_stage")
        if getattr(premises, field) is not getattr(Premises(), field)
    ]
    return f"{builder.__name__}-{'-'.join(broken)}"


@pytest.fixture(scope="module", params=BROKEN, ids=[_label(case) for case in BROKEN])
def broken(request) -> Derivation:
    builder, premises = request.param
    return builder(premises)


def test_wrong_premise_refutes_the_proof(broken):
    assert broken.verdict == "refuted"
    assert "REFUTED" in broken.to_text()


def test_refutation_counterexample_is_a_stabilising_problem_with_discount_and_noise_in_range(
    broken,
):
    point = {str(key): value for key, value in broken.counterexample.items()}
    A, B, K = (np.array(point[name].tolist(), dtype=float) for name in "ABK")
    assert max(abs(np.linalg.eigvals(A - B @ K))) < 1
    assert all(
        np.linalg.eigvalsh(np.array(point[name].tolist(), dtype=float)).min() > 0 for name in "QR"
    )
    if "gamma" in point:
        assert 0 < point["gamma"] < 1
    if "sigma" in point:
        assert point["sigma"] > 0


def test_undiscounted_gradient_has_no_discount_in_its_statement():
    result = derive("all-sizes-gradient")
    assert "gamma" not in result.statement


def test_claim_that_needs_an_unapplied_rule_is_neither_proved_nor_refuted():
    """tr(P_K Σ0_eff) = tr((Q + KᵀRK) Σ_K) holds (duality) but the canonical forms differ: the
    layer raises rather than claim either verdict."""
    premises = Premises()
    context = problem.context(premises)
    claim = Claim(
        "duality not applied",
        trace(p * Matrix.of(problem.SIGMA0_EFF)),
        trace((q + k.T * r * k) * problem.s_k),
    )
    result = Derivation("test", "test", "", "", {})
    with pytest.raises(CertificationError, match="neither proved"):
        problem.conclude(result, [claim], context, problem.lqr_values(premises))


def test_gradient_derivation_records_the_gradient_it_derived():
    result = derive("all-sizes-gradient-discounted-noisy")
    texts = [step.description for step in result.steps]
    assert any("duality" in text for text in texts)
    assert any("Lyapunov derivative" in text for text in texts)


def test_check_finds_the_derived_gradient_of_a_wrong_value_recursion_outside_the_oracle():
    """--check evaluates the all-size derived gradient: from a value recursion without R it is
    the gradient of another cost, which the certified oracle's enclosure excludes."""
    wrong = lqr.all_sizes_gradient_discounted_noisy(
        Premises(value_recursion_stage=stage_cost_without_control_weight)
    )
    (comparison,) = check(wrong, seed=4)
    assert not comparison.contained


def test_check_finds_the_all_size_gradient_inside_the_oracle():
    (comparison,) = check(derive("all-sizes-gradient-discounted-noisy"), seed=4)
    assert comparison.contained


def test_negative_control_is_refuted_at_a_stabilising_problem_with_a_number_shown():
    result = derive("refute-all-sizes-gradient-with-sigma0")
    assert result.verdict == "refuted" and result.counterexample_value != 0
    point = {str(key): value for key, value in result.counterexample.items()}
    A, B, K = (np.array(point[name].tolist(), dtype=float) for name in "ABK")
    assert max(abs(np.linalg.eigvals(A - B @ K))) < 1
    assert 0 < point["gamma"] < 1 and point["sigma"] > 0
    assert "the point lies in the domain" in result.to_text()


def test_noise_without_discount_is_refused_as_premises():
    with pytest.raises(InvalidProblemError, match="noisy=True"):
        Premises(discounted=False, noisy=True)


def test_natural_gradient_without_noise_is_refused():
    with pytest.raises(InvalidProblemError, match="sigma > 0"):
        lqr.all_sizes_natural_gradient(Premises(discounted=True, noisy=False))


def test_gradient_proof_fails_when_the_duality_rule_is_skipped(monkeypatch):
    """Without duality dK stays inside L*_K[...]: no gradient can be read off, and the layer
    says so instead of proving anything."""
    monkeypatch.setattr(lqr, "duality", lambda scalar, gain: scalar)
    with pytest.raises(CertificationError, match="holds dK 0 times"):
        lqr.all_sizes_gradient_discounted_noisy()


def test_gradient_proof_is_refuted_when_the_lyapunov_derivative_forgets_the_closed_loop(
    monkeypatch,
):
    """d L*(Y) = L*(dY) alone (the change of A_K dropped) gives a wrong gradient: refuted."""
    from pgverify.symbolic.dimension_free import rules
    from pgverify.symbolic.dimension_free.algebra import lyapunov

    def without_closed_loop(adjoint, gain, argument, solution, context):
        return lyapunov(adjoint, gain, rules.differential(argument, context))

    monkeypatch.setattr(rules, "_lyapunov_differential", without_closed_loop)
    assert lqr.all_sizes_gradient_discounted_noisy().verdict == "refuted"
