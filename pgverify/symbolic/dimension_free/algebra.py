"""Matrix expressions whose sizes are letters (n, m, 1): words of matrix symbols, transposes,
inverses and Lyapunov operators, with scalar coefficients, and traces of them.

Tier: **exact**, for *every* n and m.  An expression is a linear combination of *words*
(products of factors) with sympy coefficients (rational functions of γ, σ, …).  Its canonical
form uses only rules that hold for matrices of any compatible sizes — each is proved at small
sizes in ``tests/test_dimension_free_rules.py``:

- linearity: products distribute over sums, scalars commute with matrices, and the Lyapunov
  operators are linear, ``L(aX + bY) = a L(X) + b L(Y)``;
- transposition: ``(XY)ᵀ = YᵀXᵀ``, ``(Xᵀ)ᵀ = X``, ``Sᵀ = S`` for a declared symmetric S,
  ``L(Y)ᵀ = L(Yᵀ)`` and ``L*(Y)ᵀ = L*(Yᵀ)``;
- inverses: ``X X⁻¹ = X⁻¹ X = I`` (for declared inverse symbols), ``I`` dropped from products;
- traces: ``tr(XY) = tr(YX)`` (cyclicity) and ``tr(Xᵀ) = tr(X)``.

So equal canonical forms prove two expressions equal for all sizes (the form is sound, not
complete: the rules that are not rewrites — the Lyapunov derivative, duality, the fixed-point
equations, expectations — are applied as explicit proof steps, :mod:`.rules`).  The Lyapunov
operators (docs/mathematics.md §LQR, §Discount and exploration noise) are opaque linear maps:
``L_K(Y)`` is the Σ solving ``Σ = Y + γ A_K Σ A_Kᵀ`` and ``L*_K(Y)`` the P solving
``P = Y + γ A_Kᵀ P A_K``, for the closed loop ``A_K`` of a gain K.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sympy

from pgverify.errors import InvalidProblemError


@dataclass(frozen=True)
class MatrixSymbol:
    """A matrix symbol of size ``rows × cols`` (letters such as ``"n"``, ``"m"``, or ``"1"``).

    ``inverse_of`` names the symbol this one is the inverse of (both must be square and
    symmetric, as every inverse the LQR proofs need is: (R + γBᵀPB)⁻¹, Σ_K⁻¹); ``latex`` is
    how it is typeset (the name by default)."""

    name: str
    rows: str
    cols: str
    symmetric: bool = False
    inverse_of: str | None = None
    latex: str = ""

    def __post_init__(self) -> None:
        if self.symmetric and self.rows != self.cols:
            raise InvalidProblemError(
                f"symbol {self.name!r}: a symmetric matrix must be square, got "
                f"{self.rows} x {self.cols}"
            )
        if self.inverse_of is not None and not self.symmetric:
            raise InvalidProblemError(
                f"symbol {self.name!r}: inverse symbols must be declared symmetric"
            )


@dataclass(frozen=True)
class Letter:
    """A symbol, possibly transposed (never for a symmetric symbol: Sᵀ = S)."""

    symbol: MatrixSymbol
    transposed: bool = False

    @property
    def rows(self) -> str:
        return self.symbol.cols if self.transposed else self.symbol.rows

    @property
    def cols(self) -> str:
        return self.symbol.rows if self.transposed else self.symbol.cols

    def transpose(self) -> Letter:
        if self.symbol.symmetric:
            return self
        return Letter(self.symbol, not self.transposed)

    @property
    def key(self) -> str:
        return f"a:{self.symbol.name}{'^T' if self.transposed else ''}"

    def __str__(self) -> str:
        return f"{self.symbol.name}{'^T' if self.transposed else ''}"

    def latex(self) -> str:
        base = self.symbol.latex or self.symbol.name.replace("_", r"\_")
        return f"{base}^{{\\top}}" if self.transposed else base


@dataclass(frozen=True)
class Identity:
    """The identity matrix of size ``size`` (kept only when a word would otherwise be empty)."""

    size: str

    rows = property(lambda self: self.size)
    cols = property(lambda self: self.size)

    def transpose(self) -> Identity:
        return self

    @property
    def key(self) -> str:
        return f"i:{self.size}"

    def __str__(self) -> str:
        return f"I_{self.size}"

    def latex(self) -> str:
        return f"I_{{{self.size}}}"


Word = tuple[Any, ...]
"""A product of factors (:class:`Letter`, :class:`Identity`, :class:`Lyapunov`), left to right."""


@dataclass(frozen=True)
class Lyapunov:
    """``L_gain(argument)`` (``adjoint`` False) or ``L*_gain(argument)`` (``adjoint`` True) of a
    single normalised word: linearity has already pulled sums and coefficients out."""

    adjoint: bool
    gain: str
    argument: Word

    @property
    def rows(self) -> str:
        return self.argument[0].rows

    @property
    def cols(self) -> str:
        return self.argument[-1].cols

    def transpose(self) -> Lyapunov:
        # L(Y)ᵀ = L(Yᵀ): the operators commute with transposition
        return Lyapunov(self.adjoint, self.gain, transpose_word(self.argument))

    @property
    def key(self) -> str:
        inner = ",".join(factor.key for factor in self.argument)
        return f"l:{'*' if self.adjoint else ''}:{self.gain}({inner})"

    def __str__(self) -> str:
        return f"L{'*' if self.adjoint else ''}_{self.gain}[{word_text(self.argument)}]"

    def latex(self) -> str:
        star = "^{*}" if self.adjoint else ""
        inner = " ".join(factor.latex() for factor in self.argument)
        return f"\\mathcal{{L}}{star}_{{{self.gain}}}\\left[{inner}\\right]"


Factor = Letter | Identity | Lyapunov


def word_text(word: Word) -> str:
    return " ".join(str(factor) for factor in word)


def word_key(word: Word) -> tuple[str, ...]:
    return tuple(factor.key for factor in word)


def transpose_word(word: Word) -> Word:
    return normalise_word(tuple(factor.transpose() for factor in reversed(word)))


def _inverse_pair(left: Any, right: Any) -> bool:
    if not (isinstance(left, Letter) and isinstance(right, Letter)):
        return False
    a, b = left.symbol, right.symbol
    return a.inverse_of == b.name or b.inverse_of == a.name


def normalise_word(word: Word) -> Word:
    """Cancel adjacent ``X X⁻¹`` and drop identities from products (``I`` stays alone)."""
    if not word:
        raise InvalidProblemError("an empty product has no size; expected at least one factor")
    size = word[0].rows
    stack: list[Any] = []
    for factor in word:
        if isinstance(factor, Identity):
            continue
        if stack and _inverse_pair(stack[-1], factor):
            stack.pop()
            continue
        stack.append(factor)
    return tuple(stack) if stack else (Identity(size),)


def check_shapes(word: Word) -> None:
    for left, right in itertools.pairwise(word):
        if left.cols != right.rows:
            raise InvalidProblemError(
                f"product {word_text(word)}: {left} has {left.cols} columns but {right} has "
                f"{right.rows} rows; expected matching inner sizes"
            )


def _simplify(coefficient: Any) -> Any:
    return sympy.cancel(sympy.sympify(coefficient))


def _collect(pairs: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    terms: dict[Any, Any] = {}
    for key, coefficient in pairs:
        terms[key] = terms.get(key, 0) + coefficient
    simplified = {key: _simplify(value) for key, value in terms.items()}
    return {key: value for key, value in simplified.items() if value != 0}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, sympy.Expr)) and not isinstance(value, bool)


class Matrix:
    """A linear combination of words of one size ``rows × cols``, in canonical form."""

    def __init__(self, rows: str, cols: str, terms: Iterable[tuple[Word, Any]] = ()) -> None:
        self.rows, self.cols = rows, cols
        normalised = []
        for word, coefficient in terms:
            check_shapes(word)
            if (word[0].rows, word[-1].cols) != (rows, cols):
                raise InvalidProblemError(
                    f"term {word_text(word)} is {word[0].rows} x {word[-1].cols}; expected "
                    f"{rows} x {cols}"
                )
            normalised.append((normalise_word(word), coefficient))
        self.terms: dict[Word, Any] = _collect(normalised)

    @classmethod
    def of(cls, symbol: MatrixSymbol) -> Matrix:
        return cls(symbol.rows, symbol.cols, [((Letter(symbol),), 1)])

    @classmethod
    def factor(cls, factor: Any) -> Matrix:
        return cls(factor.rows, factor.cols, [((factor,), 1)])

    @classmethod
    def zero(cls, rows: str, cols: str) -> Matrix:
        return cls(rows, cols)

    @classmethod
    def identity(cls, size: str) -> Matrix:
        return cls.factor(Identity(size))

    def _same_shape(self, other: Matrix, operation: str) -> None:
        if (self.rows, self.cols) != (other.rows, other.cols):
            raise InvalidProblemError(
                f"{operation}: a {self.rows} x {self.cols} and a {other.rows} x {other.cols} "
                "matrix; expected equal sizes"
            )

    def __add__(self, other: Matrix) -> Matrix:
        self._same_shape(other, "sum")
        return Matrix(self.rows, self.cols, [*self.terms.items(), *other.terms.items()])

    def __neg__(self) -> Matrix:
        return self.scale(-1)

    def __sub__(self, other: Matrix) -> Matrix:
        return self + (-other)

    def scale(self, coefficient: Any) -> Matrix:
        return Matrix(self.rows, self.cols, [(w, c * coefficient) for w, c in self.terms.items()])

    def __mul__(self, other: Any) -> Matrix:
        if _is_scalar(other):
            return self.scale(other)
        if not isinstance(other, Matrix):
            raise InvalidProblemError(f"cannot multiply a matrix expression by {other!r}")
        if self.cols != other.rows:
            raise InvalidProblemError(
                f"product: a {self.rows} x {self.cols} times a {other.rows} x {other.cols} "
                "matrix; expected matching inner sizes"
            )
        return Matrix(
            self.rows,
            other.cols,
            [
                (left + right, a * b)
                for left, a in self.terms.items()
                for right, b in other.terms.items()
            ],
        )

    def __rmul__(self, other: Any) -> Matrix:
        if _is_scalar(other):
            return self.scale(other)
        return NotImplemented

    @property
    def T(self) -> Matrix:
        return Matrix(self.cols, self.rows, [(transpose_word(w), c) for w, c in self.terms.items()])

    def equals(self, other: Matrix) -> bool:
        """Equal canonical forms (a proof of equality for every size)."""
        return (self - other).is_zero

    @property
    def is_zero(self) -> bool:
        return not self.terms

    def map_factors(self, replace: Callable[[Any], Matrix | None]) -> Matrix:
        """Each factor replaced by ``replace(factor)`` (a matrix of its size, or None to keep
        it), the products multiplied out (linearity).  Lyapunov arguments are mapped too."""

        def image(factor: Any) -> Matrix:
            replaced = replace(factor)
            if replaced is not None:
                return replaced
            if isinstance(factor, Lyapunov):
                argument = Matrix(factor.rows, factor.cols, [(factor.argument, 1)])
                return lyapunov(factor.adjoint, factor.gain, argument.map_factors(replace))
            return Matrix.factor(factor)

        total = Matrix.zero(self.rows, self.cols)
        for word, coefficient in self.terms.items():
            product = image(word[0])
            for factor in word[1:]:
                product = product * image(factor)
            total = total + product.scale(coefficient)
        return total

    def substitute(self, mapping: dict[str, Matrix]) -> Matrix:
        """Each symbol named in ``mapping`` replaced by its matrix (transposed where the letter
        is): a definition used as a rewriting rule."""
        return self.map_factors(lambda factor: _substitution(factor, mapping))

    def __str__(self) -> str:
        return _text(self.terms) or f"0_{{{self.rows}x{self.cols}}}"

    def _latex(self, printer: Any) -> str:  # sympy.latex(expression) calls this
        return _latex_terms(self.terms, printer, _latex_word)

    __repr__ = __str__


def _substitution(factor: Any, mapping: dict[str, Matrix]) -> Matrix | None:
    if isinstance(factor, Letter) and factor.symbol.name in mapping:
        value = mapping[factor.symbol.name]
        if (value.rows, value.cols) != (factor.symbol.rows, factor.symbol.cols):
            raise InvalidProblemError(
                f"substituting {factor.symbol.name}: a {value.rows} x {value.cols} matrix for a "
                f"{factor.symbol.rows} x {factor.symbol.cols} symbol; expected equal sizes"
            )
        return value.T if factor.transposed else value
    return None


def _text(terms: dict[Any, Any]) -> str:
    parts = []
    for word, coefficient in sorted(terms.items(), key=lambda item: word_key(item[0])):
        shown = word_text(word) if isinstance(word, tuple) else str(word)
        parts.append(shown if coefficient == 1 else f"({coefficient}) {shown}")
    return " + ".join(parts)


def _latex_terms(terms: dict[Any, Any], printer: Any, shown: Callable[[Any], str]) -> str:
    """``c₁ w₁ + c₂ w₂ + …`` typeset, coefficients by sympy's printer."""
    parts = []
    for word, coefficient in sorted(terms.items(), key=lambda item: word_key(item[0])):
        if coefficient == 1:
            scale = "+ "
        elif coefficient == -1:
            scale = "- "
        else:
            scale = f"+ \\left({printer._print(coefficient)}\\right) "
        parts.append(scale + shown(word))
    text = " ".join(parts) or "0"
    return text[2:] if text.startswith("+ ") else text


