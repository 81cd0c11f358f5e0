"""Implementations under test for the check tests (no tests here): right ones, written with
numpy independently of pgverify (Kronecker solves, column-major vec), and deliberately wrong ones
— each ``slip=`` names one known mistake.  scipy/python-control solvers are wrapped here too."""

from __future__ import annotations

import numpy as np
import scipy.linalg


def vec(X):
    return X.reshape(-1, order="F")


def unvec(v, n):
    return v.reshape(n, n, order="F")


def stein_value(M, F, gamma=1.0):
    """X = F + γMᵀXM, since vec(MᵀXM) = (Mᵀ ⊗ Mᵀ) vec X."""
    n = M.shape[0]
    system = np.eye(n * n, dtype=M.dtype) - gamma * np.kron(M.T, M.T)
    return unvec(np.linalg.solve(system, vec(F)), n)


def stein_covariance(M, F, gamma=1.0):
    """X = F + γMXMᵀ, since vec(MXMᵀ) = (M ⊗ M) vec X."""
    n = M.shape[0]
    system = np.eye(n * n, dtype=M.dtype) - gamma * np.kron(M, M)
    return unvec(np.linalg.solve(system, vec(F)), n)


# --------------------------------------------------------------------------------------------
# Lyapunov, Riccati, optimal gain
# --------------------------------------------------------------------------------------------


def lyapunov(A, Q, *, slip=None, dtype=np.float64):
    A, Q = A.astype(dtype), Q.astype(dtype)
    n = A.shape[0]
    if slip == "transposed":
        return stein_covariance(A, Q)
    if slip == "no transpose":  # P = Q + APA: vec(APA) = (Aᵀ ⊗ A) vec P
        return unvec(np.linalg.solve(np.eye(n * n) - np.kron(A.T, A), vec(Q)), n)
    if slip == "sign":
        return stein_value(A, -Q)
    if slip == "continuous":  # AᵀP + PA = −Q: (I ⊗ Aᵀ + Aᵀ ⊗ I) vec P = −vec Q
        operator = np.kron(np.eye(n), A.T) + np.kron(A.T, np.eye(n))
        return unvec(np.linalg.solve(operator, -vec(Q)), n)
    if slip == "one step":
        return Q + A.T @ Q @ A
    assert slip is None, slip
    return stein_value(A, Q)


def scipy_lyapunov(A, Q):
    """scipy solves A X Aᴴ − X + Q = 0, i.e. X = A X Aᵀ + Q: pass Aᵀ for P = Q + AᵀPA."""
    return scipy.linalg.solve_discrete_lyapunov(A.T, Q)


def riccati_by_policy_iteration(A, B, Q, R, gamma=1.0, *, dtype=np.float64):
    """Hewer's iteration from the scipy gain (Newton's method on the DARE), in ``dtype``."""
    A, B, Q, R = (x.astype(dtype) for x in (A, B, Q, R))
    root = np.sqrt(gamma)
    X = scipy.linalg.solve_discrete_are(root * A, root * B, Q, R).astype(dtype)
    for _ in range(3):
        K = gamma * np.linalg.solve(R + gamma * B.T @ X @ B, B.T @ X @ A)
        X = stein_value(A - B @ K, Q + K.T @ R @ K, gamma)
    return X


def riccati(A, B, Q, R, gamma=1.0, *, slip=None):
    root = np.sqrt(gamma)
    if slip == "continuous":
        return scipy.linalg.solve_continuous_are(A, B, Q, R)
    if slip == "A transposed":
        return scipy.linalg.solve_discrete_are(root * A.T, root * B, Q, R)
    if slip == "no control":
        return stein_value(A, Q, gamma)
    if slip == "undiscounted":
        return scipy.linalg.solve_discrete_are(A, B, Q, R)
    assert slip is None, slip
    return scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)


def scipy_riccati(A, B, Q, R, gamma=1.0):
    root = np.sqrt(gamma)
    return scipy.linalg.solve_discrete_are(root * A, root * B, Q, R)


