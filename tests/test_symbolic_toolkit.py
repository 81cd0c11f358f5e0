"""The public symbolic toolkit (docs/symbolic-toolkit.md): generic symbolic problems and policies,
their quantities as sympy expressions, domains, and ``prove`` — which proves true identities,
refutes wrong ones at a point *inside* the declared domain, and refuses bad input.

Expected values are the textbook closed forms (Fazel et al. 2018; Kakade 2001; Sutton et al.
2000), never the toolkit's own output; sizes are small to keep the suite fast."""

import random

import numpy as np
import pytest
import sympy

from pgverify import CertificationError, InvalidProblemError
from pgverify.symbolic import (
    assume,
    linear_gaussian_policy,
    prove,
    softmax_policy,
    symbolic_lqr,
    symbolic_mdp,
    two_layer_gaussian_policy,
)
from pgverify.symbolic.core import check_zero
from pgverify.symbolic.matrices import kron, symmetric
from pgverify.symbolic.rational import (
    evaluate_rationally,
    vanishes_generically,
    vanishes_rationally,
)

# ------------------------------------------------------------------------------------------------
# helpers: is a point inside the domain?  (independent of the samplers under test)
# ------------------------------------------------------------------------------------------------


def is_positive_definite(matrix: sympy.Matrix) -> bool:
    return matrix == matrix.T and all(matrix[:k, :k].det() > 0 for k in range(1, matrix.rows + 1))


def spectral_radius(matrix: sympy.Matrix) -> float:
    return max(abs(np.linalg.eigvals(np.array(matrix.evalf(), dtype=float))))


def lqr_point_is_in_domain(lqr, K, point) -> bool:
    """Q, R, Σ0 ≻ 0, ρ(A − BK) < 1 (discounted: √γ ρ < 1), 0 < γ < 1, σ > 0."""
    at = {key: value for key, value in point.items()}
    A, B = lqr.A.xreplace(at), lqr.B.xreplace(at)
    gain = K.xreplace(at)
    gamma = sympy.sympify(lqr.gamma).xreplace(at)
    checks = [
        is_positive_definite(lqr.Q.xreplace(at)),
        is_positive_definite(lqr.R.xreplace(at)),
        is_positive_definite(lqr.Sigma0.xreplace(at)),
        spectral_radius(A - B * gain) < 1,
        0 < gamma <= 1 and (gamma < 1 or not lqr.discounted),
    ]
    if lqr.noisy:
        checks.append(sympy.sympify(lqr.sigma).xreplace(at) > 0)
    return all(checks)


def test_the_domain_check_rejects_an_unstable_gain_and_a_discount_above_one():
    """The helper can fail: a point outside the domain is seen as such."""
    lqr = symbolic_lqr(1, 1, discounted=True)
    K = lqr.gain()
    good = {
        lqr.A[0]: sympy.Rational(1, 2),
        lqr.B[0]: 1,
        K[0]: 0,
        lqr.Q[0]: 1,
        lqr.R[0]: 1,
        lqr.Sigma0[0]: 1,
        lqr.gamma: sympy.Rational(1, 2),
    }
    assert lqr_point_is_in_domain(lqr, K, good)
    assert not lqr_point_is_in_domain(lqr, K, {**good, K[0]: -3})
    assert not lqr_point_is_in_domain(lqr, K, {**good, lqr.gamma: sympy.Rational(9, 4)})
    assert not lqr_point_is_in_domain(lqr, K, {**good, lqr.R[0]: -1})


# ------------------------------------------------------------------------------------------------
# symbolic LQR
# ------------------------------------------------------------------------------------------------


def test_symbolic_lqr_has_generic_entries_of_the_stated_shapes():
    lqr = symbolic_lqr(3, 2, discounted=True, noisy=True)
    assert lqr.A.shape == (3, 3) and lqr.B.shape == (3, 2) and lqr.R.shape == (2, 2)
    assert lqr.Q == lqr.Q.T and lqr.Sigma0 == lqr.Sigma0.T and lqr.R == lqr.R.T
    assert len(lqr.A.free_symbols) == 9 and len(lqr.Q.free_symbols) == 6
    assert lqr.gamma.is_Symbol and lqr.sigma.is_Symbol
    assert lqr.gain().shape == (2, 3)


def test_undiscounted_noiseless_lqr_has_gamma_one_and_sigma_zero():
    lqr = symbolic_lqr(2, 1)
    assert lqr.gamma == 1 and lqr.sigma == 0