def _latex_word(word: Word) -> str:
    return " ".join(factor.latex() for factor in word)


def lyapunov(adjoint: bool, gain: str, argument: Matrix) -> Matrix:
    """``L_gain(argument)`` or ``L*_gain(argument)``, expanded by linearity."""
    if argument.rows != argument.cols:
        raise InvalidProblemError(
            f"a Lyapunov operator acts on square matrices; got {argument.rows} x {argument.cols}"
        )
    return Matrix(
        argument.rows,
        argument.cols,
        [((Lyapunov(adjoint, gain, word),), c) for word, c in argument.terms.items()],
    )


# --------------------------------------------------------------------------------------------
# Traces
# --------------------------------------------------------------------------------------------


def _rotations(word: Word) -> list[Word]:
    return [word[i:] + word[:i] for i in range(len(word))]


def _cyclic_normalise(word: Word) -> Word:
    """Cancel inverse pairs that are adjacent around the cycle (tr(X⁻¹ Y X) = tr(Y))."""
    word = normalise_word(word)
    while len(word) >= 2 and _inverse_pair(word[-1], word[0]):
        size = word[0].rows
        word = word[1:-1] or (Identity(size),)
        word = normalise_word(word)
    return word


def canonical_cycle(word: Word) -> Word:
    """The representative of tr(word) under cyclicity and tr(Xᵀ) = tr(X): the least, by key,
    of the rotations of the word and of its transpose."""
    check_shapes(word)
    if word[0].rows != word[-1].cols:
        raise InvalidProblemError(
            f"trace of {word_text(word)}: a {word[0].rows} x {word[-1].cols} product; "
            "expected a square one"
        )
    word = _cyclic_normalise(word)
    candidates = _rotations(word) + _rotations(transpose_word(word))
    return min(candidates, key=word_key)


