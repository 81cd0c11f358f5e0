"""The finite-MDP and Gaussian-policy checks pass right implementations (float64 and float32),
fail wrong ones within their default run with a minimal case and a diagnosis, and name every
slip of their catalogues."""

from functools import partial

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import (
    check_discounted_visitation,
    check_gaussian_fisher,
    check_gaussian_score,
    check_policy_evaluation,
    check_q_function,
    check_softmax_natural_gradient,
    check_softmax_policy_gradient,
    check_two_layer_score,
)
from pgverify.checks import mdp as mdp_checks
from pgverify.checks import policies as policy_checks
from tests.test_checks_implementations import (
    MDPImplementation,
    gaussian_fisher,
    gaussian_score,
    two_layer_score,
)

RIGHT = MDPImplementation()
SINGLE = MDPImplementation(dtype=np.float32)


def wrong(slip):
    return MDPImplementation(slip)


def _name(value):
    function = getattr(value, "func", value)
    return getattr(function, "__name__", str(value))


CORRECT = [
    (check_policy_evaluation, RIGHT.value),
    (check_policy_evaluation, SINGLE.value),
    (check_q_function, RIGHT.q),
    (check_q_function, SINGLE.q),
    (check_discounted_visitation, RIGHT.visitation),
    (check_discounted_visitation, partial(RIGHT.visitation, normalised=False)),
    (check_softmax_policy_gradient, RIGHT.softmax_gradient),
    (check_softmax_natural_gradient, RIGHT.softmax_natural_gradient),
    (check_softmax_natural_gradient, wrong("Q").softmax_natural_gradient),
    (check_softmax_natural_gradient, wrong("pinv").softmax_natural_gradient),
    (check_gaussian_score, gaussian_score),
    (check_gaussian_score, partial(gaussian_score, dtype=np.float32)),
    (check_two_layer_score, two_layer_score),
    (check_two_layer_score, partial(two_layer_score, dtype=np.float32)),
    (check_gaussian_fisher, gaussian_fisher),
    (check_gaussian_fisher, partial(gaussian_fisher, dtype=np.float32)),
]


@pytest.mark.parametrize(("check", "fn"), CORRECT, ids=_name)
def test_a_right_implementation_passes_the_default_run(check, fn):
    report = check(fn)
    assert report.generated_cases == 40 and report.worst_ratio <= 1
    assert report.tier in ("exact", "certified")


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "identity"])
def test_the_two_layer_check_takes_the_activation(activation):
    check_two_layer_score(partial(two_layer_score, activation=activation), activation)
    with pytest.raises(OracleMismatch):
        check_two_layer_score(two_layer_score, activation, max_examples=5)


def test_an_unknown_activation_is_refused():
    with pytest.raises(InvalidProblemError, match="activation must be one of"):
        check_two_layer_score(two_layer_score, "softplus")


def test_the_visitation_report_states_which_normalisation_matched():
    normalised = check_discounted_visitation(RIGHT.visitation, max_examples=5)
    unnormalised = check_discounted_visitation(
        partial(RIGHT.visitation, normalised=False), max_examples=5
    )
    assert "the normalised visitation (1 − γ)Σ_t γ^t Pr(x_t = ·): 10" in str(normalised)
    assert "the unnormalised visitation Σ_t γ^t Pr(x_t = ·): 10" in str(unnormalised)


def test_the_natural_gradient_check_accepts_any_per_state_shift_and_unvisited_rows():
    def shifted(transitions, costs, initial, logits, gamma):
        x = RIGHT.softmax_natural_gradient(transitions, costs, initial, logits, gamma)
        x = x + np.arange(x.shape[0])[:, None]  # a different constant per state
        d = RIGHT.visitation(transitions, initial, softmax_of(logits), gamma)
        x[d == 0] = 1e6  # anything where the state is never visited
        return x

    report = check_softmax_natural_gradient(shifted)
    assert "every solution" in str(report)


def softmax_of(logits):
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


def test_user_mdp_cases_with_float_rounded_probabilities_are_renormalised_exactly():
    third = 1.0 / 3.0
    case = {
        "transitions": np.array([[[third, third, third]], [[0.0, 1.0, 0.0]], [[0.5, 0.0, 0.5]]]),
        "costs": np.array([[1.0], [2.0], [3.0]]),
        "policy": np.ones((3, 1)),
        "gamma": 0.9,
    }
    report = check_policy_evaluation(RIGHT.value, cases=[case], max_examples=0)
    assert report.fixed_cases == 6
    with pytest.raises(InvalidProblemError, match="summing to"):
        check_policy_evaluation(
            RIGHT.value, cases=[{**case, "policy": np.full((3, 1), 0.9)}], max_examples=0
        )


