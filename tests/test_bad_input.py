"""Every bad input raises the matching pgverify exception, naming the argument, the value seen
and what was expected — never a silent NaN or a wrong finite number."""

import numpy as np
import pytest

from pgverify import LQR, Certified, InvalidProblemError, NotStabilizingError

A = np.array([[1.1, 0.2], [0.0, 0.9]])
B = np.array([[1.0], [0.5]])
Q = np.eye(2)
R = np.eye(1)
K_GOOD = np.array([[0.6, 0.3]])


def make(**overrides):
    arguments = dict(A=A, B=B, Q=Q, R=R)
    arguments.update(overrides)
    return LQR(**arguments)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("A", np.ones((2, 3)), "A must be square"),
        ("B", np.ones((3, 1)), "B has shape (3, 1); expected shape (2, 'any')"),
        ("Q", np.eye(3), "Q has shape (3, 3); expected shape (2, 2)"),
        ("R", np.eye(2), "R has shape (2, 2); expected shape (1, 1)"),
        ("Sigma0", np.eye(3), "Sigma0 has shape (3, 3)"),
        ("A", np.ones(2), "A must be a 2-D matrix, got an array of shape (2,)"),
        ("A", np.ones((2, 2, 1)), "A must be a 2-D matrix"),
        ("B", np.zeros((2, 0)), "B is empty"),
    ],
)
def test_wrong_shapes_are_refused_with_the_shape_seen(name, value, fragment):
    with pytest.raises(InvalidProblemError) as info:
        make(**{name: value})
    assert fragment in str(info.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["A", "B", "Q", "R"])
def test_non_finite_entries_are_refused(name, bad):
    value = {"A": A, "B": B, "Q": Q, "R": R}[name].copy()
    value[0, 0] = bad
    with pytest.raises(InvalidProblemError, match=f"{name} has a non-finite entry"):
        make(**{name: value})


def test_complex_entries_are_refused():
    with pytest.raises(InvalidProblemError, match="A has complex entries"):
        make(A=A.astype(complex))


def test_non_numeric_entries_are_refused():
    with pytest.raises(InvalidProblemError, match="dtype"):
        make(Q=np.array([["a", "b"], ["c", "d"]]))


@pytest.mark.parametrize("name", ["Q", "R", "Sigma0"])
def test_non_symmetric_weights_are_refused(name):
    size = 2
    value = np.eye(size) + np.triu(np.ones((size, size)), 1)
    overrides = {"B": np.eye(2), "R": np.eye(2)} if name == "R" else {}
    overrides[name] = value
    with pytest.raises(InvalidProblemError, match=f"{name} is not symmetric"):
        make(**overrides)


def test_negative_definite_Q_is_refused():
    with pytest.raises(
        InvalidProblemError, match="Q is not positive semidefinite: smallest eigenvalue -1"
    ):
        make(Q=-np.eye(2))


def test_singular_R_is_refused():
    with pytest.raises(InvalidProblemError, match="R is not positive definite"):
        make(R=np.zeros((1, 1)))


def test_singular_initial_covariance_is_refused():
    with pytest.raises(InvalidProblemError, match="Sigma0 is not positive definite"):
        make(Sigma0=np.diag([1.0, 0.0]))


def test_positive_semidefinite_Q_is_accepted():
    problem = make(Q=np.diag([1.0, 0.0]))
    assert problem.cost(K_GOOD) > 0


@pytest.mark.parametrize("gamma", [0.0, -0.5, 1.5, np.nan, "0.9", True])
def test_discount_outside_the_unit_interval_is_refused(gamma):
    with pytest.raises(InvalidProblemError, match="gamma"):
        make(gamma=gamma)


def test_noise_without_discount_is_refused_by_the_infinite_horizon_cost():
    with pytest.raises(InvalidProblemError, match=r"noise = 0.1 > 0 with gamma = 1"):
        make(noise=0.1).cost(K_GOOD)


@pytest.mark.parametrize("noise", [-1.0, np.inf, np.nan])
def test_invalid_noise_is_refused(noise):
    with pytest.raises(InvalidProblemError, match="noise"):
        make(noise=noise, gamma=0.9)


