"""Cost of the exact expectation on LQR (issue #10): nodes and time for REINFORCE over horizons
T = 2–6 and batches M = 1–3 (leave-one-out baseline for M ≥ 2), exact rational arithmetic and the
float tier; the same for the critic kinds (Ψ = Q, A, TD, GAE with the exact critic); and the
exact variance of V0, REINFORCE, baselined REINFORCE and the critic kinds on one problem.

Run:  python benchmarks/bench_expectation.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
from bench_certified_gradient import machine
from results_file import main

from pgverify import LQR
from pgverify.estimators.critic_gradient import CRITIC_KINDS, gaussian_critic_pg
from pgverify.estimators.policy_gradient import gaussian_reinforce, gaussian_v0
from pgverify.expectation import (
    CubatureTooLarge,
    additive_moments,
    lqr_expectation,
    lqr_gradient_target,
    mdp_expectation,
)
from pgverify.expectation.critic import lqr_critic
from pgverify.mdp import FiniteMDP

SECTION = "## Exact expectations of estimators on LQR: cost and variance (issue #10)"
PROBLEM = LQR([[1.0, 0.5], [0.0, 0.75]], [[0.0], [1.0]], np.eye(2), [[1.0]], gamma=0.9, noise=0.25)
K = np.array([[0.25, 0.5]])
SIGMA, GAMMA = 0.25, 0.9


def estimator(baseline):
    def reinforce(states, actions, costs):
        return gaussian_reinforce(states, actions, costs, K, SIGMA, GAMMA, baseline)

    return reinforce


def v0(states, actions, costs):
    return gaussian_v0(states, actions, costs, K, SIGMA, GAMMA)


def critic_estimator(kind, steps, lam=Fraction(1, 2)):
    critic = lqr_critic(PROBLEM, K, steps, SIGMA, GAMMA)

    def estimate(states, actions, costs):
        values, q_values = critic.arrays(states, actions)
        return gaussian_critic_pg(
            states,
            actions,
            costs,
            K,
            SIGMA,
            GAMMA,
            kind=kind,
            values=values,
            q_values=q_values,
            lam=lam,
        )

    return estimate


def critic_rows():
    rows = []
    for steps in range(2, 7):
        target = lqr_gradient_target(PROBLEM, K, steps)
        for batch in (1, 2):
            for kind in CRITIC_KINDS:
                start = time.perf_counter()
                result = lqr_expectation(
                    PROBLEM, K, steps, critic_estimator(kind, steps), 4, batch=batch
                )
                seconds = time.perf_counter() - start
                row = (
                    steps,
                    batch,
                    kind,
                    result.nodes,
                    seconds,
                    bool(target.contains(result.mean)),
                )
                print(row, flush=True)
                rows.append(row)
    return rows


def cost_rows():
    rows = []
    for steps in range(2, 7):
        for batch in (1, 2, 3):
            baseline = "leave_one_out" if batch >= 2 else None
            for arithmetic in ("exact", "float"):
                start = time.perf_counter()
                try:
                    result = lqr_expectation(
                        PROBLEM,
                        K,
                        steps,
                        estimator(baseline),
                        4,
                        batch=batch,
                        arithmetic=arithmetic,
                    )
                except CubatureTooLarge:
                    rows.append((steps, batch, arithmetic, None, None, None))
                    continue
                seconds = time.perf_counter() - start
                target = lqr_gradient_target(PROBLEM, K, steps)
                verdict = bool(target.contains(result.mean)) if arithmetic == "exact" else None
                dimension = batch * (PROBLEM.n + steps * PROBLEM.m)
                row = (steps, batch, arithmetic, dimension, result.nodes, seconds, verdict)
                print(row, flush=True)
                rows.append(row)
    return rows


def variance_rows():
    value = np.asarray(PROBLEM.value_matrix(K), dtype=float)
    exact_value = np.array([[Fraction(v) for v in row] for row in value], dtype=object)

    def value_baseline(states):  # b(x) = xᵀ P_K x, the infinite-horizon value of K
        return np.einsum("...i,ij,...j->...", states, exact_value, states)

    cases = [
        ("V0", v0, 1),
        ("REINFORCE", estimator(None), 1),
        ("REINFORCE, constant baseline b = C_K", estimator(float(PROBLEM.cost(K))), 1),
        ("REINFORCE, state baseline b(x) = x'P_K x", estimator(value_baseline), 1),
        ("REINFORCE, M = 2 (batch mean)", estimator(None), 2),
        ("REINFORCE, M = 2, leave-one-out", estimator("leave_one_out"), 2),
        ("Ψ = Q (exact critic)", critic_estimator("q", 3), 1),
        ("Ψ = A = Q − V (exact critic)", critic_estimator("advantage", 3), 1),
        ("Ψ = δ, TD residual (exact critic)", critic_estimator("td", 3), 1),
        ("Ψ = GAE, λ = 1/2 (exact critic)", critic_estimator("gae", 3), 1),
        ("Ψ = GAE, λ = 1 (exact critic)", critic_estimator("gae", 3, Fraction(1)), 1),
    ]
    rows = []
    for name, function, batch in cases:
        start = time.perf_counter()
        result = lqr_expectation(PROBLEM, K, 3, function, 4, batch=batch, variance=True)
        seconds = time.perf_counter() - start
        total = float(sum(result.variance.ravel()))
        row = (name, batch, result.nodes, seconds, total, np.asarray(result.mean, dtype=float))
        print(row, flush=True)
        rows.append(row)
    return rows


def mdp_rows():
    third = Fraction(1, 3)
    mdp = FiniteMDP.create(
        [[[third] * 3, [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]]] * 3,
        [[1, 2], [3, 4], [5, 6]],
        Fraction(9, 10),
        [third] * 3,
    )
    policy = [[Fraction(1, 2)] * 2] * 3
    rows = []
    for steps in range(3, 7):

        def per_step(t, s, a):
            return mdp.gamma**t * mdp.costs[s][a]

        def statistic(states, actions, costs, steps=steps):
            return sum(mdp.gamma**t * costs[0, t] for t in range(steps))

        start = time.perf_counter()
        slow = mdp_expectation(mdp, policy, steps, statistic, variance=True)
        enumeration = time.perf_counter() - start
        start = time.perf_counter()
        fast = additive_moments(mdp, policy, steps, per_step)
        dynamic = time.perf_counter() - start
        assert fast.mean == slow.mean and fast.variance == slow.variance
        cases = 6**steps
        row = (steps, cases, enumeration, cases / enumeration, dynamic, enumeration / dynamic)
        print(row, flush=True)
        rows.append(row)
    return rows


def run():
    return cost_rows(), critic_rows(), variance_rows(), mdp_rows()


def render(results) -> str:
    costs, critics, variances, mdps = results
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_expectation.py --write` (one run each).",
        "",
        "Problem: n = 2, m = 1, A = [[1, 0.5], [0, 0.75]], B = [0, 1]ᵀ, Q = I, R = 1, Σ0 = I, "
        "γ = 0.9, σ = 0.25, K = [0.25, 0.5]. Estimator: REINFORCE (`gaussian_reinforce`), with "
        "the leave-one-out baseline for M ≥ 2; degree 4, so the rule is exact for degree 5 "
        "(Smolyak sparse grid on rational nested rules, 2d² + 2d + 1 nodes in d Gaussian "
        "variables). `exact`: the estimator runs in Fractions; `float`: in float64 (the sum "
        "stays exact). Every exact mean was checked to lie in the certified enclosure of "
        "`LQR.finite_horizon_gradient(K, T − 1)`.",
        "",
        "| T | M | arithmetic | Gaussian variables d | nodes | seconds | mean ∈ target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in costs:
        steps, batch, arithmetic, dimension, nodes, seconds, *verdict = (*row, None)[:7]
        if nodes is None:
            lines.append(f"| {steps} | {batch} | {arithmetic} | — | over budget | — | — |")
            continue
        mark = "" if verdict[0] is None else ("yes" if verdict[0] else "**NO**")
        lines.append(
            f"| {steps} | {batch} | {arithmetic} | {dimension} | {nodes:,} | {seconds:.3f} | "
            f"{mark} |"
        )
    lines += [
        "",
        "Critic kinds (`gaussian_critic_pg` with the exact finite-horizon critic of "
        "`pgverify.expectation.critic`, GAE at λ = 1/2), exact arithmetic, same problem: the "
        "estimators stay of degree 4 (Q_t and V_t are quadratics), so the rule and its node "
        "count are those of REINFORCE; every exact mean was checked against the certified "
        "target.",
        "",
        "| T | M | kind | nodes | seconds | mean ∈ target |",
        "|---|---|---|---|---|---|",
    ]
    for steps, batch, kind, nodes, seconds, verdict in critics:
        mark = "yes" if verdict else "**NO**"
        lines.append(f"| {steps} | {batch} | {kind} | {nodes:,} | {seconds:.3f} | {mark} |")
    lines += [
        "",
        "Exact variance (sum over the entries of the (1, 2) estimate) at T = 3, degree-8 rule "
        "(exact for degree 9). All of these estimators have the same exact mean.",
        "",
        "| estimator | M | nodes | seconds | Σ_entries Var | mean |",
        "|---|---|---|---|---|---|",
    ]
    for name, batch, nodes, seconds, total, mean in variances:
        lines.append(
            f"| {name} | {batch} | {nodes:,} | {seconds:.2f} | {total:.4g} | "
            f"{np.array2string(mean, precision=5)} |"
        )
    lines += [
        "",
        "Finite MDP (S = 3, A = 2, uniform policy): exact mean and variance of the discounted "
        "cost, by enumeration of every trajectory (`mdp_expectation`, through "
        "`pgverify.mdp.exact_moments`) and by dynamic programming (`additive_moments`); the two "
        "agree exactly in every row.",
        "",
        "| T | trajectories | enumeration s | trajectories/s | DP s | speed-up |",
        "|---|---|---|---|---|---|",
    ]
    for steps, cases, enumeration, rate, dynamic, ratio in mdps:
        lines.append(
            f"| {steps} | {cases:,} | {enumeration:.3f} | {rate:.3g} | {dynamic:.4f} | "
            f"{ratio:.0f}x |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main(__doc__, SECTION, run, render)