class Scalar:
    """A linear combination of traces of words, in canonical form (each trace by
    :func:`canonical_cycle`)."""

    def __init__(self, terms: Iterable[tuple[Word, Any]] = ()) -> None:
        self.terms: dict[Word, Any] = _collect(
            (canonical_cycle(word), coefficient) for word, coefficient in terms
        )

    def __add__(self, other: Scalar) -> Scalar:
        return Scalar([*self.terms.items(), *other.terms.items()])

    def __neg__(self) -> Scalar:
        return self.scale(-1)

    def __sub__(self, other: Scalar) -> Scalar:
        return self + (-other)

    def scale(self, coefficient: Any) -> Scalar:
        return Scalar([(w, c * coefficient) for w, c in self.terms.items()])

    def __mul__(self, other: Any) -> Scalar:
        if _is_scalar(other):
            return self.scale(other)
        return NotImplemented

    __rmul__ = __mul__

    @property
    def is_zero(self) -> bool:
        return not self.terms

    def equals(self, other: Scalar) -> bool:
        return (self - other).is_zero

    def map_factors(self, replace: Callable[[Any], Matrix | None]) -> Scalar:
        total = Scalar()
        for word, coefficient in self.terms.items():
            matrix = Matrix(word[0].rows, word[-1].cols, [(word, coefficient)])
            total = total + trace(matrix.map_factors(replace))
        return total

    def substitute(self, mapping: dict[str, Matrix]) -> Scalar:
        return self.map_factors(lambda factor: _substitution(factor, mapping))

    def __str__(self) -> str:
        if not self.terms:
            return "0"
        parts = []
        for word, coefficient in sorted(self.terms.items(), key=lambda item: word_key(item[0])):
            shown = f"tr({word_text(word)})"
            parts.append(shown if coefficient == 1 else f"({coefficient}) {shown}")
        return " + ".join(parts)

    __repr__ = __str__

    def _latex(self, printer: Any) -> str:  # sympy.latex(expression) calls this
        return _latex_terms(
            self.terms,
            printer,
            lambda word: f"\\operatorname{{tr}}\\left({_latex_word(word)}\\right)",
        )


def trace(matrix: Matrix) -> Scalar:
    if matrix.rows != matrix.cols:
        raise InvalidProblemError(
            f"trace of a {matrix.rows} x {matrix.cols} matrix; expected a square one"
        )
    return Scalar(matrix.terms.items())
