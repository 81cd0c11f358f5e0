"""Fisher-vector products ``F v`` of the policies TRPO meets, without forming F, and the explicit
Fisher matrices they must match.  ``F(θ) = E_{x, u ~ π_θ}[∇log π ∇log πᵀ]`` (Kakade 2001).

**Linear Gaussian** ``π(·|x) = N(−Kx, σI)`` (σ a variance), θ = vec(K) column-major, K (m, n).
The score is ``∇_K log π = −σ⁻¹ (u + Kx) xᵀ = −σ⁻¹ w xᵀ`` with ``w = u + Kx ~ N(0, σI)``, so
``vec(score) = −σ⁻¹ (x ⊗ w)`` and, w independent of x with ``E wwᵀ = σI``,

    F = σ⁻² E[(x xᵀ) ⊗ (w wᵀ)] = σ⁻¹ (S ⊗ I_m),   S = E[x xᵀ],

whence, by ``(S ⊗ I) vec(V) = vec(V S)`` (S symmetric), ``F v = σ⁻¹ vec(V S)`` for v = vec(V),
V (m, n).  With states sampled, S is their mean ``(1/N) Σ_i x_i x_iᵀ``.

**Two-layer Gaussian** ``π(·|x) = N(W1 tanh(W0 x), σI)``, W0 (hidden, n), W1 (m, hidden),
θ = (vec W1, vec W0) (the order of ``pgverify derive fisher-two-layer``).  The score is
``σ⁻¹ Jᵀ(u − μ)`` with J = ∂μ/∂θ (m, p), so ``F = σ⁻¹ E_x[JᵀJ]`` and ``F v = σ⁻¹ E_x[Jᵀ(J v)]``:
a forward-mode product ``J v = V1 h + W1 (h' ⊙ V0 x)`` (h = tanh(W0 x), h' = 1 − h²) and a
backward one ``Jᵀw = (vec(w hᵀ), vec((h' ⊙ W1ᵀw) xᵀ))``.

**Tabular softmax** ``π(a|s) ∝ exp θ[s, a]``, θ flattened row-major over (s, a) as in
:mod:`pgverify.mdp.policies`:  ``F = ⊕_s d(s) (diag π_s − π_s π_sᵀ)`` with d the state
distribution, so ``(F v)[s, a] = d(s) π(a|s) (v[s, a] − Σ_b π(b|s) v[s, b])``.

Tiers: exact for the linear Gaussian and the tabular softmax (given rational π and d); the
two-layer policy needs tanh: float or high-precision.  Citations: Kakade (2001), *A natural
policy gradient*; Schulman et al. (2015), arXiv:1502.05477, Appendix C (Fisher-vector products).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import mpmath
import numpy as np
from flint import arb

from pgverify.errors import InvalidProblemError
from pgverify.trpo.numbers import (
    Field,
    Precision,
    count,
    field_for,
    positive_scalar,
    require_positive_semidefinite,
    unvec,
    vec,
)

EXPLICIT_ENTRIES_LIMIT = 10**8
"""The largest explicit Fisher matrix built (entries); beyond it use the Fisher-vector product."""


def state_second_moment(states: Any, *, precision: Precision = "float") -> np.ndarray:
    """``S = (1/N) Σ_i x_i x_iᵀ`` of the (N, n) array of states (rows), shape (n, n)."""
    field = field_for(precision)
    with field.context():
        return field.export(_second_moment(field.array(states, "states", 2)))


def _second_moment(states: np.ndarray) -> np.ndarray:
    return (states.T @ states) / states.shape[0]


def linear_gaussian_fisher_vector_product(
    K: Any, sigma: Any, states: Any, v: Any, *, precision: Precision = "float"
) -> np.ndarray:
    """``F v = σ⁻¹ vec(V S)`` for ``π = N(−Kx, σI)``, S the second moment of ``states``.

    Shapes: K (m, n) (only its shape matters: F does not depend on K), ``states`` (N, n),
    ``v`` (m·n,) = vec(V) column-major — or V itself, (m, n), in which case ``σ⁻¹ V S`` (m, n)
    is returned.  Tier: that of ``precision`` (exact with ``"exact"``).
    """
    field = field_for(precision)
    with field.context():
        gain = field.array(K, "K", 2)
        m, n = gain.shape
        observed = _states(field, states, n)
        variance = positive_scalar(field, sigma, "sigma")
        matrix, flat = _direction(field, v, "v", (m, n))
        product = _linear_product(matrix, _second_moment(observed), variance)
        return field.export(vec(product) if flat else product)


def linear_gaussian_fisher_vector_product_from_moment(
    second_moment: Any, sigma: Any, v: Any, m: int, *, precision: Precision = "float"
) -> np.ndarray:
    """``σ⁻¹ vec(V S)`` for a given (n, n) state second moment S (e.g. Σ_K of an LQR problem);
    ``v`` (m·n,) or (m, n) as in :func:`linear_gaussian_fisher_vector_product`."""
    field = field_for(precision)
    with field.context():
        moment = _moment(field, second_moment)
        m = count(m, "m (the number of inputs)", minimum=1)
        matrix, flat = _direction(field, v, "v", (m, moment.shape[0]))
        product = _linear_product(matrix, moment, positive_scalar(field, sigma, "sigma"))
        return field.export(vec(product) if flat else product)


def _linear_product(V: np.ndarray, S: np.ndarray, sigma: Any) -> np.ndarray:
    return (V @ S) / sigma


def linear_gaussian_fisher(
    second_moment: Any, sigma: Any, m: int, *, precision: Precision = "float"
) -> np.ndarray:
    """The explicit (m·n, m·n) Fisher matrix ``σ⁻¹ (S ⊗ I_m)`` (θ = vec(K) column-major)."""
    field = field_for(precision)
    with field.context():
        moment = _moment(field, second_moment)
        variance = positive_scalar(field, sigma, "sigma")
        # the explicit matrix has (m n)² entries: refuse sizes no one can hold
        limit = max(1, EXPLICIT_ENTRIES_LIMIT // moment.shape[0] ** 2)
        m = count(m, "m (the number of inputs)", minimum=1, maximum=math.isqrt(limit))
        identity = np.eye(int(m), dtype=moment.dtype) if field.tier == "float" else _identity(m)
        return field.export(np.kron(moment, identity) / variance)


def two_layer_gaussian_fisher_vector_product(
    W0: Any, W1: Any, sigma: Any, states: Any, v: Any, *, precision: Precision = "float"
) -> np.ndarray:
    """``F v = σ⁻¹ (1/N) Σ_i J_iᵀ (J_i v)`` for ``π = N(W1 tanh(W0 x), σI)``.

    Shapes: W0 (hidden, n), W1 (m, hidden), ``states`` (N, n), ``v`` of length
    ``m·hidden + hidden·n`` ordered (vec V1, vec V0) column-major; returns the same length.
    Tier: float or high-precision (tanh is irrational).
    """
    field = field_for(precision)
    with field.context():
        inner, outer, observed, variance = _two_layer_inputs(field, W0, W1, sigma, states)
        V1, V0 = _split_two_layer(field, v, outer.shape[0], inner.shape[0], inner.shape[1])
        total = None
        for x in observed:
            h, slope = _hidden(field, inner @ x)
            w = V1 @ h + outer @ (slope * (V0 @ x))
            back = np.concatenate([vec(np.outer(w, h)), vec(np.outer(slope * (outer.T @ w), x))])
            total = back if total is None else total + back
        return field.export(total / (observed.shape[0] * variance))


def two_layer_mean_jacobian(W0: Any, W1: Any, x: Any, *, precision: Precision = "float") -> Any:
    """The explicit Jacobian J = ∂μ/∂θ (m, m·hidden + hidden·n) of ``μ = W1 tanh(W0 x)`` at one
    state x (n,), θ = (vec W1, vec W0):  ``∂μ/∂W1[i, j] = e_i h_j``,
    ``∂μ/∂W0[a, b] = W1[:, a] h'_a x_b``."""
    field = field_for(precision)
    with field.context():
        inner, outer = field.array(W0, "W0", 2), field.array(W1, "W1", 2)
        _require_chain(inner, outer)
        point = field.array(x, "x", 1)
        if point.shape != (inner.shape[1],):
            raise InvalidProblemError(
                f"x has shape {point.shape}; expected ({inner.shape[1]},) (W0 has "
                f"{inner.shape[1]} columns)"
            )
        return field.export(_jacobian(field, inner, outer, point))


