"""Pictures of convergence: ``pgverify report --plots DIR``.

For each system, one figure of the cost gap ``C(K_l) − C(K*)`` per iteration l on a log scale for
policy gradient, natural policy gradient, Gauss–Newton and policy iteration, each run from the
system's gain with the step size its theorem allows (:mod:`pgverify.lqr.iterations`), and beside
each curve (dashed, same colour) the theorem's bound ``gap_0 · Π_{i<l} ρ_i`` with the proven
linear rates ρ_i of Fazel, Ge, Kakade & Mesbahi (2018).  The gaps are certified (midpoints of
Arb enclosures of ``C(K_l) − C(K*)``), so they are accurate far below float64's resolution of
the costs.  The data behind the figures are written to ``convergence.json`` next to them.

matplotlib is an optional dependency (``pip install pgverify[plots]``); it is imported only when
a figure is drawn, and its absence raises :class:`pgverify.errors.MissingDependencyError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pgverify.errors import MissingDependencyError
from pgverify.lqr import iterations

PLOT_STEPS = 60
"""Iterations drawn at most per method (PG with its theorem step is far slower than the rest)."""

RELATIVE_GAP_FLOOR = 1e-24
"""A run stops once the gap falls below this times max(1, C*): the float64 iterates cannot get
closer to K* (C − C* ~ (1e-16)² relative)."""

PLOT_GAUSS_NEWTON_ALPHA = 0.25
"""GN is drawn at α = ¼, inside its bound α ≤ ½: at α = ½ it *is* policy iteration (the same
iterates, so the same curve), while ¼ shows its linear rate beside PI's quadratic one."""

COLOURS = {"pg": "tab:red", "npg": "tab:blue", "gn": "tab:green", "pi": "tab:purple"}


@dataclass
class MethodCurve:
    """One method's run: ``gaps[l]`` the certified-midpoint gap at K_l, ``bounds[l]`` the
    theorem's bound on it, ``alphas[l]`` the step from K_l (None for PI)."""

    method: str
    name: str
    gaps: list[float]
    bounds: list[float]
    rates: list[float]
    alphas: list[float | None]
    all_stabilizing: bool

    @property
    def label(self) -> str:
        if self.method == "pi" or not self.alphas:
            return self.name
        if self.method == "pg":
            return f"{self.name} (alpha from the lemma at each K_l, {self.alphas[0]:.2g} at K_0)"
        return f"{self.name} (alpha = {self.alphas[0]:.3g})"

    def extended_bounds(self, length: int) -> np.ndarray:
        """The bound continued to ``length`` iterations with the last proven rate."""
        bounds = np.array(self.bounds)
        if length <= len(bounds) or not self.rates:
            return bounds
        extra = bounds[-1] * self.rates[-1] ** np.arange(1, length - len(bounds) + 1)
        return np.concatenate([bounds, extra])


@dataclass
class SystemCurves:
    system: str
    description: str
    optimal_cost: float
    curves: list[MethodCurve] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def convergence_data(
    systems: list[Any],
    *,
    steps: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[SystemCurves]:
    """Run every method on every system (objects with ``name``, ``description``, ``problem``,
    ``gain``) in certified arithmetic and collect the gaps and the theorems' bounds; at most
    ``steps`` iterations per method (:data:`PLOT_STEPS` by default)."""
    steps = PLOT_STEPS if steps is None else steps
    collected = []
    for system in systems:
        problem = system.problem
        constants = iterations.theorem_constants(problem)
        optimum = float(problem.optimal_cost())
        entry = SystemCurves(system.name, system.description, optimum)
        for method in iterations.METHODS:
            progress(f"{system.name}: {iterations.METHOD_NAMES[method]}")
            if method == "pg" and constants.sigma_min_q <= 0.0:
                entry.skipped.append(
                    "policy gradient: its step-size bound needs Q positive definite"
                )
                continue
            run = iterations.run_iterations(
                problem,
                method,
                system.gain,
                PLOT_GAUSS_NEWTON_ALPHA if method == "gn" else None,
                steps=steps,
                precision="certified",
                gap_tolerance=RELATIVE_GAP_FLOOR * max(1.0, abs(optimum)),
                constants=constants,
            )
            entry.curves.append(
                MethodCurve(
                    method,
                    iterations.METHOD_NAMES[method],
                    [float(gap) for gap in run.gaps],
                    [float(bound) for bound in run.bound_curve()],
                    [float(rate) for rate in run.rates],
                    [None if alpha is None else float(alpha) for alpha in run.alphas],
                    all(run.stabilizing),
                )
            )
        collected.append(entry)
    return collected


def figure_class() -> Any:
    """matplotlib's Figure (drawn without pyplot: no global backend or state is touched), or
    MissingDependencyError."""
    try:
        from matplotlib.figure import Figure
    except ImportError as missing:
        raise MissingDependencyError(
            "drawing convergence plots needs matplotlib, which is not installed; install the "
            "optional extra: pip install 'pgverify[plots]' (or pip install 'matplotlib>=3.7')"
        ) from missing
    return Figure


def draw_convergence(data: list[SystemCurves], directory: str | Path) -> list[Path]:
    """One PNG per system, ``convergence-<system>.png``, and ``convergence.json`` with the data;
    returns the paths written."""
    Figure = figure_class()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in data:
        figure = Figure(figsize=(7.5, 4.8))
        axes = figure.subplots()
        length = max(len(curve.gaps) for curve in entry.curves)
        for curve in entry.curves:
            colour = COLOURS[curve.method]
            gaps = np.array(curve.gaps)
            steps = np.arange(len(gaps))
            shown = (
                gaps > 0
            )  # a gap at the float floor can round to 0: nothing to draw on a log axis
            axes.semilogy(
                steps[shown], gaps[shown], "o-", color=colour, markersize=3, label=curve.label
            )
            bounds = curve.extended_bounds(length)
            axes.semilogy(
                np.arange(len(bounds))[bounds > 0],
                bounds[bounds > 0],
                "--",
                color=colour,
                linewidth=1.2,
                label="its theorem bound",
            )
        axes.set_xlabel("iteration l")
        axes.set_ylabel("C(K_l) - C(K*)  (certified)")
        axes.set_title(f"{entry.system}: cost gap per iteration", fontsize=10)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(fontsize=7, ncol=2, loc="lower left")
        axes.set_ylim(bottom=max(axes.get_ylim()[0], 1e-30))
        figure.tight_layout()
        path = directory / f"convergence-{entry.system}.png"
        figure.savefig(path, dpi=110)
        written.append(path)
    data_path = directory / "convergence.json"
    data_path.write_text(json.dumps([asdict(entry) for entry in data], indent=1))
    written.append(data_path)
    return written
