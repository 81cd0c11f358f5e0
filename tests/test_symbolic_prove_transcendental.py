"""``prove`` on residuals holding exp and other transcendental functions (docs/symbolic-toolkit.md):
softmax identities become rational in p = exp θ (exact, fast verdicts, counterexamples at
θ = log p); anything else is refuted only by a certified ball excluding 0, never on rounding noise.

Expected values are independent of the code under test: the softmax policy gradient theorem
(Sutton et al. 2000), mpmath evaluations at 50 digits, hand-computed constants."""

import time

import mpmath
import pytest
import sympy

from pgverify import CertificationError, InvalidProblemError
from pgverify.symbolic import prove, softmax_policy, symbolic_mdp
from pgverify.symbolic.enclosure import nonzero_enclosure
from pgverify.symbolic.matrices import symmetric

x, y = sympy.symbols("x y")
s = sympy.Symbol("s")


def softmax_gradient_problem(states: int, actions: int):
    """∇_θ C for a tabular softmax policy, the theorem's form d(s) π(a|s) A(s, a) / (1 − γ), the
    form with π(a|s) forgotten, and the domains."""
    mdp, policy = symbolic_mdp(states, actions), softmax_policy(states, actions)
    pi, theta = policy.probabilities(), policy.theta
    cost, visits, adv = mdp.cost_of(pi), mdp.visitation(pi), mdp.advantages(pi)
    gradient = sympy.Matrix(states, actions, lambda i, a: sympy.diff(cost, theta[i, a]))

    def form(with_pi: bool) -> sympy.Matrix:
        return sympy.Matrix(
            states,
            actions,
            lambda i, a: visits[i] * (pi[i][a] if with_pi else 1) * adv[i, a] / (1 - mdp.gamma),
        )

    return mdp, policy, gradient, form(True), form(False), [mdp.domain(), policy.domain()]


# ------------------------------------------------------------------------------------------------
# softmax: exact and fast (the 2x2 refutation used to hang > 13 min in symbolic cancel)
# ------------------------------------------------------------------------------------------------


def test_softmax_gradient_theorem_on_two_states_two_actions_is_proved():
    *_, gradient, theorem, _, domains = softmax_gradient_problem(2, 2)
    assert prove(gradient, theorem, domains).verdict == "proved"


def test_softmax_gradient_without_the_policy_factor_on_two_states_is_refuted_exactly():
    *_, gradient, _, forgot, domains = softmax_gradient_problem(2, 2)
    result = prove(gradient, forgot, domains)
    assert (result.verdict, result.tier) == ("refuted", "exact")
    assert isinstance(result.counterexample_value, sympy.Rational)


def test_softmax_refutation_point_lies_in_the_domain_and_has_the_printed_residual():
    mdp, policy, gradient, _, forgot, domains = softmax_gradient_problem(1, 2)
    result = prove(gradient, forgot, domains)
    point = result.counterexample
    assert 0 < point[mdp.gamma] < 1
    for logit in policy.theta:  # θ = log p with p a positive rational: a real logit
        assert isinstance(point[logit], (sympy.log, sympy.Rational, sympy.Mul))
        assert point[logit].is_real
    residual = (gradient - forgot)[result.refuted_residual]
    independent = residual.evalf(50, subs=point)  # sympy/mpmath, no exp substitution
    assert abs(independent - result.counterexample_value) < sympy.Float("1e-40")
    assert result.counterexample_value != 0


def test_softmax_refutation_prints_an_exact_rational_residual():
    *_, gradient, _, forgot, domains = softmax_gradient_problem(1, 2)
    result = prove(gradient, forgot, domains)
    assert f"the residual is {result.counterexample_value}\n" in result.to_text()
    assert "(tier exact)" in result.to_text()
    assert "log(" in result.to_text()


def test_exp_of_a_sum_of_logits_is_proved_through_positive_symbols():
    assert prove(sympy.exp(2 * x - y), sympy.exp(x) ** 2 / sympy.exp(y), {x: "real", y: "real"})


def test_exp_of_a_positive_symbol_is_proved():
    result = prove(sympy.exp(s) ** 2, sympy.exp(2 * s), {s: "positive"})
    assert result.verdict == "proved"


# ------------------------------------------------------------------------------------------------
# rational coefficients and positive / discount symbols: p = exp(θ/b), θ = b log p in the domain
# ------------------------------------------------------------------------------------------------