def _jacobian(field: Field, inner: np.ndarray, outer: np.ndarray, x: np.ndarray) -> np.ndarray:
    (hidden, n), m = inner.shape, outer.shape[0]
    h, slope = _hidden(field, inner @ x)
    jacobian = np.zeros((m, m * hidden + hidden * n), dtype=outer.dtype) * outer[0, 0]
    for j in range(hidden):
        for i in range(m):
            jacobian[i, j * m + i] = h[j]
    for b in range(n):
        for a in range(hidden):
            jacobian[:, m * hidden + b * hidden + a] = outer[:, a] * slope[a] * x[b]
    return jacobian


def two_layer_gaussian_fisher(
    W0: Any, W1: Any, sigma: Any, states: Any, *, precision: Precision = "float"
) -> np.ndarray:
    """The explicit Fisher matrix ``σ⁻¹ (1/N) Σ_i J_iᵀ J_i`` of the two-layer Gaussian policy."""
    field = field_for(precision)
    with field.context():
        inner, outer, observed, variance = _two_layer_inputs(field, W0, W1, sigma, states)
        total = None
        for x in observed:
            jacobian = _jacobian(field, inner, outer, x)
            term = jacobian.T @ jacobian
            total = term if total is None else total + term
        return field.export(total / (observed.shape[0] * variance))


