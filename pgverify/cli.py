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
    return parser


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
        return report.run_report(systems, as_json=arguments.json)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
