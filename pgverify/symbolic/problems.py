"""Generic symbolic problems for users' own derivation scripts: LQR and finite MDPs.

Tier: **exact** (sympy expressions with generic symbolic entries).  The derivations of
:mod:`pgverify.symbolic` build their problems here; docs/symbolic-toolkit.md is the guide.

LQR (Fazel, Ge, Kakade & Mesbahi, ICML 2018; docs/mathematics.md): ``x' = Ax + Bu``,
``u = −Kx + w`` with ``w ~ N(0, σI)``, stage cost ``xᵀQx + uᵀRu``, discount γ, ``E x0 x0ᵀ = Σ0``.
For a gain K with ``A_K = A − BK``:

* ``P_K = Q + KᵀRK + γ A_Kᵀ P_K A_K``  (``V^K(x) = xᵀP_K x`` + a constant with noise);
* ``Σ_K = Σ0 + γσ BBᵀ/(1 − γ) + γ A_K Σ_K A_Kᵀ``  (``Σ_t γ^t E x_t x_tᵀ``);
* ``C(K) = tr(P_K Σ0) + σ (tr R + γ tr(BᵀP_K B))/(1 − γ)``;
* ``E_K = (R + γBᵀP_K B)K − γBᵀP_K A`` and ``∇C(K) = 2 E_K Σ_K`` (Fazel et al. 2018, Lemma 1).

Finite MDP (Sutton et al. 2000; Kakade & Langford 2002; docs/finite-mdps.md): ``V^π = c_π +
γ P_π V^π``, ``Q^π(s, a) = c(s, a) + γ Σ_t P(t|s, a) V^π(t)``, ``A^π = Q^π − V^π``, and the
normalised discounted visitation ``d_π = (1 − γ) ρ (I − γP_π)⁻¹``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from pgverify.errors import InvalidProblemError
from pgverify.symbolic.assumptions import Assumption
from pgverify.symbolic.definitions import bellman_target
from pgverify.symbolic.domain import discount, distribution, rational, sample_lqr
from pgverify.symbolic.matrices import generic, solve_by_adjugate, symmetric


def _size(value: Any, argument: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidProblemError(f"{argument} must be a positive int, got {value!r}")
    return value


def _flag(value: Any, argument: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidProblemError(f"{argument} must be True or False, got {value!r}")
    return value


def _matrix(value: Any, shape: tuple[int, int], argument: str) -> sympy.Matrix:
    if not isinstance(value, sympy.MatrixBase) or value.shape != shape:
        seen = value.shape if isinstance(value, sympy.MatrixBase) else repr(value)
        raise InvalidProblemError(f"{argument} must be a sympy Matrix of shape {shape}, got {seen}")
    return value


def _scalar(value: Any, argument: str) -> Any:
    """A real sympy scalar: an int, a Fraction, a finite float or a sympy expression (no str,
    bool or None — sympify would read a string as a symbol)."""
    if isinstance(value, sympy.Expr) and not value.has(sympy.I, sympy.nan, sympy.zoo, sympy.oo):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise InvalidProblemError(
            f"{argument} must be a real number or a sympy expression, got {value!r}"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidProblemError(f"{argument} must be finite, got {value!r}")
    return sympy.sympify(value)


def solve_symmetric_stein(closed: sympy.Matrix, forcing: sympy.Matrix, weight: Any) -> sympy.Matrix:
    """The symmetric X with ``X = forcing + weight · closed X closedᵀ``, symbolically: the
    n(n+1)/2 unknowns solved by Cramer's rule (``adj(system) rhs / det(system)``), so each entry
    is one quotient of polynomials.  Unique when ``weight ρ(closed)² < 1``."""
    size = closed.rows
    unknown = symmetric("x_stein", size)
    pairs = [(i, j) for i in range(size) for j in range(i, size)]
    equations = unknown - forcing - weight * closed * unknown * closed.T
    variables = [unknown[i, j] for i, j in pairs]
    system, rhs = sympy.linear_eq_to_matrix([equations[i, j] for i, j in pairs], variables)
    numerator, determinant = solve_by_adjugate(system, rhs)
    values = dict(zip(variables, (entry / determinant for entry in numerator), strict=True))
    return unknown.xreplace(values)


def value_recursion(
    A: sympy.Matrix,
    B: sympy.Matrix,
    K: sympy.Matrix,
    Q: sympy.Matrix,
    R: sympy.Matrix,
    P: sympy.Matrix,
    gamma: Any = 1,
) -> sympy.Matrix:
    """The right side of the value recursion ``Q + KᵀRK + γ A_Kᵀ P A_K``, A_K = A − BK (its
    fixed point is P_K, ``V^K(x) = xᵀP_K x``; Fazel et al. 2018, §2)."""
    closed = A - B * K
    return Q + K.T * R * K + gamma * closed.T * P * closed


@dataclass(frozen=True)
class SymbolicLQR:
    """An LQR problem with generic symbolic entries (build it with :func:`symbolic_lqr`).

    Shapes: ``A`` (n, n), ``B`` (n, m), ``Q`` and ``Sigma0`` (n, n) symmetric, ``R`` (m, m)
    symmetric; ``gamma`` a symbol (or 1 undiscounted), ``sigma`` the exploration variance (a
    symbol, or 0 noiseless).  Gains K are (m, n) (:meth:`gain`).  Its quantities are the formulas
    of the module docstring (Fazel et al. 2018); :meth:`domain` is where they are claimed.
    Tier: exact."""

    n: int
    m: int
    A: sympy.Matrix
    B: sympy.Matrix
    Q: sympy.Matrix
    R: sympy.Matrix
    Sigma0: sympy.Matrix
    gamma: Any
    sigma: Any
    discounted: bool
    noisy: bool

    def gain(self, name: str = "k") -> sympy.Matrix:
        """A generic (m, n) gain of symbols ``name_ij``."""
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidProblemError(f"gain name must be an identifier string, got {name!r}")
        return generic(name, self.m, self.n)

    def _gain(self, K: Any, argument: str = "K") -> sympy.Matrix:
        return _matrix(K, (self.m, self.n), argument)

    def closed_loop(self, K: sympy.Matrix) -> sympy.Matrix:
        """``A_K = A − BK`` (n, n)."""
        return self.A - self.B * self._gain(K)

    def value_recursion(self, K: sympy.Matrix, P: sympy.Matrix) -> sympy.Matrix:
        """The right side of the value recursion, ``Q + KᵀRK + γ A_Kᵀ P A_K`` (n, n): P_K is its
        fixed point (Fazel et al. 2018, §2)."""
        K, P = self._gain(K), _matrix(P, (self.n, self.n), "P")
        return value_recursion(self.A, self.B, K, self.Q, self.R, P, self.gamma)

    def effective_initial_covariance(self) -> sympy.Matrix:
        """``Σ0 + γσ BBᵀ/(1 − γ)`` (n, n): the exploration noise folded into the initial
        moment (Σ0 itself when noiseless)."""
        if not self.noisy:
            return self.Sigma0
        return self.Sigma0 + self.gamma * self.sigma * self.B * self.B.T / (1 - self.gamma)

    def moment_recursion(self, K: sympy.Matrix, Sigma: sympy.Matrix) -> sympy.Matrix:
        """The right side of the state-moment recursion, ``Σ0 + γσBBᵀ/(1 − γ) + γ A_K Σ A_Kᵀ``
        (n, n): Σ_K is its fixed point."""
        closed = self.closed_loop(K)
        Sigma = _matrix(Sigma, (self.n, self.n), "Sigma")
        return self.effective_initial_covariance() + self.gamma * closed * Sigma * closed.T

    def value_matrix(self, K: sympy.Matrix) -> sympy.Matrix:
        """P_K (n, n), solved symbolically: each entry a quotient of polynomials in the entries
        (Cramer's rule on the value recursion)."""
        closed = self.closed_loop(K)
        return solve_symmetric_stein(closed.T, self.Q + K.T * self.R * K, self.gamma)

    def state_covariance(self, K: sympy.Matrix) -> sympy.Matrix:
        """Σ_K (n, n), solved symbolically from the state-moment recursion."""
        closed = self.closed_loop(K)
        return solve_symmetric_stein(closed, self.effective_initial_covariance(), self.gamma)

    def cost(self, K: sympy.Matrix, P: sympy.Matrix | None = None) -> Any:
        """``C(K) = tr(P Σ0) + σ (tr R + γ tr(BᵀPB))/(1 − γ)`` with P = P_K (solved) unless
        given (a scalar expression; Fazel et al. 2018, §2)."""
        P = self.value_matrix(K) if P is None else _matrix(P, (self.n, self.n), "P")
        total = (P * self.Sigma0).trace()
        if self.noisy:
            noise = self.R.trace() + self.gamma * (self.B.T * P * self.B).trace()
            total += self.sigma * noise / (1 - self.gamma)
        return total

    def curvature(self, K: sympy.Matrix, P: sympy.Matrix | None = None) -> sympy.Matrix:
        """``R + γBᵀPB`` (m, m), P = P_K unless given: the Hessian of Q^K in u, over 2."""
        self._gain(K)
        P = self.value_matrix(K) if P is None else _matrix(P, (self.n, self.n), "P")
        return self.R + self.gamma * self.B.T * P * self.B

    def E(self, K: sympy.Matrix, P: sympy.Matrix | None = None) -> sympy.Matrix:
        """``E_K = (R + γBᵀPB)K − γBᵀPA`` (m, n), P = P_K unless given (Fazel et al. 2018)."""
        P = self.value_matrix(K) if P is None else _matrix(P, (self.n, self.n), "P")
        return self.curvature(K, P) * K - self.gamma * self.B.T * P * self.A

    def gradient(
        self, K: sympy.Matrix, P: sympy.Matrix | None = None, Sigma: sympy.Matrix | None = None
    ) -> sympy.Matrix:
        """The closed form ``∇C(K) = 2 E_K Σ_K`` (m, n) of Fazel et al. 2018, Lemma 1 (P = P_K
        and Σ = Σ_K solved unless given) — a claim to prove against the derivative of
        :meth:`cost`, as docs/symbolic-toolkit.md does."""
        Sigma = (
            self.state_covariance(K) if Sigma is None else _matrix(Sigma, (self.n, self.n), "Sigma")
        )
        return 2 * self.E(K, P) * Sigma

    def q_function(
        self, x: sympy.Matrix, u: sympy.Matrix, P: sympy.Matrix, constant: Any = 0
    ) -> Any:
        """``Q^K(x, u) = xᵀQx + uᵀRu + γ V^K(Ax + Bu)`` with ``V^K(y) = yᵀPy + constant``
        (scalar; x (n, 1), u (m, 1))."""
        x, u = _matrix(x, (self.n, 1), "x"), _matrix(u, (self.m, 1), "u")
        P = _matrix(P, (self.n, self.n), "P")
        constant = _scalar(constant, "constant")
        following = self.A * x + self.B * u
        stage = (x.T * self.Q * x + u.T * self.R * u)[0, 0]
        return bellman_target(stage, (following.T * P * following)[0, 0] + constant, self.gamma)

    def domain(self, *gains: sympy.Matrix, P: Any = None, Sigma: Any = None) -> Assumption:
        """The domain of the problem's symbols and of one or two gains: Q, R, Σ0 ≻ 0; the first
        gain K with ‖A − BK‖_∞ ≤ 1/2 (a matrix of symbols, or an expression such as θ K0 whose
        symbols are drawn as rationals and A built around its value) and a second K' (symbols)
        with ‖A − BK'‖_∞ ≤ 3/4, both stabilising; 0 < γ < 1 and σ > 0 when symbolic (drawn by
        :func:`pgverify.symbolic.domain.sample_lqr`).  Optional generic matrices ``P`` and
        ``Sigma`` are drawn as the exact P_K and Σ_K of the first gain (a relation, not an
        independent domain: an identity true only on it cannot be proved by ``prove``'s zero
        test, which then says so)."""
        if not 1 <= len(gains) <= 2:
            raise InvalidProblemError(
                f"domain needs one or two gains (K, and optionally K'), got {len(gains)}"
            )
        fields: dict[str, sympy.Matrix] = {"A": self.A, "B": self.B, "Q": self.Q, "R": self.R}
        fields["Sigma0"] = self.Sigma0
        first = self._gain(gains[0], "the first gain")
        data_symbols = set().union(*(matrix.free_symbols for matrix in fields.values()))
        # a gain expression (e.g. theta K0): its own symbols are drawn, A is built around it
        expression = not all(isinstance(entry, sympy.Symbol) for entry in first)
        if expression:
            parameters = sorted(first.free_symbols, key=str)
            if data_symbols & set(parameters) or {self.gamma, self.sigma} & set(parameters):
                raise InvalidProblemError(
                    f"domain: the gain {first.tolist()} must not involve the problem's own "
                    "symbols (A is drawn around the gain's value)"
                )
        elif data_symbols & first.free_symbols:
            raise InvalidProblemError(
                f"domain: the gain {first.tolist()} must not involve the problem's own symbols"
            )
        else:
            fields["K"] = first
        if len(gains) == 2:
            fields["K2"] = self._gain(gains[1], "the second gain")
        if P is not None:
            fields["P"] = _matrix(P, (self.n, self.n), "P")
        if Sigma is not None:
            fields["Sigma"] = _matrix(Sigma, (self.n, self.n), "Sigma")
        scalars = {"gamma": self.gamma, "sigma": self.sigma}
        for name, matrix in fields.items():
            if not all(isinstance(entry, sympy.Symbol) for entry in matrix):
                raise InvalidProblemError(
                    f"domain: {name} must be a matrix of symbols, got {matrix.tolist()}"
                )

        def draw(rng: random.Random) -> dict[Any, Any]:
            values: dict[Any, Any] = {}
            gain = None
            if expression:
                values = {symbol: rational(rng) for symbol in parameters}
                gain = first.xreplace(values)
            point = sample_lqr(
                rng, self.n, self.m, discounted=self.discounted, noisy=self.noisy, gain=gain
            )
            for name, matrix in fields.items():
                value = getattr(point, name)
                values.update({matrix[k]: value[k] for k in range(len(matrix))})
            for name, symbol in scalars.items():
                if isinstance(symbol, sympy.Symbol):
                    values[symbol] = getattr(point, name)
            return values

        symbols = set().union(*(matrix.free_symbols for matrix in fields.values()))
        symbols |= {s for s in scalars.values() if isinstance(s, sympy.Symbol)}
        if expression:
            symbols |= set(parameters)
        description = (
            "Q, R, Sigma0 positive definite; "
            + f"K = {first.tolist()} stabilising (||A - BK||_inf <= 1/2)"
            + ("; K' stabilising (||A - BK'||_inf <= 3/4)" if len(gains) == 2 else "")
            + ("; 0 < gamma < 1" if self.discounted else "")
            + ("; sigma > 0" if self.noisy else "")
            + ("; P = P_K" if P is not None else "")
            + ("; Sigma = Sigma_K" if Sigma is not None else "")
        )
        return Assumption(frozenset(symbols), draw, description)


def symbolic_lqr(n: int, m: int, *, discounted: bool = False, noisy: bool = False) -> SymbolicLQR:
    """An n-state, m-input LQR problem with generic symbolic entries: ``A = (a_ij)``,
    ``B = (b_ij)``, symmetric ``Q = (q_ij)``, ``R = (r_ij)``, ``Σ0 = (w_ij)``; ``γ`` the symbol
    ``gamma`` if ``discounted`` (else 1) and the exploration variance ``σ`` the symbol ``sigma``
    if ``noisy`` (needs ``discounted``: with γ = 1 the noise makes every cost infinite; else 0).
    Its domain (:meth:`SymbolicLQR.domain`): Q, R, Σ0 ≻ 0, 0 < γ < 1, σ > 0, K stabilising.
    Tier: exact.  Formulas: Fazel, Ge, Kakade & Mesbahi (ICML 2018); docs/symbolic-toolkit.md."""
    n, m = _size(n, "n"), _size(m, "m")
    discounted, noisy = _flag(discounted, "discounted"), _flag(noisy, "noisy")
    if noisy and not discounted:
        raise InvalidProblemError(
            "noisy=True needs discounted=True: with gamma = 1 exploration noise makes every "
            "infinite-horizon cost infinite"
        )
    gamma = sympy.Symbol("gamma", positive=True) if discounted else sympy.Integer(1)
    sigma = sympy.Symbol("sigma", positive=True) if noisy else sympy.Integer(0)
    return SymbolicLQR(
        n,
        m,
        generic("a", n, n),
        generic("b", n, m),
        symmetric("q", n),
        symmetric("r", m),
        symmetric("w", n),
        gamma,
        sigma,
        discounted,
        noisy,
    )


# --------------------------------------------------------------------------------------------
# Finite MDPs
# --------------------------------------------------------------------------------------------


def symbolic_distribution(name: str, size: int) -> list[Any]:
    """A generic probability vector of length ``size``: positive symbols ``name_1 …
    name_{size−1}`` and the last entry ``1 − Σ`` (so it sums to 1 identically)."""
    head = [sympy.Symbol(f"{name}_{i + 1}", positive=True) for i in range(size - 1)]
    return [*head, 1 - sum(head)]


@dataclass(frozen=True)
class SymbolicMDP:
    """A finite discounted MDP with generic symbolic entries (build it with
    :func:`symbolic_mdp`): ``transition[s][a][t] = P(t|s, a)`` (each row a generic
    distribution), ``cost[s][a]`` symbols ``c_sa``, ``initial`` ρ a generic distribution,
    ``gamma`` the symbol γ.  Tabular policies are S×A lists of rows (:meth:`policy`).  Its
    quantities follow Sutton et al. (2000) and Kakade & Langford (2002); docs/finite-mdps.md.
    Tier: exact."""

    states: int
    actions: int
    transition: list[list[list[Any]]]
    cost: list[list[Any]]
    initial: list[Any]
    gamma: Any

    def policy(self, name: str = "pi") -> list[list[Any]]:
        """A generic tabular policy: row s is a generic distribution ``name{s}_1, …``."""
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidProblemError(f"policy name must be an identifier string, got {name!r}")
        return [symbolic_distribution(f"{name}{s + 1}", self.actions) for s in range(self.states)]

    def _policy(self, policy: Any) -> list[list[Any]]:
        shape_ok = (
            isinstance(policy, (list, tuple))
            and len(policy) == self.states
            and all(isinstance(row, (list, tuple)) and len(row) == self.actions for row in policy)
        )
        if not shape_ok:
            raise InvalidProblemError(
                f"policy must be {self.states} rows of {self.actions} probabilities, got {policy!r}"
            )
        return [[_scalar(p, "policy entry") for p in row] for row in policy]

    def transition_matrix(self, policy: Any) -> sympy.Matrix:
        """``P_π(s, t) = Σ_a π(a|s) P(t|s, a)`` (S, S)."""
        pi = self._policy(policy)
        return sympy.Matrix(
            self.states,
            self.states,
            lambda s, t: sum(pi[s][a] * self.transition[s][a][t] for a in range(self.actions)),
        )

    def expected_cost(self, policy: Any) -> sympy.Matrix:
        """``c_π(s) = Σ_a π(a|s) c(s, a)`` (S, 1)."""
        pi = self._policy(policy)
        return sympy.Matrix(
            self.states,
            1,
            lambda s, _: sum(pi[s][a] * self.cost[s][a] for a in range(self.actions)),
        )

    def resolvent(self, policy: Any) -> sympy.Matrix:
        """``(I − γP_π)⁻¹`` (S, S), by the adjugate: one quotient of polynomials per entry."""
        system = sympy.eye(self.states) - self.gamma * self.transition_matrix(policy)
        adjugate, determinant = solve_by_adjugate(system, sympy.eye(self.states))
        return adjugate / determinant

    def values(self, policy: Any) -> sympy.Matrix:
        """``V^π = (I − γP_π)⁻¹ c_π`` (S, 1): the fixed point of ``V = c_π + γP_π V``."""
        return self.resolvent(policy) * self.expected_cost(policy)

    def q_values(self, policy: Any, values: sympy.Matrix | None = None) -> sympy.Matrix:
        """``Q^π(s, a) = c(s, a) + γ Σ_t P(t|s, a) V(t)`` (S, A), V = V^π unless given."""
        self._policy(policy)
        V = self.values(policy) if values is None else _matrix(values, (self.states, 1), "values")
        return sympy.Matrix(
            self.states,
            self.actions,
            lambda s, a: bellman_target(
                self.cost[s][a],
                sum(self.transition[s][a][t] * V[t] for t in range(self.states)),
                self.gamma,
            ),
        )

    def advantages(self, policy: Any, values: sympy.Matrix | None = None) -> sympy.Matrix:
        """``A^π(s, a) = Q^π(s, a) − V^π(s)`` (S, A), V = V^π unless given."""
        self._policy(policy)
        V = self.values(policy) if values is None else _matrix(values, (self.states, 1), "values")
        q = self.q_values(policy, V)
        return sympy.Matrix(self.states, self.actions, lambda s, a: q[s, a] - V[s])

    def visitation(self, policy: Any) -> sympy.Matrix:
        """The normalised discounted state visitation ``d_π = (1 − γ) ρ (I − γP_π)⁻¹`` (1, S):
        ``d_π(s) = (1 − γ) Σ_t γ^t Pr_π(x_t = s)`` (Kakade & Langford 2002)."""
        rho = sympy.Matrix(1, self.states, self.initial)
        return (1 - self.gamma) * rho * self.resolvent(policy)

    def cost_of(self, policy: Any) -> Any:
        """``C(π) = ρ V^π`` (a scalar expression)."""
        rho = sympy.Matrix(1, self.states, self.initial)
        return (rho * self.values(policy))[0, 0]

    def domain(self, *policies: Any) -> Assumption:
        """Every transition row, ρ and each given policy's rows distributions with positive
        entries; 0 < γ < 1; costs any rationals.  (The policies must be generic ones, from
        :meth:`policy`.)"""
        rows = [self._policy(policy) for policy in policies]
        for row in (row for policy in rows for row in policy):
            if not all(isinstance(p, sympy.Symbol) for p in row[:-1]):
                raise InvalidProblemError(
                    "domain: each policy must be a generic policy from SymbolicMDP.policy, "
                    f"got the row {row!r}"
                )
        costs = [c for row in self.cost for c in row]

        def head(point: dict[Any, Any], rng: random.Random, row: list[Any]) -> None:
            values = distribution(rng, len(row))
            point.update(zip(row[:-1], values, strict=False))

        def draw(rng: random.Random) -> dict[Any, Any]:
            point: dict[Any, Any] = {}
            for s in range(self.states):
                for a in range(self.actions):
                    head(point, rng, self.transition[s][a])
                    point[self.cost[s][a]] = rational(rng)
                for policy in rows:
                    head(point, rng, policy[s])
            head(point, rng, self.initial)
            point[self.gamma] = discount(rng)
            return point

        heads = [row[:-1] for by_state in self.transition for row in by_state]
        heads += [row[:-1] for policy in rows for row in policy] + [self.initial[:-1]]
        symbols = frozenset({*costs, self.gamma, *(p for head in heads for p in head)})
        description = (
            "every transition row, rho and policy row a distribution with positive entries; "
            "0 < gamma < 1; costs any rationals"
        )
        return Assumption(symbols, draw, description)


def symbolic_mdp(states: int, actions: int) -> SymbolicMDP:
    """A finite MDP with ``states`` states and ``actions`` actions and generic symbolic
    entries: ``P(·|s, a)`` the generic distribution ``p{s}{a}_1, …`` (last entry 1 − Σ),
    costs ``c_sa``, initial distribution ``rho_1, …`` and discount ``gamma`` (a positive
    symbol; its domain is 0 < γ < 1).  Tier: exact; formulas of Sutton et al. (2000) and
    Kakade & Langford (2002); docs/symbolic-toolkit.md."""
    states, actions = _size(states, "states"), _size(actions, "actions")
    transition = [
        [symbolic_distribution(f"p{s + 1}{a + 1}", states) for a in range(actions)]
        for s in range(states)
    ]
    cost = [[sympy.Symbol(f"c_{s + 1}{a + 1}") for a in range(actions)] for s in range(states)]
    initial = symbolic_distribution("rho", states)
    gamma = sympy.Symbol("gamma", positive=True)
    return SymbolicMDP(states, actions, transition, cost, initial, gamma)
