"""Reference LQR systems: published benchmarks and seeded random systems."""

from __future__ import annotations

import numpy as np

from pgverify.lqr.problem import LQR

DEAN_2017_A = np.array([[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]])
"""The marginally unstable 3-state system of Dean, Mania, Matni, Recht & Tu, "On the sample
complexity of the linear quadratic regulator" (2017, arXiv:1710.01688), used with B = I,
Q = 1e-3 I, R = I."""


def dean_2017(gamma: float = 1.0, noise: float = 0.0) -> LQR:
    """The Dean et al. (2017) benchmark: A = DEAN_2017_A, B = I, Q = 1e-3 I, R = I."""
    return LQR(DEAN_2017_A, np.eye(3), 1e-3 * np.eye(3), np.eye(3), gamma=gamma, noise=noise)


def random_stabilisable_system(n: int, m: int, seed: int) -> tuple[LQR, np.ndarray]:
    """A seeded random problem and a stabilising gain near its optimum.

    ``A = A_cl + B K₀`` with ‖A_cl‖₂ = 0.8 (so K₀ stabilises), B with N(0, 1/n) entries,
    Q = I, R = I; the gain is the float LQR gain plus a 0.05/√n Gaussian perturbation (the
    optimum itself if the perturbation would push ρ(A − BK) to 0.99 or beyond)."""
    rng = np.random.default_rng(seed)
    closed = rng.standard_normal((n, n))
    closed *= 0.8 / np.linalg.norm(closed, 2)
    B = rng.standard_normal((n, m)) / np.sqrt(n)
    A = closed + B @ (rng.standard_normal((m, n)) / np.sqrt(n))
    problem = LQR(A, B, np.eye(n), np.eye(m))
    gain = problem.optimal_gain() + 0.05 * rng.standard_normal((m, n)) / np.sqrt(n)
    if not problem.spectral_radius(gain) < 0.99:
        gain = problem.optimal_gain()
    return problem, gain
