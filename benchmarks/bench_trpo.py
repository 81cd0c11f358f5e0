"""TRPO machinery benchmarks (issue #11 §3, §4, §6): conjugate-gradient iteration counts and the
LQR natural gradient three ways.

* float64 CG on SPD systems with prescribed condition numbers: the iterations needed for a true
  relative residual ``‖b − Ax‖/‖b‖ <= 1e-10``, beside the count the κ bound guarantees
  (``2√κ ρ^k <= 1e-10``, see ``pgverify.trpo.residual_bound``);
* exact (Fractions) CG: steps to ``r = 0`` (at most the dimension);
* CG on the LQR Fisher ``σ⁻¹ (Σ_K ⊗ I_m)``: it has only n distinct eigenvalues, so CG stops
  after at most n (not m·n) steps;
* the natural gradient three ways (closed form, explicit Fisher solve, CG with Fisher-vector
  products) on the built-in systems: largest gap at 30, 50 and 100 digits; and for
  softmax policies on random finite MDPs.

Run:  python benchmarks/bench_trpo.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import mpmath
import numpy as np
from bench_certified_gradient import machine
from results_file import main

from pgverify.lqr.examples import dean_2017, random_stabilisable_system
from pgverify.trpo import (
    conjugate_gradient,
    conjugate_gradient_run,
    linear_gaussian_fisher_vector_product_from_moment,
    lqr_natural_gradient_three_ways,
    softmax_natural_gradient_three_ways,
)

SECTION = (
    "## TRPO machinery: conjugate-gradient iterations, natural gradient three ways (issue #11)"
)
TARGET = 1e-10


def conditioned_system(dimension: int, kappa: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    A = (Q * np.geomspace(1.0, kappa, dimension)) @ Q.T
    return (A + A.T) / 2, rng.standard_normal(dimension)


def best_time(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def guaranteed_iterations(kappa: float, target: float) -> int:
    """The smallest k with 2√κ ρ^k <= target (ρ = (√κ − 1)/(√κ + 1))."""
    root = math.sqrt(kappa)
    if root == 1:
        return 1
    rho = (root - 1) / (root + 1)
    return max(0, math.ceil(math.log(target / (2 * root)) / math.log(rho)))


def float_iterations() -> list[tuple]:
    rows = []
    for dimension in (10, 50, 100, 200):
        for kappa in (10.0, 1e3, 1e6):
            A, b = conditioned_system(dimension, kappa)
            needed = None
            for k in range(0, 20 * dimension + 1):
                x = conjugate_gradient(lambda p, A=A: A @ p, b, k)
                if np.linalg.norm(b - A @ x) / np.linalg.norm(b) <= TARGET:
                    needed = k
                    break
            seconds = best_time(
                lambda A=A, b=b, k=needed or 20 * dimension: conjugate_gradient(
                    lambda p: A @ p, b, k
                )
            )
            rows.append((dimension, kappa, needed, guaranteed_iterations(kappa, TARGET), seconds))
            print(rows[-1], flush=True)
    return rows


def exact_steps() -> list[tuple]:
    rows = []
    rng = np.random.default_rng(3)
    for dimension in (5, 10, 20):
        M = rng.integers(-3, 4, (dimension, dimension))
        A = (M.T @ M + np.eye(dimension, dtype=int)).astype(object)
        A = np.vectorize(Fraction, otypes=[object])(A)
        b = np.array([Fraction(int(v)) for v in rng.integers(-5, 6, dimension)], dtype=object)
        start = time.perf_counter()
        run = conjugate_gradient_run(lambda p, A=A: A @ p, b, dimension, precision="exact")
        rows.append(
            (dimension, run.steps, run.residual_norms_squared[-1] == 0, time.perf_counter() - start)
        )
        print(rows[-1], flush=True)
    return rows


def systems() -> list[tuple[str, object, np.ndarray]]:
    dean = dean_2017()
    return [
        ("Dean et al. 2017 (n = 3, m = 3), K = K* + 0.01", dean, dean.optimal_gain() + 0.01),
        ("random (n = 6, m = 3, seed 0)", *random_stabilisable_system(6, 3, 0)),
        ("random (n = 10, m = 5, seed 1)", *random_stabilisable_system(10, 5, 1)),
    ]


def lqr_fisher_steps() -> list[tuple]:
    rows = []
    for name, problem, K in systems():
        m, n = K.shape
        covariance = problem.state_covariance(K)
        gradient = problem.gradient(K).reshape(-1, order="F")

        def fvp(v, covariance=covariance, m=m):
            return linear_gaussian_fisher_vector_product_from_moment(covariance, 1.0, v, m)

        run = conjugate_gradient_run(
            fvp, gradient, m * n, tolerance=TARGET * np.linalg.norm(gradient)
        )
        covariance_50 = problem.state_covariance(K, precision=50)

        def fvp_50(v, covariance_50=covariance_50, m=m):
            return linear_gaussian_fisher_vector_product_from_moment(
                covariance_50, 1, v, m, precision=50
            )

        with mpmath.workdps(60):
            high = conjugate_gradient_run(fvp_50, _vec50(problem, K), n, precision=50)
            closed = problem.natural_gradient(K, precision=50)
            gap = max(
                abs(high.solution[j * m + i] - closed[i, j]) for i in range(m) for j in range(n)
            ) / max(abs(closed[i, j]) for i in range(m) for j in range(n))
        rows.append((name, m * n, run.steps, n, float(gap)))
        print(rows[-1], flush=True)
    return rows


def _vec50(problem, K) -> list:
    gradient = problem.gradient(K, precision=50)
    return [gradient[i, j] for j in range(gradient.cols) for i in range(gradient.rows)]


def three_ways() -> list[tuple]:
    rows = []
    for name, problem, K in systems():
        for digits in (30, 50, 100):
            start = time.perf_counter()
            routes = lqr_natural_gradient_three_ways(problem, K, digits=digits)
            seconds = time.perf_counter() - start
            gap = float(routes.largest_relative_gap())
            rows.append((name, digits, gap, routes.conjugate_gradient_steps, seconds))
            print(rows[-1], flush=True)
    return rows


def softmax_three_ways() -> list[tuple]:
    from bench_mdp import random_mdp

    rows = []
    for states, actions in ((5, 3), (10, 3)):
        mdp = random_mdp(states, actions, seed=states)
        rng = np.random.default_rng(states)
        logits = (rng.integers(-8, 9, (states, actions)) / 4).tolist()
        start = time.perf_counter()
        routes = softmax_natural_gradient_three_ways(mdp, logits, digits=50)
        seconds = time.perf_counter() - start
        rank = sum(actions - 1 for seen in routes.visited if seen)
        rows.append(
            (
                f"random MDP, {states} states, {actions} actions",
                float(routes.largest_relative_gap()),
                routes.conjugate_gradient_steps,
                rank,
                seconds,
            )
        )
        print(rows[-1], flush=True)
    return rows


def run() -> dict:
    return {
        "float": float_iterations(),
        "exact": exact_steps(),
        "lqr": lqr_fisher_steps(),
        "three": three_ways(),
        "softmax": softmax_three_ways(),
    }


def render(results: dict) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_trpo.py --write`.",
        "",
        f"float64 CG, A = Q diag(geomspace(1, κ, d)) Qᵀ, b ~ N(0, I): iterations until the true "
        f"relative residual <= {TARGET:g}, and the count the κ bound 2√κ ρ^k guarantees:",
        "",
        "| d | κ | iterations | κ-bound iterations | time of that run [s] (best of 3) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {d} | {kappa:g} | {needed if needed is not None else 'not reached'} | {bound} | "
        f"{seconds:.4f} |"
        for d, kappa, needed, bound, seconds in results["float"]
    ]
    lines += [
        "",
        "Exact CG (Fractions), A = MᵀM + I with integer M in [−3, 3]:",
        "",
        "| d | steps to r = 0 | r = 0 exactly | time [s] |",
        "|---|---|---|---|",
    ]
    lines += [f"| {d} | {s} | {z} | {t:.3f} |" for d, s, z, t in results["exact"]]
    lines += [
        "",
        "CG on the LQR Fisher σ⁻¹(Σ_K ⊗ I_m) (σ = 1): float64 iterations to a recursive residual "
        f"<= {TARGET:g}·‖∇C‖, and the 50-digit run stopped after n steps (n distinct eigenvalues)"
        " compared with the closed form ∇C Σ_K⁻¹:",
        "",
        "| system | m·n | float64 iterations | high-precision steps | relative gap after n steps |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {mn} | {steps} | {n} | {gap:.1e} |"
        for name, mn, steps, n, gap in results["lqr"]
    ]
    lines += [
        "",
        "Natural gradient three ways (closed form, explicit Fisher solve, CG with Fisher-vector "
        "products, m·n CG iterations), largest gap to the closed form, "
        "max|route − closed| / max(max|closed|, 1):",
        "",
        "| system | digits | largest gap | CG steps | time [s] |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {digits} | {gap:.1e} | {steps} | {seconds:.3f} |"
        for name, digits, gap, steps, seconds in results["three"]
    ]
    lines += [
        "",
        "Softmax natural gradient three ways on finite MDPs (closed form A/(1−γ), certified "
        "projected Fisher solve, CG at 50 digits), compared in the range of F:",
        "",
        "| MDP | largest gap | CG steps | rank F | time [s] |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {gap:.1e} | {steps} | {rank} | {seconds:.2f} |"
        for name, gap, steps, rank, seconds in results["softmax"]
    ]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__, SECTION, run, render)
