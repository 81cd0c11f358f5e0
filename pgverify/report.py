"""`pgverify report`: run the LQR oracle on a system and verify its identities.

For each system: the certified enclosures of every closed form (certified digits, max radius),
and the identities of docs/mathematics.md §LQR, each decided in ball arithmetic — two enclosures
that do not overlap *prove* a violation; overlapping enclosures with radii below the stated
tolerance are reported as verified.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from flint import ctx

from pgverify.enclosure import Enclosure
from pgverify.errors import InvalidProblemError, PgverifyError
from pgverify.lqr import LQR
from pgverify.lqr.examples import dean_2017, random_stabilisable_system
from pgverify.precision import DEFAULT_CERTIFIED_BITS

IDENTITY_RADIUS_LIMIT = 1e-40
"""An identity counts as verified when the enclosures overlap and both radii are below this
(relative to the size of the quantity): a wide overlap proves nothing."""

FLOAT_TOLERANCE = 1e-8
"""Relative agreement required of the float64 path with the certified midpoint."""


@dataclass
class System:
    name: str
    description: str
    problem: LQR
    gain: np.ndarray


@dataclass
class QuantityRow:
    quantity: str
    tier: str
    value: str
    digits: float
    max_radius: float


@dataclass
class IdentityRow:
    identity: str
    tier: str
    passed: bool
    detail: str


@dataclass
class SystemReport:
    name: str
    description: str
    n: int
    m: int
    gamma: float
    noise: float
    quantities: list[QuantityRow] = field(default_factory=list)
    identities: list[IdentityRow] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.identities)


# --------------------------------------------------------------------------------------------
# Built-in systems
# --------------------------------------------------------------------------------------------


def builtin_systems() -> list[System]:
    """The systems `pgverify report` runs by default, by increasing size and difficulty."""
    scalar = LQR([[1.5]], [[1.0]], [[1.0]], [[1.0]])
    dean = dean_2017()
    dean_noisy = dean_2017(gamma=0.99, noise=0.1)
    random_10, gain_10 = random_stabilisable_system(10, 5, seed=10)
    random_30, gain_30 = random_stabilisable_system(30, 15, seed=30)
    return [
        System(
            "scalar", "a = 1.5, b = q = r = 1, K = 1 (P_K = 8/3 exactly)", scalar, np.array([[1.0]])
        ),
        System(
            "dean2017",
            "Dean, Mania, Matni, Recht & Tu (2017): marginally unstable 3-state graph, "
            "B = I, Q = 1e-3 I, R = I, K = I/2",
            dean,
            0.5 * np.eye(3),
        ),
        System(
            "dean2017-discounted-noisy",
            "the same with gamma = 0.99 and exploration noise sigma = 0.1 (at gamma = 0.9 the "
            "discounted optimum K* no longer stabilises A: rho(A - BK*) = 1.01)",
            dean_noisy,
            0.5 * np.eye(3),
        ),
        System("random-10", "seeded random stabilisable system, n = 10, m = 5", random_10, gain_10),
        System(
            "random-30", "seeded random stabilisable system, n = 30, m = 15", random_30, gain_30
        ),
    ]


def load_system(path: str | Path) -> System:
    """A system from a .npz or .json file with arrays A, B, Q, R and optional Sigma0, K, gamma,
    noise.  No pickle is ever loaded.  Without K, the LQR gain of (A, B, I, I) is used (a
    stabilising gain that is not the optimum of the user's weights)."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            data: dict[str, Any] = {key: archive[key] for key in archive.files}
    elif path.suffix == ".json":
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise InvalidProblemError(f"{path} must hold a JSON object, got {type(data).__name__}")
    else:
        raise InvalidProblemError(f"--system expects a .npz or .json file, got {path.name!r}")
    missing = [key for key in ("A", "B", "Q", "R") if key not in data]
    if missing:
        raise InvalidProblemError(f"{path} lacks the arrays {missing}; expected A, B, Q and R")
    scalars = {key: float(np.asarray(data[key])) for key in ("gamma", "noise") if key in data}
    problem = LQR(data["A"], data["B"], data["Q"], data["R"], Sigma0=data.get("Sigma0"), **scalars)
    if "K" in data:
        gain = problem.gain(data["K"])
    else:
        helper = LQR(problem.A, problem.B, np.eye(problem.n), np.eye(problem.m))
        gain = helper.optimal_gain()
    return System(path.stem, f"loaded from {path}", problem, gain)


# --------------------------------------------------------------------------------------------
# Running the oracle
# --------------------------------------------------------------------------------------------


def _describe(value: Enclosure) -> str:
    if value.ndim == 0:
        return value.ball.str(int(min(value.digits, 30)), radius=False)
    largest = float(np.max(np.abs(value.mid)))
    return f"{value.shape[0]}x{value.shape[1]} matrix, max |entry| = {largest:.6g}"


def _quantity(name: str, value: Enclosure) -> QuantityRow:
    return QuantityRow(name, value.tier, _describe(value), value.digits, value.max_radius)


def _overlap_identity(name: str, left: Enclosure, right: Any) -> IdentityRow:
    """Verified when the enclosures overlap and are narrow (see IDENTITY_RADIUS_LIMIT)."""
    right_ball = right.ball if isinstance(right, Enclosure) else right
    with ctx.workprec(DEFAULT_CERTIFIED_BITS):
        overlap = bool(left.ball.overlaps(right_ball))
    scale = max(float(np.max(np.abs(left.mid))), 1e-300)
    widths = [left.max_radius]
    if isinstance(right, Enclosure):
        widths.append(right.max_radius)
    narrow = max(widths) <= IDENTITY_RADIUS_LIMIT * max(scale, 1.0)
    passed = overlap and narrow
    if not overlap:
        detail = "enclosures are disjoint: the identity is violated (proved)"
    elif not narrow:
        detail = f"enclosures overlap but are too wide to decide (radius {max(widths):.3g})"
    else:
        detail = f"enclosures overlap, radius <= {max(widths):.2g}"
    return IdentityRow(name, "certified", passed, detail)


def _policy_iteration_identity(system: System, optimal: Enclosure) -> IdentityRow:
    """PI from K stays stabilising (certified), decreases the cost (certified, up to the float
    rounding of each gain) and reaches the certified K*."""
    problem, gain = system.problem, system.gain
    previous = problem.cost(gain, "certified")
    for step in range(1, 41):
        gain = problem.policy_iteration_step(gain)
        if not problem.is_stabilizing(gain, "certified"):
            return IdentityRow(
                "PI -> DARE solution", "certified", False, f"step {step} destabilised"
            )
        cost = problem.cost(gain, "certified")
        slack = 1e-24 * abs(previous.mid)
        if cost.mid - cost.rad > previous.mid + previous.rad + slack:
            return IdentityRow(
                "PI -> DARE solution", "certified", False, f"cost increased at step {step}"
            )
        previous = cost
        distance = float(np.max(np.abs(gain - optimal.mid)))
        if distance <= 1e-12 * max(1.0, float(np.max(np.abs(optimal.mid)))):
            return IdentityRow(
                "PI -> DARE solution",
                "certified",
                True,
                f"{step} steps, monotone, max|K_i - K*| = {distance:.2g}",
            )
    return IdentityRow("PI -> DARE solution", "certified", False, "no convergence in 40 steps")


def _float_identity(problem: LQR, gain: np.ndarray, certified: Enclosure) -> IdentityRow:
    error = float(np.max(np.abs(problem.gradient(gain) - certified.mid)))
    scale = max(float(np.max(np.abs(certified.mid))), 1e-300)
    passed = error <= FLOAT_TOLERANCE * scale
    return IdentityRow(
        "float64 gradient ~ certified", "float", passed, f"relative error {error / scale:.2g}"
    )


def run_system(system: System, progress: Callable[[str], None] = lambda _: None) -> SystemReport:
    problem, K = system.problem, system.gain
    report = SystemReport(
        system.name, system.description, problem.n, problem.m, problem.gamma, problem.noise
    )
    try:
        progress("certifying stability")
        problem.is_stabilizing(K, "certified")
        progress("value matrix, covariance, gradient")
        quantities = {
            "cost C(K)": problem.cost(K, "certified"),
            "value matrix P_K": problem.value_matrix(K, "certified"),
            "state covariance Sigma_K": problem.state_covariance(K, "certified"),
            "gradient 2 E_K Sigma_K": problem.gradient(K, "certified"),
            "natural gradient 2 E_K": problem.natural_gradient(K, "certified"),
            "Gauss-Newton direction": problem.gauss_newton_direction(K, "certified"),
            "policy iteration gain": problem.policy_iteration_step(K, "certified"),
        }
        progress("optimal gain (DARE)")
        quantities["optimal gain K*"] = problem.optimal_gain("certified")
        quantities["DARE solution X*"] = problem.optimal_value_matrix("certified")
        report.quantities = [_quantity(name, value) for name, value in quantities.items()]

        progress("identities")
        gradient = quantities["gradient 2 E_K Sigma_K"]
        covariance = quantities["state covariance Sigma_K"]
        with ctx.workprec(DEFAULT_CERTIFIED_BITS):
            gradient_over_covariance = covariance.ball.solve(gradient.ball.transpose()).transpose()
        report.identities.append(
            _overlap_identity(
                "NPG = grad C Sigma_K^-1",
                quantities["natural gradient 2 E_K"],
                gradient_over_covariance,
            )
        )
        report.identities.append(
            _overlap_identity(
                "GN(alpha = 1/2) = PI",
                problem.gauss_newton_step(K, 0.5, "certified"),
                quantities["policy iteration gain"],
            )
        )
        following = problem.policy_iteration_step(K)
        lemma = problem.cost_difference(K, following, "certified")
        with ctx.workprec(DEFAULT_CERTIFIED_BITS):
            direct = problem.cost(following, "certified").ball - quantities["cost C(K)"].ball
        report.identities.append(_overlap_identity("cost difference lemma", lemma, direct))
        progress("policy iteration")
        report.identities.append(_policy_iteration_identity(system, quantities["optimal gain K*"]))
        report.identities.append(_float_identity(problem, K, gradient))
    except PgverifyError as failure:
        report.identities.append(
            IdentityRow("oracle ran", "certified", False, f"{type(failure).__name__}: {failure}")
        )
    return report


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def render_text(reports: list[SystemReport]) -> str:
    lines: list[str] = []
    for report in reports:
        lines.append(
            f"== {report.name} (n={report.n}, m={report.m}, gamma={report.gamma}, "
            f"noise={report.noise}): {report.description}"
        )
        lines.append(f"  {'quantity':28} {'tier':10} {'digits':>6} {'max radius':>10}  value")
        for row in report.quantities:
            digits = "exact" if math.isinf(row.digits) else str(row.digits)
            lines.append(
                f"  {row.quantity:28} {row.tier:10} {digits:>6} {row.max_radius:10.2e}  {row.value}"
            )
        lines.append(f"  {'identity':28} {'tier':10} {'result':>6}  detail")
        for row in report.identities:
            verdict = "ok" if row.passed else "FAIL"
            lines.append(f"  {row.identity:28} {row.tier:10} {verdict:>6}  {row.detail}")
        lines.append("")
    total = sum(len(r.identities) for r in reports)
    failed = sum(not row.passed for r in reports for row in r.identities)
    lines.append(f"{total - failed} identities verified, {failed} failed")
    return "\n".join(lines)


def render_json(reports: list[SystemReport]) -> str:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isinf(value):
            return "inf"
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    payload = {
        "systems": [clean(asdict(report) | {"passed": report.passed}) for report in reports],
        "passed": all(report.passed for report in reports),
    }
    return json.dumps(payload, indent=2)


def run_report(
    systems: list[System],
    *,
    as_json: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run every system, print the report, return the exit status (0 iff all identities hold).
    Progress lines go to ``err`` (standard error by default), the report to ``out``."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    reports = []
    for index, system in enumerate(systems, start=1):

        def progress(stage: str, index: int = index, name: str = system.name) -> None:
            print(f"[{index}/{len(systems)}] {name}: {stage}", file=err, flush=True)

        reports.append(run_system(system, progress))
    print(render_json(reports) if as_json else render_text(reports), file=out)
    return 0 if all(report.passed for report in reports) else 1
