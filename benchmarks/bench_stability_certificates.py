"""Benchmark: which strongly non-normal stable closed loops are certified, at what precision and
at what cost (issue #8, §5).

The stability certificate is a Lyapunov weight W with ``W − γA_KᵀWA_K ⪰ dI`` proved in balls
(``pgverify/lqr/certify.py``).  A float64 W is tried first; when it is not accurate enough (a
strongly non-normal A_K, ‖W‖ ≫ 1/u) W is computed at the working precision by doubling, so more
bits certify more matrices.  For each case and precision this reports whether
``LQR.value_matrix(0, Certified(bits, engine))`` (B = Q = R = I, so A_K = A) is certified, its
certified digits and the wall time of one call, for both engines.

Cases: the 4×4 matrix with ρ = 0.9 and coupling 30, rotated by a seeded orthogonal matrix
(‖P‖ ≈ 1e15); upper-bidiagonal 12×12 with ρ = 0.95 and coupling 10 (‖P‖ ≈ 7e50); the issue's
upper-bidiagonal 50×50 with ρ = 0.95 and coupling 0.13 (‖P‖ ≈ 5e40).

Run:  python benchmarks/bench_stability_certificates.py [--write]
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from bench_certified_gradient import machine
from results_file import main

from pgverify import LQR, CertificationError, Certified

SECTION = "## Certificates of strongly non-normal closed loops (issue #8, §5)"
BITS = (96, 128, 212, 400, 800)


def bidiagonal(n: int, diagonal: float, superdiagonal: float) -> np.ndarray:
    return np.diag(np.full(n, diagonal)) + np.diag(np.full(n - 1, superdiagonal), 1)


def rotated_non_normal() -> np.ndarray:
    orthogonal, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))
    return orthogonal @ bidiagonal(4, 0.9, 30.0) @ orthogonal.T


CASES = {
    "n = 4, rho 0.9, coupling 30, rotated": rotated_non_normal,
    "n = 12, rho 0.95, coupling 10, bidiagonal": lambda: bidiagonal(12, 0.95, 10.0),
    "n = 50, rho 0.95, coupling 0.13, bidiagonal": lambda: bidiagonal(50, 0.95, 0.13),
}


def run() -> list[dict]:
    rows = []
    for name, build in CASES.items():
        A = build()
        n = len(A)
        for engine in ("arb", "blas"):
            for bits in BITS:
                problem = LQR(A, np.eye(n), np.eye(n), np.eye(n))
                start = time.perf_counter()
                try:
                    value = problem.value_matrix(np.zeros((n, n)), Certified(bits, engine))
                    outcome = f"{value.digits} digits"
                except CertificationError:
                    outcome = "refused"
                elapsed = time.perf_counter() - start
                rows.append(
                    {
                        "case": name,
                        "engine": engine,
                        "bits": bits,
                        "outcome": outcome,
                        "seconds": elapsed,
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}; OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}.  Recorded "
        f"{time.strftime('%Y-%m-%d')} by `OPENBLAS_NUM_THREADS=1 python "
        "benchmarks/bench_stability_certificates.py --write` (one call each; the machine is "
        "shared, so times are indicative).",
        "",
        'Certified digits of P_K (or "refused": CertificationError) and wall time:',
        "",
        "| case | engine | " + " | ".join(f"{bits} bits" for bits in BITS) + " |",
        "|---|---|" + "---|" * len(BITS),
    ]
    for name in CASES:
        for engine in ("arb", "blas"):
            cells = [
                f"{r['outcome']} ({r['seconds']:.2f} s)"
                for r in rows
                if r["case"] == name and r["engine"] == engine
            ]
            lines.append(f"| {name} | {engine} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Before this change every one of these was refused at every precision (the float64",
        "Lyapunov weight was the only one tried).  96 bits is the float-weight-only check; from",
        "there on, the weight is computed at the working precision when the float one fails.",
        "The BLAS engine reaches fewer digits on the bidiagonal cases than Arb: its Stein",
        "refinement (pgverify/lqr/stein.py, pgverify/fixedpoint.py) stops earlier on them.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
