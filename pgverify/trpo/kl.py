"""The KL divergence between Gaussians, TRPO's trust-region constraint.

For p = N(μ_p, Σ_p), q = N(μ_q, Σ_q) in k dimensions (e.g. Kullback 1959; Schulman et al. 2015,
arXiv:1502.05477, for its role in TRPO):

    KL(p ‖ q) = ½ [tr(Σ_q⁻¹Σ_p) + (μ_q − μ_p)ᵀ Σ_q⁻¹ (μ_q − μ_p) − k + log det Σ_q − log det Σ_p].

Stable evaluation (no inverse, no determinant formed): with Cholesky factors ``Σ = L Lᵀ``,
``tr(Σ_q⁻¹Σ_p) = ‖L_q⁻¹ L_p‖_F²``, the Mahalanobis term is ``‖L_q⁻¹(μ_q − μ_p)‖²`` and
``log det Σ = 2 Σ_i log L_ii`` (float tier).  The high-precision and exact tiers use the
square-root-free factorisation ``Σ = L D Lᵀ`` (L unit lower triangular): ``log det Σ = Σ log D_i``,
and every term but the logarithm is rational — so the exact tier returns an exact Fraction when
``det Σ_q = det Σ_p`` (the log term vanishes) and refuses otherwise (the value is irrational).

For TRPO's Gaussian policies with a common covariance σI the log term vanishes and
``E_x KL(π_k(·|x) ‖ π_θ(·|x)) = E_x ‖μ_θ(x) − μ_k(x)‖² / (2σ)``, whose Hessian at θ = θ_k is the
Fisher matrix ``σ⁻¹ E[JᵀJ]`` of :mod:`pgverify.trpo.fisher`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg

from pgverify.errors import InvalidProblemError
from pgverify.lqr.validation import symmetric_matrix
from pgverify.trpo.numbers import Field, Precision, field_for


def gaussian_kl(
    mean_p: Any, cov_p: Any, mean_q: Any, cov_q: Any, *, precision: Precision = "float"
) -> Any:
    """``KL(N(mean_p, cov_p) ‖ N(mean_q, cov_q))`` in nats.

    Shapes: means (k,), covariances (k, k) symmetric positive definite.  Tier: that of
    ``precision`` (``"exact"`` only when ``det cov_p = det cov_q``).  Raises InvalidProblemError
    for a covariance that is not positive definite (in the exact tier, a proof).
    """
    field = field_for(precision)
    with field.context():
        mu_p, mu_q = field.array(mean_p, "mean_p", 1), field.array(mean_q, "mean_q", 1)
        k = mu_p.shape[0]
        if mu_q.shape != (k,):
            raise InvalidProblemError(f"mean_q has shape {mu_q.shape}; expected ({k},) like mean_p")
        sigma_p = _covariance(field, cov_p, "cov_p", k)
        sigma_q = _covariance(field, cov_q, "cov_q", k)
        if field.tier == "float":
            return field.export(_kl_cholesky(mu_p, sigma_p, mu_q, sigma_q))
        return field.export(_kl_ldl(field, mu_p, sigma_p, mu_q, sigma_q))


def _kl_cholesky(
    mu_p: np.ndarray, sigma_p: np.ndarray, mu_q: np.ndarray, sigma_q: np.ndarray
) -> float:
    lower_p = _cholesky(sigma_p, "cov_p")
    lower_q = _cholesky(sigma_q, "cov_q")
    ratio = scipy.linalg.solve_triangular(lower_q, lower_p, lower=True)
    gap = scipy.linalg.solve_triangular(lower_q, mu_q - mu_p, lower=True)
    log_det = 2 * (np.sum(np.log(np.diag(lower_q))) - np.sum(np.log(np.diag(lower_p))))
    k = mu_p.shape[0]
    return 0.5 * (float(np.sum(ratio * ratio)) + float(gap @ gap) - k + float(log_det))


def _cholesky(matrix: np.ndarray, name: str) -> np.ndarray:
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError as exc:
        smallest = float(np.linalg.eigvalsh(matrix)[0])
        raise InvalidProblemError(
            f"{name} is not positive definite (Cholesky failed; smallest eigenvalue "
            f"{smallest:.6g}); expected a covariance matrix > 0"
        ) from exc


def _kl_ldl(
    field: Field, mu_p: np.ndarray, sigma_p: np.ndarray, mu_q: np.ndarray, sigma_q: np.ndarray
) -> Any:
    _, diagonal_p = ldl(sigma_p, "cov_p")
    unit_q, diagonal_q = ldl(sigma_q, "cov_q")
    k = mu_p.shape[0]
    # tr(Σq⁻¹Σp) = Σ_i [L⁻¹ Σp L⁻ᵀ]_ii / D_i with Σq = L D Lᵀ
    half = np.array([_forward(unit_q, sigma_p[:, j]) for j in range(k)], dtype=object)
    whitened = np.array([_forward(unit_q, half[:, i]) for i in range(k)], dtype=object)
    trace = sum((whitened[i, i] / diagonal_q[i] for i in range(k)), 0 * diagonal_q[0])
    gap = _forward(unit_q, mu_q - mu_p)
    mahalanobis = sum((gap[i] * gap[i] / diagonal_q[i] for i in range(k)), 0 * diagonal_q[0])
    determinant_ratio = _product(diagonal_q) / _product(diagonal_p)
    return (trace + mahalanobis - k + field.log(determinant_ratio)) / 2


def ldl(matrix: np.ndarray, name: str) -> tuple[np.ndarray, list[Any]]:
    """``matrix = L D Lᵀ`` (L unit lower triangular, D > 0) in the entries' own arithmetic; an
    InvalidProblemError names the first pivot ``D_i <= 0`` (not positive definite)."""
    k = matrix.shape[0]
    unit = np.zeros((k, k), dtype=object)
    diagonal: list[Any] = []
    for j in range(k):
        pivot = matrix[j, j] - sum(
            (unit[j, s] * unit[j, s] * diagonal[s] for s in range(j)), 0 * matrix[j, j]
        )
        if not pivot > 0:
            raise InvalidProblemError(
                f"{name} is not positive definite: pivot {j} of its LDL^T factorisation is "
                f"{pivot} <= 0; expected a covariance matrix > 0"
            )
        diagonal.append(pivot)
        unit[j, j] = 1
        for i in range(j + 1, k):
            unit[i, j] = (
                matrix[i, j]
                - sum((unit[i, s] * unit[j, s] * diagonal[s] for s in range(j)), 0 * pivot)
            ) / pivot
    return unit, diagonal


def _forward(unit: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """``L⁻¹ rhs`` for unit lower triangular L."""
    out = np.empty(len(rhs), dtype=object)
    for i in range(len(rhs)):
        out[i] = rhs[i] - sum((unit[i, s] * out[s] for s in range(i)), 0 * rhs[i])
    return out


def _product(values: list[Any]) -> Any:
    total = values[0]
    for value in values[1:]:
        total = total * value
    return total


def _covariance(field: Field, value: Any, name: str, k: int) -> np.ndarray:
    matrix = field.array(value, name, 2)
    if matrix.shape != (k, k):
        raise InvalidProblemError(
            f"{name} has shape {matrix.shape}; expected ({k}, {k}) to match the means"
        )
    if field.tier == "float":
        return symmetric_matrix(matrix, name)
    if np.any(matrix != matrix.T):
        raise InvalidProblemError(f"{name} is not symmetric; expected a covariance matrix")
    return matrix
