"""Peers (issue #10, item 6): the GAE, λ-returns, returns-to-go and TD residuals of TorchRL,
tianshou, Stable-Baselines3 and rlax judged by check_gae / check_lambda_returns /
check_discounted_returns / check_td_residuals through the adapters of
tests/test_checks_peers_rl.py — each peer's default run and its 1000-case campaign (seed 2026),
the precision it is judged at, and the findings: the runs that fail on a real difference, with
the first line of the check's diagnosis.

Run (in an environment with the ``peers-rl`` extra, docs/checks.md "Adapters"):
      python benchmarks/bench_peers_rl.py [--write]     (--write updates RESULTS.md)
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

import numpy as np
from bench_certified_gradient import machine
from results_file import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgverify import OracleMismatch
from pgverify.checks import check_discounted_returns, check_gae, check_td_residuals
from tests.test_checks_peers_rl import (
    PASSING,
    _vec_gae_cases,
    rlax_gae_one_call,
    sb3_gae_without_timeout_bootstrap,
    tianshou_gae_with_one_done_flag,
    torchrl_gae_float64,
    torchrl_vec_gae,
    torchrl_vec_gae_float64,
)

SECTION = "## Peers: RL libraries' GAE and returns judged by the checks (issue #10)"
CAMPAIGN_CASES = 1000
LIBRARIES = ("torch", "torchrl", "tensordict", "tianshou", "stable-baselines3", "jax", "rlax")
LIBRARY_OF_PREFIX = {
    "torchrl": "torchrl",
    "tianshou": "tianshou",
    "sb3": "stable-baselines3",
    "rlax": "rlax",
}


def _judged_dtype(check, fn) -> str:
    """The dtype of the peer's result on a small segment (the precision the check judges at)."""
    steps = 3
    flags = np.zeros(steps, dtype=bool)
    zeros = np.zeros(steps)
    if check is check_discounted_returns:
        result = fn(np.ones(steps), flags, 0.9)
    elif check is check_td_residuals:
        result = fn(np.ones(steps), zeros, zeros, flags, 0.9)
    else:
        result = fn(np.ones(steps), zeros, zeros, flags, flags, 0.9, 0.5)
    return np.asarray(result).dtype.name


def _timed(call):
    start = time.perf_counter()
    report = call()
    return report, time.perf_counter() - start


def _failure(call) -> str:
    """The outcome of a run expected to fail: the first line of its diagnosis, or the error the
    implementation raised with the λ of the minimal case."""
    try:
        call()
    except OracleMismatch as mismatch:
        text = str(mismatch)
        if "Diagnosis: " in text:
            return "fails: " + text.split("Diagnosis: ", 1)[1].splitlines()[0]
        raised = text[text.index("raised ") :].splitlines()[0].split(" (at ")[0]
        lam = [line.strip() for line in text.splitlines() if line.strip().startswith("lam =")]
        return f"fails: {raised}" + (f" (minimal case: {lam[0]})" if lam else "")
    return "passes"


def run() -> list[str]:
    rows = []
    for check, fn in PASSING:
        judged = _judged_dtype(check, fn)  # first call: imports and compiles outside the timing
        default, default_seconds = _timed(lambda: check(fn))  # noqa: B023
        campaign, campaign_seconds = _timed(
            lambda: check(fn, max_examples=CAMPAIGN_CASES, seed=2026)  # noqa: B023
        )
        library = LIBRARY_OF_PREFIX[fn.__name__.split("_")[0]]
        rows.append(
            f"| `{check.__name__}` | `{fn.__name__}` ({library}) | {judged} | "
            f"{default.worst_ratio:.3g} ({default_seconds:.1f} s) | {campaign.cases}: "
            f"{campaign.worst_ratio:.3g} ({campaign_seconds:.1f} s) |"
        )
    torchrl_vec_gae(np.ones(2), np.zeros(2), np.zeros(2), *[np.zeros(2, bool)] * 2, 0.9, 0.5)
    vec, vec_seconds = _timed(
        lambda: check_gae(torchrl_vec_gae, cases=_vec_gae_cases(), max_examples=0)
    )
    findings = [
        (
            "`torchrl_vec_gae`, the default run",
            _failure(lambda: check_gae(torchrl_vec_gae)),
        ),
        (
            "`torchrl_vec_gae`, the 3 fixed segments and 24 given 12-step ones with γλ ≥ 0.125 "
            "(its 1e-7 cut active)",
            f"passes: {vec.cases} cases, worst {vec.worst_ratio:.3g} ({vec_seconds:.1f} s)",
        ),
        (
            "`torchrl_gae_float64` (float64 tensors), judged at float64",
            _failure(lambda: check_gae(torchrl_gae_float64)),
        ),
        (
            "`torchrl_gae_float64`, judged at float32 (`dtype='float32'`)",
            f"passes, worst {check_gae(torchrl_gae_float64, dtype='float32').worst_ratio:.3g}",
        ),
        (
            "`torchrl_vec_gae_float64` (float64 tensors) on the same cases, judged at float64",
            _failure(
                lambda: check_gae(torchrl_vec_gae_float64, cases=_vec_gae_cases(), max_examples=0)
            ),
        ),
        (
            "`rlax_gae_one_call` (the whole segment in one call)",
            _failure(lambda: check_gae(rlax_gae_one_call)),
        ),
        (
            "`sb3_gae_without_timeout_bootstrap` (the buffer without collect_rollouts' bootstrap)",
            _failure(lambda: check_gae(sb3_gae_without_timeout_bootstrap)),
        ),
        (
            "`tianshou_gae_with_one_done_flag` (old gym's single done stored as terminated)",
            _failure(lambda: check_gae(tianshou_gae_with_one_done_flag)),
        ),
    ]
    return [rows, findings]


def render(results) -> str:
    rows, findings = results
    versions = ", ".join(f"{name} {version(name)}" for name in LIBRARIES)
    return "\n".join(
        [
            SECTION,
            "",
            f"Machine: {machine()}; {versions}.  Recorded {date.today()} by "
            "`python benchmarks/bench_peers_rl.py --write` (the adapters of "
            "tests/test_checks_peers_rl.py; the campaigns are `pytest -m slow` there, seed "
            "2026).  Every peer is judged at the dtype it returns (the float32 of TorchRL's "
            "default tensors, SB3's buffer and JAX; tianshou's float64 buffer).  Times: one "
            "run each, after a first call that imports and compiles, on a machine shared with "
            f"other jobs (load average {os.getloadavg()[0]:.1f} at the end).",
            "",
            "| check | peer | judged at | default run: worst error / tolerance | "
            "campaign: cases: worst error / tolerance |",
            "|---|---|---|---|---|",
            *rows,
            "",
            "Findings (tests/test_checks_peers_rl.py pins each: strict xfails for the libraries'",
            "own differences, plain tests for the SB3 and tianshou controls, misuses the checks",
            "must catch):",
            "",
            "| run | outcome |",
            "|---|---|",
            *(f"| {run} | {outcome} |" for run, outcome in findings),
            "",
        ]
    )


if __name__ == "__main__":
    main(__doc__, SECTION, run, render)
