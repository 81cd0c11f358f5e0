"""Checks of returns, TD residuals, GAE and λ-returns (costs minimised; docs/checks.md, section
"Returns and advantages"), and the statistical check of a black-box estimator.

Canonical signatures (numpy arrays of shape (T,) in, one segment of T transitions; flags are bool
arrays; step t carries a flag when the episode ended *at* t):

* ``check_discounted_returns(fn)``: ``fn(costs, dones, gamma) -> G`` (T,),
  ``G_t = c_t + γ (1 − dones_t) G_{t+1}`` backwards from ``G_{T−1} = c_{T−1}``;
* ``check_td_residuals(fn)``: ``fn(costs, values, next_values, terminated, gamma) -> δ`` (T,),
  ``δ_t = c_t + γ (1 − terminated_t) next_values_t − values_t``;
* ``check_gae(fn)``: ``fn(costs, values, next_values, terminated, truncated, gamma, lam) -> A``,
  ``A_t = δ_t + γλ (1 − done_t) A_{t+1}``, ``done = terminated | truncated`` (TorchRL's
  semantics: a truncation bootstraps from ``next_values`` but no trace crosses it);
* ``check_lambda_returns(fn)``: the same arguments ``-> A + values`` (the value targets).

Every generated segment is consistent: ``next_values[t] == values[t+1]`` whenever step t ends no
episode, so an implementation that reads ``values[t+1]`` inside an episode is judged fairly.
The reference is exact: the recursion in rational arithmetic on the float64 inputs (tier exact).
An implementation may round: the tolerance budget is that of the float reference's documented
bound, ``(3L + 4) u M_t`` with ``M_t = Σ_k (γλ)^{k−t} (|c_k| + γ|V′_k| + |V_k|) + |V_t|``
(:mod:`pgverify.estimators.returns`), as the scale of the tolerance policy (L ≤ 12 < SAFETY/3).

References: Schulman, Moritz, Levine, Jordan, Abbeel, "High-Dimensional Continuous Control Using
Generalized Advantage Estimation", ICLR 2016 (eqs. 10-16); Sutton & Barto, "Reinforcement
Learning: An Introduction", 2nd ed. 2018 (eqs. 3.9, 6.5, 12.2).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from pgverify.checks._driver import document_options, run_check
from pgverify.checks._report import CheckReport
from pgverify.checks._slips import Slip
from pgverify.checks._spec import CheckSpec, Expected
from pgverify.errors import InvalidProblemError, OracleMismatch
from pgverify.estimators import gae as reference_gae
from pgverify.expectation import statistical_test
from pgverify.expectation.statistical import read_target, validate_test_options

MAX_STEPS = 12
FLAG_PARAMETERS = ("dones", "terminated", "truncated")

# --------------------------------------------------------------------------------------------
# One recursion for the four quantities, with every catalogued slip as a switch
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """How the backward recursion is computed: the right way (all defaults) or with one slip."""

    cut_at_ends: bool = True  # False: the trace crosses every episode end
    bootstrap_terminal: bool = False  # True: bootstrap through a terminal step
    truncation_terminates: bool = False  # True: no bootstrap at a truncation
    trace_across_truncation: bool = False  # True: only a termination cuts the trace
    values_for_next: bool = False  # True: reads values[t+1] (not next_values[t]) when t < T−1
    trace_gamma_only: bool = False  # True: the trace decays by γ, not γλ
    trace_lambda_only: bool = False  # True: the trace decays by λ, not γλ
    undiscounted_bootstrap: bool = False  # True: δ_t = c_t + V(x_{t+1}) − V(x_t), no γ
    flags_shifted: bool = False  # True: the flags of step t+1 read at step t
    forward: bool = False  # True: a forward recursion (sums over the past)
    cost_sign: int = 1  # −1: the costs negated (rewards r = −c read as costs)
    ignore_gamma: bool = False  # True: γ = 1 throughout (bootstrap and trace)
    add_values: bool = False  # λ-returns: A + values


@dataclass
class SegmentContext:
    """One case: the segment as floats, its flags, γ, λ, and the check's variant."""

    costs: np.ndarray
    values: np.ndarray
    next_values: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    gamma: float
    lam: float
    variant: Variant = field(default_factory=Variant)

    @property
    def steps(self) -> int:
        return len(self.costs)

    def recursion(self, exact: bool, **slip: Any) -> list[Any]:
        """The recursion in Fractions (``exact``) or float64, with the variant and the slip."""
        variant = replace(self.variant, **slip)
        number: Callable[[float], Any] = Fraction if exact else float
        gamma, lam = number(1 if variant.ignore_gamma else self.gamma), number(self.lam)
        steps = self.steps
        terminated, truncated = list(self.terminated), list(self.truncated)
        if variant.flags_shifted:
            terminated = [*terminated[1:], False]
            truncated = [*truncated[1:], False]
        deltas = []
        for t in range(steps):
            terminal = terminated[t] and not variant.bootstrap_terminal
            no_bootstrap = terminal or (truncated[t] and variant.truncation_terminates)
            following = (
                self.values[t + 1]
                if variant.values_for_next and t + 1 < steps
                else self.next_values[t]
            )
            weight = number(1) if variant.undiscounted_bootstrap else gamma
            bootstrap = 0 if no_bootstrap else weight * number(following)
            deltas.append(
                variant.cost_sign * number(self.costs[t]) + bootstrap - number(self.values[t])
            )
        cut = [
            variant.cut_at_ends
            and (terminated[t] or (truncated[t] and not variant.trace_across_truncation))
            for t in range(steps)
        ]
        decay = (
            gamma if variant.trace_gamma_only else lam if variant.trace_lambda_only else gamma * lam
        )
        result = [None] * steps
        if variant.forward:
            for t in range(steps):
                carry = result[t - 1] if t > 0 and not cut[t - 1] else 0
                result[t] = deltas[t] + decay * carry
        else:
            for t in reversed(range(steps)):
                carry = result[t + 1] if t + 1 < steps and not cut[t] else 0
                result[t] = deltas[t] + decay * carry
        if variant.add_values:
            result = [a + number(v) for a, v in zip(result, self.values, strict=True)]
        return result

    def exact(self) -> list[Fraction]:
        return self.recursion(exact=True)

    def slipped(self, **slip: Any) -> np.ndarray:
        return np.array(self.recursion(exact=False, **slip), dtype=float)

    def magnitude(self) -> float:
        """``max_t M_t`` of the documented rounding bound (the tolerance's scale)."""
        weights = np.abs(self.costs) + self.gamma * np.abs(self.next_values) + np.abs(self.values)
        positive = replace(self.variant, add_values=False)
        scratch = SegmentContext(
            weights,
            np.zeros(self.steps),
            np.zeros(self.steps),
            self.terminated,
            self.truncated,
            self.gamma,
            self.lam,
            positive,
        )
        sums = np.array(scratch.recursion(exact=False), dtype=float)
        return float(np.max(sums + np.abs(self.values), initial=0.0))


