"""The rules a dimension-free proof applies as explicit steps (beyond the canonical form of
:mod:`.algebra`), each valid for every n and m and proved at small sizes in
``tests/test_dimension_free_rules.py``:

- **definitions** (:class:`Context`): a symbol defined by a polynomial (A_K := A − BK) or as a
  Lyapunov solution (P_K := L*_K(Q + KᵀRK)) is replaced by its definition, or a Lyapunov
  definition is used as its fixed-point equation ``P = Y + γ A_Kᵀ P A_K``;
- **differentials** (:func:`differential`): the Leibniz rule, ``dK`` for the variable, 0 for the
  data, and for a Lyapunov solution ``d L*(Y) = L*(dY + γ dA_Kᵀ P A_K + γ A_Kᵀ P dA_K)`` (and
  ``d L(Y) = L(dY + γ dA_K Σ A_Kᵀ + γ A_K Σ dA_Kᵀ)``), from differentiating the fixed-point
  equation;
- **duality** (:func:`duality`): ``tr(L*(X) Y) = tr(X L(Y))``;
- **expectations** (:func:`expectation`): ``E[v vᵀ] = M`` for a random vector v independent of
  the other factors, ``E[v] = 0`` when v has mean zero;
- **1×1 products** (:func:`product_of_numbers`): ``tr(a) tr(b) = tr(a b)`` for 1×1 words a, b
  (a 1×1 word is its own transpose, either orientation may be used);
- **gradients** (:func:`gradient`): a linear form ``dK ↦ tr(dKᵀ G)`` has gradient G
  (docs/mathematics.md §Conventions: ``dC = tr(∇C(K)ᵀ dK)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pgverify.errors import CertificationError, InvalidProblemError
from pgverify.symbolic.dimension_free.algebra import (
    Identity,
    Letter,
    Lyapunov,
    Matrix,
    MatrixSymbol,
    Scalar,
    Word,
    lyapunov,
    transpose_word,
)


@dataclass(frozen=True)
class LyapunovDefinition:
    """``symbol := L_gain(argument)`` (``adjoint`` False) or ``L*_gain(argument)``."""

    symbol: MatrixSymbol
    adjoint: bool
    gain: str
    argument: Matrix


@dataclass
class Context:
    """The premises of a proof: the discount γ, the closed loop of each gain (a defined
    symbol), polynomial definitions, Lyapunov definitions and the variable with its direction."""

    gamma: Any
    closed_loops: dict[str, MatrixSymbol]
    definitions: dict[str, Matrix] = field(default_factory=dict)
    lyapunov_definitions: dict[str, LyapunovDefinition] = field(default_factory=dict)
    variables: dict[str, Matrix] = field(default_factory=dict)

    def expand(self, expression: Matrix | Scalar, names: list[str]) -> Any:
        """The polynomial definitions of ``names`` substituted, in that order."""
        for name in names:
            expression = expression.substitute({name: _look_up(self.definitions, name)})
        return expression

    def closed_loop(self, gain: str) -> MatrixSymbol:
        return _look_up(self.closed_loops, gain)

    def fixed_point(self, name: str) -> Matrix:
        """The fixed-point equation of a Lyapunov definition, as the value of its argument:
        ``Y = P − γ A_Kᵀ P A_K`` for ``P := L*_K(Y)``, ``Y = Σ − γ A_K Σ A_Kᵀ`` for
        ``Σ := L_K(Y)``."""
        definition = _look_up(self.lyapunov_definitions, name)
        symbol = Matrix.of(definition.symbol)
        closed = Matrix.of(self.closed_loop(definition.gain))
        if definition.adjoint:
            return symbol - closed.T * symbol * closed * self.gamma
        return symbol - closed * symbol * closed.T * self.gamma

    def solve_fixed_point_for(self, name: str, datum: MatrixSymbol) -> Matrix:
        """The fixed-point equation of ``name`` solved for a datum that occurs in its argument
        as one term ``c · datum``: ``datum = (fixed point − (argument − c · datum)) / c``."""
        argument = _look_up(self.lyapunov_definitions, name).argument
        coefficient = argument.terms.get((Letter(datum),))
        if coefficient is None:
            raise InvalidProblemError(
                f"{datum.name} is not a term of the definition of {name} ({argument}); "
                "expected it as one term"
            )
        rest = argument - Matrix.of(datum).scale(coefficient)
        return (self.fixed_point(name) - rest).scale(1 / coefficient)


def _look_up(table: dict[str, Any], name: str) -> Any:
    if name not in table:
        raise InvalidProblemError(
            f"{name!r} is not defined in the context; expected one of {sorted(table)}"
        )
    return table[name]


def _word_matrix(word: Word) -> Matrix:
    return Matrix(word[0].rows, word[-1].cols, [(word, 1)])


def differential(matrix: Matrix, context: Context) -> Matrix:
    """The directional derivative of ``matrix`` along the context's variables (Leibniz)."""
    total = Matrix.zero(matrix.rows, matrix.cols)
    for word, coefficient in matrix.terms.items():
        for position, factor in enumerate(word):
            change = _factor_differential(factor, context)
            if change.is_zero:
                continue
            if position > 0:
                change = _word_matrix(word[:position]) * change
            if position + 1 < len(word):
                change = change * _word_matrix(word[position + 1 :])
            total = total + change.scale(coefficient)
    return total