def half_logit_softmax_problem():
    """The softmax policy gradient with half logits π ∝ exp(θ/2) on 2 states, 2 actions: the
    gradient carries a factor 1/2 (chain rule), so the theorem's form without it is wrong."""
    mdp, policy = symbolic_mdp(2, 2), softmax_policy(2, 2)
    theta = policy.theta
    half = {logit: logit / 2 for logit in theta}
    pi = [[p.xreplace(half) for p in row] for row in policy.probabilities()]
    cost, visits, adv = mdp.cost_of(pi), mdp.visitation(pi), mdp.advantages(pi)
    gradient = sympy.Matrix(2, 2, lambda i, a: sympy.diff(cost, theta[i, a]))

    def form(factor):
        return sympy.Matrix(
            2, 2, lambda i, a: factor * visits[i] * pi[i][a] * adv[i, a] / (1 - mdp.gamma)
        )

    return gradient, form(sympy.Rational(1, 2)), form(1), [mdp.domain(), policy.domain()]


def test_half_logit_softmax_gradient_theorem_is_proved_through_the_rational_fast_path():
    gradient, theorem, _, domains = half_logit_softmax_problem()
    result = prove(gradient, theorem, domains)
    assert result.proved
    assert any("p = exp(theta_11/2)" in step.description for step in result.steps)


def test_half_logit_softmax_gradient_without_the_half_is_refuted_exactly_at_theta_two_log_p():
    gradient, _, forgot, domains = half_logit_softmax_problem()
    result = prove(gradient, forgot, domains)
    assert (result.verdict, result.tier) == ("refuted", "exact")
    residual = (gradient - forgot)[result.refuted_residual]
    for symbol, value in result.counterexample.items():
        if str(symbol).startswith("theta"):  # θ = 2 log p, p a positive rational
            assert (value / 2).func == sympy.log or value == 0
    independent = residual.evalf(50, subs=result.counterexample)
    assert abs(independent - result.counterexample_value) < sympy.Float("1e-40")


def test_exp_with_quarter_coefficients_is_proved_exactly():
    lhs = (sympy.exp(3 * x / 4) + sympy.exp(x / 2)) ** 2
    rhs = sympy.exp(3 * x / 2) + 2 * sympy.exp(5 * x / 4) + sympy.exp(x)
    result = prove(lhs, rhs, {x: "real"})
    assert (result.verdict, result.tier) == ("proved", "exact")
    assert any("p = exp(x/4)" in step.description for step in result.steps)


@pytest.mark.parametrize("kind", ["real", "positive", "discount"])
def test_a_wrong_exp_identity_with_a_third_is_refuted_exactly_inside_the_domain(kind):
    lhs = (sympy.exp(s / 3) + sympy.exp(2 * s / 3)) ** 2
    rhs = sympy.exp(2 * s / 3) + sympy.exp(4 * s / 3) + sympy.exp(s)  # 2 exp(s) is right
    result = prove(lhs, rhs, {s: kind})
    assert (result.verdict, result.tier) == ("refuted", "exact")
    at = result.counterexample[s]
    p = (at / 3).args[0]  # printed as s = 3 log p with p rational
    assert at == 3 * sympy.log(p) and p.is_Rational
    inside = {"real": p > 0, "positive": at > 0, "discount": 0 < at < 1}[kind]
    assert inside
    assert result.counterexample_value == p**3  # the true residual is exp(s) = p^3


def test_a_discount_counterexample_lies_strictly_between_zero_and_one():
    gamma = sympy.Symbol("gamma")
    for seed in range(20):
        result = prove(sympy.exp(gamma / 7), 1, {gamma: "discount"}, seed=seed)
        assert result.tier == "exact"
        assert 0 < result.counterexample[gamma] < 1


def test_a_symbol_also_outside_its_exp_is_left_to_ball_arithmetic():
    result = prove(sympy.exp(x / 2) ** 2, 1 + x, {x: "real"})
    assert (result.verdict, result.tier) == ("refuted", "certified")


def test_exp_of_a_symbol_in_a_joint_domain_is_left_to_ball_arithmetic():
    # a distribution's entries are not drawn independently on an interval: no p = exp(θ)
    a, b = sympy.symbols("a b")
    result = prove(sympy.exp(a / 2) * sympy.exp(b / 2), 1, ([a, b], "distribution"))
    assert (result.verdict, result.tier) == ("refuted", "certified")


# ------------------------------------------------------------------------------------------------
# other transcendental residuals: certified enclosures, never rounding noise
# ------------------------------------------------------------------------------------------------


