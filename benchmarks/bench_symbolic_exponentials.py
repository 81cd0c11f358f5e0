"""Time of `pgverify.symbolic.prove` on exponentials with rational coefficients — exp(θ/2),
exp(k s/3) — and of positive and discount symbols, written as powers of p = exp(θ/b)
(docs/symbolic-toolkit.md), against the same calls with that rewrite switched off (the
ball-arithmetic path: certified refutations only, proofs through sympy's fraction field).

Run:  python benchmarks/bench_symbolic_exponentials.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from unittest import mock

import sympy
from bench_certified_gradient import machine
from results_file import main

from pgverify.symbolic import prove, softmax_policy, symbolic_mdp

SECTION = "## Symbolic toolkit: prove on exponentials with rational coefficients"


@contextmanager
def rewrite_off():
    """``prove`` without the exp(θ/b) = p rewrite: the path such residuals took before."""
    with mock.patch("pgverify.symbolic.proving.exponential_form", lambda *_: None):
        yield


def half_logit_softmax():
    """∇_θ C for π ∝ exp(θ/2) on 2 states, 2 actions; the theorem (with its factor 1/2) and the
    same without the 1/2 (wrong)."""
    mdp, policy = symbolic_mdp(2, 2), softmax_policy(2, 2)
    theta = policy.theta
    half = {logit: logit / 2 for logit in theta}
    pi = [[p.xreplace(half) for p in row] for row in policy.probabilities()]
    cost, visits, adv = mdp.cost_of(pi), mdp.visitation(pi), mdp.advantages(pi)
    gradient = sympy.Matrix(2, 2, lambda s, a: sympy.diff(cost, theta[s, a]))

    def form(factor):
        return sympy.Matrix(
            2, 2, lambda s, a: factor * visits[s] * pi[s][a] * adv[s, a] / (1 - mdp.gamma)
        )

    domains = [mdp.domain(), policy.domain()]
    return gradient, form(sympy.Rational(1, 2)), form(1), domains


def cases():
    gradient, theorem, forgot, domains = half_logit_softmax()
    s = sympy.Symbol("s")
    power = sum(sympy.exp(k * s / 3) for k in range(1, 7)) ** 4
    return [
        ("softmax of theta/2, 2x2: the theorem", gradient, theorem, domains),
        ("softmax of theta/2, 2x2: the 1/2 forgotten", gradient, forgot, domains),
        ("(sum_k exp(k s/3))^4 expanded, s > 0", power, sympy.expand(power), {s: "positive"}),
        (
            "the same minus exp(s/3), 0 < s < 1",
            power,
            sympy.expand(power) - sympy.exp(s / 3),
            {s: "discount"},
        ),
    ]


def timed(lhs, rhs, domain) -> tuple[float, str, str]:
    start = time.perf_counter()
    result = prove(lhs, rhs, domain)
    return time.perf_counter() - start, result.verdict, result.tier


def run() -> list[tuple]:
    rows = []
    for label, lhs, rhs, domain in cases():
        with_rewrite = timed(lhs, rhs, domain)
        with rewrite_off():
            without = timed(lhs, rhs, domain)
        rows.append((label, with_rewrite, without))
        print(rows[-1], flush=True)
    return rows


def render(rows) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_symbolic_exponentials.py --write` (one run each, sympy "
        f"{sympy.__version__}).",
        "",
        "| identity | prove, p = exp(theta/b) [s] | prove, rewrite off [s] |",
        "|---|---|---|",
    ]
    for label, with_rewrite, without in rows:
        cells = " | ".join(
            f"{sec:.2f} ({verdict}, {tier})" for sec, verdict, tier in (with_rewrite, without)
        )
        lines.append(f"| {label} | {cells} |")
    lines += [
        "",
        "Rewrite off: the residual keeps its exp; refutations are certified enclosures and proofs "
        "go through the fraction field.  With it: exact verdicts through the rational zero test.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
