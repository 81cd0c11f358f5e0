"""Input validation for finite MDPs: every public function of :mod:`pgverify.mdp` reads its
arguments through this module, so every bad input raises :class:`pgverify.InvalidProblemError`
naming the argument, the value seen and what was expected — never a silent wrong answer (a
policy row summing to 3/2, an extra row cut off) and never a raw TypeError or IndexError.

Numbers are converted *exactly* to :class:`fractions.Fraction`: Python and numpy integers, finite
floats of every numpy width (a float is a dyadic rational: ``float32(0.1)`` becomes
``13421773/134217728``), Fractions, Decimals and python-flint ``fmpz`` / ``fmpq``.  Refused:
bools, complex numbers, strings, None, NaN and infinities, and anything else.

Tables are nested sequences or numpy arrays of exactly the expected shape (no ragged rows, no
extra or missing rows or columns).  Probability vectors must be non-negative and sum to 1
*exactly*.  A certified (ball) policy is an :class:`pgverify.Enclosure` of shape (S, A) whose row
sums contain 1 and whose entries are not provably negative.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
from flint import arb, arb_mat, fmpq, fmpz

from pgverify.enclosure import Enclosure
from pgverify.errors import InvalidProblemError

if TYPE_CHECKING:
    from pgverify.mdp.model import FiniteMDP

MIN_BITS = 64
"""The smallest working precision accepted for certified (ball) results, as for
:class:`pgverify.Certified`."""

Axis = tuple[int | None, str]
"""One axis of an expected table: its length (None: any, but the same for every row) and what
one entry along it stands for, e.g. ``(S, "state")``."""


def shown(value: Any, limit: int = 80) -> str:
    """A short description of a value for an error message: its type and a clipped repr."""
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(value).__name__} {text}"


# ------------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------------


def exact_number(value: Any, name: str) -> Fraction:
    """``value`` as an exact Fraction, or InvalidProblemError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise InvalidProblemError(
            f"{name} must be a real number, got the bool {value!r}; expected an int, Fraction "
            "or finite float"
        )
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (int, np.integer, fmpz)):
        return Fraction(int(value))
    if isinstance(value, fmpq):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, (float, np.floating, Decimal)):
        finite = value.is_finite() if isinstance(value, Decimal) else bool(np.isfinite(value))
        if not finite:
            raise InvalidProblemError(
                f"{name} must be finite, got {value!r}; expected a finite real number"
            )
        # exact for every binary width (float16 ... longdouble): a float is a dyadic rational
        return Fraction(*value.as_integer_ratio())
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidProblemError(
            f"{name} must be a real number, got the complex {value!r}; expected an int, "
            "Fraction or finite float"
        )
    raise InvalidProblemError(
        f"{name} must be a real number, got {shown(value)}; expected an int, Fraction or "
        "finite float"
    )


def integer(value: Any, name: str, *, minimum: int, maximum: int | None = None) -> int:
    """An int (Python or numpy, not bool) in ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise InvalidProblemError(
            f"{name} must be an int, got {shown(value)}; expected an int >= {minimum}"
        )
    number = int(value)
    if number < minimum or (maximum is not None and number > maximum):
        wanted = f">= {minimum}" if maximum is None else f"in {minimum}..{maximum}"
        raise InvalidProblemError(f"{name} must be an int {wanted}, got {number}")
    return number


def horizon(value: Any, name: str = "horizon") -> int:
    """A horizon N: an int >= 0 (trajectories have N + 1 steps)."""
    return integer(value, name, minimum=0)


def bits(value: Any, name: str = "bits") -> int:
    """A working precision for ball arithmetic: an int >= 64."""
    return integer(value, name, minimum=MIN_BITS)


def choice(value: Any, name: str, options: Sequence[str]) -> str:
    """One of ``options`` (a misspelt name is an error, never a silent fallback)."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(option) for option in options)
        raise InvalidProblemError(f"{name} must be one of {listed}; got {shown(value)}")
    return value


def flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidProblemError(f"{name} must be True or False, got {shown(value)}")
    return bool(value)