def _lyapunov_differential(
    adjoint: bool, gain: str, argument: Matrix, solution: Matrix, context: Context
) -> Matrix:
    closed_symbol = context.closed_loop(gain)
    closed = Matrix.of(closed_symbol)
    closed_change = differential(closed, context)
    if adjoint:
        moved = closed_change.T * solution * closed + closed.T * solution * closed_change
    else:
        moved = closed_change * solution * closed.T + closed * solution * closed_change.T
    return lyapunov(adjoint, gain, differential(argument, context) + moved.scale(context.gamma))


def _factor_differential(factor: Any, context: Context) -> Matrix:
    if isinstance(factor, Identity):
        return Matrix.zero(factor.rows, factor.cols)
    if isinstance(factor, Lyapunov):
        argument = _word_matrix(factor.argument)
        solution = Matrix.factor(factor)
        return _lyapunov_differential(factor.adjoint, factor.gain, argument, solution, context)
    symbol = factor.symbol
    name = symbol.name
    if name in context.variables:
        change = context.variables[name]
    elif name in context.definitions:
        change = differential(context.definitions[name], context)
    elif name in context.lyapunov_definitions:
        definition = context.lyapunov_definitions[name]
        change = _lyapunov_differential(
            definition.adjoint, definition.gain, definition.argument, Matrix.of(symbol), context
        )
    elif symbol.inverse_of is not None and _varies(symbol.inverse_of, context):
        raise InvalidProblemError(
            f"{name} is the inverse of {symbol.inverse_of}, which depends on the variable: the "
            "derivative of an inverse is not among the rules"
        )
    else:
        return Matrix.zero(factor.rows, factor.cols)
    return change.T if factor.transposed else change


def _varies(name: str, context: Context) -> bool:
    return (
        name in context.variables
        or name in context.definitions
        or name in context.lyapunov_definitions
    )


def scalar_differential(scalar: Scalar, context: Context) -> Scalar:
    """d tr(W) = tr(dW), term by term."""
    total = Scalar()
    for word, coefficient in scalar.terms.items():
        change = differential(_word_matrix(word), context)
        total = total + Scalar(change.terms.items()).scale(coefficient)
    return total


def duality(scalar: Scalar, gain: str, *, from_adjoint: bool = True) -> Scalar:
    """``tr(L*_gain(X) Y) = tr(X L_gain(Y))`` (or the reverse, ``from_adjoint=False``) on every
    trace term holding such a factor at the top level (the first one, after rotation)."""
    terms = []
    for word, coefficient in scalar.terms.items():
        position = next(
            (
                index
                for index, factor in enumerate(word)
                if isinstance(factor, Lyapunov)
                and factor.adjoint == from_adjoint
                and factor.gain == gain
            ),
            None,
        )
        if position is None:
            terms.append((word, coefficient))
            continue
        operator = word[position]
        rest = word[position + 1 :] + word[:position] or (Identity(operator.cols),)
        moved = Lyapunov(not from_adjoint, gain, _only(rest))
        terms.append(((*operator.argument, moved), coefficient))
    return Scalar(terms)