@dataclass
class BatchContext:
    """A (B, T) batch: B independent segments of T steps (one per row; nothing crosses rows), the
    same γ and λ for all."""

    rows: list[SegmentContext]

    def exact(self) -> list[list[Fraction]]:
        return [row.exact() for row in self.rows]

    def slipped(self, **slip: Any) -> np.ndarray:
        return np.stack([row.slipped(**slip) for row in self.rows])

    def magnitude(self) -> float:
        return max(row.magnitude() for row in self.rows)

    def _fields(self) -> dict[str, np.ndarray]:
        names = ("costs", "values", "next_values", "terminated", "truncated")
        return {name: np.stack([getattr(row, name) for row in self.rows]) for name in names}

    def flattened(self, **slip: Any) -> np.ndarray:
        """The recursion over the row-major flattened batch as one segment (the row-mixing slip:
        the last step of row b carries the trace of row b+1's first step), reshaped (B, T)."""
        fields = self._fields()
        shape = fields["costs"].shape
        first = self.rows[0]
        joined = SegmentContext(
            **{name: value.reshape(-1) for name, value in fields.items()},
            gamma=first.gamma,
            lam=first.lam,
            variant=first.variant,
        )
        return joined.slipped(**slip).reshape(shape)

    def across_rows(self) -> np.ndarray:
        """The right recursion, except that the last step of row b bootstraps from the next
        row's first value ``values[b+1, 0]`` (a ``values[t+1]`` read on the flattened batch)."""
        rows = [
            replace(
                row,
                next_values=np.concatenate([row.next_values[:-1], following.values[:1]]),
            )
            for row, following in zip(self.rows[:-1], self.rows[1:], strict=True)
        ]
        return np.stack([row.slipped() for row in [*rows, self.rows[-1]]])

    def along_batch(self) -> np.ndarray:
        """The recursion run down each column (over the batch axis), as if (B, T) were (T, B)."""
        fields = self._fields()
        first = self.rows[0]
        columns = [
            SegmentContext(
                **{name: value[:, j] for name, value in fields.items()},
                gamma=first.gamma,
                lam=first.lam,
                variant=first.variant,
            ).slipped()
            for j in range(fields["costs"].shape[1])
        ]
        return np.stack(columns, axis=1)

    @property
    def several_rows(self) -> bool:
        return len(self.rows) > 1


