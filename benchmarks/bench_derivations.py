"""Time of every symbolic derivation at its default sizes (issue #3's CI budget).

Run:  python benchmarks/bench_derivations.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import time

from bench_certified_gradient import machine
from results_file import main

from pgverify.symbolic import available, derive

SECTION = "## Symbolic derivations at their default sizes (issue #3)"


def run() -> list[tuple[str, dict, str, float]]:
    rows = []
    for entry in available():
        start = time.perf_counter()
        result = derive(entry.name)
        rows.append((entry.name, result.sizes, result.verdict, time.perf_counter() - start))
        print(f"{entry.name}: {result.verdict} in {rows[-1][3]:.2f} s", flush=True)
    return rows


def render(rows) -> str:
    lines = [
        SECTION,
        "",
        f"Machine: {machine()}.  Recorded {time.strftime('%Y-%m-%d')} by "
        "`python benchmarks/bench_derivations.py --write` (one run each, sympy "
        f"{__import__('sympy').__version__}).",
        "",
        "| derivation | sizes | verdict | time [s] |",
        "|---|---|---|---|",
    ]
    for name, sizes, verdict, seconds in rows:
        shown = ", ".join(f"{k}={v}" for k, v in sizes.items())
        lines.append(f"| `{name}` | {shown} | {verdict} | {seconds:.2f} |")
    total = sum(row[3] for row in rows)
    lines += ["", f"Total: {total:.1f} s for {len(rows)} derivations.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