def optimal_gain(A, B, Q, R, gamma=1.0, *, slip=None, dtype=np.float64):
    if slip in ("continuous", "continuous riccati"):
        X = scipy.linalg.solve_continuous_are(A, B, Q, R)
        if slip == "continuous":
            return np.linalg.solve(R, B.T @ X)
        return np.linalg.solve(R + B.T @ X @ B, B.T @ X @ A)
    if slip == "A transposed":
        X = riccati(A, B, Q, R, gamma, slip="A transposed")
    elif slip == "undiscounted":
        X, gamma = riccati(A, B, Q, R), 1.0
    else:
        X = riccati_by_policy_iteration(A, B, Q, R, gamma, dtype=dtype)
    A, B, R = A.astype(dtype), B.astype(dtype), R.astype(dtype)
    if slip == "R alone":
        return gamma * np.linalg.solve(R, B.T @ X @ A)
    gain = gamma * np.linalg.solve(R + gamma * B.T @ X @ B, B.T @ X @ A)
    if slip == "sign":
        return -gain
    assert slip in (None, "A transposed", "undiscounted"), slip
    return gain


# --------------------------------------------------------------------------------------------
# Quantities at a gain K
# --------------------------------------------------------------------------------------------


class LQRImplementation:
    """Every LQR policy-optimisation quantity at a gain K, in numpy; ``slip`` is one mistake."""

    def __init__(self, slip=None, dtype=np.float64):
        self.slip = slip
        self.dtype = dtype

    def _data(self, *arrays):
        return [np.asarray(x).astype(self.dtype) for x in arrays]

    def value(self, A, B, Q, R, K, gamma):
        closed = A - B @ K
        stage = Q if self.slip == "no KRK" else Q + K.T @ R @ K
        if self.slip == "transposed P":
            return stein_covariance(closed, stage, gamma)
        if self.slip == "undiscounted P":
            return stein_value(closed, stage)
        return stein_value(closed, stage, gamma)

    def covariance(self, A, B, Sigma0, K, gamma, noise):
        closed = A - B @ K
        if self.slip == "sigma0 for sigmaK":
            return Sigma0
        initial = Sigma0
        if noise and self.slip != "noise ignored":
            sigma = noise**2 if self.slip == "noise as std" else noise
            weight = (1.0 if self.slip == "noise without gamma" else gamma) * sigma / (1 - gamma)
            initial = Sigma0 + weight * B @ B.T
        if self.slip == "transposed Sigma":
            return stein_value(closed, initial, gamma)
        if self.slip == "gamma missing in Sigma":
            return stein_covariance(closed, initial)
        return stein_covariance(closed, initial, gamma)

    def E(self, A, B, R, K, P, gamma):
        g_E = 1.0 if self.slip == "gamma missing in E" else gamma
        cross = A - B @ K if self.slip == "A_K for A" else A
        if self.slip == "R curvature":
            return R @ K - g_E * B.T @ P @ cross
        return (R + g_E * B.T @ P @ B) @ K - g_E * B.T @ P @ cross

    def cost(self, A, B, Q, R, Sigma0, K, gamma=1.0, noise=0.0):
        A, B, Q, R, Sigma0, K = self._data(A, B, Q, R, Sigma0, K)
        P = self.value(A, B, Q, R, K, gamma)
        if self.slip == "sigmaK for sigma0":
            initial = self.covariance(A, B, Sigma0, K, gamma, noise)
        elif self.slip == "sigma0 ignored":
            initial = np.eye(A.shape[0], dtype=self.dtype)
        else:
            initial = Sigma0
        total = np.trace(P @ initial)
        if noise and self.slip != "noise ignored":
            sigma = self.dtype(noise**2 if self.slip == "noise as std" else noise)
            g_inner = 1.0 if self.slip == "noise without gamma" else gamma
            trace_R = 0.0 if self.slip == "noise without trace R" else np.trace(R)
            total = total + sigma * (trace_R + g_inner * np.trace(B.T @ P @ B)) / (1 - gamma)
        if self.slip == "normalised":
            total = (1 - gamma) * total
        return total

    def gradient(self, A, B, Q, R, Sigma0, K, gamma=1.0, noise=0.0):
        A, B, Q, R, Sigma0, K = self._data(A, B, Q, R, Sigma0, K)
        P = self.value(A, B, Q, R, K, gamma)
        Sigma = self.covariance(A, B, Sigma0, K, gamma, noise)
        E = self.E(A, B, R, K, P, gamma)
        factor = 1.0 if self.slip == "no factor 2" else 2.0
        gradient = factor * (Sigma @ E if self.slip == "sigma on the left" else E @ Sigma)
        return -gradient if self.slip == "ascent" else gradient

    def pg_step(self, A, B, Q, R, Sigma0, K, alpha, gamma=1.0, noise=0.0):
        if self.slip == "natural step":
            return LQRImplementation(dtype=self.dtype).npg_step(
                A, B, Q, R, Sigma0, K, alpha, gamma, noise
            )
        gradient = self.gradient(A, B, Q, R, Sigma0, K, gamma, noise)
        if self.slip == "without K":
            return -alpha * gradient
        return K.astype(self.dtype) - self.dtype(alpha) * gradient

    def npg_step(self, A, B, Q, R, Sigma0, K, alpha, gamma=1.0, noise=0.0):
        A, B, Q, R, Sigma0, K = self._data(A, B, Q, R, Sigma0, K)
        alpha = self.dtype(alpha)
        if self.slip in ("vanilla", "times sigmaK", "sigma0 inverse"):
            gradient = LQRImplementation(dtype=self.dtype).gradient(
                A, B, Q, R, Sigma0, K, gamma, noise
            )
            if self.slip == "vanilla":
                return K - alpha * gradient
            if self.slip == "times sigmaK":
                return K - alpha * gradient @ self.covariance(A, B, Sigma0, K, gamma, noise)
            return K - alpha * np.linalg.solve(Sigma0.T, gradient.T).T
        P = self.value(A, B, Q, R, K, gamma)
        E = self.E(A, B, R, K, P, gamma)
        factor = 1.0 if self.slip == "no factor 2" else 2.0
        step = K - factor * alpha * E
        return K + 2 * alpha * E if self.slip == "ascent" else step

    def gn_step(self, A, B, Q, R, Sigma0, K, alpha, gamma=1.0, noise=0.0):
        A, B, Q, R, Sigma0, K = self._data(A, B, Q, R, Sigma0, K)
        alpha = self.dtype(alpha)
        P = self.value(A, B, Q, R, K, gamma)
        g = 1.0 if self.slip == "gamma missing in E" else gamma
        curvature = R + g * B.T @ P @ B
        E = (R + gamma * B.T @ P @ B) @ K - gamma * B.T @ P @ A
        if self.slip == "R curvature":
            return K - 2 * alpha * np.linalg.solve(R, E)
        if self.slip == "natural step":
            return K - 2 * alpha * E
        if self.slip == "curvature on the right":
            return K - 2 * alpha * np.linalg.solve(curvature.T, E.T).T
        if self.slip == "no sigma inverse":
            Sigma = self.covariance(A, B, Sigma0, K, gamma, noise)
            return K - alpha * np.linalg.solve(curvature, 2 * E @ Sigma)
        cross = A - B @ K if self.slip == "A_K for A" else A
        greedy = g * np.linalg.solve(curvature, B.T @ P @ cross)
        if self.slip == "ascent":
            return K + 2 * alpha * (K - greedy)
        factor = 1.0 if self.slip == "no factor 2" else 2.0
        return K - factor * alpha * (K - greedy)

    def pi_step(self, A, B, Q, R, K, gamma=1.0, noise=0.0):
        A, B, Q, R, K = self._data(A, B, Q, R, K)
        if self.slip == "optimal gain":
            return optimal_gain(A, B, Q, R, gamma)
        if self.slip == "unchanged":
            return K
        P = self.value(A, B, Q, R, K, gamma)
        g = 1.0 if self.slip == "gamma missing in E" else gamma
        cross = A - B @ K if self.slip == "A_K for A" else A
        if self.slip == "R curvature":
            return g * np.linalg.solve(R, B.T @ P @ cross)
        gain = g * np.linalg.solve(R + g * B.T @ P @ B, B.T @ P @ cross)
        return -gain if self.slip == "sign" else gain