def test_a_tiny_true_difference_is_refuted_with_a_certified_enclosure_containing_it():
    tiny = sympy.Rational(1, 10**30)
    result = prove(sympy.tanh(x) ** 2, 1 - 1 / sympy.cosh(x) ** 2 + tiny, {x: "real"})
    assert (result.verdict, result.tier) == ("refuted", "certified")
    enclosure = result.counterexample_value
    assert isinstance(enclosure, sympy.Interval)
    assert enclosure.contains(-tiny) and not enclosure.contains(0)
    assert "certified enclosure" in result.to_text()


def test_a_logit_outside_its_exp_is_refuted_in_ball_arithmetic():
    result = prove(sympy.exp(x), 1 + x, {x: "real"})
    assert (result.verdict, result.tier) == ("refuted", "certified")
    at = sympy.Rational(result.counterexample[x])
    with mpmath.workdps(50):
        point = mpmath.mpf(int(at.p)) / int(at.q)
        value = mpmath.exp(point) - 1 - point
    enclosure = result.counterexample_value
    assert enclosure.start <= sympy.Float(value, 50) <= enclosure.end


def test_a_true_identity_with_catastrophic_cancellation_is_never_refuted():
    huge = sympy.Integer(10) ** 60  # float64 evaluation leaves noise of order 10**104
    lhs = (sympy.exp(s) + huge) ** 2
    rhs = sympy.exp(2 * s) + 2 * huge * sympy.exp(s) + huge**2
    assert prove(lhs, rhs, {s: "positive"}).verdict == "proved"


def test_enclosure_of_a_zero_value_is_none():
    assert nonzero_enclosure(sympy.exp(x) * sympy.exp(-x) - 1, {x: sympy.Rational(7, 3)}) is None


def test_enclosure_contains_the_value_computed_by_mpmath():
    expression = sympy.log(1 + x) - sympy.sin(x) / 3
    point = sympy.Rational(5, 7)
    with mpmath.workdps(50):
        truth = mpmath.log(1 + mpmath.mpf(5) / 7) - mpmath.sin(mpmath.mpf(5) / 7) / 3
    enclosure = nonzero_enclosure(expression, {x: point})
    assert enclosure.start <= sympy.Float(truth, 50) <= enclosure.end
    assert enclosure.end - enclosure.start < sympy.Rational(1, 10**30)


def test_enclosure_at_a_pole_is_none():
    assert nonzero_enclosure(1 / (sympy.exp(x) - 1), {x: sympy.Integer(0)}) is None


# ------------------------------------------------------------------------------------------------
# a bare (target, kind) pair, as docs/symbolic-toolkit.md documents it
# ------------------------------------------------------------------------------------------------


def test_a_bare_matrix_kind_pair_is_accepted():
    S = symmetric("s", 2)
    assert prove(S.det(), S[0, 0] * S[1, 1] - S[0, 1] ** 2, (S, "positive definite")).proved


def test_a_bare_symbol_kind_pair_is_accepted():
    assert prove((x + 1) ** 2, x**2 + 2 * x + 1, (x, "positive")).proved


def test_a_malformed_item_message_lists_a_pair_as_accepted():
    with pytest.raises(InvalidProblemError, match=r"pairs \(target, kind\) or a list of them"):
        prove(x, x, [(x, "real"), 3])


def test_a_residual_never_evaluated_is_not_reported_as_vanishing():
    # besselj has no ball evaluation here: J1(x) = 0 is wrong, but nothing was seen at the points
    with pytest.raises(CertificationError, match="not shown non-zero at the 8 points") as error:
        prove(sympy.besselj(1, x), 0, {x: "positive"})
    assert "vanished" not in str(error.value)


# ------------------------------------------------------------------------------------------------
# exact balls, huge and tiny magnitudes, error messages on large sides
# ------------------------------------------------------------------------------------------------


def test_an_exact_ball_is_returned_as_its_rational_value():
    # sin(0) = 0 and cos(0) = 1 exactly: the ball has radius 0, so the value is exactly 1
    value = nonzero_enclosure(sympy.sin(x) ** 2 + sympy.cos(x) ** 2, {x: sympy.Integer(0)})
    assert value == 1 and isinstance(value, sympy.Rational)


def test_a_refutation_at_an_exact_ball_prints_the_value_not_a_set():
    result = prove(sympy.sin(x) ** 2 + sympy.cos(x) ** 2 + 1, 1, {x: "real"}, seed=4, trials=1)
    assert result.counterexample[x] == 0  # the point where every ball is exact
    assert "at x = 0 the residual is 1\n" in result.to_text()
    assert "{" not in result.to_text()