def softmax_fisher_vector_product(
    policy: Any, visitation: Any, v: Any, *, precision: Precision = "float"
) -> np.ndarray:
    """``(F v)[s, a] = d(s) π(a|s) (v[s, a] − Σ_b π(b|s) v[s, b])`` for the tabular softmax.

    Shapes: ``policy`` (S, A) rows π(·|s) (probability vectors), ``visitation`` (S,) the state
    distribution d, ``v`` (S·A,) row-major over (s, a) — or (S, A), returned in the same shape.
    Tier: that of ``precision`` (exact with ``"exact"`` and rational π, d).  Matches
    :func:`pgverify.mdp.trpo.softmax_fisher` (certified, for softmax logits on an MDP).
    """
    field = field_for(precision)
    with field.context():
        table = field.array(policy, "policy", 2)
        for s, row in enumerate(table):
            _require_distribution(field, row, f"policy[{s}]")
        weights = field.array(visitation, "visitation", 1)
        if weights.shape != (table.shape[0],):
            raise InvalidProblemError(
                f"visitation has shape {weights.shape}; expected ({table.shape[0]},) (one "
                "weight per state, the rows of policy)"
            )
        if any(w < 0 for w in weights):
            raise InvalidProblemError(f"visitation has a negative entry: {list(weights)}")
        matrix, flat = _direction(field, v, "v", table.shape, row_major=True)
        product = softmax_fisher_product(table, weights, matrix)
        return field.export(product.reshape(-1) if flat else product)


def softmax_fisher_product(policy: Any, visitation: Any, V: Any) -> np.ndarray:
    """The formula of :func:`softmax_fisher_vector_product`,
    ``(F V)[s, a] = d(s) π(a|s) (V[s, a] − Σ_b π(b|s) V[s, b])``, on arrays of any number type
    (ints, floats, Fractions, mpmath mpf, python-flint arb balls), computed in that arithmetic:
    the tier is that of the entries (exact for Fractions; certified for balls).

    Shapes: ``policy`` (S, A) rows π(·|s) (probability vectors: entries not certainly
    negative, sums within 1e-9 of 1), ``visitation`` (S,) d ≥ 0, ``V`` (S, A); returns an (S, A)
    object array.  Bad input raises InvalidProblemError naming the argument."""
    policy = _kernel_array(policy, "policy", 2)
    visitation = _kernel_array(visitation, "visitation", 1)
    V = _kernel_array(V, "V", 2)
    if visitation.shape != (policy.shape[0],):
        raise InvalidProblemError(
            f"visitation has shape {visitation.shape}; expected ({policy.shape[0]},) (one weight "
            "per row of policy)"
        )
    if V.shape != policy.shape:
        raise InvalidProblemError(f"V has shape {V.shape}; expected {policy.shape} (policy's)")
    for s, row in enumerate(policy):
        if any(p < 0 for p in row):  # a ball is refused only when certainly negative
            raise InvalidProblemError(f"policy[{s}] has a negative probability: {list(row)}")
        total = float(sum(row[1:], row[0]))
        if not abs(total - 1.0) <= 1e-9:
            raise InvalidProblemError(
                f"policy[{s}] sums to {total!r}; expected a probability vector (sum 1)"
            )
    if any(w < 0 for w in visitation):
        raise InvalidProblemError(f"visitation has a negative entry: {list(visitation)}")
    rows = []
    for pi, d, direction in zip(policy, visitation, V, strict=True):
        mean = sum((p * x for p, x in zip(pi, direction, strict=True)), 0 * pi[0])
        rows.append([d * p * (x - mean) for p, x in zip(pi, direction, strict=True)])
    return np.array(rows, dtype=object)


# ------------------------------------------------------------------------------------------------
# validation helpers


def _kernel_array(value: Any, name: str, ndim: int) -> np.ndarray:
    """A non-empty ``ndim``-D object array of finite real numbers of any supported type (the
    arguments of :func:`softmax_fisher_product`)."""
    if value is None or isinstance(value, (str, bytes)):
        raise InvalidProblemError(f"{name} must be a {ndim}-D array of numbers, got {value!r}")
    try:
        array = np.array(value.tolist() if hasattr(value, "tolist") else value, dtype=object)
    except Exception as exc:  # ragged nested lists and the like
        raise InvalidProblemError(f"{name} could not be read as an array ({exc})") from exc
    if array.ndim != ndim or array.size == 0:
        raise InvalidProblemError(
            f"{name} has shape {array.shape}; expected a non-empty {ndim}-D array"
        )
    for index, entry in np.ndenumerate(array):
        if not _finite_real(entry):
            raise InvalidProblemError(
                f"{name}{list(index)} = {entry!r}; expected a finite real number (int, float, "
                "Fraction, mpmath.mpf or python-flint arb)"
            )
    return array