def test_value_matrix_is_the_fixed_point_of_the_value_recursion():
    lqr = symbolic_lqr(2, 1, discounted=True)
    K = lqr.gain()
    P = lqr.value_matrix(K)
    assert prove(lqr.value_recursion(K, P), P, lqr.domain(K)).proved


def test_state_covariance_is_the_fixed_point_of_the_noisy_moment_recursion():
    lqr = symbolic_lqr(2, 1, discounted=True, noisy=True)
    K = lqr.gain()
    S = lqr.state_covariance(K)
    closed = lqr.A - lqr.B * K
    expected = (
        lqr.Sigma0
        + lqr.gamma * lqr.sigma * lqr.B * lqr.B.T / (1 - lqr.gamma)
        + lqr.gamma * closed * S * closed.T
    )
    assert prove(S, expected, lqr.domain(K)).proved


def test_scalar_lqr_value_matrix_is_the_geometric_series():
    lqr = symbolic_lqr(1, 1)
    K = lqr.gain()
    a, b, k, q, r = lqr.A[0], lqr.B[0], K[0], lqr.Q[0], lqr.R[0]
    expected = (q + k**2 * r) / (1 - (a - b * k) ** 2)
    assert sympy.cancel(lqr.value_matrix(K)[0] - expected) == 0


def test_gradient_closed_form_equals_the_derivative_of_the_cost():
    """Fazel et al. 2018, Lemma 1, at n = 1, m = 2 (discounted, noisy; the guide does n = 2)."""
    lqr = symbolic_lqr(1, 2, discounted=True, noisy=True)
    K = lqr.gain()
    cost = lqr.cost(K)
    derivative = sympy.Matrix(2, 1, lambda i, j: sympy.diff(cost, K[i, j]))
    assert prove(derivative, lqr.gradient(K), lqr.domain(K)).proved


def test_gradient_without_the_noise_term_of_the_cost_is_refuted():
    lqr = symbolic_lqr(1, 1, discounted=True, noisy=True)
    K = lqr.gain()
    P = lqr.value_matrix(K)
    noiseless_cost = (P * lqr.Sigma0).trace()
    derivative = sympy.Matrix(1, 1, lambda i, j: sympy.diff(noiseless_cost, K[i, j]))
    result = prove(derivative, lqr.gradient(K), lqr.domain(K))
    assert result.verdict == "refuted"
    assert lqr_point_is_in_domain(lqr, K, result.counterexample)


def test_q_function_minimiser_is_the_policy_iteration_gain():
    """∂Q/∂u = 0 at u = −(R + γBᵀPB)⁻¹ γBᵀPA x (Bradtke et al. 1994; Hewer 1971)."""
    lqr = symbolic_lqr(1, 1, discounted=True)
    K = lqr.gain()
    x, u = sympy.Matrix([sympy.Symbol("x")]), sympy.Matrix([sympy.Symbol("u")])
    P = lqr.value_matrix(K)
    slope = sympy.diff(lqr.q_function(x, u, P), u[0])
    greedy = -(lqr.curvature(K).inv() * lqr.gamma * lqr.B.T * P * lqr.A * x)[0]
    domain = [lqr.domain(K), {x[0]: "real"}]
    assert prove(slope.subs(u[0], greedy), 0, domain).proved


def test_lqr_domain_draws_points_inside_the_domain():
    lqr = symbolic_lqr(2, 2, discounted=True, noisy=True)
    K = lqr.gain()
    domain = lqr.domain(K)
    for seed in range(5):
        assert lqr_point_is_in_domain(lqr, K, domain.draw(random.Random(seed)))


def test_lqr_domain_of_a_gain_expression_keeps_that_gain_stabilising():
    lqr = symbolic_lqr(2, 1)
    theta = sympy.Symbol("theta")
    K = theta * lqr.gain("k")
    domain = lqr.domain(K)
    assert theta in domain.symbols
    for seed in range(5):
        assert lqr_point_is_in_domain(lqr, K, domain.draw(random.Random(seed)))


