"""`pgverify report`: the table, JSON, user systems, and a non-zero exit when an identity fails
(negative controls: deliberately wrong closed forms must be caught)."""

import json
import re

import numpy as np
import pytest

from pgverify import cli, report
from pgverify.lqr.closed_forms import GainEvaluation

DEAN_A = [[1.01, 0.01, 0.0], [0.01, 1.01, 0.01], [0.0, 0.01, 1.01]]


ALL_BUILTINS = report.builtin_systems


@pytest.fixture
def quick_builtins(monkeypatch):
    """The built-in list without the larger random systems, to keep the suite fast."""
    monkeypatch.setattr(report, "builtin_systems", lambda: ALL_BUILTINS()[:3])


def test_report_verifies_every_identity_on_the_builtin_systems(quick_builtins, capsys):
    assert cli.main(["report"]) == 0
    out = capsys.readouterr()
    assert "dean2017" in out.out
    assert "FAIL" not in out.out
    assert "GN(alpha = 1/2) = PI" in out.out
    assert "[1/3] scalar:" in out.err  # progress goes to stderr


def test_report_json_is_machine_readable(quick_builtins, capsys):
    assert cli.main(["report", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["passed"] is True
    names = [system["name"] for system in payload["systems"]]
    assert names == ["scalar", "dean2017", "dean2017-discounted-noisy"]
    gradient = next(
        q for q in payload["systems"][1]["quantities"] if q["quantity"].startswith("gradient")
    )
    assert gradient["tier"] == "certified" and gradient["digits"] >= 50


def test_report_runs_on_a_user_system_from_npz(tmp_path, capsys):
    path = tmp_path / "mine.npz"
    np.savez(path, A=np.array(DEAN_A), B=np.eye(3), Q=np.eye(3), R=np.eye(3), K=0.5 * np.eye(3))
    assert cli.main(["report", "--system", str(path)]) == 0
    assert "== mine (n=3, m=3" in capsys.readouterr().out


def test_report_runs_on_a_user_system_from_json_without_a_gain(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text(
        json.dumps(
            {
                "A": [[0.5, 0.1, 0.0], [0.1, 0.5, 0.1], [0.0, 0.1, 0.5]],
                "B": [[1.0], [0.0], [0.0]],
                "Q": np.eye(3).tolist(),
                "R": [[2.0]],
                "gamma": 0.95,
            }
        )
    )
    assert cli.main(["report", "--system", str(path), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["systems"][0]["gamma"] == 0.95


def test_report_refuses_a_pickled_npz(tmp_path, capsys):
    path = tmp_path / "evil.npz"
    np.savez(path, A=np.array([object()], dtype=object), B=np.eye(1), Q=np.eye(1), R=np.eye(1))
    assert cli.main(["report", "--system", str(path)]) == 2
    assert "cannot load the system" in capsys.readouterr().err


def test_report_refuses_a_system_with_missing_matrices(tmp_path, capsys):
    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"A": [[0.5]], "B": [[1.0]]}))
    assert cli.main(["report", "--system", str(path)]) == 2
    assert "lacks the arrays ['Q', 'R']" in capsys.readouterr().err


def test_report_refuses_an_unknown_file_type(tmp_path, capsys):
    path = tmp_path / "system.pkl"
    path.write_bytes(b"\x80")
    assert cli.main(["report", "--system", str(path)]) == 2
    assert "expects a .npz or .json file" in capsys.readouterr().err


def test_report_fails_when_the_natural_gradient_misses_its_factor_two(
    quick_builtins, monkeypatch, capsys
):
    monkeypatch.setattr(GainEvaluation, "natural_gradient", lambda self: self.E)
    assert cli.main(["report"]) == 1
    out = capsys.readouterr().out
    assert (
        len(re.findall(r"NPG = grad C Sigma_K\^-1 +certified +FAIL +enclosures are disjoint", out))
        == 3
    )


def test_report_fails_when_policy_iteration_drops_the_discount(quick_builtins, monkeypatch, capsys):
    def undiscounted(self):
        m = self.model
        return self.ar.solve(m.R + m.B.T @ self.value_matrix @ m.B, m.B.T @ self.value_matrix @ m.A)

    monkeypatch.setattr(GainEvaluation, "policy_iteration_gain", undiscounted)
    assert cli.main(["report"]) == 1
    out = capsys.readouterr().out
    # undiscounted systems are unaffected; the discounted one is caught
    assert len(re.findall(r"GN\(alpha = 1/2\) = PI +certified +FAIL", out)) == 1


def test_report_fails_when_the_cost_difference_lemma_uses_sigma0(
    quick_builtins, monkeypatch, capsys
):
    def with_initial_covariance(self, other):
        step = other.K - self.K
        inner = step.T @ self.curvature @ step + (step.T @ self.E) * self.ar.scalar(2.0)
        return self.ar.trace(self.model.Sigma0 @ inner)

    monkeypatch.setattr(GainEvaluation, "cost_difference_to", with_initial_covariance)
    assert cli.main(["report"]) == 1
    assert re.search(r"cost difference lemma +certified +FAIL", capsys.readouterr().out)