def _batched(context: Any) -> bool:
    return isinstance(context, BatchContext) and context.several_rows


# --------------------------------------------------------------------------------------------
# Generated segments
# --------------------------------------------------------------------------------------------

GAMMAS = (0.5, 0.9, 0.95, 0.99, 1.0, 0.75)
LAMBDAS = (0.0, 0.5, 0.9, 0.95, 1.0, 0.25)

# dyadic numbers k/8: exact in float32 too, so a float32 implementation reads the same inputs
_numbers = st.integers(-80, 80).map(lambda k: k / 8.0)


@st.composite
def _segments(draw: Any) -> dict[str, Any]:
    steps = draw(st.integers(1, MAX_STEPS))
    # 0: the episode goes on, 1: terminated, 2: truncated
    kinds = draw(st.lists(st.sampled_from((0, 0, 0, 1, 2)), min_size=steps, max_size=steps))
    values = np.array(draw(st.lists(_numbers, min_size=steps, max_size=steps)))
    independent = np.array(draw(st.lists(_numbers, min_size=steps, max_size=steps)))
    return _consistent(
        np.array(draw(st.lists(_numbers, min_size=steps, max_size=steps))),
        values,
        independent,
        np.array(kinds),
        draw(st.sampled_from(GAMMAS)),
        draw(st.sampled_from(LAMBDAS)),
    )


def _consistent(
    costs: np.ndarray,
    values: np.ndarray,
    independent: np.ndarray,
    kinds: np.ndarray,
    gamma: float,
    lam: float,
) -> dict[str, Any]:
    """A segment whose next_values equal values[t+1] inside episodes; at an episode's end and
    at the segment's end, the value of an independent next state (a placeholder at a
    termination, which a right implementation does not read)."""
    steps = len(costs)
    terminated, truncated = kinds == 1, kinds == 2
    ends = terminated | truncated
    next_values = independent.astype(float).copy()
    inside = ~ends[:-1]
    next_values[:-1][inside] = values[1:][inside]
    return {
        "costs": costs.astype(float),
        "values": values.astype(float),
        "next_values": next_values,
        "terminated": terminated,
        "truncated": truncated,
        "dones": ends.copy(),
        "gamma": float(gamma),
        "lam": float(lam),
        "_steps": steps,
    }


def _fixed_segments() -> list[tuple[str, dict[str, Any]]]:
    costs = np.array([1.0, -2.0, 3.0, 0.5, -1.5, 2.0, 1.0, 4.0])
    values = np.array([0.5, 1.5, -1.0, 2.0, 0.25, -0.75, 1.25, 3.0])
    independent = np.array([7.0, -5.0, 6.0, -4.0, 9.0, -3.0, 5.0, -6.0])
    return [
        (
            "a termination at step 2 and a truncation at step 5, the last episode open",
            _consistent(costs, values, independent, np.array([0, 0, 1, 0, 0, 2, 0, 0]), 0.9, 0.8),
        ),
        (
            "a truncation at step 1, a termination at step 4, γ = 0.5, λ = 0.5",
            _consistent(costs, values, independent, np.array([0, 2, 0, 0, 1, 0, 0, 2]), 0.5, 0.5),
        ),
        (
            "one episode, terminated at its last step, γ = λ = 1",
            _consistent(costs[:5], values[:5], independent[:5], np.array([0, 0, 0, 0, 1]), 1, 1),
        ),
    ]


