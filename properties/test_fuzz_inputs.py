"""Fuzz: malformed input to every public function of pgverify, pgverify.mdp, pgverify.strategies,
pgverify.estimators, pgverify.trpo, pgverify.expectation, pgverify.lqr.iterations,
pgverify.lqr.lspi, pgverify.checks (whose options are refused before the implementation is
first called) and pgverify.symbolic raises a PgverifyError whose message names the argument —
never a number returned, never a raw TypeError / IndexError / ZeroDivisionError.

The public functions are enumerated from ``__all__`` (methods of exported classes included), and
each parameter of each must appear in :data:`REGISTRY` — fuzzed with a strategy of malformed
values, or exempted with a reason — so that a newly exported function or a new parameter without
a fuzz entry makes :func:`test_every_public_callable_and_parameter_has_a_fuzz_entry` fail.

Malformed values are built from a valid value: wrong shapes (extra or missing rows and columns,
1-D, 3-D, empty), a NaN or an infinity at a random position, negative or non-stochastic rows,
wrong dtypes (complex, bool, str, object holding junk; float32 / int8 versions of *bad* values),
ragged lists, None, strings, bools, misspelt option names.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import sympy
from flint import arb_mat
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

import pgverify
import pgverify.checks
import pgverify.estimators
import pgverify.expectation
import pgverify.lqr.iterations
import pgverify.lqr.lspi
import pgverify.mdp
import pgverify.strategies
import pgverify.symbolic
import pgverify.trpo
from pgverify import LQR, Certified, Enclosure, PgverifyError
from pgverify.checks._driver import DEFAULTS as CHECK_DEFAULTS
from pgverify.mdp import FiniteMDP, trpo

# ------------------------------------------------------------------------------------------------
# Valid arguments
# ------------------------------------------------------------------------------------------------

# n = 3, m = 2: no matrix is 1×1 (where a scalar would be valid) and every transpose has the wrong
# shape.  A is unstable, so K = 0 is not stabilising.
A = np.array([[1.1, 0.1, 0.0], [0.0, 0.9, 0.1], [0.0, 0.0, 0.5]])
B = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
Q = np.eye(3)
R = np.eye(2)
K = np.array([[0.6, 0.1, 0.0], [0.0, 0.0, 0.1]])
PROBLEM = LQR(A, B, Q, R, gamma=0.9)

HALF, THIRD = Fraction(1, 2), Fraction(1, 3)
TRANSITIONS = [[[HALF, HALF], [1, 0], [0, 1]], [[0, 1], [HALF, HALF], [1, 0]]]
COSTS = [[1, 2, 3], [4, 5, 6]]
INITIAL = [HALF, HALF]
MDP = FiniteMDP.create(TRANSITIONS, COSTS, Fraction(9, 10), INITIAL)
POLICY = [[THIRD, THIRD, THIRD], [HALF, Fraction(1, 4), Fraction(1, 4)]]  # positive everywhere
LOGITS = [[0.0, 1.0, -1.0], [0.5, 0.25, 2.0]]


@cache
def certified_scalar() -> Enclosure:
    return PROBLEM.cost(K, precision="certified")


@cache
def certified_matrix() -> Enclosure:
    return PROBLEM.gradient(K, precision="certified")


@cache
def mdp_evaluation() -> Any:
    return pgverify.mdp.evaluate(MDP, POLICY)


# ------------------------------------------------------------------------------------------------
# Malformed values
# ------------------------------------------------------------------------------------------------

JUNK_OBJECTS = [None, "abc", b"xy", True, 1j, object(), {}, {1, 2}, Ellipsis]
"""Values that are no number, table, option or function of any kind."""

BAD_ENTRIES = (None, "a", 1j, True, object(), [1.0], float("nan"), float("inf"))
"""Entries that make a numeric table invalid wherever they sit."""


def junk(*also: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([*JUNK_OBJECTS, *also])


@st.composite
def wrong_shape(
    draw: st.DrawFn,
    rows: int,
    cols: int,
    fill: Callable[[int], Any],
    valid_shape: Callable[[int, int], bool] | None = None,
) -> Any:
    """A table of another shape (possibly empty), each row made by ``fill(cols)``; shapes for
    which ``valid_shape(r, c)`` holds (valid on their own) are avoided."""
    is_valid = valid_shape or (lambda r, c: (r, c) == (rows, cols))
    r, c = draw(
        st.tuples(st.integers(0, rows + 2), st.integers(0, cols + 2)).filter(
            lambda shape: not is_valid(*shape)
        )
    )
    table = [fill(c) for _ in range(r)]
    return draw(st.sampled_from([table, np.array(table, dtype=float).reshape(r, c)]))


@st.composite
def with_bad_entry(
    draw: st.DrawFn, valid: list[list[Any]], entries: tuple[Any, ...] = BAD_ENTRIES
) -> Any:
    """``valid`` with one entry, at a random position, replaced by a non-number or non-finite."""
    rows = [list(row) for row in valid]
    i = draw(st.integers(0, len(rows) - 1))
    j = draw(st.integers(0, len(rows[0]) - 1))
    bad = draw(st.sampled_from([*entries, -np.inf, np.nan]))
    rows[i][j] = bad
    if isinstance(bad, float):
        dtype = draw(st.sampled_from([np.float64, np.float32, np.float16]))
        return draw(st.sampled_from([rows, np.array(rows, dtype=dtype)]))
    return draw(st.sampled_from([rows, np.array(rows, dtype=object)]))


@st.composite
def ragged(draw: st.DrawFn, valid: list[list[Any]]) -> list[list[Any]]:
    rows = [list(row) for row in valid]
    i = draw(st.integers(0, len(rows) - 1))
    if draw(st.booleans()) and len(rows[i]) > 1:
        rows[i].pop()
    else:
        rows[i].append(rows[i][0])
    return rows


def wrong_dtype(valid: list[list[Any]]) -> st.SearchStrategy[Any]:
    floats = np.array([[float(x) for x in row] for row in valid])
    return st.sampled_from(
        [
            floats.astype(complex),
            floats.astype(bool),
            floats.astype(str),
            np.array([["a"] * floats.shape[1]] * floats.shape[0]),
            floats.astype("datetime64[s]"),
        ]
    )


def wrong_dimension(valid: list[list[Any]]) -> st.SearchStrategy[Any]:
    floats = np.array([[float(x) for x in row] for row in valid])
    return st.sampled_from([floats.ravel(), floats[None], floats.ravel().tolist(), [valid]])


def malformed_table(
    valid: list[list[Any]],
    *extra: st.SearchStrategy[Any],
    valid_shape: Callable[[int, int], bool] | None = None,
    entries: tuple[Any, ...] = BAD_ENTRIES,
) -> st.SearchStrategy[Any]:
    """Every structural way of getting a table wrong, plus ``extra`` argument-specific ones."""
    rows, cols = len(valid), len(valid[0])
    return st.one_of(
        wrong_shape(rows, cols, lambda c: [0.0] * c, valid_shape),
        with_bad_entry(valid, entries),
        ragged(valid),
        wrong_dtype(valid),
        wrong_dimension(valid),
        junk(),
        *extra,
    )


# -- policies (exact probability tables) ----------------------------------------------------------


@st.composite
def non_stochastic(draw: st.DrawFn, valid: list[list[Any]]) -> Any:
    """One row scaled so that it no longer sums to 1, or given a negative entry."""
    rows = [list(row) for row in valid]
    i = draw(st.integers(0, len(rows) - 1))
    if draw(st.booleans()):
        factor = draw(st.sampled_from([Fraction(3, 2), Fraction(1, 2), 0, 2, -1]))
        rows[i] = [factor * x for x in rows[i]]
    else:
        j = draw(st.integers(0, len(rows[i]) - 2))
        rows[i] = [0] * len(rows[i])
        rows[i][j], rows[i][j + 1] = Fraction(3, 2), Fraction(-1, 2)
    kind = draw(st.sampled_from(["list", "float64", "float32", "int8"]))
    if kind == "list":
        return rows
    if kind == "int8":
        return np.array([[int(x) + 1 for x in row] for row in rows], dtype=np.int8)  # sums ≠ 1
    return np.array([[float(x) for x in row] for row in rows], dtype=kind)


def bad_certified_policies() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            Enclosure(arb_mat([[0.5, 0.5, 0.5], [1, 0, 0]])),  # a row sum excludes 1
            Enclosure(arb_mat([[1.5, -0.5, 0], [1, 0, 0]])),  # a provably negative entry
            Enclosure(arb_mat([[1, 0], [0, 1]])),  # wrong shape
            Enclosure(arb_mat([[1, 0, 0]])),
        ]
    )


def uniform_rows(c: int) -> list[Fraction]:
    return [Fraction(1, c)] * c if c else []


def malformed_policy(exact_only: bool = True) -> st.SearchStrategy[Any]:
    rows, cols = len(POLICY), len(POLICY[0])
    options = [
        wrong_shape(rows, cols, uniform_rows),  # stochastic rows, wrong shape: never cut off
        non_stochastic(POLICY),
        malformed_table(POLICY),
        bad_certified_policies(),
    ]
    if exact_only:
        options.append(st.just(pgverify.mdp.softmax_policy(LOGITS)))  # balls where exact needed
    return st.one_of(*options)


def malformed_logits() -> st.SearchStrategy[Any]:
    return st.one_of(
        malformed_table(LOGITS), st.just(pgverify.mdp.softmax_policy(LOGITS)), st.just([])
    )


# -- scalars and options -------------------------------------------------------------------------


def bad_int(*also: Any) -> st.SearchStrategy[Any]:
    """Not an int at all (floats, even integral ones, are refused too)."""
    return st.sampled_from(
        [*JUNK_OBJECTS, 2.0, 1.5, float("nan"), "2", np.float64(3.0), [2], np.array([2]), *also]
    )


def bad_real(*also: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            *JUNK_OBJECTS,
            float("nan"),
            float("inf"),
            -float("inf"),
            "0.5",
            [0.5],
            np.array([0.5]),
            *also,
        ]
    )


def misspelt(*also: Any) -> st.SearchStrategy[Any]:
    return st.sampled_from([*JUNK_OBJECTS, "", " ", "theorm", "Theorem", "V 1", ["theorem"], *also])


BAD_PRECISIONS = ["floatt", "Float", "certifed", "certified ", 0, -3, 1.5, True, None, [10], 10.0]


def bad_state(size: int) -> st.SearchStrategy[Any]:
    return st.one_of(bad_int(), st.sampled_from([-1, size, size + 5, np.int64(-2)]))


def bad_trajectory() -> st.SearchStrategy[Any]:
    steps = [(0, 0), (1, 2)]
    return st.one_of(
        st.tuples(bad_state(MDP.states), st.just(0)).map(lambda pair: [pair, *steps]),
        st.tuples(st.just(0), bad_state(MDP.actions)).map(lambda pair: [*steps, pair]),
        st.sampled_from([[(0,), (1, 2)], [(0, 0, 0)], [], [[0, 0], "ab"], np.zeros((2, 3))]),
        junk(),
    )


def junk_returning(*values: Any) -> st.SearchStrategy[Callable[..., Any]]:
    return st.sampled_from(values).map(lambda value: lambda *arguments: value)


# ------------------------------------------------------------------------------------------------
# The registry: how to call every public function, and what to feed each parameter
# ------------------------------------------------------------------------------------------------


@dataclass
class Entry:
    """How to call one public callable: ``call(**arguments)`` with ``valid`` arguments, one of
    them replaced by a value drawn from ``fuzz[name]``.  ``exempt`` names parameters that are
    not fuzzed, with the reason.  ``draws``: the call returns a hypothesis strategy, which is
    then drawn from (the strategy builders)."""

    call: Callable[..., Any]
    valid: dict[str, Any]
    fuzz: dict[str, st.SearchStrategy[Any]]
    exempt: dict[str, str] = field(default_factory=dict)
    draws: bool = False
    mentions: dict[str, str] = field(default_factory=dict)  # when the message says it otherwise

    def parameters(self) -> set[str]:
        return set(self.fuzz) | set(self.exempt)


# A square matrix of another size is a valid A (the error then names B, Q, ...), and B with
# another number of columns is a valid B (the error names R): shapes that are wrong on their own.
VALID_ON_THEIR_OWN = {
    "A": lambda r, c: r == c and r > 0,
    "B": lambda r, c: r == 3 and c > 0,
}


def lqr_matrix(name: str, destabilising: bool = False) -> st.SearchStrategy[Any]:
    """Malformed values for the LQR matrix argument ``name`` (a destabilising gain too, where
    the function needs ρ(A − BK) < 1)."""
    valid = {"A": A, "B": B, "Q": Q, "R": R, "Sigma0": np.eye(3), "K": K, "K2": K}[name]
    extra: list[st.SearchStrategy[Any]] = []
    if name in ("Q", "R", "Sigma0"):
        asymmetric = valid + np.triu(np.ones_like(valid), 1)
        extra.append(st.sampled_from([asymmetric, -valid, np.zeros_like(valid) - 1]))
    if destabilising:
        extra.append(st.sampled_from([np.zeros_like(K), 100 * np.ones_like(K)]))
    table = malformed_table(valid.tolist(), *extra, valid_shape=VALID_ON_THEIR_OWN.get(name))
    # Sigma0=None means "the identity", a valid choice
    return table.filter(lambda value: value is not None) if name == "Sigma0" else table


PRECISION = st.sampled_from(BAD_PRECISIONS)


def lqr_entries() -> dict[str, Entry]:
    at_gain = {"K": K, "precision": "float"}
    at_gain_fuzz = {"K": lqr_matrix("K", destabilising=True), "precision": PRECISION}
    entries = {
        "pgverify.LQR": Entry(
            LQR,
            dict(A=A, B=B, Q=Q, R=R, Sigma0=None, gamma=0.9, noise=0.0),
            {
                **{name: lqr_matrix(name) for name in ("A", "B", "Q", "R", "Sigma0")},
                "gamma": bad_real(0, -0.5, 1.5, 1.0000001),
                "noise": bad_real(-1.0, -1e-300),
            },
        ),
        "pgverify.LQR.gain": Entry(
            PROBLEM.gain,
            {"K": K, "name": "K"},
            {"K": lqr_matrix("K")},
            exempt={"name": "the label of K in error messages"},
        ),
        "pgverify.LQR.closed_loop": Entry(PROBLEM.closed_loop, {"K": K}, {"K": lqr_matrix("K")}),
        "pgverify.LQR.spectral_radius": Entry(
            PROBLEM.spectral_radius, {"K": K}, {"K": lqr_matrix("K")}
        ),
        "pgverify.LQR.cost_difference": Entry(
            PROBLEM.cost_difference,
            {"K": K, "K2": K, "precision": "float"},
            {**at_gain_fuzz, "K2": lqr_matrix("K2", destabilising=True)},
        ),
        "pgverify.LQR.with_error_estimate": Entry(
            lambda quantity, arguments, digits: PROBLEM.with_error_estimate(
                quantity, *arguments, digits=digits
            ),
            {"quantity": "cost", "arguments": (K,), "digits": 5},
            {
                "quantity": misspelt(
                    "gradeint",
                    "_evaluation",
                    "with_error_estimate",
                    "gain",
                    "closed_loop",
                    "spectral_radius",
                    "optimal_gain",
                    "gamma",
                    "A",
                    "__class__",
                ),
                "arguments": st.one_of(
                    lqr_matrix("K", destabilising=True).map(lambda bad: (bad,)),
                    st.sampled_from([(), (K, K), (K, 3, "x")]),
                ),
                "digits": bad_int(0, -1),
            },
            mentions={"arguments": "K"},
        ),
    }
    entries["pgverify.LQR.is_stabilizing"] = Entry(  # a destabilising gain has an answer here
        PROBLEM.is_stabilizing, at_gain, {**at_gain_fuzz, "K": lqr_matrix("K")}
    )
    entries["pgverify.LQR.has_finite_cost"] = Entry(  # so does a gain outside the domain
        PROBLEM.has_finite_cost, at_gain, {**at_gain_fuzz, "K": lqr_matrix("K")}
    )
    for name in (
        "cost",
        "value_matrix",
        "state_covariance",
        "gradient",
        "natural_gradient",
        "gauss_newton_direction",
        "policy_iteration_step",
        "q_matrix",
    ):
        entries[f"pgverify.LQR.{name}"] = Entry(getattr(PROBLEM, name), at_gain, at_gain_fuzz)
    for name in ("policy_gradient_step", "natural_gradient_step", "gauss_newton_step"):
        entries[f"pgverify.LQR.{name}"] = Entry(
            getattr(PROBLEM, name),
            {**at_gain, "alpha": 0.1},
            {**at_gain_fuzz, "alpha": bad_real(-0.1, -1e-300)},
        )
    for name in ("finite_horizon_cost", "finite_horizon_gradient"):
        entries[f"pgverify.LQR.{name}"] = Entry(  # any gain has a finite-horizon cost
            getattr(PROBLEM, name),
            {"K": K, "horizon": 3, "precision": "float"},
            {"K": lqr_matrix("K"), "horizon": bad_int(-1, -5), "precision": PRECISION},
        )
    for name in ("optimal_gain", "optimal_value_matrix", "optimal_cost"):
        entries[f"pgverify.LQR.{name}"] = Entry(
            getattr(PROBLEM, name), {"precision": "float"}, {"precision": PRECISION}
        )
    return entries


def certified_entries() -> dict[str, Entry]:
    return {
        "pgverify.Certified": Entry(
            Certified,
            {"bits": 212, "engine": "auto"},
            {
                "bits": bad_int(63, 0, -212),
                "engine": misspelt("fast", "BLAS", "Arb", np.array(["arb"])),
            },
        ),
        "pgverify.Enclosure": Entry(
            Enclosure,
            {"ball": certified_scalar().ball},
            {
                "ball": st.one_of(
                    junk(),
                    with_bad_entry(K.tolist()),
                    ragged(K.tolist()),
                    wrong_dtype(K.tolist()),
                    st.just([K.tolist()]),  # three dimensions
                )
            },
        ),
        # the enclosure asked travels with the value: scalar and matrix enclosures are both fuzzed
        "pgverify.Enclosure.contains": Entry(
            lambda value: value[0].contains(value[1]),
            {"value": (certified_matrix(), K)},
            {
                "value": st.one_of(
                    malformed_table(K.tolist()).map(lambda bad: (certified_matrix(), bad)),
                    st.one_of(
                        junk(), st.sampled_from([float("nan"), "1", [1.0, 2.0], np.ones(2), 1j])
                    ).map(lambda bad: (certified_scalar(), bad)),
                )
            },
        ),
        "pgverify.Enclosure.overlaps": Entry(
            lambda other: certified_matrix().overlaps(other),
            {"other": certified_matrix()},
            {"other": st.one_of(malformed_table(K.tolist()), st.builds(certified_scalar))},
        ),
    }


@st.composite
def malformed_transitions(draw: st.DrawFn) -> Any:
    """One row P(·|s, a) made non-stochastic or non-numeric, or the whole table misshapen."""
    table = [[list(row) for row in by_action] for by_action in TRANSITIONS]
    s = draw(st.integers(0, len(table) - 1))
    a = draw(st.integers(0, len(table[0]) - 1))
    how = draw(st.integers(0, 5))
    if how == 0:
        table[s][a] = [Fraction(3, 2) * x for x in table[s][a]]  # sums to 3/2
    elif how == 1:
        table[s][a] = [Fraction(3, 2), Fraction(-1, 2)]
    elif how == 2:
        table[s][a] = [*table[s][a], 0]  # a third next state that does not exist
    elif how == 3:
        table[s][a][0] = draw(st.sampled_from(BAD_ENTRIES))
    elif how == 4:
        table[s] = table[s][:-1]  # ragged: one action missing at state s
    else:
        return draw(
            st.sampled_from(
                [
                    np.array(COSTS, dtype=float),  # 2-D
                    np.ones((2, 3, 2), dtype=complex) / 2,
                    np.ones((2, 3, 2), dtype=bool),
                    np.full((2, 3, 2), 0.1, dtype=np.float32),  # rows sum to 0.2
                    [],
                    [[]],
                    None,
                    "transitions",
                ]
            )
        )
    return table


def malformed_initial() -> st.SearchStrategy[Any]:
    return st.one_of(
        junk(),
        st.sampled_from(
            [
                [1, 0, 0],
                [1],
                [HALF, Fraction(1, 4)],
                [-1, 2],
                [float("nan"), 1],
                np.array([0.5, 0.5], dtype=complex),
                np.array([True, False]),
                [[HALF, HALF]],
                [],
                np.array([0.1, 0.9], dtype=np.float32),
                ["1", "0"],
            ]
        ),
    )


def mdp_argument() -> st.SearchStrategy[Any]:
    return st.one_of(junk(), st.sampled_from([PROBLEM, TRANSITIONS, "mdp", 3]))


def bad_bits() -> st.SearchStrategy[Any]:
    return bad_int(63, 0, -212)


def bad_flag() -> st.SearchStrategy[Any]:
    return st.sampled_from([None, 1, 0, "yes", [True], np.array([True]), 1.0, "False"])


def use_estimator(estimator: Callable[..., Any]) -> Any:
    return estimator((((0, 0), (1, 2)),))  # one trajectory of horizon 1


def bad_statistics() -> st.SearchStrategy[Any]:
    return st.one_of(
        junk(),
        junk_returning(float("nan"), "x", None, [1, "a"], 1j, [[1]], object(), True, {}),
    )


def malformed_enclosure_arguments(valid_shape: tuple[int, int]) -> st.SearchStrategy[Any]:
    """Not an Enclosure of ``valid_shape``."""
    rows, cols = valid_shape
    wrong = [(1, 1), (3, 1), (6, 6), (2, 3), (7, 1)]
    return st.one_of(
        junk(),
        st.sampled_from([K, LOGITS]),
        st.builds(certified_scalar),
        # fisher_times cannot tell an (S, A) table from an (A, S) one: only sizes are checked
        st.sampled_from([(r, c) for r, c in wrong if r * c != rows * cols]).map(
            lambda shape: Enclosure(arb_mat(*shape))
        ),
    )


def mdp_entries() -> dict[str, Entry]:
    policy = malformed_policy()
    any_policy = malformed_policy(exact_only=False)
    mdp = mdp_argument()
    base = {"mdp": MDP, "policy": POLICY}
    base_fuzz = {"mdp": mdp, "policy": policy}
    m = pgverify.mdp
    logits_fuzz = {"mdp": mdp, "logits": malformed_logits(), "bits": bad_bits()}
    logits_valid = {"mdp": MDP, "logits": LOGITS, "bits": 212}
    mdp_data = dict(transitions=TRANSITIONS, costs=COSTS, gamma=Fraction(9, 10), initial=INITIAL)
    mdp_data_fuzz = {
        "transitions": malformed_transitions(),
        "costs": malformed_table(COSTS),
        "gamma": bad_real(0, 1, -0.5, 1.5),
        "initial": malformed_initial(),
    }
    return {
        "pgverify.mdp.FiniteMDP": Entry(FiniteMDP, mdp_data, mdp_data_fuzz),
        "pgverify.mdp.FiniteMDP.create": Entry(FiniteMDP.create, mdp_data, mdp_data_fuzz),
        "pgverify.mdp.Evaluation": Entry(
            m.Evaluation,
            {"solution": mdp_evaluation()._solution},
            {"solution": st.one_of(junk(), st.builds(mdp_evaluation))},
        ),
        "pgverify.mdp.Evaluation.q_value": Entry(
            mdp_evaluation().q_value,
            {"state": 0, "action": 0},
            {"state": bad_state(MDP.states), "action": bad_state(MDP.actions)},
        ),
        "pgverify.mdp.Evaluation.advantage": Entry(
            mdp_evaluation().advantage,
            {"state": 1, "action": 2},
            {"state": bad_state(MDP.states), "action": bad_state(MDP.actions)},
        ),
        "pgverify.mdp.Evaluation.cost": Entry(mdp_evaluation().cost, {}, {}),
        "pgverify.mdp.Evaluation.visitation": Entry(mdp_evaluation().visitation, {}, {}),
        "pgverify.mdp.evaluate": Entry(
            m.evaluate,
            {**base, "bits": 212},
            {**base_fuzz, "policy": any_policy, "bits": bad_bits()},
        ),
        "pgverify.mdp.finite_horizon_cost": Entry(
            m.finite_horizon_cost,
            {**base, "horizon": 2, "bits": 212},
            {**base_fuzz, "policy": any_policy, "horizon": bad_int(-1), "bits": bad_bits()},
        ),
        "pgverify.mdp.performance_difference": Entry(
            m.performance_difference,
            {**base, "old_policy": POLICY, "bits": 212},
            {**base_fuzz, "policy": any_policy, "old_policy": any_policy, "bits": bad_bits()},
        ),
        "pgverify.mdp.direct_gradient": Entry(
            m.direct_gradient,
            {**base, "route": "theorem"},
            {**base_fuzz, "route": misspelt("theorm", "closed-form", "Bellman")},
        ),
        "pgverify.mdp.direct_fisher": Entry(m.direct_fisher, base, base_fuzz),
        "pgverify.mdp.direct_score": Entry(
            m.direct_score,
            {**base, "state": 0, "action": 1},
            {**base_fuzz, "state": bad_state(MDP.states), "action": bad_state(MDP.actions)},
        ),
        "pgverify.mdp.tabular_policy": Entry(m.tabular_policy, base, base_fuzz),
        "pgverify.mdp.finite_horizon_gradient": Entry(
            m.finite_horizon_gradient,
            {**base, "horizon": 2},
            {**base_fuzz, "horizon": bad_int(-1)},
        ),
        "pgverify.mdp.score_function_estimator": Entry(
            lambda **arguments: use_estimator(m.score_function_estimator(**arguments)),
            {**base, "horizon": 1, "form": "V1", "baseline": None},
            {
                **base_fuzz,
                "horizon": bad_int(-1),
                "form": misspelt("v1", "V3", "V0 "),
                "baseline": bad_statistics().filter(lambda value: value is not None),
            },
        ),
        "pgverify.mdp.softmax_policy": Entry(
            m.softmax_policy,
            {"logits": LOGITS, "bits": 212},
            {
                "logits": malformed_logits().filter(lambda v: not _rectangular(v)),
                "bits": bad_bits(),
            },
        ),
        "pgverify.mdp.softmax_gradient": Entry(
            m.softmax_gradient,
            {**logits_valid, "route": "theorem"},
            {**logits_fuzz, "route": misspelt("theorm", "closed_form", "bellmann")},
        ),
        "pgverify.mdp.softmax_score": Entry(
            m.softmax_score,
            {"logits": LOGITS, "state": 1, "action": 2, "bits": 212},
            {
                "logits": malformed_logits().filter(lambda v: not _rectangular(v)),
                "state": bad_state(MDP.states),
                "action": bad_state(MDP.actions),
                "bits": bad_bits(),
            },
        ),
        "pgverify.mdp.trajectories": Entry(
            m.trajectories,
            {**base, "horizon": 1, "limit": 1000},
            {**base_fuzz, "horizon": bad_int(-1), "limit": bad_int(0, -1, 1)},
        ),
        "pgverify.mdp.batch_law": Entry(
            m.batch_law,
            {**base, "horizon": 1, "batch": 2, "limit": 10_000},
            {
                **base_fuzz,
                "horizon": bad_int(-1),
                "batch": bad_int(0, -1),
                "limit": bad_int(0, -1, 1),
            },
        ),
        "pgverify.mdp.exact_moments": Entry(
            m.exact_moments,
            {**base, "horizon": 1, "statistic": lambda batch: 1, "batch": 1, "limit": 1000},
            {
                **base_fuzz,
                "horizon": bad_int(-1),
                "statistic": bad_statistics(),
                "batch": bad_int(0, -1),
                "limit": bad_int(0, -1, 1),
            },
        ),
        "pgverify.mdp.enumeration_size": Entry(
            m.enumeration_size,
            {"mdp": MDP, "horizon": 2, "batch": 1},
            {"mdp": mdp, "horizon": bad_int(-1), "batch": bad_int(0, -1)},
        ),
        "pgverify.mdp.discounted_cost": Entry(
            m.discounted_cost,
            {"mdp": MDP, "trajectory": [(0, 0), (1, 2)]},
            {"mdp": mdp, "trajectory": bad_trajectory()},
        ),
        "pgverify.mdp.trpo.surrogate": Entry(
            trpo.surrogate,
            {"mdp": MDP, "old_policy": POLICY, "policy": POLICY, "bits": 212},
            {"mdp": mdp, "old_policy": any_policy, "policy": any_policy, "bits": bad_bits()},
        ),
        "pgverify.mdp.trpo.surrogate_gradient_direct": Entry(
            trpo.surrogate_gradient_direct,
            {"mdp": MDP, "old_policy": POLICY},
            {"mdp": mdp, "old_policy": policy},
        ),
        "pgverify.mdp.trpo.expected_kl": Entry(
            trpo.expected_kl,
            {**logits_valid, "old_logits": LOGITS, "reverse": False},
            {**logits_fuzz, "old_logits": malformed_logits(), "reverse": bad_flag()},
        ),
        "pgverify.mdp.trpo.expected_kl_hessian": Entry(
            trpo.expected_kl_hessian,
            {**logits_valid, "reverse": True},
            {**logits_fuzz, "reverse": bad_flag()},
        ),
        "pgverify.mdp.trpo.softmax_fisher": Entry(trpo.softmax_fisher, logits_valid, logits_fuzz),
        "pgverify.mdp.trpo.softmax_natural_gradient": Entry(
            trpo.softmax_natural_gradient, logits_valid, logits_fuzz
        ),
        "pgverify.mdp.trpo.fisher_times": Entry(
            trpo.fisher_times,
            {
                "fisher": trpo.softmax_fisher(MDP, LOGITS),
                "vector": trpo.softmax_natural_gradient(MDP, LOGITS),
                "bits": 212,
            },
            {
                "fisher": malformed_enclosure_arguments((6, 6)),
                "vector": malformed_enclosure_arguments((2, 3)),
                "bits": bad_bits(),
            },
        ),
    }


def _rectangular(value: Any) -> bool:
    """Is ``value`` a valid logit table of *some* shape (softmax_policy takes any shape)?"""
    try:
        pgverify.mdp.softmax_policy(value)
    except PgverifyError:
        return False
    return True


def bad_size() -> st.SearchStrategy[Any]:
    """Not a size (an int >= 1) nor a strategy of sizes."""
    return st.one_of(bad_int(0, -1), st.just(st.integers(-3, 0)), st.just(st.just("x")))


def bad_strategy_flag() -> st.SearchStrategy[Any]:
    """Not a flag (None, a bool or a strategy of bools: None draws both)."""
    return st.one_of(bad_flag().filter(lambda value: value is not None), st.just(st.just("x")))


def strategy_entries() -> dict[str, Entry]:
    s = pgverify.strategies
    # noisy=False: with noise drawn, γ < 1 is forced and `discounted` is not drawn at all
    lqr = {"n": 2, "m": None, "discounted": None, "noisy": False}
    lqr_fuzz = {
        "n": bad_size(),
        "m": bad_size().filter(lambda value: value is not None),
        "discounted": bad_strategy_flag(),
        "noisy": bad_strategy_flag(),
    }
    sizes = {"states": 2, "actions": 2}
    sizes_fuzz = {"states": bad_size(), "actions": bad_size()}
    return {
        "pgverify.strategies.lqr_problems_with_gains": Entry(
            s.lqr_problems_with_gains, lqr, lqr_fuzz, draws=True
        ),
        "pgverify.strategies.lqr_problems": Entry(s.lqr_problems, lqr, lqr_fuzz, draws=True),
        "pgverify.strategies.stabilizing_gains": Entry(
            s.stabilizing_gains,
            {"problem": PROBLEM, "base_gain": K},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A, "LQR"])),
                "base_gain": lqr_matrix("K", destabilising=True).filter(
                    lambda value: value is not None  # None: the default base gain
                ),
            },
            draws=True,
        ),
        "pgverify.strategies.positive_definite_matrices": Entry(
            s.positive_definite_matrices,
            {"n": 2, "floor": 0.25},
            {"n": bad_int(0, -1), "floor": bad_real(-1.0, 0)},
            draws=True,
        ),
        "pgverify.strategies.rational_distributions": Entry(
            s.rational_distributions,
            {"size": 2, "allow_zero": True},
            {"size": bad_int(0, -1), "allow_zero": bad_flag()},
            draws=True,
        ),
        "pgverify.strategies.finite_mdps": Entry(s.finite_mdps, sizes, sizes_fuzz, draws=True),
        "pgverify.strategies.tabular_policies": Entry(
            s.tabular_policies,
            {"mdp": MDP, "allow_zero": True},
            {"mdp": mdp_argument(), "allow_zero": bad_flag()},
            draws=True,
        ),
        "pgverify.strategies.softmax_logits": Entry(
            s.softmax_logits, {"mdp": MDP}, {"mdp": mdp_argument()}, draws=True
        ),
        "pgverify.strategies.mdps_with_policies": Entry(
            s.mdps_with_policies,
            {**sizes, "allow_zero": True},
            {**sizes_fuzz, "allow_zero": bad_flag()},
            draws=True,
        ),
        "pgverify.strategies.mdps_with_logits": Entry(
            s.mdps_with_logits, sizes, sizes_fuzz, draws=True
        ),
    }


COSTS_SEGMENT = np.array([1.0, 2.0, 0.5, -1.0])
FLAGS = np.array([False, True, False, False])


def malformed_segment(flags: bool = False) -> st.SearchStrategy[Any]:
    """Not a (T,) segment like the valid one: another length, 3-D, non-finite or non-numeric
    entries, ragged lists; for flags, values other than 0/1 too."""
    valid = FLAGS.astype(int) if flags else COSTS_SEGMENT
    options = [
        st.sampled_from([valid[:-1], np.append(valid, 0), valid[None, None], valid[:0]]),
        st.sampled_from(
            [
                valid.astype(complex),
                valid.astype(str),
                [*valid.tolist()[:-1], None],
                [valid.tolist(), [1.0]],
                np.array([*valid.tolist()[:-1], "x"], dtype=object),
            ]
        ),
        junk().filter(lambda value: not isinstance(value, (set, dict))),
    ]
    if flags:
        options.append(st.sampled_from([np.array([0.5, 1, 0, 0]), np.array([2, 0, 0, 0])]))
    else:
        options.append(
            st.sampled_from([np.array([1.0, np.nan, 0.0, 0.0]), np.array([np.inf, 0, 0, 0])])
        )
        options.append(st.just(FLAGS))  # bools are not costs
    return st.one_of(*options)


def estimator_entries() -> dict[str, Entry]:
    e = pgverify.estimators
    segment = malformed_segment()
    flags = malformed_segment(flags=True)
    discount = bad_real(-0.5, 1.5)
    with_values = {
        "costs": COSTS_SEGMENT,
        "values": COSTS_SEGMENT,
        "next_values": COSTS_SEGMENT,
        "terminated": FLAGS,
        "gamma": 0.9,
    }
    with_values_fuzz = {
        "costs": segment,
        "values": segment,
        "next_values": segment,
        "terminated": flags,
        "gamma": discount,
    }
    both = {**with_values, "truncated": np.zeros(4, dtype=bool), "lam": 0.95}
    both_fuzz = {**with_values_fuzz, "truncated": flags, "lam": discount}
    return {
        "pgverify.estimators.discounted_returns": Entry(
            e.discounted_returns,
            {"costs": COSTS_SEGMENT, "dones": FLAGS, "gamma": 0.9},
            {"costs": segment, "dones": flags, "gamma": discount},
        ),
        "pgverify.estimators.td_residuals": Entry(e.td_residuals, with_values, with_values_fuzz),
        "pgverify.estimators.gae": Entry(e.gae, both, both_fuzz),
        "pgverify.estimators.lambda_returns": Entry(e.lambda_returns, both, both_fuzz),
    }


# -- score-function and zeroth-order references (M = 2 rollouts, T = 2 steps, n = 3, m = 2) ------

PG_STATES = np.arange(18, dtype=float).reshape(2, 3, 3) / 8
PG_ACTIONS = np.arange(8, dtype=float).reshape(2, 2, 2) / 4 - 1
PG_COSTS = np.array([[1.0, 2.0], [0.5, 3.0]])
PG_SCORES = np.ones((2, 2, 2, 3))
PG_CRITIC_VALUES = np.array([[2.0, 1.0, 4.0], [3.0, 1.5, 0.5]])  # (M, T+1)
PG_TERMINATED = np.array([[False, True], [True, True]])
TABULAR_STATES = np.array([[0, 1], [1, 0]])  # every row of the (2, 3) tables is visited
TABULAR_ACTIONS = np.array([[2, 0], [1, 1]])  # and the last column
DIRECTIONS = np.ones((2, 2, 3)) / np.sqrt(6.0)  # unit vectors: valid for every kind


def malformed_array(
    valid: np.ndarray, *extra: Any, trailing_axes_valid: bool = False
) -> st.SearchStrategy[Any]:
    """Another shape (an axis shorter or longer, a dimension more or less — unless trailing axes
    are valid on their own — empty), a NaN or an infinity, non-numeric dtypes, ragged lists,
    junk."""
    nan = valid.astype(float).copy()
    nan.flat[-1] = np.nan
    inf = valid.astype(float).copy()
    inf.flat[0] = np.inf
    ragged_rows = [row.tolist() for row in valid]
    ragged_rows[0] = ragged_rows[0][:-1]
    with_none = valid.astype(object)
    with_none.flat[0] = None
    return st.one_of(
        st.sampled_from(
            [valid[:, :-1], valid.reshape(-1), valid[:0], np.append(valid, 0)]
            + ([] if trailing_axes_valid else [valid[..., None]])
        ),
        st.sampled_from(
            [
                nan,
                inf,
                valid.astype(complex),
                valid.astype(str),
                valid.astype(bool),
                with_none,
                ragged_rows,
            ]
        ),
        junk().filter(lambda value: value is not None),
        st.sampled_from([None, *extra]) if extra else st.just(None),
    )


def malformed_indices(valid: np.ndarray) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(
            [valid + 5, valid - 3, valid.astype(float) + 0.5, valid[:, :-1], valid.reshape(-1)]
        ),
        st.sampled_from([valid.astype(str), valid.astype(complex), valid[..., None]]),
        junk(),
    )


def malformed_flags(valid: np.ndarray) -> st.SearchStrategy[Any]:
    """Not (M, T) flags like ``valid``: another shape, values other than 0/1, non-numbers."""
    halves = valid.astype(float)
    halves.flat[0] = 0.5
    return st.one_of(
        st.sampled_from([valid[:, :-1], valid.reshape(-1), valid[:0], valid[..., None]]),
        st.sampled_from([halves, valid * 2 + 1, valid.astype(complex), valid.astype(str)]),
        junk().filter(lambda value: value is not None),
    )


def bad_baseline() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(
            [
                "loo",
                "Leave_one_out",
                "",
                [1.0],
                [1.0, 2.0, 3.0],
                np.ones((2, 2)),
                float("nan"),
                [np.inf, 0.0],
                1j,
                True,
            ]
        ),
        junk_returning(None, "x", np.ones(3), float("nan")),
        junk().filter(lambda value: value is not None),
    )


def policy_gradient_entries() -> dict[str, Entry]:
    e = pgverify.estimators
    gaussian = {
        "states": PG_STATES,
        "actions": PG_ACTIONS,
        "costs": PG_COSTS,
        "K": K,
        "sigma": 0.5,
        "gamma": 0.9,
    }
    gaussian_fuzz = {
        "states": malformed_array(PG_STATES),
        "actions": malformed_array(PG_ACTIONS),
        "costs": malformed_array(PG_COSTS),
        "K": malformed_array(K),
        "sigma": bad_real(0.0, -1.0),
        "gamma": bad_real(-0.5, 1.5, 0.0),
    }
    tabular = {
        "states": TABULAR_STATES,
        "actions": TABULAR_ACTIONS,
        "costs": PG_COSTS,
        "logits": LOGITS,
        "gamma": 0.9,
    }
    tabular_fuzz = {
        "states": malformed_indices(TABULAR_STATES),
        "actions": malformed_indices(TABULAR_ACTIONS),
        "costs": malformed_array(PG_COSTS),
        "logits": st.one_of(
            malformed_table(LOGITS, valid_shape=lambda r, c: r >= 2 and c >= 3),
            st.just(pgverify.mdp.softmax_policy(LOGITS)),
        ),
        "gamma": bad_real(-0.5, 1.5, 0.0),
    }
    scores = {"scores": PG_SCORES, "costs": PG_COSTS, "gamma": 0.9}
    scores_fuzz = {
        "scores": malformed_array(PG_SCORES, trailing_axes_valid=True),
        "costs": malformed_array(PG_COSTS),
        "gamma": bad_real(-0.5, 1.5, 0.0),
        "kind": misspelt("V0", "v1", "REINFORCE"),
    }

    # every critic array is given (and validated whatever the kind reads); GAE reads most
    critic = {
        "values": PG_CRITIC_VALUES,
        "q_values": PG_COSTS,
        "terminated": PG_TERMINATED,
        "lam": 0.5,
    }
    critic_fuzz = {
        "values": malformed_array(PG_CRITIC_VALUES),
        "q_values": malformed_array(PG_COSTS).filter(lambda value: value is not None),
        "terminated": malformed_flags(PG_TERMINATED),
        "lam": bad_real(-0.5, 1.5),
    }
    critic_kind = misspelt("Q", "GAE", "td ", "advantages", "reinforce")

    def zeroth_order(cost, K, directions, smoothing, kind):
        return e.zeroth_order_estimate(cost, K, directions, smoothing, kind)

    quadratic = e.quadratic_cost(np.eye(6), np.ones(6), 1.0)
    return {
        "pgverify.estimators.gaussian_scores": Entry(
            e.gaussian_scores,
            {k: gaussian[k] for k in ("states", "actions", "K", "sigma")},
            {k: gaussian_fuzz[k] for k in ("states", "actions", "K", "sigma")},
        ),
        "pgverify.estimators.gaussian_v0": Entry(e.gaussian_v0, gaussian, gaussian_fuzz),
        "pgverify.estimators.gaussian_reinforce": Entry(
            e.gaussian_reinforce,
            {**gaussian, "baseline": None},
            {**gaussian_fuzz, "baseline": bad_baseline()},
        ),
        "pgverify.estimators.softmax_policy_table": Entry(
            e.softmax_policy_table,
            {"logits": LOGITS},
            {
                "logits": st.one_of(
                    malformed_table(LOGITS, valid_shape=lambda r, c: r > 0 and c > 0),
                    st.just(pgverify.mdp.softmax_policy(LOGITS)),
                )
            },
        ),
        "pgverify.estimators.softmax_scores": Entry(
            e.softmax_scores,
            {"states": TABULAR_STATES, "actions": TABULAR_ACTIONS, "policy": POLICY},
            {
                "states": tabular_fuzz["states"],
                "actions": tabular_fuzz["actions"],
                "policy": st.one_of(
                    malformed_table(POLICY, valid_shape=lambda r, c: r >= 2 and c >= 3),
                    bad_certified_policies(),
                ),
            },
        ),
        "pgverify.estimators.softmax_v0": Entry(e.softmax_v0, tabular, tabular_fuzz),
        "pgverify.estimators.softmax_reinforce": Entry(
            e.softmax_reinforce,
            {**tabular, "baseline": None},
            {**tabular_fuzz, "baseline": bad_baseline()},
        ),
        "pgverify.estimators.score_function_estimate": Entry(
            e.score_function_estimate,
            {**scores, "kind": "reinforce", "baseline": None, "states": None},
            {**scores_fuzz, "baseline": bad_baseline()},
            exempt={"states": "read only by a callable baseline (fuzzed through baseline)"},
        ),
        "pgverify.estimators.critic_advantages": Entry(
            e.critic_advantages,
            {"kind": "gae", "costs": PG_COSTS, "gamma": 0.9, **critic},
            {
                "kind": critic_kind,
                "costs": malformed_array(PG_COSTS),
                "gamma": bad_real(-0.5, 1.5, 0.0),
                **critic_fuzz,
            },
        ),
        "pgverify.estimators.critic_estimate": Entry(
            e.critic_estimate,
            {**scores, "kind": "gae", **critic},
            {**scores_fuzz, "kind": critic_kind, **critic_fuzz},
        ),
        "pgverify.estimators.gaussian_critic_pg": Entry(
            e.gaussian_critic_pg,
            {**gaussian, "kind": "gae", **critic},
            {**gaussian_fuzz, "kind": critic_kind, **critic_fuzz},
        ),
        "pgverify.estimators.softmax_critic_pg": Entry(
            e.softmax_critic_pg,
            {**tabular, "kind": "gae", **critic},
            {**tabular_fuzz, "kind": critic_kind, **critic_fuzz},
        ),
        "pgverify.estimators.zeroth_order_estimate": Entry(
            zeroth_order,
            {
                "cost": quadratic,
                "K": K,
                "directions": DIRECTIONS,
                "smoothing": 0.5,
                "kind": "sphere",
            },
            {
                "cost": st.one_of(junk(), junk_returning(None, "x", np.ones(2), float("nan"), 1j)),
                "K": malformed_array(K),
                "directions": malformed_array(DIRECTIONS, 2 * DIRECTIONS),
                "smoothing": bad_real(0.0, -1.0),
                "kind": misspelt("Gaussian", "ball", "antithetical"),
            },
        ),
        "pgverify.estimators.cubic_cost": Entry(
            e.cubic_cost,
            {
                "coefficients": np.ones((2, 2, 2)),
                "hessian": np.eye(2),
                "gradient": np.ones(2),
                "constant": 0.0,
            },
            {
                "coefficients": malformed_array(np.ones((2, 2, 2))),
                "hessian": st.one_of(
                    malformed_array(np.eye(2)), st.just(np.array([[1.0, 2.0], [0.0, 1.0]]))
                ),
                "gradient": st.one_of(
                    st.sampled_from([np.ones((2, 2)), np.array([np.nan, 1.0]), ["a", 1.0]]),
                    junk().filter(lambda value: not isinstance(value, (set, dict))),
                ),
                "constant": bad_real(),
            },
        ),
        "pgverify.estimators.quadratic_cost": Entry(
            e.quadratic_cost,
            {"hessian": np.eye(2), "gradient": np.ones(2), "constant": 0.0},
            {
                "hessian": malformed_array(np.eye(2)),
                "gradient": st.one_of(
                    st.sampled_from([np.ones((2, 2)), np.array([np.nan, 1.0]), ["a", 1.0]]),
                    junk().filter(lambda value: not isinstance(value, (set, dict))),
                ),
                "constant": bad_real(),
            },
        ),
    }


def comparison_entries() -> dict[str, Entry]:
    """pgverify.assert_close: a malformed reference or option is an InvalidProblemError (or, for
    a reference of another shape, an OracleMismatch); ``actual`` is what is being judged."""
    real = bad_real(-1.0).filter(lambda value: value is not None)  # None: the default
    return {
        "pgverify.assert_close": Entry(
            pgverify.assert_close,
            {
                "actual": K,
                "reference": PROBLEM.gain(K),
                "dtype": None,
                "what": "K",
                "condition": 1.0,
                "scale": None,
                "rtol": None,
                "atol": None,
            },
            {
                "reference": malformed_table(K.tolist()).filter(lambda value: value is not None),
                "dtype": misspelt("float33", "int8", "bool", np.int64).filter(
                    lambda value: value is not None
                ),
                "condition": real,
                "scale": real,
                "rtol": real,
                "atol": real,
            },
            exempt={
                "actual": "the result being judged: anything unreadable is an OracleMismatch",
                "what": "a label for the report",
            },
        ),
    }


# -- pgverify.trpo (n = 3, m = 2: K and its flattened (6,) direction) -----------------------------

TRPO_STATES = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, -0.5], [0.5, 0.5, 1.0], [1.0, -1.0, 0.0]])
W0 = np.array([[0.5, -0.25, 0.1], [0.2, 0.3, -0.4]])  # hidden = 2, n = 3
W1 = np.array([[1.0, -0.5], [0.25, 0.75]])  # m = 2
TWO_LAYER_DIMENSION = 2 * 2 + 2 * 3
SPD3 = np.array([[2.0, 0.5, 0.0], [0.5, 2.0, 0.5], [0.0, 0.5, 2.0]])


def bad_precision() -> st.SearchStrategy[Any]:
    return st.sampled_from(BAD_PRECISIONS)


def bad_vector(valid: np.ndarray, *also: Any, shapes: bool = True) -> st.SearchStrategy[Any]:
    """Not a vector like ``valid``: another length or 3-D (unless any shape is valid on its
    own), non-finite or non-numeric entries."""
    nan = valid.astype(float).copy()
    nan[0] = np.nan
    inf = valid.astype(float).copy()
    inf[-1] = np.inf
    other_shapes = [valid[:-1], np.append(valid, 1.0), valid[:0], valid[None, None]]
    return st.one_of(
        st.sampled_from([*(other_shapes if shapes else []), nan, inf]),
        st.sampled_from([valid.astype(complex), valid.astype(str), [*valid.tolist()[:-1], None]]),
        junk().filter(lambda value: not isinstance(value, (set, dict))),
        *([st.sampled_from(also)] if also else []),
    )


def not_a_flat_direction(value: Any) -> bool:
    """A direction may be given flat, (m·n,), as well as (m, n)."""
    try:
        return np.asarray(value).shape != (6,)
    except ValueError:  # ragged
        return True


def bad_function(*returns: Any) -> st.SearchStrategy[Any]:
    """Not a function, or a function returning junk."""
    return st.one_of(junk(), junk_returning(*returns))


def trpo_entries() -> dict[str, Entry]:
    t = pgverify.trpo
    vector = K.reshape(-1)
    matvec_fuzz = bad_function(None, "x", np.ones(2), np.full(6, np.nan), 1j)
    cg = {"matvec": lambda v: 2 * v, "b": vector, "iterations": 6, "tolerance": 0, "damping": 0}
    cg_fuzz = {
        "matvec": matvec_fuzz,
        "b": bad_vector(vector, shapes=False),  # matvec = 2·v takes any length
        "iterations": bad_int(-1),
        "tolerance": bad_real(-1.0),
        "damping": bad_real(-1.0),
        "precision": bad_precision(),
    }
    fisher_fuzz = st.one_of(
        malformed_array(2 * np.eye(6)),
        st.just(-np.eye(6)),
        bad_function(None, "x", np.ones(2), np.full(6, np.nan)),
    )
    step = {"gradient": vector, "fisher": 2 * np.eye(6), "iterations": None, "damping": 0}
    step_fuzz = {
        "gradient": bad_vector(vector),
        "fisher": fisher_fuzz,
        "iterations": bad_int(-1).filter(lambda value: value is not None),
        "damping": bad_real(-1.0),
        "precision": bad_precision(),
    }
    surrogate_fuzz = bad_function(None, "x", float("nan"), np.ones(2), 1j)
    line_search = {
        "surrogate": lambda x: -float(np.sum(x)),
        "kl": lambda x: float(np.sum(x * x)),
        "step": np.array([0.5, 0.25]),
        "max_kl": 0.1,
        "backtrack_ratio": 0.5,
        "max_backtracks": 5,
    }
    two_layer = {"W0": W0, "W1": W1, "sigma": 0.5, "states": TRPO_STATES}
    two_layer_fuzz = {
        # another number of columns of W0 is a mismatch the message blames on states
        "W0": malformed_array(W0).filter(lambda value: not _finite_matrix(value)),
        "W1": malformed_array(W1),
        "sigma": bad_real(0.0, -1.0),
        "states": malformed_array(TRPO_STATES),
        "precision": bad_precision(),
    }
    softmax = {"policy": np.array(POLICY, dtype=float), "visitation": np.array([0.5, 0.5])}
    softmax_fuzz = {
        "policy": malformed_table(POLICY),
        "visitation": bad_vector(np.array([0.5, 0.5]), [-0.5, 1.5]),
    }
    return {
        "pgverify.trpo.conjugate_gradient": Entry(
            t.conjugate_gradient, {**cg, "precision": "float"}, cg_fuzz
        ),
        "pgverify.trpo.conjugate_gradient_run": Entry(
            t.conjugate_gradient_run, {**cg, "precision": "float"}, cg_fuzz
        ),
        "pgverify.trpo.backtracking_line_search": Entry(
            t.backtracking_line_search,
            {**line_search, "precision": "float"},
            {
                "surrogate": surrogate_fuzz,
                # a NaN divergence is documented to reject its candidate, not the call
                "kl": bad_function(None, "x", np.ones(2), 1j),
                "step": bad_vector(np.array([0.5, 0.25]), shapes=False),
                "max_kl": bad_real(0.0, -1.0),
                "backtrack_ratio": bad_real(0.0, 1.0, 1.5, -0.5),
                "max_backtracks": bad_int(-1),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.float_rounding_allowance": Entry(
            t.float_rounding_allowance,
            {"condition_number": 10.0, "iterations": 3, "dimension": 3},
            {
                "condition_number": bad_real(0.5, -1.0),
                "iterations": bad_int(-1),
                "dimension": bad_int(0, -1),
            },
        ),
        "pgverify.trpo.residual_bound": Entry(
            t.residual_bound,
            {"condition_number": 10.0, "iterations": 3},
            {"condition_number": bad_real(0.5, -1.0), "iterations": bad_int(-1)},
        ),
        "pgverify.trpo.gaussian_kl": Entry(
            t.gaussian_kl,
            {
                "mean_p": np.zeros(3),
                "cov_p": SPD3,
                "mean_q": np.ones(3),
                "cov_q": np.eye(3),
                "precision": "float",
            },
            {
                "mean_p": bad_vector(np.zeros(3)),
                "cov_p": malformed_array(SPD3, -SPD3),
                "mean_q": bad_vector(np.ones(3)),
                "cov_q": malformed_array(np.eye(3), -np.eye(3)),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.state_second_moment": Entry(
            t.state_second_moment,
            {"states": TRPO_STATES, "precision": "float"},
            {
                "states": malformed_array(TRPO_STATES).filter(
                    lambda value: not _finite_matrix(value)  # any (N, n) is valid
                ),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.linear_gaussian_fisher": Entry(
            t.linear_gaussian_fisher,
            {"second_moment": SPD3, "sigma": 0.5, "m": 2, "precision": "float"},
            {
                "second_moment": malformed_array(SPD3, -SPD3),
                "sigma": bad_real(0.0, -1.0),
                "m": bad_int(0, -1),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.linear_gaussian_fisher_vector_product": Entry(
            t.linear_gaussian_fisher_vector_product,
            {"K": K, "sigma": 0.5, "states": TRPO_STATES, "v": K, "precision": "float"},
            {
                "K": malformed_array(K).filter(lambda value: not _finite_matrix(value)),
                "sigma": bad_real(0.0, -1.0),
                "states": malformed_array(TRPO_STATES),
                "v": malformed_array(K).filter(not_a_flat_direction),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.linear_gaussian_fisher_vector_product_from_moment": Entry(
            t.linear_gaussian_fisher_vector_product_from_moment,
            {"second_moment": SPD3, "sigma": 0.5, "v": K, "m": 2, "precision": "float"},
            {
                "second_moment": malformed_array(SPD3, -SPD3),
                "sigma": bad_real(0.0, -1.0),
                "v": malformed_array(K).filter(not_a_flat_direction),
                "m": bad_int(0, -1),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.natural_direction": Entry(
            t.natural_direction, {**step, "precision": "float"}, step_fuzz
        ),
        "pgverify.trpo.maximal_step": Entry(
            t.maximal_step,
            {**step, "max_kl": 0.01, "precision": "float"},
            {**step_fuzz, "max_kl": bad_real(0.0, -1.0)},
        ),
        "pgverify.trpo.maximal_step_parts": Entry(
            t.maximal_step_parts,
            {**step, "max_kl": 0.01, "precision": "float"},
            {**step_fuzz, "max_kl": bad_real(0.0, -1.0)},
        ),
        "pgverify.trpo.softmax_fisher_vector_product": Entry(
            t.softmax_fisher_vector_product,
            {**softmax, "v": np.array(LOGITS), "precision": "float"},
            {
                **softmax_fuzz,
                "v": malformed_table(LOGITS).filter(not_a_flat_direction),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.softmax_fisher_product": Entry(
            t.softmax_fisher_product,
            {**softmax, "V": np.array(LOGITS)},
            {**softmax_fuzz, "V": malformed_table(LOGITS)},
        ),
        "pgverify.trpo.two_layer_mean_jacobian": Entry(
            t.two_layer_mean_jacobian,
            {"W0": W0, "W1": W1, "x": TRPO_STATES[0], "precision": "float"},
            {
                "W0": malformed_array(W0),
                "W1": malformed_array(W1),
                "x": bad_vector(TRPO_STATES[0]),
                "precision": bad_precision(),
            },
        ),
        "pgverify.trpo.two_layer_gaussian_fisher": Entry(
            t.two_layer_gaussian_fisher, {**two_layer, "precision": "float"}, two_layer_fuzz
        ),
        "pgverify.trpo.two_layer_gaussian_fisher_vector_product": Entry(
            t.two_layer_gaussian_fisher_vector_product,
            {**two_layer, "v": np.ones(TWO_LAYER_DIMENSION), "precision": "float"},
            {**two_layer_fuzz, "v": bad_vector(np.ones(TWO_LAYER_DIMENSION))},
        ),
        "pgverify.trpo.lqr_natural_gradient_three_ways": Entry(
            t.lqr_natural_gradient_three_ways,
            {"problem": PROBLEM, "K": K, "sigma": 1, "digits": 20},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A, "LQR"])),
                "K": lqr_matrix("K", destabilising=True),
                "sigma": bad_real(0.0, -1.0),
                "digits": bad_int(0, -1),
            },
        ),
        "pgverify.trpo.softmax_natural_gradient_three_ways": Entry(
            t.softmax_natural_gradient_three_ways,
            {"mdp": MDP, "logits": LOGITS, "digits": 20},
            {"mdp": mdp_argument(), "logits": malformed_logits(), "digits": bad_int(0, -1)},
        ),
    }


# -- learned critics, actor-critic and covariance estimates ---------------------------------------

CRITIC_FEATURES = np.random.default_rng(0).standard_normal((2, 4, 3))  # M = 2, L = 3, p = 3
CRITIC_COSTS = np.array([[1.0, 2.0, 0.5], [3.0, 0.25, 1.5]])
CRITIC_VALUES = np.array([[1.0, 2.0, 3.0], [0.5, 0.25, 4.0]])  # (M, T+1) with T = 2 of PG_SCORES


def bad_states_for_features() -> st.SearchStrategy[Any]:
    """Not an array of states (..., n): any leading shape is valid, so only entries, dtypes,
    raggedness, an empty last axis or a scalar make it malformed."""
    return st.one_of(
        malformed_array(PG_STATES).filter(
            lambda value: (
                isinstance(value, list | np.ndarray)
                and (
                    not isinstance(value, np.ndarray)
                    or value.dtype.kind not in "fi"
                    or not np.all(np.isfinite(value))
                    or value.size == 0
                )
            )
        ),
        st.sampled_from([np.zeros((2, 0)), 1.5]),
        junk(),
    )


def bad_symmetric_matrix() -> st.SearchStrategy[Any]:
    asymmetric = np.eye(3) + np.triu(np.ones((3, 3)), 1)
    return malformed_table(
        np.eye(3).tolist(), st.just(asymmetric), valid_shape=lambda r, c: (r, c) == (3, 3)
    )


def critic_entries() -> dict[str, Entry]:
    e, x = pgverify.estimators, pgverify.expectation
    segments = {"features": CRITIC_FEATURES, "costs": CRITIC_COSTS, "gamma": 0.9, "lam": 0.5}
    segments_fuzz = {
        "features": malformed_array(CRITIC_FEATURES),
        "costs": malformed_array(CRITIC_COSTS),
        "gamma": bad_real(-0.5, 1.5, 0.0),
        "lam": bad_real(-0.5, 1.5),
    }
    td0_valid = {**segments, "step_size": 0.05, "sweeps": 3, "initial": None}
    del td0_valid["lam"]
    td0_fuzz = {
        **{k: v for k, v in segments_fuzz.items() if k != "lam"},
        "step_size": bad_real(0.0, -1.0, 1e300),
        "sweeps": bad_int(0, -1),
        "initial": bad_vector(np.zeros(3)).filter(lambda value: value is not None),
    }
    small = LQR(np.array([[0.5]]), np.array([[1.0]]), np.eye(1), np.eye(1), gamma=0.9, noise=0.25)
    at_gain = {"problem": PROBLEM, "K": K, "steps": 2}
    at_gain_fuzz = {
        "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
        "K": lqr_matrix("K"),
        "steps": bad_int(0, -1),
    }
    return {
        "pgverify.estimators.quadratic_value_features": Entry(
            e.quadratic_value_features, {"states": PG_STATES}, {"states": bad_states_for_features()}
        ),
        "pgverify.estimators.quadratic_value_parameters": Entry(
            e.quadratic_value_parameters,
            {"weights": np.array([1.0, 0.5, 2.0, 3.0]), "n": 2},
            {"weights": bad_vector(np.array([1.0, 0.5, 2.0, 3.0])), "n": bad_int(0, -1)},
        ),
        "pgverify.estimators.one_hot_features": Entry(
            e.one_hot_features,
            {"states": TABULAR_STATES, "count": 2},
            {
                "states": malformed_indices(TABULAR_STATES).filter(
                    lambda value: np.shape(value) != (2, 1)  # one state per rollout is valid
                ),
                "count": bad_int(0, -1),
            },
        ),
        "pgverify.estimators.lstd_statistics": Entry(e.lstd_statistics, segments, segments_fuzz),
        "pgverify.estimators.lstd": Entry(e.lstd, segments, segments_fuzz),
        "pgverify.estimators.td0": Entry(e.td0, td0_valid, td0_fuzz),
        "pgverify.estimators.td_actor_critic": Entry(
            e.td_actor_critic,
            {"scores": PG_SCORES, "costs": PG_COSTS, "values": CRITIC_VALUES, "gamma": 0.9},
            {
                "scores": malformed_array(PG_SCORES, trailing_axes_valid=True),
                "costs": malformed_array(PG_COSTS),
                "values": malformed_array(CRITIC_VALUES),
                "gamma": bad_real(-0.5, 1.5, 0.0),
            },
        ),
        "pgverify.estimators.state_covariance_estimate": Entry(
            e.state_covariance_estimate,
            {"states": PG_STATES, "gamma": 0.9},
            {
                "states": st.one_of(
                    bad_states_for_features(),
                    st.sampled_from([PG_STATES[0], PG_STATES[..., None], PG_STATES[:, :0]]),
                ),
                "gamma": bad_real(-0.5, 1.5, 0.0),
            },
        ),
        "pgverify.estimators.natural_gradient_estimate": Entry(
            e.natural_gradient_estimate,
            {"gradient": K, "covariance": np.eye(3) + 0.25},
            {
                "gradient": malformed_array(K),
                "covariance": st.one_of(
                    bad_symmetric_matrix(), st.just(np.zeros((3, 3))), st.just(np.ones((3, 3)))
                ),
            },
        ),
        "pgverify.expectation.discounted_state_moment": Entry(
            x.discounted_state_moment,
            {**at_gain, "gamma": None},
            {
                **at_gain_fuzz,
                "gamma": bad_real(-0.5, 1.5, 0.0).filter(lambda value: value is not None),
            },
        ),
        "pgverify.expectation.critic_gradient_expectation": Entry(
            x.critic_gradient_expectation,
            {**at_gain, "value_matrix": np.eye(3)},
            {**at_gain_fuzz, "value_matrix": bad_symmetric_matrix()},
        ),
        "pgverify.expectation.critic_error_bias": Entry(
            x.critic_error_bias,
            {**at_gain, "value_error": np.eye(3)},
            {**at_gain_fuzz, "value_error": bad_symmetric_matrix()},
        ),
        "pgverify.expectation.population_lstd": Entry(
            x.population_lstd,
            {"problem": small, "K": np.array([[0.25]]), "steps": 1, "lam": 0, "node_budget": 1000},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
                "K": malformed_array(np.array([[0.25]])),
                "steps": bad_int(0, -1),
                "lam": bad_real(-0.5, 1.5),
                "node_budget": bad_int(0, -1),
            },
        ),
        "pgverify.expectation.population_lstd_tabular": Entry(
            x.population_lstd_tabular,
            {"mdp": MDP, "policy": POLICY, "steps": 2, "lam": 0},
            {
                "mdp": mdp_argument(),
                "policy": malformed_policy(),
                "steps": bad_int(0, -1, 1),
                "lam": bad_real(-0.5, 1.5),
            },
        ),
    }


# -- pgverify.expectation -------------------------------------------------------------------------


def expectation_entries() -> dict[str, Entry]:
    e = pgverify.expectation
    steps = bad_int(0, -1)
    flag = bad_flag().filter(lambda value: value is not None)
    estimator_fuzz = bad_function(None, "x", float("nan"), 1j)
    small = LQR(np.array([[0.5]]), np.array([[1.0]]), np.array([[1.0]]), np.array([[1.0]]))
    lqr_valid = {
        "problem": small,
        "K": np.array([[0.25]]),
        "steps": 1,
        "estimator": lambda states, actions, costs: costs.sum(axis=-1),
        "degree": 2,
        "batch": 1,
        "variance": False,
        "arithmetic": "exact",
        "noise": None,
        "node_budget": 200_000,
        "relative_error": 1e-9,
        "check_degree": False,
    }
    directions_valid = {
        "estimator": lambda directions: directions.sum(),
        "shape": (1, 2),
        "count": 1,
        "degree": 2,
        "distribution": "gaussian",
        "variance": False,
        "arithmetic": "exact",
        "node_budget": 200_000,
        "relative_error": 1e-9,
        "check_degree": False,
    }
    shared_fuzz = {
        "variance": flag,
        "arithmetic": misspelt("Exact", "floats", "certifed"),
        "node_budget": bad_int(0, -1),
        "relative_error": bad_real(0.0, -1.0),
        "check_degree": flag,
        "degree": bad_int(-1),
    }
    return {
        "pgverify.expectation.lqr_expectation": Entry(
            e.lqr_expectation,
            lqr_valid,
            {
                **shared_fuzz,
                "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
                "K": malformed_array(np.array([[0.25]])),
                "steps": steps,
                "estimator": estimator_fuzz,
                "batch": bad_int(0, -1),
                "noise": bad_real(-1.0).filter(lambda value: value is not None),
            },
        ),
        "pgverify.expectation.directions_expectation": Entry(
            e.directions_expectation,
            directions_valid,
            {
                **shared_fuzz,
                "estimator": estimator_fuzz,
                "shape": st.one_of(junk(), st.sampled_from([(0, 2), (1,), (1, 2, 3), (-1, 2)])),
                "count": bad_int(0, -1),
                "distribution": misspelt("Gaussian", "ball", "normal"),
            },
        ),
        "pgverify.expectation.mdp_expectation": Entry(
            e.mdp_expectation,
            {
                "mdp": MDP,
                "policy": POLICY,
                "steps": 1,
                "estimator": lambda states, actions, costs: costs.sum(),
                "batch": 1,
                "variance": False,
                "limit": 1000,
            },
            {
                "mdp": mdp_argument(),
                "policy": malformed_policy(),
                "steps": steps,
                "estimator": estimator_fuzz,
                "batch": bad_int(0, -1),
                "variance": flag,
                "limit": bad_int(0, -1),
            },
        ),
        "pgverify.expectation.additive_moments": Entry(
            e.additive_moments,
            {"mdp": MDP, "policy": POLICY, "steps": 2, "per_step": lambda t, s, a: s + a},
            {
                "mdp": mdp_argument(),
                "policy": malformed_policy(),
                "steps": steps,
                "per_step": estimator_fuzz,
            },
        ),
        "pgverify.expectation.cubature": Entry(
            e.cubature,
            {"factors": [e.rules.GaussianFactor.of(Fraction(1))], "degree": 2, "node_budget": 1000},
            {
                "factors": st.one_of(junk(), st.sampled_from([[], [1.0], ["gaussian"], [None]])),
                "degree": bad_int(-1),
                "node_budget": bad_int(0, -1),
            },
        ),
        "pgverify.expectation.lqr_gradient_target": Entry(
            e.lqr_gradient_target,
            {"problem": PROBLEM, "K": K, "steps": 2, "precision": "float"},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
                "K": lqr_matrix("K"),
                "steps": steps,
                "precision": bad_precision(),
            },
        ),
        "pgverify.expectation.lqr_critic": Entry(
            e.lqr_critic,
            {"problem": PROBLEM, "K": K, "steps": 2, "sigma": 0.5, "gamma": 0.9},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
                "K": lqr_matrix("K"),
                "steps": steps,
                "sigma": bad_real(-1.0),
                "gamma": bad_real(-0.5, 1.5, 0.0),
            },
        ),
        "pgverify.expectation.lqr_discounted_critic": Entry(
            e.lqr_discounted_critic,
            {"problem": PROBLEM, "K": K, "steps": 2, "sigma": 0.5, "gamma": 0.9},
            {
                "problem": st.one_of(junk(), st.sampled_from([MDP, A])),
                # a gain that does not stabilise is refused too (K = 0: √0.9 · 1.1 > 1)
                "K": st.one_of(lqr_matrix("K"), st.just(np.zeros_like(K))),
                "steps": steps,
                "sigma": bad_real(-1.0),
                "gamma": bad_real(-0.5, 1.5, 0.0, 1.0),
            },
        ),
        "pgverify.expectation.mdp_critic": Entry(
            e.mdp_critic,
            {"mdp": MDP, "policy": POLICY, "steps": 2},
            {"mdp": mdp_argument(), "policy": malformed_policy(), "steps": steps},
        ),
        "pgverify.expectation.mdp_discounted_critic": Entry(
            e.mdp_discounted_critic,
            {"mdp": MDP, "policy": POLICY, "steps": 2},
            {"mdp": mdp_argument(), "policy": malformed_policy(), "steps": steps},
        ),
        "pgverify.expectation.softmax_gradient_target": Entry(
            e.softmax_gradient_target,
            {"mdp": MDP, "policy": POLICY, "steps": 2},
            {"mdp": mdp_argument(), "policy": malformed_policy(), "steps": steps},
        ),
        "pgverify.expectation.batch_mean_baseline_expectation": Entry(
            e.batch_mean_baseline_expectation,
            {"target": np.array(LOGITS), "batch": 2},
            {
                # any non-empty shape is a target: the malformed ones are junk and bad entries
                "target": st.one_of(
                    with_bad_entry(LOGITS), ragged(LOGITS), wrong_dtype(LOGITS), junk([])
                ),
                "batch": bad_int(0, -1),
            },
        ),
        "pgverify.expectation.quadratic_gradient": Entry(
            e.quadratic_gradient,
            {"hessian": np.eye(6), "gradient": np.ones(6), "K": K},
            {
                "hessian": malformed_array(np.eye(6)),
                "gradient": bad_vector(np.ones(6)).filter(
                    lambda value: np.shape(value) != (1, 1, 6)  # gradient is read flattened
                ),
                # another shape of K is a mismatch the message blames on hessian
                "K": malformed_array(K).filter(lambda value: not _finite_matrix(value)),
            },
        ),
        "pgverify.expectation.smoothed_gradient": Entry(
            e.smoothed_gradient,
            {
                "cost": pgverify.estimators.cubic_cost(np.ones((6, 6, 6)), np.eye(6), np.ones(6)),
                "K": K,
                "smoothing": 0.5,
                "distribution": "ball",
            },
            {
                "cost": st.one_of(
                    junk(), st.just(pgverify.estimators.quadratic_cost(np.eye(2), [1, 1]))
                ),
                "K": malformed_array(K).filter(lambda value: not _finite_matrix(value)),
                "smoothing": bad_real(0.0, -1.0),
                "distribution": misspelt("Gaussian", "sphere", "uniform"),
            },
        ),
        "pgverify.expectation.stability_radius": Entry(
            e.stability_radius,
            {"problem": PROBLEM, "K": K},
            {"problem": junk(), "K": malformed_array(K)},
        ),
        "pgverify.expectation.statistical_test": Entry(
            e.statistical_test,
            {
                "draw": lambda rng, samples: rng.standard_normal((samples, 2)),
                "target": np.zeros(2),
                "samples": 100,
                "seed": 0,
                "false_alarm": 1e-6,
                "power": 0.9,
            },
            {
                "draw": bad_function(None, "x", np.ones(3), np.full((100, 2), np.nan)),
                "target": bad_vector(np.zeros(2)),
                "samples": bad_int(1, 0, -1),
                "seed": bad_int(),
                "false_alarm": bad_real(0.0, 1.0, -0.5),
                "power": bad_real(0.0, 1.0, 1.5),
            },
        ),
    }


# -- pgverify.lqr.iterations and pgverify.lqr.lspi ------------------------------------------------


@cache
def theorem_constants() -> Any:
    return pgverify.lqr.iterations.theorem_constants(PROBLEM)


@cache
def lspi_transitions() -> Any:
    return pgverify.lqr.lspi.rollouts(
        PROBLEM, K, episodes=4, horizon=8, exploration=0.5, seed=0, process_noise=0.0
    )


def problem_argument() -> st.SearchStrategy[Any]:
    return st.one_of(junk(), st.sampled_from([MDP, A, "LQR"]))


def iteration_entries() -> dict[str, Entry]:
    it = pgverify.lqr.iterations
    method = misspelt("PG", "natural", "gauss-newton", "policy_iteration")
    constants_fuzz = st.one_of(junk(), st.sampled_from([PROBLEM, 1.0, (1.0, 2.0)]))
    return {
        "pgverify.lqr.iterations.theorem_constants": Entry(
            it.theorem_constants, {"problem": PROBLEM}, {"problem": problem_argument()}
        ),
        "pgverify.lqr.iterations.natural_gradient_step_bound": Entry(
            lambda problem, K0, constants: it.natural_gradient_step_bound(
                problem, K0, constants() if callable(constants) else constants
            ),
            {"problem": PROBLEM, "K0": K, "constants": theorem_constants},
            {
                "problem": problem_argument(),
                "K0": lqr_matrix("K", destabilising=True),
                "constants": constants_fuzz,
            },
            mentions={"K0": "K"},  # a gain outside the domain: LQR.cost names it K
        ),
        "pgverify.lqr.iterations.policy_gradient_step_bound": Entry(
            lambda problem, K, constants: it.policy_gradient_step_bound(
                problem, K, constants() if callable(constants) else constants
            ),
            {"problem": PROBLEM, "K": K, "constants": theorem_constants},
            {
                "problem": problem_argument(),
                "K": lqr_matrix("K", destabilising=True),
                "constants": constants_fuzz,
            },
        ),
        "pgverify.lqr.iterations.contraction_factor": Entry(
            lambda method, alpha, constants: it.contraction_factor(
                method, alpha, constants() if callable(constants) else constants
            ),
            {"method": "npg", "alpha": 0.01, "constants": theorem_constants},
            {"method": method, "alpha": bad_real(0.0, -1.0), "constants": constants_fuzz},
        ),
        "pgverify.lqr.iterations.gradient_domination_constant": Entry(
            lambda constants: it.gradient_domination_constant(
                constants() if callable(constants) else constants
            ),
            {"constants": theorem_constants},
            {"constants": constants_fuzz},
        ),
        "pgverify.lqr.iterations.step_bound": Entry(
            it.step_bound,
            {"method": "npg", "problem": PROBLEM, "K0": K, "constants": None},
            {
                "method": method,
                "problem": problem_argument(),
                "K0": lqr_matrix("K", destabilising=True),
                "constants": constants_fuzz.filter(lambda value: value is not None),
            },
            mentions={"K0": "K"},  # a gain outside the domain: LQR.cost names it K
        ),
        "pgverify.lqr.iterations.take_step": Entry(
            it.take_step,
            {"problem": PROBLEM, "method": "npg", "K": K, "alpha": 0.01, "precision": "float"},
            {
                "problem": problem_argument(),
                "method": method,
                "K": lqr_matrix("K", destabilising=True),
                "alpha": bad_real(),
                "precision": bad_precision(),
            },
        ),
        "pgverify.lqr.iterations.run_iterations": Entry(
            it.run_iterations,
            {
                "problem": PROBLEM,
                "method": "pi",
                "K0": K,
                "alpha": None,
                "steps": 2,
                "precision": "float",
                "gap_tolerance": 0.0,
                "constants": None,
            },
            {
                "problem": problem_argument(),
                "method": method,
                "K0": lqr_matrix("K", destabilising=True),
                "alpha": bad_real(-1.0).filter(lambda value: value is not None),
                "steps": bad_int(-1),
                "precision": bad_precision(),
                "gap_tolerance": bad_real(-1.0),
                "constants": constants_fuzz.filter(lambda value: value is not None),
            },
        ),
        "pgverify.lqr.iterations.find_destabilising_step": Entry(
            it.find_destabilising_step,
            {
                "problem": PROBLEM,
                "method": "pg",
                "K": K,
                "bound": None,
                "precision": "float",
                "growth": 2.0,
                "max_growths": 80,
                "relative_width": 1e-9,
            },
            {
                "problem": problem_argument(),
                "method": method,
                "K": lqr_matrix("K", destabilising=True),
                "bound": bad_real(0.0, -1.0).filter(lambda value: value is not None),
                "precision": bad_precision(),
                "growth": bad_real(1.0, 0.5, -2.0),
                "max_growths": bad_int(0, -1),
                "relative_width": bad_real(0.0, -1.0, 1.5),
            },
        ),
    }


def _finite_matrix(value: Any) -> bool:
    """A finite real (N, d) array: valid ``z`` for any N and d."""
    return (
        isinstance(value, np.ndarray)
        and value.ndim == 2
        and value.dtype.kind == "f"
        and bool(np.isfinite(value).all())
    )


def lspi_entries() -> dict[str, Entry]:
    ls = pgverify.lqr.lspi
    transitions_fuzz = st.one_of(junk(), st.sampled_from([PROBLEM, (A, B), [A, B, Q, R]]))
    gamma_fuzz = bad_real(0.0, -0.5, 1.5)
    H = np.block([[Q + A.T @ A, A.T @ B], [B.T @ A, R + B.T @ B]])
    return {
        "pgverify.lqr.lspi.rollouts": Entry(
            ls.rollouts,
            {
                "problem": PROBLEM,
                "K": K,
                "episodes": 2,
                "horizon": 3,
                "exploration": 0.5,
                "seed": 0,
                "process_noise": 0.0,
            },
            {
                "problem": problem_argument(),
                "K": lqr_matrix("K"),
                "episodes": bad_int(0, -1),
                "horizon": bad_int(0, -1),
                "exploration": bad_real(-1.0),
                "seed": bad_int(),
                "process_noise": bad_real(-1.0),
            },
        ),
        "pgverify.lqr.lspi.quadratic_features": Entry(
            ls.quadratic_features,
            {"z": np.ones((4, 5))},
            {"z": malformed_array(np.ones((4, 5))).filter(lambda value: not _finite_matrix(value))},
        ),
        "pgverify.lqr.lspi.lstd_q": Entry(
            lambda transitions, K, gamma: ls.lstd_q(
                transitions() if callable(transitions) else transitions, K, gamma
            ),
            {"transitions": lspi_transitions, "K": K, "gamma": 0.9},
            {"transitions": transitions_fuzz, "K": lqr_matrix("K"), "gamma": gamma_fuzz},
        ),
        "pgverify.lqr.lspi.lspi_step": Entry(
            lambda transitions, K, gamma: ls.lspi_step(
                transitions() if callable(transitions) else transitions, K, gamma
            ),
            {"transitions": lspi_transitions, "K": K, "gamma": 0.9},
            {"transitions": transitions_fuzz, "K": lqr_matrix("K"), "gamma": gamma_fuzz},
        ),
        "pgverify.lqr.lspi.greedy_gain": Entry(
            ls.greedy_gain,
            {"H": H, "n": 3},
            {"H": malformed_array(H, -H), "n": bad_int(0, -1, 5, 6)},
        ),
    }


# -- pgverify.checks: the options are validated before the implementation is first called ---------


class ImplementationReached(BaseException):
    """Raised by :func:`probe_implementation`: the check accepted its options and called the
    implementation.  A BaseException, so that no check can mistake it for the implementation's
    own failure (and report an OracleMismatch, itself a PgverifyError)."""


def probe_implementation(*arguments: Any, **keywords: Any) -> Any:
    raise ImplementationReached


def until_implementation_reached(check: Callable[..., Any]) -> Callable[..., Any]:
    """``check(**arguments)``, returning as soon as the check calls the implementation: a bad
    option that gets that far was accepted."""

    def call(**arguments: Any) -> None:
        try:
            check(**arguments)
        except ImplementationReached:
            return

    return call


def bad_check_options(parameters: set[str], callable_name: str = "fn") -> dict[str, Any]:
    """Fuzz strategies for the keyword options of a check, by name."""
    options = {
        callable_name: junk().filter(lambda value: not callable(value)),
        "cases": st.one_of(
            junk().filter(lambda value: value is not None),
            st.sampled_from([[None], [3], ["case"], [{"not_a_parameter": 1}], [(1,)], [[]]]),
        ),
        "max_examples": bad_int(-1).filter(lambda value: value is not None),
        "seed": bad_int(),
        "gamma": bad_real(0.0, -0.5, 1.5).filter(lambda value: value is not None),
        "noise": bad_real(-1.0, 1.0).filter(lambda value: value is not None),  # 1.0: needs γ < 1
        "dtype": misspelt(
            "float33", "float128 ", "float16", np.float16, np.array(["float32"])
        ).filter(lambda value: value is not None),
        "database": st.sampled_from([1, 1.5, True, object(), [], {}, b"xy"]),
        "kind": misspelt("V0", "Reinforce", "Q", "GAE", "td ", np.array(["v0"]), ("v0",)),
        "activation": misspelt("Tanh", "softplus", np.array(["tanh"]), ("tanh",)),
        "batched": st.sampled_from([1, 0, "yes", None, np.array([True]), 1.0]),
        "samples": bad_int(1, 0, -1),
        "false_alarm": bad_real(0.0, 1.0, -0.5),
        "power": bad_real(0.0, 1.0, 1.5),
        "target": bad_vector(np.zeros(2), shapes=False),
    }
    return {name: options[name] for name in parameters}


def check_entries() -> dict[str, Entry]:
    valid_options = {
        "fn": probe_implementation,
        "cases": None,
        "max_examples": 0,
        "seed": 0,
        "gamma": None,
        "noise": None,
        "dtype": None,
        "database": None,
        "kind": "reinforce",
        "activation": "tanh",
        "batched": False,
    }
    entries = {}
    for name in pgverify.checks.__all__:
        check = getattr(pgverify.checks, name)
        if not name.startswith("check_") or name == "check_unbiased":
            continue
        parameters = parameter_names(check)
        valid = {key: valid_options[key] for key in parameters}
        if name == "check_zeroth_order_estimator":
            valid["kind"] = "gaussian"
        entries[f"pgverify.checks.{name}"] = Entry(
            until_implementation_reached(check), valid, bad_check_options(parameters)
        )
    unbiased = {
        "sample": probe_implementation,
        "target": np.zeros(2),
        "samples": 100,
        "seed": 0,
        "false_alarm": 1e-6,
        "power": 0.9,
    }
    entries["pgverify.checks.check_unbiased"] = Entry(
        until_implementation_reached(pgverify.checks.check_unbiased),
        unbiased,
        bad_check_options(set(unbiased), callable_name="sample"),
    )
    entries["pgverify.checks.set_profile"] = Entry(
        restoring_defaults(pgverify.checks.set_profile),
        {"name": "fast"},
        {"name": misspelt("Fast", "thorough ", np.array(["fast"]), ("fast",))},
        mentions={"name": "profile"},
    )
    entries["pgverify.checks.set_database"] = Entry(
        restoring_defaults(pgverify.checks.set_database),
        {"database": None},
        {"database": bad_check_options({"database"})["database"]},
    )
    return entries


def restoring_defaults(setter: Callable[..., Any]) -> Callable[..., Any]:
    """``setter(**arguments)``, then the global defaults of the checks as they were."""

    def call(**arguments: Any) -> None:
        saved = copy.copy(vars(CHECK_DEFAULTS))
        try:
            setter(**arguments)
        finally:
            vars(CHECK_DEFAULTS).update(saved)

    return call


# -- result records and their methods -----------------------------------------------------------


# -- pgverify.symbolic: the symbolic toolkit ------------------------------------------------------

SYMBOLIC_X = sympy.Symbol("x")


def bad_symbolic_matrix(rows: int, cols: int) -> st.SearchStrategy[Any]:
    """Not a sympy Matrix of shape (rows, cols): other shapes, numpy arrays, lists, junk (None
    is left out: it means "solve it" where a matrix is optional)."""
    return st.sampled_from(
        [
            sympy.zeros(rows + 1, cols),
            sympy.zeros(rows, cols + 1),
            sympy.zeros(cols + 2, rows),
            np.zeros((rows, cols)),
            [[0] * cols] * rows,
            *[junk for junk in JUNK_OBJECTS if junk is not None],
        ]
    )


def bad_symbolic_scalar() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [None, "abc", b"xy", True, object(), [1], float("nan"), float("inf"), sympy.I, {}]
    )


def bad_identifier() -> st.SearchStrategy[Any]:
    return st.sampled_from([None, 1, "1k", "k l", "", b"k", ["k"], True, object()])


def bad_policy_table(states: int, actions: int) -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [
            [[HALF] * actions] * (states + 1),
            [[1] * (actions + 1)] * states,
            [[None] * actions] * states,
            [["a"] * actions] * states,
            [[object()] * actions] * states,
            np.full((states, actions), HALF),
            *JUNK_OBJECTS,
        ]
    )


def symbolic_entries() -> dict[str, Entry]:
    sy = pgverify.symbolic
    lqr = sy.symbolic_lqr(2, 1, discounted=True, noisy=True)
    gain = lqr.gain()
    matrix_2x2, gain_fuzz = bad_symbolic_matrix(2, 2), bad_symbolic_matrix(1, 2)
    mdp = sy.symbolic_mdp(2, 2)
    policy = mdp.policy()
    values = sympy.Matrix([sympy.Symbol("V_1"), sympy.Symbol("V_2")])
    linear = sy.linear_gaussian_policy(2, 1)
    two_layer = sy.two_layer_gaussian_policy(1, 1, 1)
    softmax = sy.softmax_policy(2, 2)
    x, u = sympy.Matrix(sympy.symbols("x_1 x_2")), sympy.Matrix([sympy.Symbol("u_1")])
    sizes = bad_int(0, -1)
    flag = bad_flag().filter(lambda value: value is not None)
    lqr_name, mdp_name = "pgverify.symbolic.SymbolicLQR", "pgverify.symbolic.SymbolicMDP"

    def on_gain(method: str, **extra: st.SearchStrategy[Any]) -> Entry:
        defaults = {name: None for name in extra}
        return Entry(
            lambda K, **rest: getattr(lqr, method)(K, **rest),
            {"K": gain, **defaults},
            {"K": gain_fuzz, **extra},
        )

    def on_policy(method: str) -> Entry:
        return Entry(
            lambda policy: getattr(mdp, method)(policy),
            {"policy": policy},
            {"policy": bad_policy_table(2, 2)},
        )

    def no_arguments(call: Callable[[], Any]) -> Entry:
        return Entry(call, {}, {})

    entries = {
        "pgverify.symbolic.available": no_arguments(sy.available),
        "pgverify.symbolic.derive": Entry(
            lambda name, sizes: sy.derive(name, **sizes),
            {"name": "score-linear", "sizes": {"n": 1, "m": 1}},
            {
                "name": misspelt("score_linear", "Score-linear"),
                "sizes": st.sampled_from([{"n": 0}, {"n": 1.5}, {"q": 1}, {"n": "2"}, {"m": True}]),
            },
            mentions={"name": "derivation", "sizes": "size"},
        ),
        "pgverify.symbolic.Derivation.to_text": Entry(
            lambda with_time: sy.prove(SYMBOLIC_X, SYMBOLIC_X, {SYMBOLIC_X: "real"}).to_text(
                with_time=with_time
            ),
            {"with_time": True},
            {"with_time": flag},
        ),
        "pgverify.symbolic.Derivation.to_latex": no_arguments(
            lambda: sy.prove(SYMBOLIC_X, SYMBOLIC_X, {SYMBOLIC_X: "real"}).to_latex()
        ),
        "pgverify.symbolic.prove": Entry(
            sy.prove,
            {
                "lhs": SYMBOLIC_X**2 - 1,
                "rhs": (SYMBOLIC_X - 1) * (SYMBOLIC_X + 1),
                "assumptions": {SYMBOLIC_X: "real"},
                "name": "difference-of-squares",
                "statement": None,
                "source": "",
                "trials": 2,
                "seed": 0,
            },
            {
                "lhs": bad_symbolic_scalar(),
                "rhs": st.one_of(bad_symbolic_scalar(), st.just(sympy.Matrix([SYMBOLIC_X]))),
                "assumptions": st.sampled_from(
                    [*JUNK_OBJECTS, {SYMBOLIC_X: "stable"}, [{SYMBOLIC_X: "Real"}], "real", {}]
                ),
                "name": junk("").filter(lambda value: not isinstance(value, str)),
                "statement": st.sampled_from([1, b"xy", True, object(), ["a"]]),
                "source": junk().filter(lambda value: not isinstance(value, str)),
                "trials": bad_int(0, -1),
                "seed": bad_int(),
            },
            mentions={"assumptions": "assumption"},
        ),
        "pgverify.symbolic.assume": Entry(
            sy.assume,
            {"target": SYMBOLIC_X, "kind": "positive"},
            {
                "target": st.sampled_from([*JUNK_OBJECTS, [SYMBOLIC_X + 1], sympy.Matrix([2])]),
                "kind": misspelt("Positive", "positive-definite", "stable"),
            },
        ),
        "pgverify.symbolic.symbolic_lqr": Entry(
            sy.symbolic_lqr,
            {"n": 1, "m": 1, "discounted": True, "noisy": True},
            {"n": sizes, "m": sizes, "discounted": flag, "noisy": flag},
        ),
        "pgverify.symbolic.symbolic_mdp": Entry(
            sy.symbolic_mdp, {"states": 2, "actions": 1}, {"states": sizes, "actions": sizes}
        ),
        "pgverify.symbolic.linear_gaussian_policy": Entry(
            sy.linear_gaussian_policy, {"n": 1, "m": 1}, {"n": sizes, "m": sizes}
        ),
        "pgverify.symbolic.two_layer_gaussian_policy": Entry(
            sy.two_layer_gaussian_policy,
            {"n": 1, "m": 1, "hidden": 1, "activation": "tanh"},
            {
                "n": sizes,
                "m": sizes,
                "hidden": sizes,
                "activation": misspelt("relu", "Tanh"),
            },
        ),
        "pgverify.symbolic.softmax_policy": Entry(
            sy.softmax_policy, {"states": 1, "actions": 2}, {"states": sizes, "actions": sizes}
        ),
        f"{lqr_name}.gain": Entry(lqr.gain, {"name": "k"}, {"name": bad_identifier()}),
        f"{lqr_name}.closed_loop": on_gain("closed_loop"),
        f"{lqr_name}.value_matrix": on_gain("value_matrix"),
        f"{lqr_name}.state_covariance": on_gain("state_covariance"),
        f"{lqr_name}.cost": on_gain("cost", P=matrix_2x2),
        f"{lqr_name}.curvature": on_gain("curvature", P=matrix_2x2),
        f"{lqr_name}.E": on_gain("E", P=matrix_2x2),
        f"{lqr_name}.gradient": on_gain("gradient", P=matrix_2x2, Sigma=matrix_2x2),
        f"{lqr_name}.value_recursion": Entry(
            lqr.value_recursion,
            {"K": gain, "P": sympy.eye(2)},
            {"K": gain_fuzz, "P": matrix_2x2},
        ),
        f"{lqr_name}.moment_recursion": Entry(
            lqr.moment_recursion,
            {"K": gain, "Sigma": sympy.eye(2)},
            {"K": gain_fuzz, "Sigma": matrix_2x2},
        ),
        f"{lqr_name}.effective_initial_covariance": no_arguments(lqr.effective_initial_covariance),
        f"{lqr_name}.q_function": Entry(
            lqr.q_function,
            {"x": x, "u": u, "P": sympy.eye(2), "constant": 0},
            {
                "x": bad_symbolic_matrix(2, 1),
                "u": bad_symbolic_matrix(1, 1),
                "P": matrix_2x2,
                "constant": bad_symbolic_scalar(),
            },
        ),
        f"{lqr_name}.domain": Entry(
            lambda gains, P, Sigma: lqr.domain(*gains, P=P, Sigma=Sigma),
            {"gains": (gain,), "P": None, "Sigma": None},
            {
                "gains": st.sampled_from(
                    [(), (gain, gain, gain), (None,), (sympy.zeros(2, 1),), (lqr.B.T,)]
                ),
                "P": st.sampled_from([sympy.eye(2), sympy.zeros(3, 3), "P", np.eye(2)]),
                "Sigma": st.sampled_from([sympy.eye(2), sympy.zeros(1, 1), 1.0]),
            },
            mentions={"gains": "gain"},
        ),
        f"{mdp_name}.policy": Entry(mdp.policy, {"name": "pi"}, {"name": bad_identifier()}),
        f"{mdp_name}.transition_matrix": on_policy("transition_matrix"),
        f"{mdp_name}.expected_cost": on_policy("expected_cost"),
        f"{mdp_name}.resolvent": on_policy("resolvent"),
        f"{mdp_name}.values": on_policy("values"),
        f"{mdp_name}.visitation": on_policy("visitation"),
        f"{mdp_name}.cost_of": on_policy("cost_of"),
        f"{mdp_name}.q_values": Entry(
            mdp.q_values,
            {"policy": policy, "values": values},
            {"policy": bad_policy_table(2, 2), "values": bad_symbolic_matrix(2, 1)},
        ),
        f"{mdp_name}.advantages": Entry(
            mdp.advantages,
            {"policy": policy, "values": values},
            {"policy": bad_policy_table(2, 2), "values": bad_symbolic_matrix(2, 1)},
        ),
        f"{mdp_name}.domain": Entry(
            lambda policies: mdp.domain(*policies),
            {"policies": (policy,)},
            {
                "policies": st.sampled_from(
                    [([[HALF, HALF], [1, 0]],), (None,), ([[1, 0, 0]] * 2,), ("pi",)]
                )
            },
            mentions={"policies": "polic"},
        ),
        "pgverify.symbolic.LinearGaussianPolicy.log_density": no_arguments(linear.log_density),
        "pgverify.symbolic.LinearGaussianPolicy.score": no_arguments(linear.score),
        "pgverify.symbolic.LinearGaussianPolicy.fisher": Entry(
            linear.fisher, {"moment": sympy.eye(2)}, {"moment": matrix_2x2}
        ),
        "pgverify.symbolic.LinearGaussianPolicy.domain": no_arguments(linear.domain),
        "pgverify.symbolic.SoftmaxPolicy.probabilities": no_arguments(softmax.probabilities),
        "pgverify.symbolic.SoftmaxPolicy.score": Entry(
            softmax.score,
            {"state": 0, "action": 1},
            {"state": bad_int(-1, 2, 5), "action": bad_int(-1, 2)},
        ),
        "pgverify.symbolic.SoftmaxPolicy.fisher": Entry(
            softmax.fisher,
            {"state_weights": [HALF, HALF]},
            {
                "state_weights": st.sampled_from(
                    [[1], [1, 1, 1], [None, 1], ["a", 1], [object(), 1], *JUNK_OBJECTS]
                )
            },
        ),
        "pgverify.symbolic.SoftmaxPolicy.domain": no_arguments(softmax.domain),
    }
    for method in ("features", "mean", "log_density", "score", "parameters", "fisher", "domain"):
        entries[f"pgverify.symbolic.TwoLayerGaussianPolicy.{method}"] = no_arguments(
            getattr(two_layer, method)
        )
    return entries


def record_entries(public: dict[str, Any]) -> dict[str, Entry]:
    """The result records (dataclasses the library returns) are not fuzzed: their constructors
    do not validate, by design; their methods are, on a record the library built."""
    entries = {}
    for name, value in public.items():
        if inspect.isclass(value) and dataclasses.is_dataclass(value):
            entries[name] = Entry(
                lambda: None,
                {},
                {},
                exempt={
                    parameter: "a field of a result record the library builds"
                    for parameter in parameter_names(value)
                },
            )
    return entries


@cache
def lqr_routes() -> Any:
    return pgverify.trpo.lqr_natural_gradient_three_ways(PROBLEM, K, digits=20)


@cache
def softmax_routes() -> Any:
    return pgverify.trpo.softmax_natural_gradient_three_ways(MDP, LOGITS, digits=20)


@cache
def iteration_run() -> Any:
    return pgverify.lqr.iterations.run_iterations(PROBLEM, "pi", K, steps=1, precision="certified")


def record_method_entries() -> dict[str, Entry]:
    return {
        "pgverify.trpo.NaturalGradientRoutes.largest_relative_gap": Entry(
            lambda: lqr_routes().largest_relative_gap(), {}, {}
        ),
        "pgverify.trpo.SoftmaxNaturalGradientRoutes.largest_relative_gap": Entry(
            lambda: softmax_routes().largest_relative_gap(), {}, {}
        ),
        "pgverify.expectation.Expectation.mean_float": Entry(
            lambda: pgverify.expectation.mdp_expectation(
                MDP, POLICY, 1, lambda states, actions, costs: costs.sum()
            ).mean_float(),
            {},
            {},
        ),
        "pgverify.lqr.iterations.TheoremConstants.noiseless_cost": Entry(
            lambda cost: theorem_constants().noiseless_cost(cost),
            {"cost": 10.0},
            {"cost": bad_real()},
        ),
        "pgverify.lqr.iterations.IterationRun.certified_gaps": Entry(
            lambda: iteration_run().certified_gaps(), {}, {}
        ),
        "pgverify.lqr.iterations.IterationRun.bound_curve": Entry(
            lambda: iteration_run().bound_curve(), {}, {}
        ),
        "pgverify.lqr.iterations.DestabilisingStep.describe": Entry(
            lambda: pgverify.lqr.iterations.find_destabilising_step(
                PROBLEM, "pg", K, precision="float"
            ).describe(),
            {},
            {},
        ),
        "pgverify.checks.Comparison.report": Entry(
            lambda: pgverify.assert_close(K, K).report(), {}, {}
        ),
    }


KNOWN_GAPS: dict[str, str] = {}
"""``"name:argument"`` cases that still fail, with the reason; run as strict xfails, so fixing
one makes the suite say so (then delete its line)."""


# ------------------------------------------------------------------------------------------------
# Enumerating the public API
# ------------------------------------------------------------------------------------------------


def public_callables() -> dict[str, Any]:
    """Every public callable by its qualified name: the functions and classes in ``__all__`` of
    pgverify.mdp (with its submodule trpo), pgverify, pgverify.strategies, pgverify.lqr.iterations
    and pgverify.lqr.lspi (which have no ``__all__``: their functions), pgverify.estimators,
    pgverify.trpo, pgverify.expectation, pgverify.checks and pgverify.symbolic, and the public
    methods of each class; exceptions excluded."""
    found: dict[str, Any] = {}
    seen: set[int] = set()

    def visit(module: ModuleType, prefix: str) -> None:
        names = getattr(module, "__all__", None)
        if names is None:
            names = [
                name
                for name, value in vars(module).items()
                if not name.startswith("_")
                and callable(value)
                and getattr(value, "__module__", None) == module.__name__
            ]
        for name in names:
            value = getattr(module, name)
            qualified = f"{prefix}.{name}"
            if isinstance(value, ModuleType):
                visit(value, qualified)
                continue
            if not callable(value) or id(value) in seen:
                continue
            seen.add(id(value))
            if inspect.isclass(value):
                if issubclass(value, BaseException):
                    continue
                for attribute, member in vars(value).items():
                    if not attribute.startswith("_") and (
                        inspect.isfunction(member)
                        or isinstance(member, (classmethod, staticmethod))
                    ):
                        found[f"{qualified}.{attribute}"] = getattr(value, attribute)
            found[qualified] = value

    visit(pgverify.mdp, "pgverify.mdp")
    visit(pgverify, "pgverify")
    visit(pgverify.strategies, "pgverify.strategies")
    visit(pgverify.estimators, "pgverify.estimators")
    visit(pgverify.trpo, "pgverify.trpo")
    visit(pgverify.expectation, "pgverify.expectation")
    visit(pgverify.lqr.iterations, "pgverify.lqr.iterations")
    visit(pgverify.lqr.lspi, "pgverify.lqr.lspi")
    visit(pgverify.checks, "pgverify.checks")
    visit(pgverify.symbolic, "pgverify.symbolic")
    return found


def parameter_names(function: Any) -> set[str]:
    return {name for name in inspect.signature(function).parameters if name not in ("self", "cls")}


REGISTRY: dict[str, Entry] = {
    **lqr_entries(),
    **comparison_entries(),
    **certified_entries(),
    **mdp_entries(),
    **strategy_entries(),
    **estimator_entries(),
    **policy_gradient_entries(),
    **trpo_entries(),
    **expectation_entries(),
    **critic_entries(),
    **iteration_entries(),
    **lspi_entries(),
    **check_entries(),
    **symbolic_entries(),
    **record_entries(public_callables()),
    **record_method_entries(),
}


def test_every_public_callable_and_parameter_has_a_fuzz_entry():
    public = public_callables()
    assert sorted(set(public) - set(REGISTRY)) == [], "public callables without a fuzz entry"
    assert sorted(set(REGISTRY) - set(public)) == [], "fuzz entries of no public callable"
    for name, function in public.items():
        assert REGISTRY[name].parameters() == parameter_names(function), name


def refusal_of_valid_arguments(name: str, entry: Entry, data: Any) -> str | None:
    """Call ``entry`` with its valid arguments (drawing from the strategy it returns, for the
    strategy builders): None when that call succeeds, else what it raised, naming the entry."""
    try:
        result = entry.call(**entry.valid)
        if entry.draws:
            data.draw(result)
    except Exception as error:
        return f"{name} refused its valid arguments: {type(error).__name__}: {error}"
    return None


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=1)
@given(data=st.data())
def test_every_fuzz_entry_succeeds_with_its_valid_arguments(name, data):
    """The control: a malformed value, not a broken valid argument, causes each error below."""
    refusal = refusal_of_valid_arguments(name, REGISTRY[name], data)
    assert refusal is None, refusal


def test_the_valid_argument_control_fails_on_an_entry_whose_valid_arguments_are_refused():
    entry = Entry(call=pgverify.LQR, valid={"A": [[1.0]], "B": [[1.0]], "Q": [[-1.0]]}, fuzz={})
    refusal = refusal_of_valid_arguments("LQR with Q = -1", entry, data=None)
    assert refusal is not None and "refused its valid arguments" in refusal


def fuzz_cases() -> list[Any]:
    cases = []
    for name, entry in REGISTRY.items():
        for argument in entry.fuzz:
            key = f"{name}:{argument}"
            marks = (
                [pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[key])]
                if key in KNOWN_GAPS
                else []
            )
            cases.append(pytest.param(name, argument, id=key, marks=marks))
    return cases


@pytest.mark.parametrize(("name", "argument"), fuzz_cases())
@settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])  # a bad value needs no shrinking
@given(data=st.data())
def test_malformed_input_raises_a_pgverify_error_naming_the_argument(name, argument, data):
    entry = REGISTRY[name]
    bad = data.draw(entry.fuzz[argument], label=argument)
    with pytest.raises(PgverifyError) as info:
        result = entry.call(**{**entry.valid, argument: bad})
        if entry.draws:
            data.draw(result)
    assert entry.mentions.get(argument, argument) in str(info.value)


# ------------------------------------------------------------------------------------------------
# Regressions of gaps found by this fuzz test
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["contains", "overlaps"])
def test_an_enclosure_refuses_a_bool_inside_a_nested_list(method):
    with pytest.raises(PgverifyError):
        getattr(certified_matrix(), method)([[0.6, 0.1, 0.0], [0.0, True, 0.1]])


def test_a_check_that_calls_the_implementation_with_a_bad_option_is_caught():
    """The harness of the checks' entries: a check that does not refuse a bad option up front
    reaches the implementation, and the call then returns instead of raising (the fuzz test
    reports it)."""

    def lax_check(fn: Callable[..., Any], *, seed: Any = 0) -> None:
        fn()

    assert until_implementation_reached(lax_check)(fn=probe_implementation, seed="junk") is None
    with pytest.raises(PgverifyError):
        until_implementation_reached(pgverify.checks.check_gae)(fn=probe_implementation, seed="x")