def function(value: Any, name: str) -> Callable[..., Any]:
    if not callable(value):
        raise InvalidProblemError(f"{name} must be a function, got {shown(value)}")
    return value


# ------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------


def _as_nested(value: Any, name: str, axes: Sequence[Axis]) -> Any:
    """A numpy array as nested lists (after its dtype and dimension are checked)."""
    if not isinstance(value, np.ndarray):
        return value
    if value.dtype == np.bool_ or value.dtype.kind not in "iufO":
        raise InvalidProblemError(
            f"{name} must hold real numbers, got an array of dtype {value.dtype}; expected int, "
            "float or Fraction entries"
        )
    if value.ndim != len(axes):
        raise InvalidProblemError(
            f"{name} must be a {len(axes)}-D table of shape {_shape_text(axes)}, got an array of "
            f"shape {value.shape}"
        )
    return value.tolist()  # exact: float16/32/64 become Python floats, ints become ints


def _shape_text(axes: Sequence[Axis]) -> str:
    return "(" + ", ".join("any" if size is None else str(size) for size, _ in axes) + ")"


def table(value: Any, name: str, axes: Sequence[Axis]) -> tuple:
    """A nested table of exact Fractions with the given axes, e.g. ``[(S, "state"),
    (A, "action")]`` for a policy: nested tuples, every row of the same length."""
    return _table(value, name, tuple(axes))


def _table(value: Any, name: str, axes: tuple[Axis, ...]) -> Any:
    if not axes:
        return exact_number(value, name)
    value = _as_nested(value, name, axes)
    size, noun = axes[0]
    if value is None:
        raise InvalidProblemError(
            f"{name} is required, got None; expected a table of shape {_shape_text(axes)}"
        )
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidProblemError(
            f"{name} must be a sequence of {_shape_text(axes)} entries (one per {noun}), got "
            f"{shown(value)}"
        )
    if size is not None and len(value) != size:
        raise InvalidProblemError(
            f"{name} has length {len(value)}; expected {size} (one entry per {noun}): "
            f"{shown(value)}"
        )
    if len(value) == 0:
        raise InvalidProblemError(f"{name} is empty; expected at least one entry (one per {noun})")
    rows = [_table(item, f"{name}[{i}]", axes[1:]) for i, item in enumerate(value)]
    if len(axes) > 1 and axes[1][0] is None:
        for i, row in enumerate(rows):
            if len(row) != len(rows[0]):
                raise InvalidProblemError(
                    f"{name}[{i}] has length {len(row)}; expected {len(rows[0])} (as {name}[0], "
                    f"one entry per {axes[1][1]}): {name} is ragged"
                )
    return tuple(rows)


def probability_vector(value: Any, name: str, size: int | None, noun: str) -> tuple[Fraction, ...]:
    """Non-negative exact Fractions summing to exactly 1."""
    entries = _table(value, name, ((size, noun),))
    for i, entry in enumerate(entries):
        if entry < 0:
            raise InvalidProblemError(
                f"{name}[{i}] is a negative probability {entry}; expected probabilities >= 0"
            )
    total = sum(entries)
    if total != 1:
        raise InvalidProblemError(
            f"{name} sums to {total} (= {float(total)!r}), not exactly 1; expected a probability "
            "vector (use Fractions: floats rarely sum to 1 exactly)"
        )
    return entries


# ------------------------------------------------------------------------------------------------
# MDP objects
# ------------------------------------------------------------------------------------------------


def finite_mdp(value: Any, name: str = "mdp") -> FiniteMDP:
    from pgverify.mdp.model import FiniteMDP

    if not isinstance(value, FiniteMDP):
        raise InvalidProblemError(
            f"{name} must be a pgverify.mdp.FiniteMDP (build one with FiniteMDP.create), got "
            f"{shown(value)}"
        )
    return value