def test_lqr_domain_refuses_a_gain_built_from_the_problem_data():
    lqr = symbolic_lqr(1, 1)
    with pytest.raises(InvalidProblemError, match="must not involve"):
        lqr.domain(lqr.A)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: symbolic_lqr(0, 1), "n must be a positive int"),
        (lambda: symbolic_lqr(2, 1.0), "m must be a positive int"),
        (lambda: symbolic_lqr(2, 1, noisy=True), "noisy=True needs discounted=True"),
        (lambda: symbolic_lqr(2, 1, discounted="yes"), "discounted must be True or False"),
        (lambda: symbolic_lqr(2, 1).value_matrix(sympy.zeros(2, 1)), "K must be a sympy Matrix"),
        (lambda: symbolic_lqr(2, 1).E(sympy.zeros(1, 2), P=np.eye(2)), "P must be a sympy Matrix"),
        (lambda: symbolic_lqr(2, 1).gain("1k"), "gain name"),
        (lambda: symbolic_lqr(2, 1).domain(), "one or two gains"),
    ],
)
def test_bad_lqr_input_raises_an_invalid_problem_error_naming_it(call, match):
    with pytest.raises(InvalidProblemError, match=match):
        call()


# ------------------------------------------------------------------------------------------------
# symbolic MDP
# ------------------------------------------------------------------------------------------------


def test_mdp_values_satisfy_the_bellman_equation():
    mdp = symbolic_mdp(2, 2)
    pi = mdp.policy()
    V = mdp.values(pi)
    expected = mdp.expected_cost(pi) + mdp.gamma * mdp.transition_matrix(pi) * V
    assert prove(V, expected, mdp.domain(pi)).proved


def test_mdp_visitation_is_a_distribution():
    mdp = symbolic_mdp(2, 2)
    pi = mdp.policy()
    assert prove(sum(mdp.visitation(pi)), 1, mdp.domain(pi)).proved


def test_mdp_advantages_average_to_zero_under_their_own_policy():
    mdp = symbolic_mdp(2, 2)
    pi = mdp.policy()
    advantage = mdp.advantages(pi)
    averaged = sympy.Matrix([sum(pi[s][a] * advantage[s, a] for a in range(2)) for s in range(2)])
    assert prove(averaged, sympy.zeros(2, 1), mdp.domain(pi)).proved


def performance_difference_sides(mdp, pi, mu):
    advantage = mdp.advantages(mu)
    d = mdp.visitation(pi)
    lhs = mdp.cost_of(pi) - mdp.cost_of(mu)
    expected = sum(
        d[s] * sum(pi[s][a] * advantage[s, a] for a in range(mdp.actions))
        for s in range(mdp.states)
    )
    return lhs, expected


def test_performance_difference_lemma_is_proved():
    """Kakade & Langford 2002: C(π) − C(μ) = (1 − γ)⁻¹ E_{d_π, π} A^μ."""
    mdp = symbolic_mdp(2, 2)
    pi, mu = mdp.policy("pi"), mdp.policy("mu")
    lhs, expected = performance_difference_sides(mdp, pi, mu)
    assert prove(lhs, expected / (1 - mdp.gamma), mdp.domain(pi, mu)).proved


def test_performance_difference_without_normalisation_is_refuted_inside_the_domain():
    mdp = symbolic_mdp(2, 2)
    pi, mu = mdp.policy("pi"), mdp.policy("mu")
    lhs, expected = performance_difference_sides(mdp, pi, mu)
    result = prove(lhs, expected, mdp.domain(pi, mu))
    assert result.verdict == "refuted"
    point = result.counterexample
    assert 0 < point[mdp.gamma] < 1
    rows = [row for by_state in mdp.transition for row in by_state] + [mdp.initial]
    rows += [*pi, *mu]
    for row in rows:
        values = [sympy.sympify(p).xreplace(point) for p in row]
        assert all(value > 0 for value in values) and sum(values) == 1


def test_mdp_refuses_a_policy_of_the_wrong_shape():
    mdp = symbolic_mdp(2, 3)
    with pytest.raises(InvalidProblemError, match="policy must be 2 rows of 3"):
        mdp.values([[1, 0], [0, 1]])


# ------------------------------------------------------------------------------------------------
# policies
# ------------------------------------------------------------------------------------------------


def test_linear_gaussian_score_is_the_textbook_formula():
    policy = linear_gaussian_policy(2, 2)
    expected = -(policy.u + policy.K * policy.x) * policy.x.T / policy.sigma
    assert prove(policy.score(), expected, policy.domain()).proved


def test_linear_gaussian_fisher_is_the_kronecker_product():
    """Kakade 2001: F = σ⁻¹ (S ⊗ I_m)."""
    policy = linear_gaussian_policy(2, 2)
    S = symmetric("s", 2)
    domain = [policy.domain(), (S, "positive definite")]
    assert prove(policy.fisher(S), kron(S, sympy.eye(2)) / policy.sigma, domain).proved


