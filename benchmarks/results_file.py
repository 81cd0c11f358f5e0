"""Recording benchmark sections in RESULTS.md (shared by the benchmark scripts)."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def write_section(section: str, block: str) -> None:
    """Replace the section headed ``section`` (or append it) with ``block``."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    if section in text:
        head, _, tail = text.partition(section)
        following = tail.find("\n## ")
        rest = tail[following + 1 :] if following >= 0 else ""
        # a blank line before the next heading, or Markdown reads it as a row of the last table
        text = head + (block.rstrip("\n") + "\n\n" + rest if rest else block)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


def main(description: str, section: str, run, render) -> None:
    """The command line of a benchmark script: run, print, and with --write record."""
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--write", action="store_true", help="record the results in RESULTS.md")
    arguments = parser.parse_args()
    text = render(run())
    if arguments.write:
        write_section(section, text)
    print(text)
