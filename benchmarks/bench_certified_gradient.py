"""Benchmark: the certified enclosure of ∇C(K) vs a float64 scipy computation of the gradient.

For n = 10, 50, 100 (m = n/2) on seeded random stabilisable systems, in one run:

* float64 scipy: ``solve_discrete_lyapunov`` twice (P_K and Σ_K) and ``2 E_K Σ_K``;
* pgverify: ``LQR.gradient(K, precision="certified")`` (stability certificate, two refined Stein
  solves with rigorous residual bounds, the closed form in ball arithmetic).

Reports best-of wall times, the ratio, the certified digits, certified digits per second and the
peak resident memory of a fresh process computing one certified gradient.  Targets (issue #2):
at n = 100 >= 50 digits, <= 2 s and <= 10x float64 scipy; at n = 50 <= 0.5 s; memory O(n²).

Run:  python benchmarks/bench_certified_gradient.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.linalg
from results_file import main

from pgverify import LQR

SIZES = (10, 50, 100, 200)
SECTION = "## Certified gradient vs float64 scipy (issue #2)"


def make_system(n: int, seed: int = 0):
    from pgverify.lqr.examples import random_stabilisable_system

    return random_stabilisable_system(n, n // 2, seed)


def scipy_gradient(problem, K):
    A, B, Q, R, S0 = problem.A, problem.B, problem.Q, problem.R, problem.Sigma0
    closed = A - B @ K
    P = scipy.linalg.solve_discrete_lyapunov(closed.T, Q + K.T @ R @ K)
    Sigma = scipy.linalg.solve_discrete_lyapunov(closed, S0)
    return 2 * ((R + B.T @ P @ B) @ K - B.T @ P @ A) @ Sigma


def best_time(function, repeats):
    """The best of ``repeats`` wall times: scipy's float64 time at n = 100 varies 2-4x between
    runs on this machine (thread pool wake-ups), so the minimum is the stable figure."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def peak_memory_mib(n: int) -> float:
    """Growth of the peak RSS of a fresh process while it computes one certified gradient: the
    peak is reset (``/proc/self/clear_refs``) after imports and the float set-up."""
    folder = str(Path(__file__).parent)
    code = (
        "import re, sys\n"
        f"sys.path.insert(0, {folder!r})\n"
        "from bench_certified_gradient import make_system\n"
        f"p, K = make_system({n})\n"
        "def status(key):\n"
        "    text = open('/proc/self/status').read()\n"
        "    return int(re.search(key + r':\\s+(\\d+)', text).group(1))\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        "before = status('VmRSS')\n"
        "p.gradient(K, 'certified')\n"
        "print(status('VmHWM') - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout) / 1024


def run() -> list[dict]:
    rows = []
    for n in SIZES:
        problem, K = make_system(n)

        def float_run(problem=problem, K=K):
            return scipy_gradient(problem, K)

        def certified_run(problem=problem, K=K):
            # a fresh problem each run: LQR caches evaluations per gain
            fresh = LQR(problem.A, problem.B, problem.Q, problem.R, problem.Sigma0)
            return fresh.gradient(K, "certified")

        float_run()  # warm-up (imports, thread pools)
        certified_run()
        float_time, float_gradient = best_time(float_run, 7)
        certified_time, certified = best_time(certified_run, 3)
        error = np.max(np.abs(float_gradient - certified.mid)) / np.max(np.abs(certified.mid))
        agreement = float(error)
        rows.append(
            {
                "n": n,
                "m": n // 2,
                "float64 scipy [s]": float_time,
                "certified [s]": certified_time,
                "ratio": certified_time / float_time,
                "certified digits": certified.digits,
                "digits per second": certified.digits / certified_time,
                "scipy relative error": agreement,
                "extra peak memory [MiB]": peak_memory_mib(n),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import flint

    openblas = {
        k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    }
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}, python-flint {flint.__version__}, "
        f"OpenBLAS environment {openblas or 'unset'}"
    )


def render(rows: list[dict]) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_certified_gradient.py --write` "
        "(best of 7 float / 3 certified runs).",
        "",
        "| n | m | float64 scipy [s] | certified [s] | ratio | certified digits | digits/s "
        "| scipy rel. error | peak RSS growth [MiB] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['n']} | {r['m']} | {r['float64 scipy [s]']:.4f} | {r['certified [s]']:.3f} | "
            f"{r['ratio']:.1f}x | {r['certified digits']} | {r['digits per second']:.0f} | "
            f"{r['scipy relative error']:.1e} | {r['extra peak memory [MiB]']:.1f} |"
        )
    by_size = {r["n"]: r for r in rows}

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    if 100 in by_size and 50 in by_size:
        r100, r50 = by_size[100], by_size[50]
        digits, seconds, ratio = r100["certified digits"], r100["certified [s]"], r100["ratio"]
        small = r50["certified [s]"]
        lines += [
            "",
            f"Status against the targets in this run: n = 100: {digits} digits (>= 50: "
            f"{verdict(digits >= 50)}), {seconds:.2f} s (<= 2 s: {verdict(seconds <= 2)}), "
            f"{ratio:.0f}x float64 scipy (<= 10x: {verdict(ratio <= 10)}); n = 50: "
            f"{small:.2f} s (<= 0.5 s: {verdict(small <= 0.5)}).",
            "",
            "Where the time goes (cProfile, n = 100): about 30 products of 100x100 Arb ball",
            "matrices at 212 bits (10-20 ms each, against 0.1 ms for a float64 BLAS product) are",
            "70% of it: A - BK and Q + K'RK, the Lyapunov certificate, about five refinement steps",
            "per Stein equation (each updates the residual with two products) and the closed form.",
            "Reaching 10x reliably needs error-free float64 BLAS products (Ozaki-type splitting)",
            "for the residuals instead of Arb products.",
        ]
    lines += [
        "",
        "Targets: n = 100: >= 50 digits, <= 2 s, <= 10x float64 scipy; n = 50: <= 0.5 s; "
        "memory O(n²)",
        "(no n²×n² matrix is formed: an n = 100 Kronecker system alone would hold 10⁸ balls;",
        "n = 200 is included to show the memory growth is about 4x per doubling of n).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