def test_linear_gaussian_fisher_with_the_standard_deviation_is_refuted():
    policy = linear_gaussian_policy(1, 2)
    S = symmetric("s", 1)
    domain = [policy.domain(), assume(S, "positive definite")]
    result = prove(policy.fisher(S), kron(S, sympy.eye(2)) / policy.varsigma, domain)
    assert result.verdict == "refuted"
    assert result.counterexample[policy.varsigma] > 0


def test_two_layer_scores_hold_for_a_generic_activation():
    policy = two_layer_gaussian_policy(1, 1, 2, activation="generic")
    score_1, score_0 = policy.score()
    gap = policy.u - policy.mean()
    assert prove(score_1, gap * policy.features().T / policy.sigma, policy.domain()).proved
    assert score_0.shape == (2, 1)


def test_two_layer_w0_score_without_the_slope_is_refuted_with_a_cubic_activation():
    policy = two_layer_gaussian_policy(1, 1, 2, activation="generic")
    _, score_0 = policy.score()
    gap = policy.u - policy.mean()
    wrong = policy.W1.T * gap * policy.x.T / policy.sigma
    result = prove(score_0, wrong, policy.domain())
    assert result.verdict == "refuted"
    assert any(isinstance(value, sympy.Lambda) for value in result.counterexample.values())


def test_two_layer_fisher_is_j_transpose_j_over_sigma():
    policy = two_layer_gaussian_policy(1, 1, 1)
    jacobian = policy.mean().jacobian(policy.parameters())
    claimed = jacobian.T * jacobian / policy.sigma
    assert prove(policy.fisher(), claimed, policy.domain()).proved


def test_softmax_score_is_indicator_minus_probabilities():
    policy = softmax_policy(2, 2)
    p = policy.probabilities()
    expected = sympy.Matrix([[-p[0][0], 1 - p[0][1]], [0, 0]])
    assert prove(policy.score(0, 1), expected, policy.domain()).proved
    assert prove(policy.score(0, 1), -expected, policy.domain()).verdict == "refuted"


def test_softmax_fisher_is_weighted_outer_products_of_the_score():
    policy = softmax_policy(1, 2)
    p = policy.probabilities()[0]
    fisher = policy.fisher([1])
    # one state: F = diag(p) − p pᵀ
    expected = sympy.diag(*p) - sympy.Matrix(p) * sympy.Matrix(p).T
    assert prove(fisher, expected, policy.domain()).proved


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: linear_gaussian_policy(2, 0), "m must be a positive int"),
        (lambda: two_layer_gaussian_policy(1, 1, 1, activation="relu"), "activation"),
        (lambda: softmax_policy(2, 2).score(2, 0), "state must be an int"),
        (lambda: softmax_policy(2, 2).fisher([1]), "state_weights"),
        (lambda: linear_gaussian_policy(2, 1).fisher(sympy.eye(3)), "moment"),
    ],
)
def test_bad_policy_input_raises_an_invalid_problem_error_naming_it(call, match):
    with pytest.raises(InvalidProblemError, match=match):
        call()


# ------------------------------------------------------------------------------------------------
# prove
# ------------------------------------------------------------------------------------------------

x, y = sympy.symbols("x y")


def test_prove_proves_a_true_rational_identity():
    result = prove(x / (x + 1) + 1 / (x + 1), 1, {x: "positive"})
    assert result.proved and "proved" in result.to_text()


def test_prove_refutes_a_false_identity_at_a_printed_point_of_the_domain():
    gamma = sympy.Symbol("gamma")
    result = prove(1 / (1 - gamma), 1 + gamma, {gamma: "discount"})
    assert result.verdict == "refuted"
    value = result.counterexample[gamma]
    assert 0 < value < 1
    assert result.counterexample_value == 1 / (1 - value) - (1 + value)
    text = result.to_text()
    assert f"gamma = {value}" in text and "0 < gamma < 1" in text


def test_prove_draws_positive_definite_points_for_a_positive_definite_assumption():
    P = symmetric("p", 2)
    result = prove(P.det(), -1, [(P, "positive definite")])
    assert result.verdict == "refuted"
    drawn = P.xreplace(result.counterexample)
    assert is_positive_definite(drawn)


a_, b_, c_ = sympy.symbols("a b c")


