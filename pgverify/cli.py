"""The `pgverify` command."""

from __future__ import annotations

import argparse
import sys

from pgverify.errors import PgverifyError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgverify",
        description="Reference oracle for policy-gradient RL and policy optimisation for control.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser(
        "report",
        help="run the certified LQR oracle on built-in systems (or --system FILE) "
        "and verify its identities",
    )
    report.add_argument(
        "--system",
        metavar="FILE",
        help=".npz or .json file with A, B, Q, R and optional Sigma0, K, gamma, noise (no pickle)",
    )
    report.add_argument("--json", action="store_true", help="machine-readable output")
    report.add_argument(
        "--plots",
        metavar="DIR",
        help="also draw the cost gap per iteration of PG, NPG, GN and PI with the theorems' "
        "bounds into DIR (PNG + convergence.json; needs the 'plots' extra: matplotlib)",
    )
    derive = commands.add_parser(
        "derive", help="prove an identity symbolically (sympy, tier exact); --list shows them all"
    )
    derive.add_argument("name", nargs="?", help="the derivation to run (see --list)")
    derive.add_argument("--list", action="store_true", help="list the derivations")
    derive.add_argument("--all", action="store_true", help="run every derivation")
    derive.add_argument("--n", type=int, help="state dimension n")
    derive.add_argument("--m", type=int, help="input dimension m")
    derive.add_argument(
        "--size",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="another size (hidden, actions, states, dimension), repeatable",
    )
    derive.add_argument("--latex", action="store_true", help="print LaTeX instead of text")
    derive.add_argument("--markdown", action="store_true", help="with --all: the docs page")
    derive.add_argument(
        "--check",
        action="store_true",
        help="also evaluate the derived expressions at a random problem and compare them with "
        "the certified oracle (the LQR gradient, natural-gradient and cost-difference derivations)",
    )
    derive.add_argument("--seed", type=int, default=0, help="the random problem of --check")
    return parser


def _run_derive(arguments: argparse.Namespace) -> int:
    from pgverify.symbolic import core
    from pgverify.symbolic.docs import render_markdown

    if arguments.list:
        for entry in core.available():
            sizes = core.size_label(entry.defaults)
            print(f"{entry.name:52} [{sizes}] ({entry.expected}) {entry.summary}")
        return 0
    names = [entry.name for entry in core.available()] if arguments.all else [arguments.name]
    if names == [None]:
        print("pgverify derive: give a NAME, --all or --list", file=sys.stderr)
        return 2
    sizes: dict[str, int] = {"n": arguments.n, "m": arguments.m}
    try:
        for item in arguments.size:
            key, _, value = item.partition("=")
            sizes[key] = int(value)
    except ValueError:
        print(f"pgverify derive: --size expects NAME=INT, got {arguments.size}", file=sys.stderr)
        return 2
    results, status = [], 0
    for name in names:
        entry_sizes = {k: v for k, v in sizes.items() if v is not None}
        if arguments.all:  # each derivation takes the sizes it has (--n applies where n exists)
            taken = core.REGISTRY[name].size_options
            entry_sizes = {k: v for k, v in entry_sizes.items() if k in taken}
        try:
            result = core.derive(name, **entry_sizes)
        except PgverifyError as failure:
            print(f"pgverify derive: {failure}", file=sys.stderr)
            return 2
        results.append(result)
        expected = core.REGISTRY[name].expected
        status |= result.verdict != expected
        if not arguments.markdown:
            print(result.to_latex() if arguments.latex else result.to_text())
            if arguments.check:
                status |= _check(result, arguments.seed)
            print()
    if arguments.markdown:
        # the page already ends with a newline: `> FILE` must reproduce it byte for byte
        sys.stdout.write(render_markdown(results))
    return 1 if status else 0


def _check(result, seed: int) -> bool:
    """Print the comparison of ``result``'s derived quantities with the certified oracle at a
    random problem; True when one is not contained (a failure)."""
    from pgverify.symbolic.check import check

    try:
        comparisons = check(result, seed)
    except PgverifyError as failure:
        print(f"  check: {failure}")
        return True
    print(f"  check against the certified oracle (random problem, seed {seed}):")
    for comparison in comparisons:
        print(comparison.to_text())
    return not all(comparison.contained for comparison in comparisons)


def _plots_available() -> bool:
    """Is matplotlib importable?  Checked before any work, with a clear message if not."""
    from pgverify import plots
    from pgverify.errors import MissingDependencyError

    try:
        plots.figure_class()
    except MissingDependencyError as missing:
        print(f"pgverify report --plots: {missing}", file=sys.stderr)
        return False
    return True


def _draw_plots(systems: list, directory: str) -> int:
    from pgverify import plots

    try:
        data = plots.convergence_data(
            systems, progress=lambda stage: print(f"[plots] {stage}", file=sys.stderr, flush=True)
        )
        written = plots.draw_convergence(data, directory)
    except OSError as failure:
        print(f"pgverify report --plots: cannot write to {directory}: {failure}", file=sys.stderr)
        return 2
    except PgverifyError as failure:
        print(f"pgverify report --plots: {type(failure).__name__}: {failure}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    from pgverify import report

    if arguments.command == "report":
        try:
            systems = (
                [report.load_system(arguments.system)]
                if arguments.system
                else report.builtin_systems()
            )
        except (PgverifyError, OSError, ValueError) as failure:
            print(f"pgverify report: cannot load the system: {failure}", file=sys.stderr)
            return 2
        if arguments.plots and not _plots_available():
            return 2
        status = report.run_report(systems, as_json=arguments.json)
        if arguments.plots:
            return _draw_plots(systems, arguments.plots) or status
        return status
    if arguments.command == "derive":
        return _run_derive(arguments)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