def test_a_residual_beyond_two_to_the_4096_is_refuted_on_a_half_line_without_hanging():
    started = time.perf_counter()
    # cosh(cosh(x + 37.5)) >= cosh(cosh(37.5)) ~ 2^(1.4e16): the exact power cannot be built
    result = prove(sympy.cosh(sympy.cosh(x + sympy.Rational(75, 2))), 0, {x: "positive"})
    assert time.perf_counter() - started < 1
    assert (result.verdict, result.tier) == ("refuted", "certified")
    assert result.counterexample_value == sympy.Interval(sympy.Integer(2) ** 4096, sympy.oo)
    assert "lies in [2^4096, +oo)" in result.to_text()


def test_a_residual_below_minus_two_to_the_4096_is_refuted_on_a_half_line():
    value = nonzero_enclosure(-sympy.exp(sympy.exp(x)), {x: sympy.Integer(40)})
    assert value == sympy.Interval(-sympy.oo, -(sympy.Integer(2) ** 4096))


def test_a_residual_closer_to_zero_than_two_to_the_minus_4096_claims_nothing():
    started = time.perf_counter()
    with pytest.raises(CertificationError, match="closer to 0 than 2\\^-4096"):
        prove(sympy.exp(-sympy.exp(x + 40)), 0, {x: "positive"})
    assert time.perf_counter() - started < 1


def test_a_non_real_large_side_is_described_briefly_naming_the_offending_node():
    large = sympy.I * sum(x**k / (k + 1) for k in range(400))
    with pytest.raises(InvalidProblemError) as error:
        prove(large, 0, {x: "real"})
    message = str(error.value)
    assert len(message) < 400
    assert "lhs: expected a real expression, got a large Mul" in message
    assert "holds I, nan or oo" in message


def test_a_small_non_real_side_is_printed_in_the_message():
    with pytest.raises(InvalidProblemError, match=r"got oo\*x: it holds I, nan or oo, in oo\*x"):
        prove(x, sympy.oo * x, {x: "real"})


# ------------------------------------------------------------------------------------------------
# sqrt, Abs, erf in ball arithmetic
# ------------------------------------------------------------------------------------------------


def test_sqrt_of_a_perfect_square_is_exact_in_ball_arithmetic():
    assert nonzero_enclosure(sympy.sqrt(x + 1), {x: sympy.Integer(3)}) == 2
    assert nonzero_enclosure(1 / sympy.sqrt(x + 1), {x: sympy.Integer(3)}) == sympy.Rational(1, 2)


@pytest.mark.parametrize("point", [sympy.Integer(3), sympy.Rational(1, 3)])
def test_sqrt_of_a_negative_or_zero_straddling_ball_claims_nothing(point):
    # sqrt(x - 5) is imaginary at 3; sqrt(3x - 1 - (x - 1/3)*3) is sqrt(0) up to rounding at 1/3
    assert nonzero_enclosure(sympy.sqrt(x - 5), {x: sympy.Integer(3)}) is None
    inside = sympy.sqrt(sympy.exp(x) * sympy.exp(-x) - 1 + (x - point))
    assert nonzero_enclosure(inside, {x: point}) is None


def test_sqrt_of_a_negative_value_raises_certification_error_not_a_refutation():
    with pytest.raises(CertificationError, match="not shown non-zero"):
        prove(sympy.sqrt(x - 10), 1, {x: "positive"})


def test_abs_is_evaluated_in_balls_and_refutes_abs_equals_identity_on_the_reals():
    result = prove(sympy.Abs(sympy.tanh(x)), sympy.tanh(x), {x: "real"})
    assert (result.verdict, result.tier) == ("refuted", "certified")
    assert result.counterexample[x] < 0


def test_abs_equals_identity_on_positives_is_never_refuted():
    # true on the domain; the zero test cannot use the domain, so nothing is claimed
    with pytest.raises(CertificationError):
        prove(sympy.Abs(sympy.tanh(x)), sympy.tanh(x), {x: "positive"})


def test_erf_enclosure_contains_the_value_computed_by_mpmath():
    with mpmath.workdps(50):
        truth = mpmath.erf(mpmath.mpf(2) / 3)
    enclosure = nonzero_enclosure(sympy.erf(x), {x: sympy.Rational(2, 3)})
    assert enclosure.start <= sympy.Float(truth, 50) <= enclosure.end


def test_a_registered_derivation_refuted_by_a_ball_has_tier_certified():
    from pgverify.symbolic.core import Derivation, conclude

    shell = Derivation(name="t", title="t", statement="tanh x = x", source="", sizes={})
    result = conclude(shell, [sympy.tanh(x) - x])  # tanh x < x for x > 0: a ball excludes 0
    assert (result.verdict, result.tier) == ("refuted", "certified")
    assert isinstance(result.counterexample_value, sympy.Interval)
