"""Time of every symbolic derivation at its default sizes (the `all-sizes-...` proofs hold for
every n, m), and of `pgverify derive --all` in a fresh process (issues #3 and #12: the budget is
30 s on this machine).

Run:  python benchmarks/bench_derivations.py [--write]   (--write updates RESULTS.md)
"""

from __future__ import annotations

import subprocess
import sys
import time

from bench_certified_gradient import machine
from results_file import main

from pgverify.symbolic import available, derive

SECTION = "## Symbolic derivations at their default sizes (issue #3)"


CLI_BUDGET_SECONDS = 30.0


def time_cli() -> float:
    """Wall time of `pgverify derive --all` (default sizes) in a fresh interpreter."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pgverify.cli", "derive", "--all"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def run() -> tuple[list[tuple[str, dict, str, float]], float]:
    rows = []
    for entry in available():
        start = time.perf_counter()
        result = derive(entry.name)
        rows.append((entry.name, result.sizes, result.verdict, time.perf_counter() - start))
        print(f"{entry.name}: {result.verdict} in {rows[-1][3]:.2f} s", flush=True)
    return rows, time_cli()


def render(measured) -> str:
    rows, cli_seconds = measured
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
        shown = ", ".join(f"{k}={v}" for k, v in sizes.items()) or "all n, m"
        lines.append(f"| `{name}` | {shown} | {verdict} | {seconds:.2f} |")
    total = sum(row[3] for row in rows)
    every_size = [row for row in rows if not row[1]]
    status = "met" if cli_seconds <= CLI_BUDGET_SECONDS else "NOT met"
    lines += [
        "",
        f"Total: {total:.1f} s for {len(rows)} derivations.  `pgverify derive --all` in a fresh "
        f"process (imports included): {cli_seconds:.1f} s (budget {CLI_BUDGET_SECONDS:.0f} s: "
        f"{status}).",
        "",
        f"The {len(every_size)} derivations for every n, m (the `all-sizes-...` proofs and their "
        f"negative control, issue #12) take {sum(row[3] for row in every_size):.2f} s together.",
        "",
        "The machine is shared (2 cores, other sessions running): wall times vary by about 2x.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main(__doc__.splitlines()[0], SECTION, run, render)
