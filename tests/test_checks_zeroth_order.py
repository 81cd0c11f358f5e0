"""check_zeroth_order_estimator: right zeroth-order forms pass on quadratic and cubic costs (the
target is the gradient of the smoothed cost, stated in the report); wrong ones fail with the
exact bias and the slip named — scale slips that only a cubic cost reveals included."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from pgverify import InvalidProblemError, OracleMismatch
from pgverify.checks import CheckReport, check_zeroth_order_estimator
from pgverify.estimators import cubic_cost

KINDS = ["gaussian", "gaussian_shifted", "antithetic", "sphere"]


def loop_zeroth_order(cost, K, directions, smoothing, *, kind, slip=None):
    """The four zeroth-order forms by a loop over directions, with one slip."""
    scale = smoothing
    if slip == "variance":  # μ read as a variance: the perturbation's scale is √μ
        scale = np.sqrt(smoothing)
    if slip == "squared":  # the scale squared
        scale = smoothing**2
    divisor = 1.0 if slip == "no division" else scale
    total = np.zeros_like(K)
    for direction in directions:
        if kind == "antithetic":
            weight = cost(K + scale * direction) - cost(K - scale * direction)
            weight /= divisor if slip == "no half" else 2 * divisor
        elif kind == "gaussian_shifted":
            weight = (cost(K + scale * direction) - cost(K)) / divisor
        else:
            weight = cost(K + scale * direction) / divisor
            if kind == "sphere" and slip != "no mn":
                weight *= K.size
        total += weight * direction
    return total / len(directions)


def finite_difference_gradient(cost, K, directions, smoothing):
    """∇C(K) by central differences (exact on cubics up to rounding): no smoothing term."""
    step = 1e-3
    gradient = np.zeros_like(K)
    for index in np.ndindex(K.shape):
        unit = np.zeros_like(K)
        unit[index] = step
        gradient[index] = (cost(K + unit) - cost(K - unit)) / (2 * step)
    return gradient


@pytest.mark.parametrize("kind", KINDS)
def test_right_zeroth_order_loops_pass_with_the_smoothed_target_stated(kind):
    report = check_zeroth_order_estimator(
        partial(loop_zeroth_order, kind=kind), kind, max_examples=15
    )
    assert isinstance(report, CheckReport)
    assert report.tier == "exact"
    assert (report.fixed_cases, report.generated_cases) == (4, 15)
    smoothed = "ball-smoothed" if kind == "sphere" else "Gaussian-smoothed"
    assert f"target: the gradient of the {smoothed} cost" in str(report)


@pytest.mark.parametrize(
    ("kind", "slip", "words"),
    [
        ("antithetic", "no half", "the 1/2 of the two-point form missing"),
        ("gaussian", "no division", "division by μ (or r) missing"),
        ("gaussian_shifted", "no division", "division by μ (or r) missing"),
        ("sphere", "no mn", "the dimension factor mn missing"),
        ("sphere", "no division", "division by μ (or r) missing"),
        # invisible on quadratics (unbiased at every scale): caught on the cubic costs
        ("gaussian", "variance", "the smoothing read as a variance"),
        ("gaussian_shifted", "variance", "the smoothing read as a variance"),
        ("antithetic", "variance", "the smoothing read as a variance"),
        ("gaussian", "squared", "a variance passed where the standard deviation belongs"),
        ("sphere", "squared", "the radius squared"),
    ],
)
def test_wrong_zeroth_order_loop_fails_with_its_exact_bias_and_slip_named(kind, slip, words):
    with pytest.raises(OracleMismatch, match=r"exact bias") as failure:
        check_zeroth_order_estimator(
            partial(loop_zeroth_order, kind=kind, slip=slip), kind, max_examples=0
        )
    assert words in str(failure.value)


@pytest.mark.parametrize("slip", ["variance", "squared"])
def test_a_scale_slip_passes_the_quadratic_cases_and_fails_the_cubic_ones(slip):
    """The premise of the cubic costs: on a quadratic every scale gives ∇C exactly. The fixed
    quadratic cases run first; the first failing fixed case is reported."""
    fn = partial(loop_zeroth_order, kind="gaussian", slip=slip)
    with pytest.raises(OracleMismatch, match="Failing case: a cubic"):
        check_zeroth_order_estimator(fn, "gaussian", max_examples=0)


@pytest.mark.parametrize("kind", ["gaussian", "sphere"])
def test_the_unsmoothed_gradient_is_named_as_such_on_cubic_costs(kind):
    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(finite_difference_gradient, kind, max_examples=0)
    assert "the gradient of the unsmoothed cost" in str(failure.value)


def test_a_gaussian_target_given_for_the_sphere_is_named():
    def gaussian_bias_on_sphere(cost, K, directions, smoothing):
        # the right sphere form plus the difference between the Gaussian and ball targets
        d = K.size
        right = loop_zeroth_order(cost, K, directions, smoothing, kind="sphere")
        laplacian_gradient = finite_difference_laplacian_gradient(cost, K)
        return right + smoothing**2 * (0.5 - 1 / (2 * (d + 2))) * laplacian_gradient

    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(gaussian_bias_on_sphere, "sphere", max_examples=0)
    assert "the Gaussian-smoothed cost" in str(failure.value)


def finite_difference_laplacian_gradient(cost, K):
    """∇ΔC of a cubic (a constant) by differences of gradients of the Laplacian."""
    step = 0.5  # exact for a cubic: its third differences are constant
    result = np.zeros_like(K)
    for index in np.ndindex(K.shape):
        unit = np.zeros_like(K)
        unit[index] = step

        def laplacian(point):
            total = 0.0
            for other in np.ndindex(K.shape):
                e = np.zeros_like(K)
                e[other] = step
                total += (cost(point + e) - 2 * cost(point) + cost(point - e)) / step**2
            return total

        result[index] = (laplacian(K + unit) - laplacian(K - unit)) / (2 * step)
    return result


def test_the_shrunk_generated_case_names_the_variance_slip():
    fn = partial(loop_zeroth_order, kind="gaussian", slip="variance")
    with pytest.raises(OracleMismatch, match="Minimal failing case") as failure:
        check_zeroth_order_estimator(fn, "gaussian", cases=None, max_examples=20)
    assert "the smoothing read as a variance" in str(failure.value)


def test_a_user_case_runs_first_and_a_foreign_cost_is_refused():
    case = {
        "cost_fn": cubic_cost(np.ones((1, 1, 1)), np.eye(1), np.zeros(1)),
        "K": np.array([[0.5]]),
        "directions": 1,
        "smoothing": 0.5,
    }
    fn = partial(loop_zeroth_order, kind="gaussian")
    report = check_zeroth_order_estimator(fn, "gaussian", cases=[case], max_examples=0)
    assert report.fixed_cases == 5
    with pytest.raises(InvalidProblemError, match="cubic_cost"):
        check_zeroth_order_estimator(fn, "gaussian", cases=[{**case, "cost_fn": np.sum}])


def test_zeroth_order_unknown_kind_is_refused_with_the_supported_list():
    with pytest.raises(InvalidProblemError, match="supported kinds: gaussian"):
        check_zeroth_order_estimator(partial(loop_zeroth_order, kind="gaussian"), "uniform")


def test_zeroth_order_refuses_an_unsupported_dtype():
    with pytest.raises(InvalidProblemError, match="float64 or float32"):
        check_zeroth_order_estimator(
            partial(loop_zeroth_order, kind="gaussian"), "gaussian", dtype="float16"
        )


def test_a_float32_zeroth_order_loop_is_judged_at_float32_precision_without_being_told():
    def single(cost, K, directions, smoothing):
        return loop_zeroth_order(cost, K, directions, smoothing, kind="antithetic").astype(
            np.float32
        )

    check_zeroth_order_estimator(single, "antithetic", max_examples=10)


def test_the_replay_hint_of_a_generated_failure_names_the_kind_and_runs():
    def divided_by_variance(cost_fn, K, directions, smoothing):
        return np.mean([cost_fn(K + smoothing * d) * d for d in directions], axis=0) / smoothing**2

    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(divided_by_variance, "gaussian")
    hint = "check_zeroth_order_estimator(fn, 'gaussian', seed=0) reproduces it"
    assert hint in str(failure.value)
    with pytest.raises(OracleMismatch):  # the hint, run as written, fails again
        check_zeroth_order_estimator(divided_by_variance, "gaussian", seed=0)


def sphere_form(cost, K, directions, radius):
    """(mn/r)·mean C(K + r d)d: the sphere estimator, whatever directions it is given."""
    return K.size / radius * np.mean([cost(K + radius * d) * d for d in directions], axis=0)


def gaussian_form(cost, K, directions, smoothing):
    """mean C(K + μ d)d/μ: the Gaussian estimator, whatever directions it is given."""
    return np.mean([cost(K + smoothing * d) * d for d in directions], axis=0) / smoothing


def gaussian_form_on_radius_root_mn(cost, K, directions, radius):
    """The Gaussian form on the unit directions rescaled to the sphere of radius √mn."""
    return gaussian_form(cost, K, np.sqrt(K.size) * directions, radius)


@pytest.mark.parametrize(
    ("kind", "max_examples"),
    [("gaussian", 0), ("gaussian_shifted", 0), ("antithetic", 0), ("gaussian", 10)],
)
def test_the_sphere_form_on_gaussian_directions_is_named_the_dimension_factor_applied_to_them(
    kind, max_examples
):
    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(sphere_form, kind, max_examples=max_examples)
    diagnosis = str(failure.value).split("Diagnosis: ")[1]
    assert diagnosis.startswith(
        "your result equals mn × the target: the sphere form's dimension factor mn applied to "
        "Gaussian directions"
    )


def test_the_gaussian_form_on_unit_directions_is_named_the_missing_dimension_factor():
    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(gaussian_form, "sphere", max_examples=0)
    diagnosis = str(failure.value).split("Diagnosis: ")[1]
    assert diagnosis.startswith("your result equals the target / mn: the dimension factor mn")
    assert "a Gaussian form such as C(K + ru)u/r applied to unit directions" in diagnosis


def test_the_gaussian_form_on_directions_rescaled_to_radius_root_mn_is_named_on_cubics():
    """Unbiased on the quadratics (every radius is); the cubic reveals the ball √mn wider."""
    with pytest.raises(OracleMismatch, match="Failing case: a cubic") as failure:
        check_zeroth_order_estimator(gaussian_form_on_radius_root_mn, "sphere", max_examples=0)
    diagnosis = str(failure.value).split("Diagnosis: ")[1]
    assert diagnosis.startswith(
        "your result equals the gradient of the cost smoothed over the ball of radius r·√mn"
    )


def antithetic_with_float32_costs(cost, K, directions, smoothing):
    """The antithetic form with each cost value rounded to float32 (a float32 step inside)."""
    terms = [
        float(np.float32(cost(K + smoothing * d)) - np.float32(cost(K - smoothing * d)))
        / (2 * smoothing)
        * d
        for d in directions
    ]
    return np.mean(terms, axis=0)


def antithetic_rounded_to_float32(cost, K, directions, smoothing):
    """The antithetic form computed in float64, rounded to float32, returned as float64."""
    estimate = loop_zeroth_order(cost, K, directions, smoothing, kind="antithetic")
    return estimate.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize(
    ("fn", "source"),
    [
        (antithetic_with_float32_costs, "a float32 step inside your function"),
        (antithetic_rounded_to_float32, "every value your function returned is a float32 number"),
    ],
)
def test_a_float64_estimator_rounding_through_float32_is_named_float32_accuracy(fn, source):
    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(fn, "antithetic", max_examples=0)
    diagnosis = str(failure.value).split("Diagnosis: ")[1]
    assert diagnosis.startswith("your result equals the target to float32 accuracy")
    assert source in diagnosis
    assert "dtype='float32'" in diagnosis
    check_zeroth_order_estimator(fn, "antithetic", max_examples=10, dtype="float32")


def test_a_small_bias_beyond_float32_accuracy_is_not_called_float32_accuracy():
    def biased_by_a_thousandth(cost, K, directions, smoothing):
        return 1.001 * loop_zeroth_order(cost, K, directions, smoothing, kind="antithetic")

    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(biased_by_a_thousandth, "antithetic", max_examples=0)
    assert "float32 accuracy" not in str(failure.value)


def printed_cases(message):
    """The Python blocks of a failure message (indented by four spaces after a blank line)."""
    blocks, current = [], None
    for line in message.splitlines():
        if line.startswith("    import numpy as np"):
            current = []
            blocks.append(current)
        if current is not None:
            if not line.startswith("    "):
                current = None
                continue
            current.append(line[4:])
    return ["\n".join(block) for block in blocks]


@pytest.mark.parametrize("max_examples", [0, 10])
def test_a_printed_failing_case_runs_on_its_own_and_gives_the_failing_expectation(max_examples):
    """The case text needs only ``fn``: it imports what builds the cost and recomputes the exact
    expectation the check judged (mn × ∇C for the sphere form on Gaussian directions)."""
    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(sphere_form, "gaussian", max_examples=max_examples)
    cases = printed_cases(str(failure.value))
    assert cases
    for text in cases:
        namespace = {"fn": sphere_form}
        exec(text, namespace)  # the printed case is the code under test
        cost, K = namespace["cost_fn"], namespace["K"]
        k, c, mu = K.reshape(-1), cost.coefficients, namespace["smoothing"]
        # ∂_a Σ c_ijk k_i k_j k_k = Σ_jk T_ajk k_j k_k, T_ajk = c_ajk + c_jak + c_jka; its mean
        # at k + με adds μ² Σ_j T_ajj (the Gaussian smoothing term)
        T = c + c.transpose(1, 0, 2) + c.transpose(2, 0, 1)
        gradient = np.einsum("ajk,j,k->a", T, k, k) + mu**2 * np.einsum("ajj->a", T)
        gradient += cost.hessian @ k + cost.gradient
        expected = K.size * gradient.reshape(K.shape)
        np.testing.assert_allclose(np.asarray(namespace["result"], float), expected, rtol=1e-9)


@pytest.mark.parametrize(
    ("axis", "named", "max_examples"),
    [(0, "m = len(K) = K.shape[0]", 0), (1, "n = K.shape[1]", 0), (1, "n = K.shape[1]", 10)],
)
def test_the_sphere_form_with_one_side_of_the_shape_as_dimension_is_named(
    axis, named, max_examples
):
    def one_side_as_dimension(cost, K, directions, radius):
        terms = [cost(K + radius * u) * u for u in directions]
        return K.shape[axis] / radius * np.mean(terms, axis=0)

    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(one_side_as_dimension, "sphere", max_examples=max_examples)
    diagnosis = str(failure.value).split("Diagnosis: ")[1]
    assert diagnosis.startswith("your result equals the target × (one side of K's shape)/mn")
    # n is mn or 1 on every fixed case but the square (2, 2), where m and n are one factor
    square = axis == 1 and max_examples == 0
    factor = "m = n = 2 (len(K) = K.shape[0], or K.shape[1])" if square else named
    assert f"the sphere form's dimension factor {factor}" in diagnosis


def test_normalising_gaussian_directions_fails_naming_the_zero_direction_and_the_sphere_kind():
    def normalised_sphere_form(cost, K, directions, radius):
        units = [d / np.linalg.norm(d) for d in directions]  # divides by 0 at ε = 0
        return sphere_form(cost, K, np.array(units), radius)

    with (
        np.errstate(invalid="ignore"),
        pytest.raises(OracleMismatch, match="the zero direction ε = 0") as failure,
    ):
        check_zeroth_order_estimator(normalised_sphere_form, "gaussian", max_examples=0)
    assert "kind 'sphere'" in str(failure.value)


def test_an_estimator_with_another_signature_is_refused_before_any_case_runs():
    from pgverify.checks._spec import CallMismatch

    def three_arguments(cost_fn, K, directions):
        raise AssertionError("never called: the signature is checked first")

    with pytest.raises(CallMismatch, match=r"fn\(cost_fn, K, directions, smoothing\)"):
        check_zeroth_order_estimator(three_arguments, "gaussian")


def test_an_estimator_that_raises_is_located_at_its_own_line():
    def raises(cost_fn, K, directions, smoothing):
        raise ValueError("my bug")

    with pytest.raises(OracleMismatch) as failure:
        check_zeroth_order_estimator(raises, "antithetic", max_examples=2)
    message = str(failure.value)
    assert "raised ValueError: my bug" in message
    assert "test_checks_zeroth_order.py:" in message