@pytest.mark.parametrize(
    "matrix",
    [
        sympy.Matrix([[a_, 0], [0, b_]]),  # diagonal, literal zeros
        sympy.Matrix([[1, a_], [a_, 1]]),  # constant diagonal: |a| < 1 needed
        sympy.Matrix([[a_, 2, 0], [2, 1, b_], [0, b_, c_]]),  # a > 4 and more needed
        sympy.Matrix([[a_, b_], [b_, a_]]),  # a repeated symbol: a > |b| needed
    ],
    ids=["diagonal", "constant-diagonal", "constant-row", "repeated-symbol"],
)
def test_positive_definite_with_constant_or_repeated_entries_draws_only_positive_definite_points(
    matrix,
):
    domain = assume(matrix, "positive definite")
    for seed in range(40):
        point = domain.draw(random.Random(seed))
        assert set(point) == matrix.free_symbols
        assert matrix.xreplace(point).is_positive_definite  # sympy's Cholesky test


def test_a_diagonal_positive_definite_matrix_with_literal_zeros_supports_prove():
    D = sympy.Matrix([[a_, 0], [0, b_]])
    assert prove(D.inv(), sympy.Matrix([[1 / a_, 0], [0, 1 / b_]]), (D, "positive definite")).proved
    wrong = prove(D.det(), a_ + b_, (D, "positive definite"))
    assert wrong.verdict == "refuted"
    assert wrong.counterexample[a_] > 0 and wrong.counterexample[b_] > 0
    assert "leading principal minor" in wrong.to_text()


def test_a_non_symmetric_matrix_with_a_literal_zero_gets_the_symmetry_message():
    with pytest.raises(InvalidProblemError, match=r"symmetric.*entry \(0, 1\) is 1 but entry "):
        assume(sympy.Matrix([[a_, 1], [0, b_]]), "positive definite")


@pytest.mark.parametrize(
    ("entry", "shown"), [(sympy.sqrt(2), r"sqrt\(2\)"), (2 * b_, "2\\*b"), (0.5, r"0\.50*")]
)
def test_a_positive_definite_entry_neither_symbol_nor_rational_is_named(entry, shown):
    with pytest.raises(
        InvalidProblemError,
        match=rf"entry \(0, 1\) is {shown}; expected a sympy Symbol or a rational",
    ):
        assume(sympy.Matrix([[a_, entry], [entry, c_]]), "positive definite")


def test_constants_that_rule_out_positive_definiteness_are_refused():
    with pytest.raises(InvalidProblemError, match=r"no values of \['a', 'b'\] found"):
        assume(sympy.Matrix([[0, a_], [a_, b_]]), "positive definite")
    with pytest.raises(InvalidProblemError, match=r"constant matrix .* is not positive definite"):
        assume(sympy.Matrix([[1, 2], [2, 1]]), "positive definite")


def test_a_scalar_kind_names_the_constant_entry_it_refuses():
    with pytest.raises(InvalidProblemError, match=r"entry 1 is 0; expected a sympy Symbol"):
        assume(sympy.Matrix([[a_, 0], [0, b_]]), "positive")


def test_prove_does_not_claim_an_identity_true_only_on_a_relation():
    """P generic, drawn as P_K: the residual vanishes at every point but is not the zero
    function of independent symbols — CertificationError, not a proof."""
    lqr = symbolic_lqr(1, 1)
    K, P = lqr.gain(), symmetric("p", 1)
    with pytest.raises(CertificationError, match="not the zero function"):
        prove(lqr.value_recursion(K, P), P, lqr.domain(K, P=P))


def test_prove_refuses_sides_of_different_shapes():
    with pytest.raises(InvalidProblemError, match=r"shape \(2, 1\).*shape \(1, 2\)"):
        prove(sympy.Matrix([x, y]), sympy.Matrix([[x, y]]), {x: "real", y: "real"})
    with pytest.raises(InvalidProblemError, match="a scalar"):
        prove(sympy.Matrix([x]), x, {x: "real"})


@pytest.mark.parametrize(
    ("lhs", "rhs"),
    [
        (0.1 * x, x / 10),
        (0.5 * x, x / 3),
        (sympy.exp(x / 3), 1.0),
        (sympy.Matrix([x, 0.25]), sympy.Matrix([x, y])),
    ],
    ids=["float-equal-at-15-digits", "float-wrong", "float-rhs", "float-in-a-matrix"],
)
def test_prove_refuses_floats_naming_the_side_and_the_float(lhs, rhs):
    # 0.1 is not 1/10: an exact "proved" (or a CertificationError) would misreport it
    with pytest.raises(InvalidProblemError, match=r"(lhs|rhs): holds the float .*expected exact"):
        prove(lhs, rhs, {x: "real", y: "real"})