MAX_ROWS = 4


def _stack(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Segments of one length (and one γ, λ) as the rows of a (B, T) batch."""
    stacked = {
        name: np.stack([row[name] for row in rows])
        for name in ("costs", "values", "next_values", "terminated", "truncated", "dones")
    }
    return {**stacked, "gamma": rows[0]["gamma"], "lam": rows[0]["lam"]}


@st.composite
def _batches(draw: Any) -> dict[str, Any]:
    steps = draw(st.integers(1, MAX_STEPS // 2))
    count = draw(st.integers(1, MAX_ROWS))
    gamma, lam = draw(st.sampled_from(GAMMAS)), draw(st.sampled_from(LAMBDAS))

    def row() -> dict[str, Any]:
        def numbers() -> np.ndarray:
            return np.array(draw(st.lists(_numbers, min_size=steps, max_size=steps)))

        kinds = draw(st.lists(st.sampled_from((0, 0, 0, 1, 2)), min_size=steps, max_size=steps))
        return _consistent(numbers(), numbers(), numbers(), np.array(kinds), gamma, lam)

    return _stack([row() for _ in range(count)])


def _fixed_batches() -> list[tuple[str, dict[str, Any]]]:
    costs = np.array([1.0, -2.0, 3.0, 0.5, -1.5, 2.0])
    values = np.array([0.5, 1.5, -1.0, 2.0, 0.25, -0.75])
    independent = np.array([7.0, -5.0, 6.0, -4.0, 9.0, -3.0])

    def rows(kinds: list[list[int]], gamma: float, lam: float, shift: int = 0) -> dict[str, Any]:
        return _stack(
            [
                _consistent(
                    np.roll(costs, shift * b)[: len(k)],
                    np.roll(values, -shift * b)[: len(k)],
                    np.roll(independent, b)[: len(k)],
                    np.array(k),
                    gamma,
                    lam,
                )
                for b, k in enumerate(kinds)
            ]
        )

    return [
        (
            "a batch of 2 rows, episodes open at both rows' ends, a termination and a truncation",
            rows([[0, 0, 1, 0, 0, 0], [0, 2, 0, 0, 0, 0]], 0.9, 0.8, shift=1),
        ),
        (
            "a batch of 3 rows of 3 steps, γ = 0.5, λ = 1, one termination",
            rows([[0, 0, 0], [0, 1, 0], [0, 0, 0]], 0.5, 1.0, shift=2),
        ),
    ]


# --------------------------------------------------------------------------------------------
# The specs
# --------------------------------------------------------------------------------------------


def _slip(description: str, **switches: Any) -> Slip:
    return Slip(description, lambda c: c.slipped(**switches))


NO_CUT = _slip(
    "the recursion not cut at episode ends (a return crosses into the next episode)",
    cut_at_ends=False,
)
SHIFTED = _slip(
    "the flags read one step late (done[t+1] used at step t: off-by-one dones)", flags_shifted=True
)
FORWARD = _slip("a forward recursion (sums over past steps instead of future ones)", forward=True)
COST_SIGN = _slip(
    "the computation with the costs negated (rewards r = −c read in their place)", cost_sign=-1
)
BOOTSTRAP_TERMINAL = _slip(
    "a bootstrap γ·next_values[t] through a terminal step", bootstrap_terminal=True
)
TRUNCATION_TERMINATES = _slip(
    "a truncation treated as a termination (no bootstrap from next_values at a time-limit cut)",
    truncation_terminates=True,
)
TRACE_ACROSS_TRUNCATION = _slip(
    "the trace carried across a truncation (only terminations cut it)", trace_across_truncation=True
)
VALUES_FOR_NEXT = _slip(
    "a bootstrap from values[t+1] (the next episode's first state) in place "
    "of next_values[t] at an episode's end",
    values_for_next=True,
)
GAMMA_TRACE = _slip("a trace decaying by γ instead of γλ", trace_gamma_only=True)
LAMBDA_TRACE = _slip("a trace decaying by λ instead of γλ", trace_lambda_only=True)
IGNORED_GAMMA = _slip(
    "the computation with γ = 1 throughout (γ ignored: undiscounted bootstrap and a trace "
    "decaying by λ alone)",
    ignore_gamma=True,
)
UNDISCOUNTED_BOOTSTRAP = _slip(
    "γ missing from the bootstrap (δ_t = c_t + V(x_{t+1}) − V(x_t))", undiscounted_bootstrap=True
)


ROWS_JOINED = Slip(
    "the batch flattened into one segment: the trace of row b+1's first step carried into the "
    "last step of row b (each row is an independent segment)",
    lambda c: c.flattened(),
    _batched,
)
ROWS_VALUES = Slip(
    "a bootstrap across rows: the last step of row b reads values[b+1, 0] (the flattened "
    "batch's values[t+1]) in place of next_values[b, T−1]",
    lambda c: c.across_rows(),
    _batched,
)
ALONG_BATCH = Slip(
    "the recursion run over the batch axis (axis 0) instead of time (axis 1): a (B, T) batch "
    "read as time-major (T, B)",
    lambda c: c.along_batch(),
    _batched,
)


class _SegmentSpec(CheckSpec):
    scalar_parameters = ("gamma", "lam")
    variant = Variant()
    uses_lambda = True
    flags: tuple[str, ...] = ("terminated", "truncated")

    labels: tuple[str, ...] = ("T",)

    @property
    def axes(self) -> Mapping[str, tuple[str, ...]]:  # type: ignore[override]
        return {name: self.labels for name in self.parameters if name not in self.scalar_parameters}

    def reductions(self, arguments: Mapping[str, Any]) -> Any:
        """A step (or, for a batch, a row) deleted; the labels follow the case's shape."""
        self.labels = ("B", "T") if np.ndim(arguments["costs"]) == 2 else ("T",)
        yield from super().reductions(arguments)

    def validate_options(self, options: dict[str, Any]) -> dict[str, Any]:
        batched = options.get("batched", False)
        if not isinstance(batched, (bool, np.bool_)):
            raise InvalidProblemError(
                f"batched must be True (feed (B, T) batches) or False (one (T,) segment), got "
                f"{batched!r}"
            )
        return {**options, "batched": bool(batched)}

    def arguments_from(self, case: Any, index: int) -> dict[str, Any]:
        arguments = super().arguments_from(case, index)
        for name in FLAG_PARAMETERS:
            if name in arguments:
                flags = arguments[name]
                if not np.all((flags == 0) | (flags == 1)):
                    raise InvalidProblemError(
                        f"cases[{index}][{name!r}] must hold bools or 0/1, got {flags!r}"
                    )
                arguments[name] = flags.astype(bool)
        return arguments

    def regression_cases(self, options: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        fixed = _fixed_batches() if options["batched"] else _fixed_segments()
        return [(label, self._keep(arguments)) for label, arguments in fixed]

    def strategy(self, options: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        return (_batches() if options["batched"] else _segments()).map(self._keep)

    def notes(self, options: Mapping[str, Any]) -> tuple[str, ...]:
        if options["batched"]:
            return ("fed (B, T) batches: B independent segments of T steps, time last",)
        return ()

    def _keep(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {name: arguments[name] for name in self.parameters}

    def _segment(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments in the full (GAE) form."""
        return dict(arguments)

    def prepare(
        self, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> SegmentContext | BatchContext:
        full = self._segment(arguments)
        shape = np.shape(full["costs"])
        if options["batched"]:
            if len(shape) != 2 or 0 in shape:
                raise InvalidProblemError(
                    f"costs must be a non-empty (B, T) array with batched=True (B segments of T "
                    f"steps, time last), got shape {shape}"
                )
        elif len(shape) != 1 or shape[0] < 1:
            raise InvalidProblemError(
                f"costs must be a non-empty 1-d array (one segment), got shape {shape}; pass "
                f"batched=True for (B, T) batches"
            )
        # the float reference validates shapes, flags, γ and λ with messages naming them
        reference_gae(
            full["costs"],
            full["values"],
            full["next_values"],
            full["terminated"],
            full["truncated"],
            full["gamma"],
            full["lam"],
        )
        arrays = [
            np.asarray(full["costs"], dtype=float),
            np.asarray(full["values"], dtype=float),
            np.asarray(full["next_values"], dtype=float),
            np.asarray(full["terminated"], dtype=bool),
            np.asarray(full["truncated"], dtype=bool),
        ]
        scalars = (float(full["gamma"]), float(full["lam"]), self.variant)
        if not options["batched"]:
            return SegmentContext(*arrays, *scalars)
        rows = [SegmentContext(*(a[b] for a in arrays), *scalars) for b in range(shape[0])]
        return BatchContext(rows)

    def expected(self, context: SegmentContext | BatchContext) -> Expected:
        return Expected(context.exact(), 1.0, max(context.magnitude(), 1e-300))


class ReturnsSpec(_SegmentSpec):
    name = "check_discounted_returns"
    quantity = "the discounted costs-to-go G_t = c_t + γ(1 − dones_t)G_{t+1}"
    parameters = ("costs", "dones", "gamma")
    scalar_parameters = ("gamma",)
    slips = (NO_CUT, SHIFTED, FORWARD, COST_SIGN, IGNORED_GAMMA, ROWS_JOINED, ALONG_BATCH)

    def _segment(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        zeros = np.zeros(np.shape(arguments["costs"]))
        return {
            "costs": arguments["costs"],
            "values": zeros,
            "next_values": zeros,
            "terminated": arguments["dones"],
            "truncated": np.zeros(np.shape(arguments["dones"]), dtype=bool),
            "gamma": arguments["gamma"],
            "lam": 1.0,
        }


class TDSpec(_SegmentSpec):
    name = "check_td_residuals"
    quantity = "the TD residuals δ_t = c_t + γ(1 − terminated_t)V(x_{t+1}) − V(x_t)"
    parameters = ("costs", "values", "next_values", "terminated", "gamma")
    scalar_parameters = ("gamma",)
    slips = (
        BOOTSTRAP_TERMINAL,
        SHIFTED,
        COST_SIGN,
        VALUES_FOR_NEXT,
        UNDISCOUNTED_BOOTSTRAP,
        ROWS_VALUES,
    )

    def _segment(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {
            **arguments,
            "truncated": np.zeros(np.shape(arguments["terminated"]), dtype=bool),
            "lam": 0.0,
        }


_ADVANTAGE_SLIPS = (
    NO_CUT,
    BOOTSTRAP_TERMINAL,
    TRUNCATION_TERMINATES,
    TRACE_ACROSS_TRUNCATION,
    VALUES_FOR_NEXT,
    GAMMA_TRACE,
    LAMBDA_TRACE,
    UNDISCOUNTED_BOOTSTRAP,
    SHIFTED,
    FORWARD,
    COST_SIGN,
    IGNORED_GAMMA,
    ROWS_JOINED,
    ROWS_VALUES,
    ALONG_BATCH,
)


class GAESpec(_SegmentSpec):
    name = "check_gae"
    quantity = "the GAE(γ, λ) advantages A_t = δ_t + γλ(1 − done_t)A_{t+1}"
    parameters = ("costs", "values", "next_values", "terminated", "truncated", "gamma", "lam")
    slips = _ADVANTAGE_SLIPS

    def repair(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """A step deleted from a segment: ``next_values[t] = values[t+1]`` again wherever step t
        ends no episode (the consistency generated segments promise)."""
        repaired = dict(arguments)
        ends = np.asarray(repaired["terminated"], bool) | np.asarray(repaired["truncated"], bool)
        next_values = np.array(repaired["next_values"], dtype=float)
        values = np.asarray(repaired["values"], dtype=float)
        inside = ~ends[..., :-1]  # along time, the last axis (of a segment or of each row)
        next_values[..., :-1] = np.where(inside, values[..., 1:], next_values[..., :-1])
        repaired["next_values"] = next_values
        return repaired


class LambdaReturnsSpec(GAESpec):
    name = "check_lambda_returns"
    quantity = "the λ-returns G^λ_t = A_t + V(x_t) (GAE's value targets)"
    variant = Variant(add_values=True)
    slips = (
        *_ADVANTAGE_SLIPS,
        _slip("the GAE advantages A_t without + values[t]", add_values=False),
    )


def check_discounted_returns(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
    batched: bool = False,
) -> CheckReport:
    """Check ``fn(costs, dones, gamma) -> G`` (shape (T,)), the discounted costs-to-go cut at
    episode ends (``dones[t]``: t is the last step of its episode), against exact rationals."""
    __tracebackhide__ = True
    return run_check(
        ReturnsSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        batched=batched,
    )


def check_td_residuals(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
    batched: bool = False,
) -> CheckReport:
    """Check ``fn(costs, values, next_values, terminated, gamma) -> δ`` (shape (T,)),
    ``δ_t = c_t + γ(1 − terminated_t)next_values_t − values_t``, against exact rationals."""
    __tracebackhide__ = True
    return run_check(
        TDSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        batched=batched,
    )


def check_gae(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
    batched: bool = False,
) -> CheckReport:
    """Check ``fn(costs, values, next_values, terminated, truncated, gamma, lam) -> A`` (shape
    (T,)), GAE(γ, λ) for costs with TorchRL's semantics (a termination: no bootstrap; a
    truncation: bootstrap from ``next_values[t]``, no trace across), against exact rationals."""
    __tracebackhide__ = True
    return run_check(
        GAESpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        batched=batched,
    )


def check_lambda_returns(
    fn: Any,
    *,
    cases: list[Any] | None = None,
    max_examples: int | None = None,
    seed: int = 0,
    dtype: Any = None,
    database: Any = None,
    batched: bool = False,
) -> CheckReport:
    """Check ``fn(costs, values, next_values, terminated, truncated, gamma, lam) -> G^λ`` (shape
    (T,)), the λ-returns ``A + values`` with A the GAE of :func:`check_gae`, against exact
    rationals."""
    __tracebackhide__ = True
    return run_check(
        LambdaReturnsSpec(),
        fn,
        cases=cases,
        max_examples=max_examples,
        seed=seed,
        dtype=dtype,
        database=database,
        batched=batched,
    )


document_options(
    check_discounted_returns,
    check_td_residuals,
    check_gae,
    check_lambda_returns,
    cases_note="; with batched=True every array is (B, T)",
)
for _check in (check_discounted_returns, check_td_residuals, check_gae, check_lambda_returns):
    _check.__doc__ += """

    ``batched=True`` feeds (B, T) batches instead of (T,) segments — B independent segments of T
    steps, time last, flags per row, one γ (and λ) — and expects a (B, T) result; a recursion
    that mixes rows (a scan over the flattened batch, a bootstrap across rows, the batch axis
    taken for time) is caught and named. A time-major (T, B) implementation is checked through an
    adapter that transposes: ``lambda *a: fn(*(x.T if np.ndim(x) == 2 else x for x in a)).T``."""


# --------------------------------------------------------------------------------------------
# The statistical check of a black-box estimator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatisticalReport(CheckReport):
    """The report of a passing statistical check (:func:`check_unbiased`): a :class:`CheckReport`
    (``cases`` = draws, all generated from ``seed``; ``worst_ratio`` = largest |t| / threshold,
    ≤ 1; tier ``"statistical"``) with the test's figures — per entry the ``mean``, its
    ``standard_error`` and the ``detectable_bias`` (found with probability ``power`` at this
    sample size), and the stated ``false_alarm`` bound of P(fail | unbiased)."""

    passed: bool = True
    mean: np.ndarray | None = None
    standard_error: np.ndarray | None = None
    detectable_bias: np.ndarray | None = None
    largest_t: float = 0.0
    threshold: float = 0.0
    false_alarm: float = 0.0
    power: float = 0.0

    def __str__(self) -> str:
        text = (
            f"{self.check}: passed a t-test on {self.cases} draws (seed {self.seed}); largest |t| "
            f"{self.largest_t:.3g} of the threshold {self.threshold:.3g}; false-alarm probability "
            f"<= {self.false_alarm:g}; bias detectable with probability {self.power:g}: "
            f"{np.array2string(np.asarray(self.detectable_bias), precision=3)}; reference tier "
            f"{self.tier}; {self.seconds:.2f} s"
        )
        return "\n".join([text, *(f"  {note}" for note in self.notes)])


def check_unbiased(
    sample: Callable[[np.random.Generator], Any],
    target: Any,
    *,
    samples: int = 20_000,
    seed: int = 0,
    false_alarm: float = 1e-6,
    power: float = 0.9,
) -> StatisticalReport:
    """Test ``E[sample(rng)] = target`` for an estimator that cannot be fed trajectories.

    ``samples`` independent estimates are drawn by ``sample(rng)`` with one
    ``numpy.random.default_rng(seed)``; each entry's mean is compared with the target by
    Student's t with a Bonferroni threshold, so an unbiased estimator fails with probability at
    most ``false_alarm`` (exactly for Gaussian estimates, by the central limit theorem otherwise:
    :func:`pgverify.expectation.statistical_test`).  Tier: statistical — a test, not a proof.

    Returns a :class:`StatisticalReport` (a :class:`CheckReport` with tier ``"statistical"``; its
    ``detectable_bias``: per entry, the bias this run detects with probability ``power``).  Raises
    :class:`pgverify.OracleMismatch` when the test rejects, and InvalidProblemError on a bad
    argument or an estimate of the wrong shape."""
    __tracebackhide__ = True
    start = time.perf_counter()
    if not callable(sample):
        raise InvalidProblemError(
            f"sample must be a callable sample(rng) -> estimate, got {type(sample).__name__}"
        )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2:
        raise InvalidProblemError(f"samples must be an int >= 2, got {samples!r}")
    validate_test_options(seed, false_alarm, power)
    goal = read_target(target)

    def draw(rng: np.random.Generator, count: int) -> np.ndarray:
        estimates = []
        for index in range(count):
            estimate = np.asarray(sample(rng), dtype=float)
            if estimate.shape != goal.shape:
                raise InvalidProblemError(
                    f"sample(rng) returned shape {estimate.shape} at draw {index}; expected "
                    f"the shape of target, {goal.shape}"
                )
            estimates.append(estimate)
        return np.stack(estimates)

    verdict = statistical_test(draw, goal, samples, seed=seed, false_alarm=false_alarm, power=power)
    if not verdict.passed:
        raise OracleMismatch(
            "check_unbiased: the estimator's mean differs from the target (tier statistical).\n"
            f"mean over {samples} draws (seed {seed}): {np.array2string(verdict.mean)}\n"
            f"target: {np.array2string(goal)}\n"
            f"standard error: {np.array2string(verdict.standard_error)}\n"
            f"largest |t| = {verdict.largest_t:.4g} > threshold {verdict.threshold:.4g} "
            f"(false-alarm probability ≤ {false_alarm:g}); the bias detectable with "
            f"probability {power:g} at this sample size: "
            f"{np.array2string(verdict.detectable_bias)}"
        )
    return StatisticalReport(
        check="check_unbiased",
        cases=samples,
        fixed_cases=0,
        generated_cases=samples,
        worst_ratio=verdict.largest_t / verdict.threshold,
        tier="statistical",
        seconds=time.perf_counter() - start,
        seed=int(seed),
        notes=(
            f"per-entry t-test with a Bonferroni threshold over {goal.size} entries: an "
            f"unbiased estimator fails with probability <= {false_alarm:g} (exactly for "
            "Gaussian estimates, by the central limit theorem otherwise)",
        ),
        passed=True,
        mean=verdict.mean,
        standard_error=verdict.standard_error,
        detectable_bias=verdict.detectable_bias,
        largest_t=verdict.largest_t,
        threshold=verdict.threshold,
        false_alarm=false_alarm,
        power=power,
    )