def _finite_real(entry: Any) -> bool:
    if isinstance(entry, (bool, np.bool_)):
        return False
    if isinstance(entry, arb):
        return bool(entry.is_finite())
    if isinstance(entry, mpmath.mpf):
        return bool(mpmath.isfinite(entry))
    if isinstance(entry, (numbers.Rational, np.integer)):
        return True
    if isinstance(entry, (float, np.floating)):
        return math.isfinite(float(entry))
    return False


def _read(value: Any, name: str) -> Any:
    if value is None:
        raise InvalidProblemError(f"{name} is required, got None")
    return value.tolist() if hasattr(value, "tolist") else value


def _states(field: Field, states: Any, n: int) -> np.ndarray:
    observed = field.array(states, "states", 2)
    if observed.shape[1] != n:
        raise InvalidProblemError(
            f"states has shape {observed.shape}; expected (N, {n}): one state of dimension {n} "
            "per row"
        )
    return observed


def _moment(field: Field, second_moment: Any) -> np.ndarray:
    moment = field.array(second_moment, "second_moment", 2)
    if moment.shape[0] != moment.shape[1]:
        raise InvalidProblemError(
            f"second_moment has shape {moment.shape}; expected a square (n, n) matrix"
        )
    if np.any(moment != moment.T):
        raise InvalidProblemError("second_moment is not symmetric; expected S = E[x x^T]")
    require_positive_semidefinite(field, moment, "second_moment (S = E[x x^T])")
    return moment


def _direction(
    field: Field, v: Any, name: str, shape: tuple[int, int], *, row_major: bool = False
) -> tuple[np.ndarray, bool]:
    """``v`` as a matrix of ``shape`` and whether it came flat (vec: column-major, or row-major)."""
    raw = v if isinstance(v, np.ndarray) else np.asarray(_read(v, name), dtype=object)
    if raw.ndim == 2:
        matrix = field.array(raw, name, 2)
        if matrix.shape != shape:
            raise InvalidProblemError(f"{name} has shape {matrix.shape}; expected {shape}")
        return matrix, False
    flat = field.array(raw, name, 1)
    size = shape[0] * shape[1]
    if flat.shape != (size,):
        raise InvalidProblemError(
            f"{name} has shape {flat.shape}; expected ({size},) or the matrix shape {shape}"
        )
    matrix = flat.reshape(shape) if row_major else unvec(flat, *shape)
    return matrix, True


def _two_layer_inputs(
    field: Field, W0: Any, W1: Any, sigma: Any, states: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    inner, outer = field.array(W0, "W0", 2), field.array(W1, "W1", 2)
    _require_chain(inner, outer)
    observed = _states(field, states, inner.shape[1])
    return inner, outer, observed, positive_scalar(field, sigma, "sigma")


def _require_chain(inner: np.ndarray, outer: np.ndarray) -> None:
    if outer.shape[1] != inner.shape[0]:
        raise InvalidProblemError(
            f"W1 has shape {outer.shape} and W0 has shape {inner.shape}; expected W1 (m, hidden) "
            f"with hidden = {inner.shape[0]} (the rows of W0)"
        )


def _split_two_layer(
    field: Field, v: Any, m: int, hidden: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    flat = field.array(v, "v", 1)
    size = m * hidden + hidden * n
    if flat.shape != (size,):
        raise InvalidProblemError(
            f"v has shape {flat.shape}; expected ({size},) = (vec V1 of {m}x{hidden}, "
            f"vec V0 of {hidden}x{n})"
        )
    return unvec(flat[: m * hidden], m, hidden), unvec(flat[m * hidden :], hidden, n)


def _hidden(field: Field, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.array([field.tanh(value) for value in pre], dtype=pre.dtype)
    return h, 1 - h * h


def _require_distribution(field: Field, row: np.ndarray, name: str) -> None:
    if any(p < 0 for p in row):
        raise InvalidProblemError(f"{name} has a negative probability: {list(row)}")
    total = sum(row[1:], row[0])
    if abs(total - 1) > field.normalisation_tolerance():
        raise InvalidProblemError(f"{name} sums to {total}; expected a probability vector (sum 1)")


def _identity(m: int) -> np.ndarray:
    identity = np.zeros((m, m), dtype=object)
    for i in range(m):
        identity[i, i] = 1
    return identity