def policy(mdp: FiniteMDP, value: Any, name: str = "policy") -> tuple[tuple[Fraction, ...], ...]:
    """A direct tabular policy π[s, a]: shape (S, A), each row an exact probability vector."""
    if isinstance(value, Enclosure):
        raise InvalidProblemError(
            f"{name} must hold exact probabilities here, got an Enclosure (balls); expected a "
            f"({mdp.states}, {mdp.actions}) table of Fractions"
        )
    rows = _table(value, name, ((mdp.states, "state"), (mdp.actions, "action")))
    return tuple(
        probability_vector(row, f"{name}[{s}]", mdp.actions, "action") for s, row in enumerate(rows)
    )


def logits(
    value: Any, name: str = "logits", mdp: FiniteMDP | None = None
) -> tuple[tuple[Fraction, ...], ...]:
    """Softmax logits θ[s, a]: finite reals, shape (S, A) (any rectangular shape if no mdp)."""
    if isinstance(value, Enclosure):
        raise InvalidProblemError(
            f"{name} must hold exact numbers, got an Enclosure; expected a table of floats or "
            "Fractions"
        )
    states = None if mdp is None else mdp.states
    actions = None if mdp is None else mdp.actions
    return _table(value, name, ((states, "state"), (actions, "action")))


def certified_policy(mdp: FiniteMDP, value: Enclosure, name: str = "policy") -> list[list[arb]]:
    """A policy given as balls (e.g. :func:`pgverify.mdp.softmax_policy`): shape (S, A), every
    ball finite, no entry provably negative, every row sum containing 1."""
    shape = (mdp.states, mdp.actions)
    ball = value.ball
    if value.shape != shape or not isinstance(ball, arb_mat):
        raise InvalidProblemError(
            f"{name} is an Enclosure of shape {value.shape}; expected shape {shape} (one row per "
            "state, one column per action)"
        )
    rows = ball.tolist()
    for s, row in enumerate(rows):
        for a, entry in enumerate(row):
            if not entry.is_finite():
                raise InvalidProblemError(f"{name}[{s}][{a}] is the non-finite ball {entry}")
            if entry < 0:
                raise InvalidProblemError(
                    f"{name}[{s}][{a}] = {entry} is provably negative; expected probabilities >= 0"
                )
        total = sum(row, arb(0))
        if not total.contains(1):
            raise InvalidProblemError(
                f"{name}[{s}] sums to {total}, which excludes 1; expected a probability vector"
            )
    return rows


def state(mdp: FiniteMDP, value: Any, name: str = "state") -> int:
    return integer(value, name, minimum=0, maximum=mdp.states - 1)


def action(mdp: FiniteMDP, value: Any, name: str = "action") -> int:
    return integer(value, name, minimum=0, maximum=mdp.actions - 1)


def trajectory(mdp: FiniteMDP, value: Any, name: str = "trajectory") -> tuple[tuple[int, int], ...]:
    """A trajectory ``((x_0, u_0), ..., (x_N, u_N))`` of states and actions of ``mdp``."""
    pairs = _as_nested(value, name, ((None, "step"), (2, "state and action")))
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence) or not pairs:
        raise InvalidProblemError(
            f"{name} must be a non-empty sequence of (state, action) pairs, got {shown(value)}"
        )
    steps = []
    states, actions = mdp.states, mdp.actions
    for t, pair in enumerate(pairs):
        # fast path: the pairs the enumeration itself produces
        if type(pair) is tuple and len(pair) == 2:
            x, u = pair
            if type(x) is int and type(u) is int and 0 <= x < states and 0 <= u < actions:
                steps.append(pair)
                continue
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidProblemError(
                f"{name}[{t}] must be a (state, action) pair, got {shown(pair)}"
            )
        steps.append(
            (state(mdp, pair[0], f"{name}[{t}][0]"), action(mdp, pair[1], f"{name}[{t}][1]"))
        )
    return tuple(steps)


def statistic_value(value: Any, name: str) -> Fraction | tuple[Fraction, ...]:
    """The value of a user's statistic of a batch: a number, or a flat sequence of numbers."""
    if type(value) is Fraction:
        return value
    if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
        return _table(value, name, ((None, "component"),))
    return exact_number(value, name)