TWO_WRONG_EACH = [
    (check_policy_evaluation, wrong("P transposed").value, "transposed transition matrix"),
    (check_policy_evaluation, wrong("optimal").value, "the optimal value V*"),
    (check_q_function, wrong("gamma missing").q, "Q with γ missing"),
    (check_q_function, wrong("advantage").q, "the advantage Q − V instead of Q"),
    (check_discounted_visitation, wrong("P not transposed").visitation, "P_π in place of P_πᵀ"),
    (check_discounted_visitation, wrong("initial").visitation, "the initial distribution ρ"),
    (check_softmax_policy_gradient, wrong("Q for A").softmax_gradient, "Q in place of"),
    (check_softmax_policy_gradient, wrong("no 1/(1-gamma)").softmax_gradient, "without the"),
    (check_softmax_natural_gradient, wrong("advantage only").softmax_natural_gradient, "A(s, a)"),
    (check_softmax_natural_gradient, wrong("vanilla").softmax_natural_gradient, "vanilla"),
    (check_gaussian_score, partial(gaussian_score, slip="std"), "σ read as a standard deviation"),
    (check_gaussian_score, partial(gaussian_score, slip="mean +Kx"), "the mean taken as +Kx"),
    (check_two_layer_score, partial(two_layer_score, slip="no h'"), "chain rule"),
    (check_two_layer_score, partial(two_layer_score, slip="std"), "standard deviation"),
    (check_gaussian_fisher, partial(gaussian_fisher, slip="row-major"), "row-major"),
    (check_gaussian_fisher, partial(gaussian_fisher, slip="inverse"), "inverse Fisher"),
]


@pytest.mark.parametrize(("check", "fn", "diagnosis"), TWO_WRONG_EACH, ids=_name)
def test_a_wrong_implementation_fails_the_default_run_with_a_minimal_case_and_diagnosis(
    check, fn, diagnosis
):
    with pytest.raises(OracleMismatch) as failure:
        check(fn)
    message = str(failure.value)
    assert message.startswith(f"{check.__name__}: the implementation disagrees")
    assert "Minimal failing case" in message and "result = fn(" in message
    assert "Diagnosis: your result equals" in message and diagnosis in message
    code = message.split("\n\n")[2]
    namespace = {"fn": fn}
    exec("\n".join(line[4:] for line in code.splitlines()), namespace)  # the message's code
    inputs = [value for name, value in namespace.items() if name != "result"]
    sizes = [np.shape(value) for value in inputs if isinstance(value, np.ndarray)]
    assert max(max(size, default=1) for size in sizes) <= 3  # shrunk to a small case


