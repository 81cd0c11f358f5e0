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
unit sphere of R^D (u uniform) with U¹ = {±e_1} (exact for degree 1) and U² = {±e_i}
(degree 3), enough for degree-3 integrands such as zeroth-order estimators on quadratic costs.
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


@dataclass(frozen=True)
class SphereFactor:
    """``u`` uniform on the unit sphere of R^dimension; local node ±(i+1) stands for ±e_i."""

    dimension: int
    MAX_LEVEL = 2

    def size(self, level: int) -> int:
        return 2 if level == 1 else 2 * self.dimension

    def rule(self, level: int) -> dict[int, Fraction]:
        if level > self.MAX_LEVEL:
            raise InvalidProblemError(
                "the sphere rules here are exact up to degree 3 only (level 2); a higher degree "
                "(e.g. a variance of a zeroth-order estimate on the sphere) is not supported"
            )
        axes = 1 if level == 1 else self.dimension
        weight = Fraction(1, 2 * axes)
        return {sign * (i + 1): weight for i in range(axes) for sign in (1, -1)}


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
            f"degree 3 only (e.g. no variance of a zeroth-order estimate on the sphere)"
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