def _only(word: Word) -> Word:
    (normalised,) = _word_matrix(word).terms
    return normalised


def replace_factor(expression: Any, target: Any, replacement: Matrix) -> Any:
    """Every occurrence of the factor ``target`` replaced (a definition read backwards, e.g.
    ``L_K(Σ0) = Σ_K``); transposed occurrences too."""
    transposed = target.transpose()

    def swap(factor: Any) -> Matrix | None:
        if factor == target:
            return replacement
        if factor == transposed:
            return replacement.T
        return None

    return expression.map_factors(swap)


def expectation(scalar: Scalar, vector: MatrixSymbol, moment: Matrix, *, zero_mean: bool) -> Scalar:
    """``E`` over a random column vector independent of every other factor, knowing
    ``E[v vᵀ] = moment`` (and ``E v = 0`` if ``zero_mean``): each trace term with ``v vᵀ``
    adjacent around the cycle becomes ``tr(moment · rest)``; terms without v are constants.
    Anything else raises :class:`CertificationError` (the rule does not apply)."""
    column, row = Letter(vector), Letter(vector).transpose()
    terms: list[tuple[Word, Any]] = []
    total = Scalar()
    for word, coefficient in scalar.terms.items():
        count = sum(isinstance(f, Letter) and f.symbol == vector for f in word)
        if count == 0:
            terms.append((word, coefficient))
            continue
        if count == 1 and zero_mean:
            continue
        found = None
        for rotated in _orientations(word):
            if count == 2 and rotated[0] == column and rotated[1] == row:
                found = rotated
                break
        if found is None:
            raise CertificationError(
                f"E over {vector.name}: the term tr({' '.join(map(str, word))}) does not have "
                f"{vector.name} {vector.name}^T adjacent; the expectation rule does not apply"
            )
        rest = found[2:]
        product = moment * _word_matrix(rest) if rest else moment
        total = total + Scalar(product.terms.items()).scale(coefficient)
    return total + Scalar(terms)


def _orientations(word: Word) -> list[Word]:
    flipped = transpose_word(word)
    return [w[i:] + w[:i] for w in (word, flipped) for i in range(len(w))]


def _one_by_one(word: Word) -> list[Word]:
    return [w for w in _orientations(word) if w[0].rows == "1" and w[-1].cols == "1"]


def product_of_numbers(left: Scalar, right: Scalar, pair: MatrixSymbol) -> Scalar:
    """``tr(a) tr(b) = tr(a b)`` for traces of 1×1 words, the orientations of a and b chosen so
    that ``pair pairᵀ`` becomes adjacent where possible (all orientations are equal)."""
    column, row = Letter(pair), Letter(pair).transpose()
    terms = []
    for a, first in left.terms.items():
        for b, second in right.terms.items():
            options = [x + y for x in _one_by_one(a) for y in _one_by_one(b)]
            if not options:
                raise InvalidProblemError(
                    f"tr({' '.join(map(str, a))}) tr({' '.join(map(str, b))}): expected traces "
                    "of 1 x 1 products"
                )

            def adjacent(word: Word) -> bool:
                return any(
                    word[i] == column and word[(i + 1) % len(word)] == row for i in range(len(word))
                )

            chosen = next((word for word in options if adjacent(word)), options[0])
            terms.append((chosen, first * second))
    return Scalar(terms)


def gradient(scalar: Scalar, direction: MatrixSymbol) -> Matrix:
    """The G with ``scalar = tr(dKᵀ G)`` for a scalar linear in the direction dK: each term
    rotated (and transposed) to start with dKᵀ.  A term without dK, or with it more than once,
    raises :class:`CertificationError`."""
    lead = Letter(direction).transpose()
    total = Matrix.zero(direction.rows, direction.cols)
    for word, coefficient in scalar.terms.items():
        count = sum(isinstance(f, Letter) and f.symbol == direction for f in word)
        if count != 1:
            raise CertificationError(
                f"tr({' '.join(map(str, word))}) holds {direction.name} {count} times; a "
                "gradient needs a form linear in it"
            )
        rotated = next(w for w in _orientations(word) if w[0] == lead)
        rest = rotated[1:] or (Identity(direction.rows),)
        total = total + _word_matrix(rest).scale(coefficient)
    return total
