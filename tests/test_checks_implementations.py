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
        if self.slip in ("undiscounted P", "undiscounted"):
            return stein_value(closed, stage)
        return stein_value(closed, stage, gamma)

    def covariance(self, A, B, Sigma0, K, gamma, noise):
        closed = A - B @ K
        if self.slip == "sigma0 for sigmaK":
            return Sigma0
        if self.slip == "undiscounted":
            return stein_covariance(closed, Sigma0)
        initial = np.eye(len(A), dtype=self.dtype) if self.slip == "sigma from I" else Sigma0
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
        g_E = 1.0 if self.slip in ("gamma missing in E", "undiscounted") else gamma
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


# --------------------------------------------------------------------------------------------
# Finite MDPs
# --------------------------------------------------------------------------------------------


def softmax(logits):
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)


class MDPImplementation:
    """Tabular evaluation, visitation and softmax (natural) gradients; ``slip`` is one mistake."""

    def __init__(self, slip=None, dtype=np.float64):
        self.slip = slip
        self.dtype = dtype

    def _transition(self, transitions, policy):
        if self.slip == "tensor transposed":
            transitions = np.transpose(transitions, (2, 1, 0))
        matrix = np.einsum("sa,sat->st", policy, transitions)
        return matrix.T if self.slip == "P transposed" else matrix

    def value(self, transitions, costs, policy, gamma):
        transitions, costs, policy = (x.astype(self.dtype) for x in (transitions, costs, policy))
        S, A = costs.shape
        if self.slip == "uniform policy":
            policy = np.full((S, A), 1.0 / A, dtype=self.dtype)
        if self.slip == "optimal":
            return self._optimal(transitions, costs, gamma)
        stage = (policy * costs).sum(axis=1)
        if self.slip == "one step":
            return stage
        if self.slip == "uniform costs":
            stage = costs.mean(axis=1)
        g = gamma**2 if self.slip == "gamma squared" else gamma
        transition = self._transition(transitions, policy)
        if self.slip == "uniform transitions":
            transition = transitions.mean(axis=1)
        if self.slip in ("200 sweeps", "200 in-place sweeps"):
            value = np.zeros(S, dtype=self.dtype)
            for _ in range(200):
                if self.slip == "200 sweeps":
                    value = stage + g * transition @ value
                else:
                    for s in range(S):
                        value[s] = stage[s] + g * transition[s] @ value
            return value
        system = np.eye(S, dtype=self.dtype) - self.dtype(g) * transition
        value = np.linalg.solve(system, stage)
        if self.slip == "negated":
            return -value
        return (1 - gamma) * value if self.slip == "normalised" else value

    def _optimal(self, transitions, costs, gamma):
        """V* by policy iteration (a greedy deterministic policy until it is stable)."""
        S, A = costs.shape
        actions = np.zeros(S, dtype=int)
        while True:
            policy = np.eye(A)[actions]
            V = MDPImplementation().value(transitions, costs, policy, gamma)
            improved = np.argmin(costs + gamma * transitions @ V, axis=1)
            if np.array_equal(improved, actions):
                return V
            actions = improved

    def q(self, transitions, costs, policy, gamma):
        if self.slip == "optimal":
            V = self._optimal(transitions, costs, gamma)
        else:
            passed_on = self.slip if self.slip in ("P transposed", "uniform transitions") else None
            V = MDPImplementation(passed_on, self.dtype).value(transitions, costs, policy, gamma)
        tensor = (
            np.transpose(transitions, (2, 1, 0))
            if self.slip == "tensor transposed"
            else transitions
        )
        g = 1.0 if self.slip == "gamma missing" else gamma
        Q = costs.astype(self.dtype) + self.dtype(g) * (tensor.astype(self.dtype) @ V)
        if self.slip == "V for Q":
            return np.repeat(V[:, None], costs.shape[1], axis=1)
        if self.slip == "advantage":
            return Q - V[:, None]
        if self.slip == "negated":
            return -Q
        return (1 - gamma) * Q if self.slip == "normalised" else Q

    def visitation(self, transitions, initial, policy, gamma, normalised=True):
        S = initial.shape[0]
        if self.slip == "initial":
            return initial
        if self.slip == "uniform initial":
            initial = np.full(S, 1.0 / S)
        matrix = np.einsum("sa,sat->st", policy, transitions)
        if self.slip == "P not transposed":
            occupancy = np.linalg.solve(np.eye(S) - gamma * matrix, initial)
        else:
            occupancy = np.linalg.solve((np.eye(S) - gamma * matrix).T, initial)
        if self.slip == "first step left out":
            occupancy = occupancy - initial
        if self.slip == "normalised twice":
            return (1 - gamma) ** 2 * occupancy
        return (1 - gamma) * occupancy if normalised else occupancy

    def _pieces(self, transitions, costs, initial, logits, gamma):
        policy = softmax(logits)
        Q = MDPImplementation().q(transitions, costs, policy, gamma)
        V = (policy * Q).sum(axis=1)
        d = MDPImplementation().visitation(transitions, initial, policy, gamma)
        return policy, Q, Q - V[:, None], d

    def softmax_gradient(self, transitions, costs, initial, logits, gamma):
        policy, Q, advantage, d = self._pieces(transitions, costs, initial, logits, gamma)
        weight = initial if self.slip == "initial for d" else d
        term = Q if self.slip == "Q for A" else advantage
        gradient = weight[:, None] * (1.0 if self.slip == "no pi" else policy) * term
        if self.slip == "direct":
            gradient = d[:, None] * Q
        if self.slip == "no 1/(1-gamma)":
            return gradient
        if self.slip == "twice 1/(1-gamma)":
            return gradient / (1 - gamma) ** 2
        return -gradient / (1 - gamma) if self.slip == "ascent" else gradient / (1 - gamma)

    def softmax_natural_gradient(self, transitions, costs, initial, logits, gamma):
        policy, Q, advantage, d = self._pieces(transitions, costs, initial, logits, gamma)
        if self.slip == "advantage only":
            return advantage
        if self.slip == "ascent":
            return -advantage / (1 - gamma)
        if self.slip == "vanilla":
            return MDPImplementation().softmax_gradient(transitions, costs, initial, logits, gamma)
        if self.slip == "twice 1/(1-gamma)":
            return advantage / (1 - gamma) ** 2
        if self.slip == "d kept":
            return d[:, None] * advantage / (1 - gamma)
        if self.slip == "Q":  # a valid natural gradient: Q = A + a per-state shift
            return Q / (1 - gamma)
        if self.slip == "pinv":  # the minimum-norm solution of F x = grad, by an explicit F
            S, A = policy.shape
            fisher = np.zeros((S * A, S * A))
            for s in range(S):
                block = np.diag(policy[s]) - np.outer(policy[s], policy[s])
                fisher[s * A : (s + 1) * A, s * A : (s + 1) * A] = d[s] * block
            gradient = MDPImplementation().softmax_gradient(
                transitions, costs, initial, logits, gamma
            )
            return (np.linalg.pinv(fisher) @ gradient.reshape(-1)).reshape(S, A)
        assert self.slip is None, self.slip
        return advantage / (1 - gamma)