def test_prove_refuses_an_unknown_assumption_kind():
    with pytest.raises(InvalidProblemError, match="unknown assumption kind 'stable'"):
        prove(x, x, {x: "stable"})


def test_prove_refuses_symbols_without_a_domain():
    with pytest.raises(InvalidProblemError, match=r"\['y'\] have no domain"):
        prove(x + y, x, {x: "real"})


def test_prove_refuses_a_generic_function_without_a_domain():
    h = sympy.Function("h")
    with pytest.raises(InvalidProblemError, match=r"\['h'\] have no domain"):
        prove(h(x), x, {x: "real"})


def test_prove_refuses_a_symbol_given_two_domains():
    with pytest.raises(InvalidProblemError, match="a domain twice"):
        prove(x, x, [{x: "real"}, {x: "positive"}])


@pytest.mark.parametrize("bad", ["x > 0", 3, [object()], None])
def test_prove_refuses_malformed_assumptions(bad):
    with pytest.raises(InvalidProblemError, match="assumptions"):
        prove(x, x, bad)


@pytest.mark.parametrize(("argument", "bad"), [("trials", 0), ("seed", 1.5), ("name", 3)])
def test_prove_refuses_bad_options(argument, bad):
    with pytest.raises(InvalidProblemError, match=argument):
        prove(x, x, {x: "real"}, **{argument: bad})


def test_prove_refuses_a_division_by_an_identically_zero_polynomial():
    vanishing = sympy.Add((x + 1) ** 2, -(x**2), -2 * x, -1, evaluate=False)
    with pytest.raises(InvalidProblemError, match="identically zero"):
        prove(1 / vanishing, 0, {x: "real"})


def test_prove_refuses_a_side_that_is_no_expression():
    with pytest.raises(InvalidProblemError, match="lhs"):
        prove(object(), x, {x: "real"})


# ------------------------------------------------------------------------------------------------
# the gcd-free rational zero test
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "zero",
    [
        x / (x + 1) + 1 / (x + 1) - 1,
        (x**2 - 1) / (x - 1) - (x + 1),
        1 / (2 * x + 2) - 1 / (2 * (x + 1)),  # equal denominators up to a constant
        (x + y) ** -2 * (x + y) - 1 / (x + y),
    ],
)
def test_rational_zero_test_recognises_zero(zero):
    assert vanishes_rationally(zero, [x, y]) is True


@pytest.mark.parametrize("nonzero", [x / (x + 1), 1 / (x + 1) - 1 / (x + 2), (x - y) ** 2 - x**2])
def test_rational_zero_test_recognises_non_zero(nonzero):
    assert vanishes_rationally(nonzero, [x, y]) is False


def test_rational_zero_test_declines_transcendental_expressions():
    assert vanishes_rationally(sympy.exp(x) - sympy.exp(x) + sympy.tanh(y), [x, y]) is None


def test_zero_with_function_applications_as_indeterminates_is_recognised():
    t = sympy.tanh(x * y)
    h = sympy.Function("h")
    zero = (t + h(x)) ** 2 / (1 - t**2) - (t**2 + 2 * t * h(x) + h(x) ** 2) / ((1 - t) * (1 + t))
    assert vanishes_generically(zero, [x, y]) is True


@pytest.mark.parametrize(
    "related",
    [sympy.tanh(x) ** 2 + 1 / sympy.cosh(x) ** 2 - 1, sympy.exp(x) * sympy.exp(-x) - 1],
    ids=["tanh-sech", "exp-pair"],
)
def test_zero_only_through_a_relation_between_functions_is_not_shown_generically(related):
    # True would claim tanh(x) and cosh(x) independent; the identity needs their relation
    assert vanishes_generically(related, [x]) is False


def test_zero_test_still_proves_a_zero_that_needs_a_relation_between_functions():
    assert check_zero(sympy.tanh(x) ** 2 + 1 / sympy.cosh(x) ** 2 - 1).is_zero


def test_zero_test_refutes_a_tanh_residual_that_is_not_zero():
    t = sympy.tanh(x)
    test = check_zero((t + 1) ** 2 - t**2 - 1)  # 2 tanh(x), zero only at x = 0
    assert not test.is_zero


def test_rational_evaluation_is_exact_and_none_at_a_pole():
    expression = (x + 1) / (x - y) + y**-2
    point = {x: sympy.Rational(1, 3), y: sympy.Rational(-2, 5)}
    assert evaluate_rationally(expression, point) == expression.xreplace(point)
    assert evaluate_rationally(expression, {x: 1, y: 1}) is None
