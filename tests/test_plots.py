"""`pgverify report --plots DIR`: the data behind the convergence pictures (certified gaps under
the theorems' bounds), the files, and a clear error without matplotlib."""

import json
import sys

import numpy as np
import pytest

from pgverify import cli, plots, report

QUICK_STEPS = 12


@pytest.fixture
def scalar_only(monkeypatch):
    """The scalar system only, and fewer iterations, to keep the suite fast."""
    systems = report.builtin_systems()[:1]
    monkeypatch.setattr(report, "builtin_systems", lambda: systems)
    monkeypatch.setattr(plots, "PLOT_STEPS", QUICK_STEPS)
    return systems


@pytest.fixture(scope="module")
def data():
    return plots.convergence_data(report.builtin_systems()[:2], steps=QUICK_STEPS)


def test_plot_data_cover_every_method_on_every_system(data):
    assert [entry.system for entry in data] == ["scalar", "dean2017"]
    for entry in data:
        assert [curve.method for curve in entry.curves] == ["pg", "npg", "gn", "pi"]
        for curve in entry.curves:
            assert curve.all_stabilizing
            assert len(curve.bounds) == len(curve.gaps) == len(curve.alphas) + 1


def test_plotted_gaps_lie_under_their_theorem_bounds(data):
    for entry in data:
        for curve in entry.curves:
            gaps, bounds = np.array(curve.gaps), np.array(curve.bounds)
            assert np.all(gaps <= bounds * (1 + 1e-12) + 1e-300), (entry.system, curve.method)


def test_plotted_policy_iteration_reaches_the_floor_and_gauss_newton_does_not(data):
    """PI (quadratic) reaches the float floor of the iterates within a few steps; GN at α = ¼
    (linear) does not within the same number."""
    dean = data[1].curves
    pi, gn = dean[3], dean[2]
    floor = plots.RELATIVE_GAP_FLOOR * max(1.0, data[1].optimal_cost)
    assert pi.gaps[-1] <= floor and len(pi.gaps) <= 10
    assert gn.gaps[len(pi.gaps) - 1] > 1e3 * floor


def test_report_plots_writes_a_png_per_system_and_the_data_behind_them(
    scalar_only, tmp_path, capsys
):
    pytest.importorskip("matplotlib", reason="the 'plots' extra (matplotlib) is not installed")
    assert cli.main(["report", "--plots", str(tmp_path)]) == 0
    error = capsys.readouterr().err
    png = tmp_path / "convergence-scalar.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in error
    saved = json.loads((tmp_path / "convergence.json").read_text())
    assert [entry["system"] for entry in saved] == ["scalar"]
    assert [curve["method"] for curve in saved[0]["curves"]] == ["pg", "npg", "gn", "pi"]
    assert len(saved[0]["curves"][0]["gaps"]) == QUICK_STEPS + 1  # PG runs the full budget


def test_report_plots_without_matplotlib_says_how_to_install_it(
    scalar_only, tmp_path, monkeypatch, capsys
):
    for module in ("matplotlib", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, module, None)  # importing them now raises ImportError
    assert cli.main(["report", "--plots", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "needs matplotlib" in captured.err and "pgverify[plots]" in captured.err
    assert captured.out == ""  # refused before running anything
    assert not list(tmp_path.iterdir())


def test_the_docs_show_a_convergence_picture_that_exists():
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    text = (docs / "convergence.md").read_text()
    pictures = [line.split("](")[1].rstrip(")") for line in text.splitlines() if "![" in line]
    assert pictures
    for picture in pictures:
        assert (docs / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