# --------------------------------------------------------------------------------------------
# Gaussian policies
# --------------------------------------------------------------------------------------------


def gaussian_score(K, sigma, x, u, *, slip=None, dtype=np.float64):
    K, x, u = K.astype(dtype), x.astype(dtype), u.astype(dtype)
    variance = dtype(sigma**2 if slip == "std" else sigma)
    residual = u - K @ x if slip == "mean +Kx" else u + K @ x
    score = -np.outer(residual, x) / variance
    factors = {"sign": -1.0, "factor 2": 2.0, "factor 1/2": 0.5}
    if slip == "no 1/sigma":
        score = -np.outer(residual, x)
    if slip == "times sigma":
        score = -np.outer(residual, x) * dtype(sigma)
    return dtype(factors.get(slip, 1.0)) * score


def two_layer_score(W0, W1, sigma, x, u, *, activation="tanh", slip=None, dtype=np.float64):
    W0, W1, x, u = (a.astype(dtype) for a in (W0, W1, x, u))
    z = W0 @ x
    if activation == "tanh":
        h = np.tanh(z)
        dh = 1 - h if slip == "1 - tanh" else 1 - h**2
    elif activation == "sigmoid":
        h = 1 / (1 + np.exp(-z))
        dh = h * (1 - h)
    elif activation == "relu":
        h, dh = np.maximum(z, 0), (z > 0).astype(dtype)
    else:
        h, dh = z, np.ones_like(z)
    if slip == "h for h'":
        dh = h
    residual = u - W1 @ h
    variance = dtype(sigma**2 if slip == "std" else sigma)
    back = W1 @ residual if slip == "W1 untransposed" else W1.T @ residual
    if slip != "no h'":
        back = dh * back
    dW0, dW1 = np.outer(back, x) / variance, np.outer(residual, h) / variance
    if slip == "sign":
        return -dW0, -dW1
    return (dW1, dW0) if slip == "swapped" else (dW0, dW1)


def gaussian_fisher(K, sigma, S, *, slip=None, dtype=np.float64):
    S = S.astype(dtype)
    m = K.shape[0]
    identity = np.eye(m, dtype=dtype)
    if slip == "row-major":
        return np.kron(identity, S) / dtype(sigma)
    if slip == "inverse":
        return np.kron(np.linalg.inv(S), identity) * dtype(sigma)
    powers = {"std": 2.0, "no 1/sigma": 0.0, "times sigma": -1.0}
    return np.kron(S, identity) / dtype(sigma) ** powers.get(slip, 1.0)