@pytest.mark.parametrize("precision", ["float", 30, "certified"])
def test_non_stabilising_gain_raises_with_the_spectral_radius(precision):
    problem = make()
    K = np.zeros((1, 2))
    with pytest.raises(NotStabilizingError, match=r"rho\(A - BK\) = 1.1") as info:
        problem.gradient(K, precision=precision)
    assert info.value.spectral_radius == pytest.approx(1.1)


def test_gain_of_wrong_shape_is_refused():
    with pytest.raises(InvalidProblemError, match=r"K has shape \(2, 1\); expected shape \(1, 2\)"):
        make().cost(K_GOOD.T)


def test_gain_with_nan_is_refused():
    with pytest.raises(InvalidProblemError, match="K has a non-finite entry"):
        make().cost(np.array([[np.nan, 0.0]]))


def test_second_gain_of_cost_difference_is_named_K2():
    with pytest.raises(InvalidProblemError, match="K2 has shape"):
        make().cost_difference(K_GOOD, np.zeros((2, 2)))


def test_not_stabilisable_pair_is_refused_by_optimal_gain():
    problem = make(B=np.array([[0.0], [1.0]]), A=np.array([[1.5, 0.0], [0.0, 0.5]]))
    with pytest.raises(
        InvalidProblemError, match=r"\(A, B\) is not stabilisable: the mode with eigenvalue 1.5"
    ):
        problem.optimal_gain()


@pytest.mark.parametrize("precision", ["double", 0, -3, 2.5, True, None])
def test_unknown_precision_is_refused(precision):
    with pytest.raises(InvalidProblemError, match="precision must be"):
        make().cost(K_GOOD, precision=precision)


def test_too_few_certified_bits_are_refused():
    with pytest.raises(InvalidProblemError, match="bits"):
        Certified(bits=10)


@pytest.mark.parametrize("precision", ["float", 30, "certified"])
def test_not_detectable_problem_is_refused_by_optimal_gain(precision):
    # the mode 1.1 (eigenvector e1) is unseen by Q = diag(0, 1)
    problem = make(Q=np.diag([0.0, 1.0]))
    with pytest.raises(
        InvalidProblemError, match=r"\(A, Q\) is not detectable: the mode with eigenvalue 1.1"
    ):
        problem.optimal_gain(precision=precision)


@pytest.mark.parametrize("alpha", [np.nan, np.inf, "1", None])
def test_invalid_step_size_is_refused(alpha):
    with pytest.raises(InvalidProblemError, match="step size alpha"):
        make().policy_gradient_step(K_GOOD, alpha)


@pytest.mark.parametrize("horizon", [-1, 2.5, True])
def test_invalid_horizon_is_refused(horizon):
    with pytest.raises(InvalidProblemError, match="horizon N"):
        make().finite_horizon_cost(K_GOOD, horizon)


def test_invalid_problem_error_is_a_value_error():
    with pytest.raises(ValueError):
        make(gamma=2.0)


def test_a_bool_inside_a_nested_list_is_refused_not_read_as_one():
    with pytest.raises(InvalidProblemError, match="K has the bool entry True"):
        make().gain([[True, 0.3]])


def test_a_bool_array_is_refused():
    with pytest.raises(InvalidProblemError, match="A must hold real numbers, got dtype bool"):
        make(A=np.eye(2, dtype=bool))


@pytest.mark.parametrize("quantity", [None, 3, "gain", "spectral_radius", "_evaluation", "nope"])
def test_with_error_estimate_refuses_a_quantity_without_a_precision(quantity):
    with pytest.raises(InvalidProblemError, match="unknown quantity"):
        make().with_error_estimate(quantity, K_GOOD, digits=10)


@pytest.mark.parametrize("arguments", [(), (K_GOOD, K_GOOD, K_GOOD)])
def test_with_error_estimate_refuses_arguments_that_do_not_fit_the_quantity(arguments):
    with pytest.raises(InvalidProblemError, match="do not fit quantity 'cost'"):
        make().with_error_estimate("cost", *arguments, digits=10)


@pytest.mark.parametrize("engine", [np.array(["arb"]), ["arb"], None, 1])
def test_a_certified_engine_that_is_not_a_string_is_refused(engine):
    with pytest.raises(InvalidProblemError, match=r"Certified\(engine=\.\.\.\) must be one of"):
        Certified(engine=engine)
