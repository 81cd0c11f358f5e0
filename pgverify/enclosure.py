"""The certified result type: :class:`Enclosure`, an array-like of rigorous balls.

Every certified result of pgverify (tier *certified*, ``precision="certified"`` or
``pgverify.Certified(bits=...)``) is an :class:`Enclosure`: a scalar, a vector or a matrix of
python-flint (Arb) balls, each proved to contain the true value.  It behaves like a read-only
numpy array of its float64 midpoints wherever numpy sees it (``np.asarray``, ``np.allclose``,
``np.testing.assert_allclose``, arithmetic with arrays), and keeps the balls for exact decisions
(:meth:`Enclosure.contains`, :meth:`Enclosure.overlaps`).  See ``docs/user-guide.md``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from typing import Any

import mpmath
import numpy as np
from flint import arb, arb_mat, ctx

from pgverify.balls import RATIONAL_BITS, binary_exponent, float_upper, to_arb
from pgverify.errors import InvalidProblemError

Shape = tuple[int, ...]


class Enclosure:
    """A rigorous enclosure of a scalar, a vector or a matrix: the true value lies inside every
    ball.

    An Enclosure is array-like: it has a numpy ``shape`` (``()`` for a scalar, ``(n,)`` for a
    vector, ``(rows, cols)`` for a matrix), ``ndim``, ``size`` and ``len``; it indexes like a numpy
    array (``enc[i, j]`` is a scalar Enclosure, ``enc[i]`` and slices are vector or matrix
    Enclosures holding the same balls) and iterates over its first axis; ``np.asarray(enc)`` is
    the float64 midpoint array ``enc.mid`` (so ``np.allclose(g, enc)`` and
    ``np.testing.assert_allclose(enc, g)`` compare midpoints), and ``float(enc)`` is the midpoint
    of a scalar enclosure.  Its truth value is undefined (``if enc:`` raises): decide with
    :meth:`contains` or :meth:`overlaps`.

    Attributes
    ----------
    ball : flint.arb or flint.arb_mat
        The underlying balls (exact midpoints, rigorous radii): an ``arb`` for a scalar, an
        ``arb_mat`` of shape (rows, cols) for a matrix and of shape (n, 1) (a column) for a
        vector of length n.
    mid : numpy.ndarray
        Always a read-only float64 array of shape ``shape`` (0-d for a scalar): the float64
        numbers nearest to the exact ball midpoints (±inf past the float64 range).
    rad : numpy.ndarray
        Always a read-only float64 array of shape ``shape``: rigorous upper bounds of the radii,
        ``|true − exact midpoint| <= rad`` entrywise.  (``mid`` is the midpoint rounded to float64,
        so ``|true − mid|`` may exceed ``rad`` by half an ulp of ``mid``; use :meth:`contains` for
        exact decisions.)  Matrices computed on the float64-BLAS engine carry one Frobenius-norm
        radius, so every entry has the same ``rad``.
    max_radius : float
        ``max(rad)`` (0.0 for an empty enclosure).
    digits : int or math.inf
        Certified significant decimal digits, normwise: ``floor(-log10(max rad / max |midpoint|))``
        (0 when nothing is certified, ``math.inf`` for an exact result: every radius is 0).
    tier : str
        Always ``"certified"``.

    Construction: ``Enclosure(ball)`` with a ``flint.arb``, a ``flint.arb_mat``, or a (nested)
    list / numpy object array of balls or exact numbers (floats, ints, Fractions, mpmath
    numbers: converted exactly, a non-dyadic Fraction to a ball of radius ~2^-2048) of
    dimension 1 or 2.
    """

    tier: str = "certified"

    def __init__(self, ball: Any) -> None:
        self._ball: arb | arb_mat | None = None
        self._source: Any = None
        self._mid: np.ndarray | None = None
        self._rad: np.ndarray | None = None
        if isinstance(ball, arb):
            self._ball, self._shape = ball, ()
        elif isinstance(ball, arb_mat):
            self._ball, self._shape = ball, (ball.nrows(), ball.ncols())
        elif hasattr(ball, "to_arb_mat") and hasattr(ball, "shape"):
            # a matrix enclosure in another exact representation (pgverify.fixedpoint): it is
            # converted to Arb balls on first use, so computing it costs no conversion
            self._source, self._shape = ball, tuple(int(size) for size in ball.shape)
        elif isinstance(ball, (list, tuple, np.ndarray)):
            self._ball, self._shape = _balls_from_nested(ball)
        else:
            raise InvalidProblemError(
                "Enclosure(ball) expects a flint arb or arb_mat, or a (nested) list of balls or "
                f"exact numbers; got {type(ball).__name__}"
            )

    # ----------------------------------------------------------------------------------------
    # Shape
    # ----------------------------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        """The numpy shape: ``()``, ``(n,)`` or ``(rows, cols)``."""
        return self._shape

    @property
    def ndim(self) -> int:
        return len(self._shape)

    @property
    def size(self) -> int:
        return math.prod(self._shape)

    @property
    def is_matrix(self) -> bool:
        """``True`` for a two-dimensional enclosure."""
        return self.ndim == 2

    def __len__(self) -> int:
        if self.ndim == 0:
            # the protocol of len(): numpy's 0-d arrays raise TypeError too
            raise TypeError("len() of a scalar Enclosure (shape ()); it has no first axis")
        return self._shape[0]

    def __iter__(self) -> Iterator[Enclosure]:
        if self.ndim == 0:
            raise TypeError("iteration over a scalar Enclosure (shape ()); it has no first axis")
        return (self[i] for i in range(self._shape[0]))

    # ----------------------------------------------------------------------------------------
    # Balls, midpoints, radii
    # ----------------------------------------------------------------------------------------

    @property
    def ball(self) -> arb | arb_mat:
        """The balls (exact midpoints, rigorous radii) as python-flint arb / arb_mat."""
        if self._ball is None:
            self._ball = self._source.to_arb_mat()
            self._source = None
        return self._ball

    def _entries(self) -> list[arb]:
        """Every ball, row-major."""
        if self.ndim == 0:
            return [self.ball]
        return list(self.ball.entries())

    def _entry(self, position: int) -> arb:
        """The ball at a row-major position."""
        if self.ndim == 0:
            return self.ball
        row, col = divmod(position, self.ball.ncols())
        return self.ball[row, col]

    def _floats(self, value: Any) -> np.ndarray:
        values = [value(entry) for entry in self._entries()]
        array = np.array(values, dtype=np.float64).reshape(self._shape)
        array.flags.writeable = False  # cached and shared: nobody may change it
        return array

    @property
    def mid(self) -> np.ndarray:
        """The float64 numbers nearest to the ball midpoints, shape ``shape`` (read-only)."""
        if self._mid is None:
            self._mid = self._floats(lambda entry: float(entry.mid()))
        return self._mid

    @property
    def rad(self) -> np.ndarray:
        """Rigorous float64 upper bounds of the radii, shape ``shape`` (read-only)."""
        if self._rad is None:
            self._rad = self._floats(
                lambda entry: 0.0 if entry.rad() == 0 else float_upper(entry.rad())
            )
        return self._rad

    @property
    def max_radius(self) -> float:
        return float(np.max(self.rad)) if self.size else 0.0

    @property
    def digits(self) -> float:
        # in balls, not floats: a midpoint or radius past the float64 range has a finite size
        entries = self._entries()
        radius = max((entry.rad() for entry in entries), default=arb(0))
        if radius == 0:
            return math.inf
        largest = max(abs(entry.mid()) for entry in entries)
        if largest == 0 or not radius.is_finite():
            return 0
        with ctx.workprec(64):
            exponent = (largest / radius).log() / arb(10).log()
            return max(0, math.floor(float(exponent.lower())))

    # ----------------------------------------------------------------------------------------
    # numpy protocol
    # ----------------------------------------------------------------------------------------

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """The midpoint array (numpy's ``__array__`` protocol, numpy 2 signature)."""
        mid = self.mid
        if dtype is not None and np.dtype(dtype) != mid.dtype:
            if copy is False:
                raise ValueError(f"converting an Enclosure to {np.dtype(dtype)} needs a copy")
            return mid.astype(dtype)
        return mid if copy is False else mid.copy()

    def __float__(self) -> float:
        if self.ndim != 0:
            raise InvalidProblemError(
                f"float() needs a scalar Enclosure, got shape {self.shape}; take an entry first, "
                "e.g. float(enclosure[0, 0])"
            )
        return float(self.mid)

    def __bool__(self) -> bool:
        raise InvalidProblemError(
            "the truth value of an Enclosure is undefined: decide with .contains(value) or "
            ".overlaps(other), or compare its midpoint .mid"
        )

    def __getitem__(self, index: Any) -> Enclosure:
        """numpy indexing: integers give scalar Enclosures, slices and index arrays give vector
        or matrix Enclosures holding the same balls."""
        position = self._single_position(index)
        if position is not None:
            return Enclosure(self._entry(position))
        positions = np.arange(self.size).reshape(self._shape)
        try:
            chosen = positions[index]
        except (IndexError, TypeError, ValueError) as failure:
            raise InvalidProblemError(
                f"cannot index an Enclosure of shape {self.shape} with {index!r}: {failure}"
            ) from failure
        if chosen.ndim == 0:
            return Enclosure(self._entry(int(chosen)))
        if chosen.ndim > 2:
            raise InvalidProblemError(
                f"indexing an Enclosure of shape {self.shape} with {index!r} gives shape "
                f"{chosen.shape}; an Enclosure has at most 2 dimensions"
            )
        balls = [self._entry(int(p)) for p in chosen.ravel()]
        return Enclosure._from_flat(balls, chosen.shape)

    def _single_position(self, index: Any) -> int | None:
        """The row-major position of an index naming one entry with integers, else None (a
        fast path: iterating over entries must not build an index grid each time)."""
        parts = index if isinstance(index, tuple) else (index,)
        if len(parts) != self.ndim or self.ndim == 0:
            return None
        position = 0
        for axis, (part, size) in enumerate(zip(parts, self._shape, strict=True)):
            if isinstance(part, (bool, np.bool_)) or not isinstance(part, (int, np.integer)):
                return None
            value = operator.index(part)
            if not -size <= value < size:
                raise InvalidProblemError(
                    f"index {value} is out of range for axis {axis} of an Enclosure of shape "
                    f"{self.shape}; expected -{size} <= index < {size}"
                )
            position = position * size + value % size
        return position

    @staticmethod
    def _from_flat(balls: list[arb], shape: Shape) -> Enclosure:
        rows, cols = (shape[0], 1) if len(shape) == 1 else shape
        grid = arb_mat(rows, cols, balls) if balls else arb_mat(rows, cols)
        enclosure = Enclosure(grid)
        enclosure._shape = tuple(shape)
        return enclosure

    # ----------------------------------------------------------------------------------------
    # Exact decisions
    # ----------------------------------------------------------------------------------------

    def contains(self, value: Any) -> bool:
        """Exact decision: is ``value`` inside the enclosure (entrywise)?

        ``value`` must have this enclosure's shape: a float, int, Fraction, mpmath number, arb or
        scalar Enclosure for a scalar; a numpy array, nested list (of floats, ints, Fractions,
        mpmath numbers), mpmath matrix, arb_mat or Enclosure otherwise.  A ball is contained only
        if it lies wholly inside.
        """
        with self._deciding_precision():
            return bool(self.ball.contains(self._balls_of(value, "value")))

    def overlaps(self, other: Any) -> bool:
        """Do the two enclosures share a point (entrywise)?  Disjoint balls *prove* the two true
        values differ; overlapping balls are consistent with equality.  ``other`` is an
        Enclosure (or anything :meth:`contains` accepts) of the same shape."""
        with self._deciding_precision():
            return bool(self.ball.overlaps(self._balls_of(other, "other")))

    def _deciding_precision(self) -> Any:
        """A working precision at which a non-exact value (a rational like 1/3) is enclosed far
        more tightly than any of these balls, so that the decision is exact unless the value
        lies on a boundary."""
        needed = 0
        for entry in self._entries():
            if entry.rad() != 0 and entry.mid() != 0:
                needed = max(needed, binary_exponent(entry) - binary_exponent(entry.rad()))
        return ctx.workprec(max(ctx.prec, RATIONAL_BITS, needed + 64))

    def _balls_of(self, value: Any, name: str) -> arb | arb_mat:
        """``value`` as balls laid out like ``self.ball``, or InvalidProblemError."""
        if isinstance(value, Enclosure):
            if value.shape != self.shape:
                raise InvalidProblemError(
                    f"{name} is an Enclosure of shape {value.shape}; expected shape {self.shape}"
                )
            return value.ball
        if self.ndim == 0:
            if isinstance(value, np.ndarray):
                if value.shape != ():
                    raise InvalidProblemError(
                        f"{name} has shape {value.shape}; expected a scalar (shape ())"
                    )
                value = value.item()
            return _ball_at(value, name, ())
        grid = value if isinstance(value, arb_mat) else _balls_of_array(value, self.shape, name)
        expected = (self._shape[0], 1) if self.ndim == 1 else self._shape
        if (grid.nrows(), grid.ncols()) != expected:
            raise InvalidProblemError(
                f"{name} is an arb_mat of shape ({grid.nrows()}, {grid.ncols()}); expected "
                f"shape {expected}"
            )
        return grid

    # ----------------------------------------------------------------------------------------

    def __repr__(self) -> str:
        digits = self.digits
        if self.ndim == 0:
            shown = self.ball.str(int(max(3, min(digits, 60))), radius=True)
            return f"Enclosure({shown}, certified digits={digits})"
        mids = np.array2string(self.mid, precision=6, max_line_width=100)
        return (
            f"Enclosure(shape={self.shape}, certified digits={digits} (normwise), "
            f"max radius={self.max_radius:.3g},\n mid=\n{mids})"
        )


def _balls_from_nested(value: Any) -> tuple[arb | arb_mat, Shape]:
    """Balls and shape of a (nested) list or array of balls or exact numbers."""
    try:
        grid = np.array(value, dtype=object)
    except ValueError as failure:
        raise InvalidProblemError(
            f"Enclosure(ball) could not read {value!r}: {failure}"
        ) from failure
    if grid.ndim > 2:
        raise InvalidProblemError(
            f"Enclosure(ball) got shape {grid.shape}; an Enclosure has at most 2 dimensions"
        )
    balls = [_ball_at(entry, "ball", index) for index, entry in np.ndenumerate(grid)]
    if grid.ndim == 0:
        return balls[0], ()
    enclosure = Enclosure._from_flat(balls, grid.shape)
    return enclosure.ball, enclosure.shape


def _ball_at(entry: Any, name: str, index: tuple[int, ...]) -> arb:
    position = f"{list(index)}" if index else ""
    try:
        return to_arb(entry)
    except InvalidProblemError as failure:
        raise InvalidProblemError(f"{name}{position}: {failure}") from failure
    except TypeError as failure:
        raise InvalidProblemError(
            f"{name}{position} is {entry!r} ({type(entry).__name__}); expected a number"
        ) from failure


def _balls_of_array(value: Any, shape: Shape, name: str) -> arb_mat:
    """An array-like value of numpy shape ``shape`` as an arb_mat (a column for a vector)."""
    if isinstance(value, mpmath.matrix):
        array = np.array(value.tolist(), dtype=object)
        if len(shape) == 1 and 1 in array.shape:
            array = array.reshape(-1)  # mpmath has no vectors: a row or a column stands for one
    else:
        try:
            array = np.asarray(value)
            if array.dtype.kind == "b" or (
                not isinstance(value, np.ndarray)
                and any(
                    isinstance(entry, (bool, np.bool_))
                    for entry in np.array(value, dtype=object).ravel()
                )
            ):
                raise InvalidProblemError(
                    f"{name} holds a bool; expected numbers (True is not the number 1 here)"
                )
        except ValueError as failure:
            raise InvalidProblemError(
                f"{name} could not be read as an array: {failure}"
            ) from failure
    if array.shape != shape:
        raise InvalidProblemError(f"{name} has shape {array.shape}; expected shape {shape}")
    if np.iscomplexobj(array):
        raise InvalidProblemError(f"{name} is complex; a certified real enclosure holds reals")
    rows, cols = (shape[0], 1) if len(shape) == 1 else shape
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)):
            raise InvalidProblemError(f"{name} has a non-finite entry; expected finite numbers")
        # float64 (and narrower) numbers are dyadic: the conversion is exact
        return arb_mat(np.asarray(array, dtype=np.float64).reshape(rows, cols).tolist())
    balls = [_ball_at(entry, name, index) for index, entry in np.ndenumerate(array)]
    return arb_mat(rows, cols, balls) if balls else arb_mat(rows, cols)