CATALOGUE = [
    (mdp_checks.PolicyEvaluationSpec, check_policy_evaluation, wrong(s).value, text)
    for s, text in [
        ("P transposed", "V computed with the transposed transition matrix"),
        ("tensor transposed", "V with the transition tensor read as P[s', a, s]"),
        ("optimal", "the optimal value V*"),
        ("normalised", "(1 − γ)V^π — a normalised value"),
        ("gamma squared", "V^π with γ² in place of γ"),
        ("one step", "c_π, the one-step expected cost"),
        ("uniform policy", "the value of the uniform policy"),
        ("200 sweeps", "sweeps of the iteration V ← c_π + γP_πV from V = 0"),
        ("200 in-place sweeps", "in-place (Gauss–Seidel) sweeps"),
        ("negated", "−V^π (the sign negated"),
        ("uniform transitions", "V with the transitions averaged uniformly over the actions"),
        ("uniform costs", "V with the costs averaged uniformly over the actions"),
    ]
]
CATALOGUE += [
    (mdp_checks.QFunctionSpec, check_q_function, wrong(s).q, text)
    for s, text in [
        ("gamma missing", "Q with γ missing"),
        ("V for Q", "V^π repeated over the actions"),
        ("advantage", "the advantage Q − V instead of Q"),
        ("tensor transposed", "Q with the transition tensor read as P[s', a, s]"),
        ("P transposed", "Q with V computed from the transposed transition matrix"),
        ("optimal", "the optimal Q*"),
        ("normalised", "(1 − γ)Q — a normalised Q-function"),
        ("negated", "−Q^π (the sign negated"),
        ("uniform transitions", "Q with V computed from the transitions averaged uniformly"),
    ]
]
CATALOGUE += [
    (mdp_checks.VisitationSpec, check_discounted_visitation, fn, text)
    for s in ("P not transposed", "uniform initial", "first step left out")
    for fn, text in [
        (wrong(s).visitation, "(normalised by 1 − γ)"),
        (partial(wrong(s).visitation, normalised=False), "(unnormalised)"),
    ]
]
CATALOGUE += [
    (mdp_checks.VisitationSpec, check_discounted_visitation, wrong("initial").visitation, t)
    for t in ["the initial distribution ρ itself"]
]
CATALOGUE += [
    (mdp_checks.VisitationSpec, check_discounted_visitation, wrong(s).visitation, t)
    for s, t in [("normalised twice", "normalised twice")]
]
CATALOGUE += [
    (mdp_checks.SoftmaxGradientSpec, check_softmax_policy_gradient, wrong(s).softmax_gradient, t)
    for s, t in [
        ("ascent", "the ascent direction −∇C"),
        ("no 1/(1-gamma)", "d(s)π(a|s)A(s, a) without the factor 1/(1 − γ)"),
        ("twice 1/(1-gamma)", "divided by (1 − γ) again"),
        ("Q for A", "Q in place of the advantage A"),
        ("initial for d", "the initial distribution in place of the visitation d"),
        ("no pi", "the factor π(a|s) left out"),
        ("direct", "the gradient of the direct parametrisation"),
    ]
]
CATALOGUE += [
    (
        mdp_checks.SoftmaxNaturalGradientSpec,
        check_softmax_natural_gradient,
        wrong(s).softmax_natural_gradient,
        t,
    )
    for s, t in [
        ("advantage only", "A(s, a), the advantage without the factor 1/(1 − γ)"),
        ("ascent", "−A(s, a)/(1 − γ) (ascent instead of descent)"),
        ("vanilla", "the vanilla gradient ∂C/∂θ"),
        ("twice 1/(1-gamma)", "A(s, a)/(1 − γ)² — a factor 1/(1 − γ) too many"),
        ("d kept", "the visitation d(s) not divided out"),
    ]
]
CATALOGUE += [
    (policy_checks.GaussianScoreSpec, check_gaussian_score, partial(gaussian_score, slip=s), t)
    for s, t in [
        ("std", "σ read as a standard deviation"),
        ("sign", "the sign of the score flipped"),
        ("mean +Kx", "the mean taken as +Kx"),
        ("no 1/sigma", "the factor σ⁻¹ left out"),
        ("times sigma", "multiplied by σ instead of divided"),
        ("factor 2", "a factor 2"),
        ("factor 1/2", "a spurious factor ½"),
    ]
]
CATALOGUE += [
    (policy_checks.TwoLayerScoreSpec, check_two_layer_score, partial(two_layer_score, slip=s), t)
    for s, t in [
        ("no h'", "the chain rule through the activation missed"),
        ("h for h'", "h(W0x) in place of h'(W0x)"),
        ("1 - tanh", "h' = 1 − tanh instead of 1 − tanh²"),
        ("std", "σ read as a standard deviation"),
        ("sign", "the negated gradients"),
        ("W1 untransposed", "W1 in place of W1ᵀ"),
        ("swapped", "the two gradients in the wrong order"),
    ]
]
CATALOGUE += [
    (policy_checks.GaussianFisherSpec, check_gaussian_fisher, partial(gaussian_fisher, slip=s), t)
    for s, t in [
        ("row-major", "θ = vec(K) taken row-major"),
        ("std", "σ read as a standard deviation"),
        ("no 1/sigma", "the factor σ⁻¹ left out"),
        ("times sigma", "multiplied by σ instead of divided"),
        ("inverse", "the inverse Fisher matrix"),
    ]
]


@pytest.mark.parametrize(
    ("spec", "check", "fn", "diagnosis"),
    CATALOGUE,
    ids=[f"{entry[0].name}-{entry[3][:40]}" for entry in CATALOGUE],
)
def test_every_catalogue_slip_is_recognised(spec, check, fn, diagnosis):
    with pytest.raises(OracleMismatch) as failure:
        check(fn, max_examples=0)  # the fixed cases reveal every slip
    assert diagnosis in str(failure.value).split("Diagnosis: ", 1)[1]


@pytest.mark.parametrize(
    "spec",
    [
        mdp_checks.PolicyEvaluationSpec,
        mdp_checks.QFunctionSpec,
        mdp_checks.VisitationSpec,
        mdp_checks.SoftmaxGradientSpec,
        mdp_checks.SoftmaxNaturalGradientSpec,
        policy_checks.GaussianScoreSpec,
        policy_checks.TwoLayerScoreSpec,
        policy_checks.GaussianFisherSpec,
    ],
    ids=lambda spec: spec.name,
)
def test_every_catalogue_entry_has_a_recognition_test(spec):
    tested = [entry[3] for entry in CATALOGUE if entry[0] is spec]
    for slip in spec.slips:
        assert any(text in slip.description for text in tested), slip.description


def test_the_slips_checked_are_listed_without_unfilled_placeholders():
    def unrelated(transitions, costs, policy, gamma):  # matches no slip: all are listed
        return np.arange(np.shape(costs)[0], dtype=float) + 0.375

    with pytest.raises(OracleMismatch) as failure:
        check_policy_evaluation(unrelated, max_examples=3)
    message = str(failure.value)
    assert "V after … sweeps" in message and "{}" not in message
