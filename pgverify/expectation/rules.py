"""Cubature rules with rational nodes and weights, exact for polynomials of a stated degree.

**One dimension** (``z ~ N(0, v)``). The rule of level ℓ has the 2ℓ − 1 nodes ``j c``,
``j = −(ℓ−1), …, ℓ−1``, for a rational scale ``c > 0`` (a float64 near √v, so every node is a
float64), and the symmetric weights that match the even moments ``E z^{2r} = v^r (2r − 1)!!``
for ``r < ℓ``: a rational Vandermonde system in j². Odd moments vanish by symmetry, so the rule
integrates every polynomial of degree ≤ 2ℓ − 1 exactly — the exactness of ℓ-point Gauss–Hermite
with rational nodes (Gauss–Hermite's are irrational), at the price of 2ℓ − 1 nodes instead of ℓ;
the rules are nested (level ℓ's nodes are among level ℓ + 1's), which the sparse grid exploits.

**d dimensions.** Smolyak's sparse grid (Smolyak 1963; Novak & Ritter, "Simple cubature formulas
with high polynomial exactness", Constr. Approx. 15, 1999): with one-dimensional rules U^ℓ exact
for degree 2ℓ − 1,

    A(k, d) = Σ_{k−d+1 ≤ |ℓ−1| ≤ k} (−1)^{k−|ℓ−1|} C(d−1, k−|ℓ−1|) U^{ℓ_1} ⊗ … ⊗ U^{ℓ_d}

integrates every polynomial of *total* degree ≤ 2k + 1 exactly, with O(d^k) nodes (O(d²) for
degree 5, O(d³) for degree 7); some weights are negative. The tensor rule ``U^{k+1} ⊗ … ⊗
U^{k+1}``, (2k + 1)^d nodes, is used instead when it is smaller (d ≤ 2). Nothing rounds: nodes
and weights are Fractions, so ``Σ_i w_i f(x_i)`` is the exact expectation of a polynomial f of
that degree when f is evaluated exactly.

**Blocks.** The same construction runs over factors that are not one-dimensional Gaussians: the
unit sphere of R^D (u uniform) with U¹ = {±e_1} (exact for degree 1), U² = {±e_i} (degree 3)
and U³ (degree 5, for zeroth-order estimators on cubic costs): the 2D points ±e_i with weight
w_A/(2D) each and the 4D(D − 1) points ±a e_i ± b e_j (i ≠ j, (a, b) = (3/5, 4/5): a rational
point of the circle) with weight w_B/(4D(D − 1)) each. Both orbits are invariant under signed
permutations, so every monomial with an odd exponent integrates to 0 and each remaining moment of
degree ≤ 5 follows from ``E Σ_i u_i⁴ = 3/(D + 2)`` (from ``E u_i⁴ = 3/(D(D + 2))``; Stroud,
"Approximate Calculation of Multiple Integrals", 1971, §7.1): ``w_A + w_B = 1`` and
``w_A + (a⁴ + b⁴) w_B = 3/(D + 2)`` (w_A < 0 for D ≥ 4: a signed rule, as Smolyak's). The point
a e_i + b e_j is not a float64 (3/5 is not dyadic): its float image errs by one rounding, inside
the rounding allowance of float evaluations. For D = 1 the sphere is {±1}, integrated exactly by U².
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

from pgverify.errors import InvalidProblemError

Key = tuple[tuple[int, int], ...]
"""A node of a rule over factors: the (factor, local node) pairs whose local node is not 0."""

DEFAULT_NODE_BUDGET = 200_000


class CubatureTooLarge(InvalidProblemError):
    """The cubature rule needed for the requested degree has more nodes than the budget."""


@dataclass(frozen=True)
class GaussianFactor:
    """A coordinate ``z ~ N(0, variance)``; local node j stands for the point ``j · scale``."""

    variance: Fraction
    scale: Fraction

    @staticmethod
    def of(variance: Fraction) -> GaussianFactor:
        # a float64 near √v with ≤ 30 significant bits: the nodes j·c (|j| ≤ 8) are float64 too
        root = math.sqrt(variance) if variance > 0 else 1.0
        if not 1e-150 < root < 1e150:  # keeps the node's float64 image and c² far from 0 and ∞
            raise InvalidProblemError(
                f"a Gaussian variance of {float(variance):.3g} is outside the supported range "
                f"(1e-300, 1e300); rescale the problem"
            )
        mantissa, exponent = math.frexp(root)
        scale = Fraction(round(mantissa * 2**30)) * Fraction(2) ** (exponent - 30)
        return GaussianFactor(Fraction(variance), scale)

    def size(self, level: int) -> int:
        return 1 if self.variance == 0 else 2 * level - 1

    def rule(self, level: int) -> dict[int, Fraction]:
        """Local node → weight (shared by the cache: do not modify)."""
        if self.variance == 0:  # a point mass at 0
            return {0: Fraction(1)}
        return _symmetric_rule(level, self.ratio)

    @functools.cached_property
    def ratio(self) -> Fraction:
        """``v / c²``: the variance in units of the scale."""
        return self.variance / self.scale**2


CIRCLE_POINT = (Fraction(3, 5), Fraction(4, 5))
"""(a, b) with a² + b² = 1, both rational: the second orbit of the degree-5 sphere rule."""


@dataclass(frozen=True)
class SphereFactor:
    """``u`` uniform on the unit sphere of R^dimension; local node ±(i+1) stands for ±e_i, and
    local nodes > dimension for the points ±a e_i ± b e_j of the degree-5 rule (:meth:`point`)."""

    dimension: int
    MAX_LEVEL = 3

    def size(self, level: int) -> int:
        if level == 1:
            return 2
        if level == 2 or self.dimension == 1:
            return 2 * self.dimension
        return 2 * self.dimension + 4 * self.dimension * (self.dimension - 1)

    def rule(self, level: int) -> dict[int, Fraction]:
        if level > self.MAX_LEVEL:
            raise InvalidProblemError(
                "the sphere rules here are exact up to degree 5 only (level 3); a higher degree "
                "(e.g. a variance of a zeroth-order estimate on a cubic cost) is not supported"
            )
        if level == 3 and self.dimension > 1:
            return _sphere_degree_five(self.dimension)
        axes = 1 if level == 1 else self.dimension
        weight = Fraction(1, 2 * axes)
        return {sign * (i + 1): weight for i in range(axes) for sign in (1, -1)}

    def point(self, local: int) -> list[Fraction]:
        """The unit vector local node ``local`` stands for (exact)."""
        u = [Fraction(0)] * self.dimension
        if 0 < abs(local) <= self.dimension:
            u[abs(local) - 1] = Fraction(1 if local > 0 else -1)
            return u
        i, j, sign_i, sign_j = _second_orbit(self.dimension)[local - self.dimension - 1]
        a, b = CIRCLE_POINT
        u[i], u[j] = sign_i * a, sign_j * b
        return u


@functools.lru_cache(maxsize=64)
def _second_orbit(dimension: int) -> tuple[tuple[int, int, int, int], ...]:
    """(i, j, sign of a, sign of b) of the points ±a e_i ± b e_j, i ≠ j, in a fixed order."""
    return tuple(
        (i, j, si, sj)
        for i in range(dimension)
        for j in range(dimension)
        if i != j
        for si in (1, -1)
        for sj in (1, -1)
    )


@functools.lru_cache(maxsize=64)
def _sphere_degree_five(dimension: int) -> dict[int, Fraction]:
    """The degree-5 rule on the unit sphere of R^dimension (module docstring, "Blocks")."""
    a, b = CIRCLE_POINT
    fourth = a**4 + b**4
    axis_weight = (Fraction(3, dimension + 2) - fourth) / (1 - fourth)
    orbit_weight = 1 - axis_weight
    rule = {
        sign * (i + 1): axis_weight / (2 * dimension) for i in range(dimension) for sign in (1, -1)
    }
    points = _second_orbit(dimension)
    for index in range(len(points)):
        rule[dimension + 1 + index] = orbit_weight / len(points)
    return rule


Factor = GaussianFactor | SphereFactor


@functools.lru_cache(maxsize=256)
def _symmetric_rule(level: int, ratio: Fraction) -> dict[int, Fraction]:
    """Weights on the nodes −(ℓ−1)…ℓ−1 matching ``E z^{2r} = ratio^r (2r−1)!!`` for r < ℓ, z in
    units of the scale (so ``ratio = v / c²``)."""
    unknowns = level  # w_0 and w_j = w_{−j} for j = 1 … ℓ−1
    rows = []
    for r in range(unknowns):
        moment = ratio**r * math.prod(range(1, 2 * r, 2))
        coefficients = [Fraction((1 if j == 0 else 2) * j ** (2 * r)) for j in range(unknowns)]
        rows.append([*coefficients, Fraction(moment)])
    rule: dict[int, Fraction] = {}
    for j, weight in enumerate(_solve(rows)):
        rule[j] = weight
        if j:
            rule[-j] = weight
    return rule


def _solve(rows: list[list[Fraction]]) -> list[Fraction]:
    """Gauss–Jordan elimination over the rationals (the system is a nonsingular Vandermonde)."""
    size = len(rows)
    for col in range(size):
        pivot = next(r for r in range(col, size) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        head = rows[col][col]
        rows[col] = [v / head for v in rows[col]]
        for r in range(size):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [row[-1] for row in rows]


def level_for_degree(degree: int) -> int:
    """The smallest k with 2k + 1 ≥ degree: the Smolyak parameter for exactness ``degree``."""
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 0:
        raise InvalidProblemError(f"degree must be an int >= 0, got {degree!r}")
    return degree // 2


def _sparse_size(factors: list[Factor], k: int) -> int:
    """Nodes of A(k, d) before merging: Σ_{q} |C(d−1, k−q)| [x^q] Π_i Σ_ℓ size_i(ℓ) x^{ℓ−1}."""
    d = len(factors)
    series = [1] + [0] * k
    for factor in factors:
        row = [
            factor.size(level + 1) if _has_level(factor, level + 1) else 0 for level in range(k + 1)
        ]
        series = [sum(series[a] * row[q - a] for a in range(q + 1)) for q in range(k + 1)]
    return sum(series[q] for q in range(max(0, k - d + 1), k + 1))


def _has_level(factor: Factor, level: int) -> bool:
    return not isinstance(factor, SphereFactor) or level <= SphereFactor.MAX_LEVEL


def _tensor_size(factors: list[Factor], k: int) -> int | None:
    if any(not _has_level(f, k + 1) for f in factors):
        return None
    return math.prod(f.size(k + 1) for f in factors)


@dataclass(frozen=True)
class Rule:
    """A cubature rule: ``nodes`` maps a :data:`Key` to its exact weight; ``description`` names
    the construction and its exactness."""

    nodes: dict[Key, Fraction]
    description: str
    degree: int

    @property
    def size(self) -> int:
        return len(self.nodes)

    @property
    def absolute_weight(self) -> Fraction:
        """Σ |w_i| (1 when every weight is positive; the amplification of evaluation errors)."""
        return sum((abs(w) for w in self.nodes.values()), Fraction(0))


def cubature(factors: list[Factor], degree: int, node_budget: int = DEFAULT_NODE_BUDGET) -> Rule:
    """A rule over the product of ``factors`` exact for every polynomial of total degree ≤
    ``degree`` — the smaller of Smolyak's sparse grid and the tensor rule — or CubatureTooLarge
    when even the smaller has more than ``node_budget`` nodes (counted before it is built)."""
    if (
        not isinstance(factors, list | tuple)
        or not factors
        or not all(isinstance(f, GaussianFactor | SphereFactor) for f in factors)
    ):
        raise InvalidProblemError(
            f"factors must be a non-empty list of GaussianFactor / SphereFactor, got {factors!r}"
        )
    if isinstance(node_budget, bool) or not isinstance(node_budget, int) or node_budget < 1:
        raise InvalidProblemError(f"node_budget must be an int >= 1, got {node_budget!r}")
    k = level_for_degree(degree)
    if k + 1 > SphereFactor.MAX_LEVEL and any(isinstance(f, SphereFactor) for f in factors):
        raise InvalidProblemError(
            f"degree {degree} over sphere directions: the sphere rules here are exact up to "
            f"degree 5 only (e.g. no variance of a zeroth-order estimate on a cubic cost)"
        )
    sparse = _sparse_size(factors, k)
    tensor = _tensor_size(factors, k)
    use_tensor = tensor is not None and tensor <= sparse
    size = tensor if use_tensor else sparse
    if size > node_budget:
        raise CubatureTooLarge(
            f"a rule exact for degree {degree} over {len(factors)} Gaussian/sphere factors needs "
            f"{size:,} nodes (the smaller of the sparse grid and the tensor rule), above "
            f"node_budget = {node_budget:,}; lower the batch size or horizon, or raise node_budget"
        )
    exactness = 2 * k + 1
    if use_tensor:
        nodes = _tensor(factors, k + 1)
        text = f"tensor rule, {len(factors)} factors at level {k + 1}"
    else:
        nodes = _smolyak(factors, k)
        text = f"Smolyak sparse grid A(k = {k}) over {len(factors)} factors"
    description = f"{text}, {len(nodes):,} nodes, exact for total degree <= {exactness}"
    return Rule(nodes, description, exactness)


def _tensor(factors: list[Factor], level: int) -> dict[Key, Fraction]:
    rules = [list(f.rule(level).items()) for f in factors]
    nodes: dict[Key, Fraction] = {}
    for combination in itertools.product(*rules):
        key = tuple((i, j) for i, (j, _) in enumerate(combination) if j != 0)
        nodes[key] = math.prod((w for _, w in combination), start=Fraction(1))
    return nodes


def _smolyak(factors: list[Factor], k: int) -> dict[Key, Fraction]:
    d = len(factors)
    nodes: dict[Key, Fraction] = {}
    # a factor whose level-1 rule is the point {0: 1} adds nothing unless it is raised
    spread_at_level_one = [i for i, f in enumerate(factors) if f.rule(1) != {0: Fraction(1)}]
    for q in range(max(0, k - d + 1), k + 1):
        coefficient = (-1) ** (k - q) * math.comb(d - 1, k - q)
        # the multi-indices with Σ(ℓ_i − 1) = q: which factors are raised, and by how much
        for raised in itertools.combinations_with_replacement(range(d), q):
            levels = Counter(raised)
            if any(not _has_level(factors[i], 1 + extra) for i, extra in levels.items()):
                continue
            parts = []
            for i in sorted(set(levels) | set(spread_at_level_one)):
                rule = factors[i].rule(1 + levels.get(i, 0))
                parts.append([(i, j, w) for j, w in rule.items()])
            for combination in itertools.product(*parts):
                key = tuple((i, j) for i, j, _ in combination if j != 0)
                weight = coefficient * math.prod((w for _, _, w in combination), start=Fraction(1))
                nodes[key] = nodes.get(key, Fraction(0)) + weight
    return {key: w for key, w in nodes.items() if w != 0}
