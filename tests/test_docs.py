"""The Python examples of the README and of every page of docs/ run as written, and every figure
they quote is the one a run prints.

Conventions:

* every fenced block opened with ```` ```python ```` runs, in order, in one namespace per
  document; a block that must not run (output, a fragment) is fenced as ```` ```text ````,
  ```` ```bash ```` etc., or preceded by the line ``<!-- not run: REASON -->``;
* a figure of a result (certified digits, a radius, ...) appears in a document only as the
  comment ``# prints: <text>`` after a ``print(...)`` in a python block; running the blocks must
  print exactly those lines, in order.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
"""The README and every page of the site (a page added later is collected without editing this)."""

PAGES_WITH_EXAMPLES = [
    "README.md",
    "quickstart.md",
    "tiers.md",
    "user-guide.md",
    "finite-mdps.md",
    "estimators.md",
    "trpo.md",
]
"""Pages whose examples are their point: losing every python block is a failure."""

NOT_RUN = "<!-- not run:"

UNQUOTED_PRINTS: dict[str, str] = {}
"""Pages whose printed output is not yet quoted, each with the reason; the exclusion fails
(``test_every_unquoted_print_exclusion_is_still_needed``) once the page is annotated."""

PRINTS = re.compile(r"#\s*prints:\s*(.*?)\s*$")
"""The annotation of the line a ``print`` writes."""

QUOTED_FIGURE = re.compile(
    r"\d+\s+certified\s+digits|radius\s*[~≈]\s*\d|\d(\.\d+)?\s*[×x]\s+(a\s+)?float64"
)
"""A figure of a result written into prose or a comment by hand (digits, radii, speed-ups)."""


def python_blocks_of(text: str) -> list[str]:
    """The python blocks of a Markdown text that run: those not preceded by a not-run marker."""
    fenced = r"(?P<before>[^\n]*)\n```python\n(?P<body>.*?)```"
    blocks = re.finditer(fenced, "\n" + text, flags=re.S)
    return [block["body"] for block in blocks if not block["before"].startswith(NOT_RUN)]


def python_blocks(path: Path) -> list[str]:
    return python_blocks_of(path.read_text())


def quoted_prints(path: Path) -> list[str]:
    return [
        match.group(1)
        for block in python_blocks(path)
        for line in block.splitlines()
        if (match := PRINTS.search(line))
    ]


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[dict, str]]:
    """Each document's blocks run once, in order, in one namespace: (namespace, printed text)."""
    results = {}
    for path in DOCUMENTS:
        namespace: dict = {}
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            for block in python_blocks(path):
                exec(compile(block, str(path), "exec"), namespace)  # the docs' own code
        results[path.name] = (namespace, printed.getvalue())
    return results


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_python_example_runs(path, runs):
    assert path.name in runs


@pytest.mark.parametrize("name", PAGES_WITH_EXAMPLES)
def test_the_pages_made_of_examples_keep_them(name):
    path = ROOT / name if name == "README.md" else ROOT / "docs" / name
    assert python_blocks(path), f"{name} has lost its examples"


def test_a_block_marked_not_run_is_skipped_and_the_others_are_collected():
    text = "a\n```python\nrun()\n```\n<!-- not run: output -->\n```python\nskip()\n```\n"
    assert python_blocks_of(text) == ["run()\n"]
    assert python_blocks_of("```python\nfirst()\n```\n") == ["first()\n"]


@pytest.mark.parametrize(
    "path", [p for p in DOCUMENTS if p.name not in UNQUOTED_PRINTS], ids=lambda p: p.name
)
def test_every_quoted_output_is_what_the_run_prints(path, runs):
    _, printed = runs[path.name]
    assert printed.splitlines() == quoted_prints(path)


@pytest.mark.parametrize("name", sorted(UNQUOTED_PRINTS))
def test_every_unquoted_print_exclusion_is_still_needed(name, runs):
    _, printed = runs[name]
    assert printed.splitlines() != quoted_prints(ROOT / "docs" / name)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_no_figure_is_quoted_outside_a_checked_print(path):
    unchecked = [
        line for line in path.read_text().splitlines() if QUOTED_FIGURE.search(PRINTS.sub("", line))
    ]
    assert unchecked == []


def test_the_figure_check_recognises_hand_written_figures():
    assert QUOTED_FIGURE.search("g.digits, g.max_radius  # 68 certified digits, radius ~6e-69")
    assert QUOTED_FIGURE.search("the certified gradient costs about 7× a float64 scipy run")
    assert not QUOTED_FIGURE.search("print(g.digits)  # prints: 62")


def test_the_user_guide_property_test_fails_on_an_implementation_that_forgets_gamma(runs):
    """The guide's example is a real test: it refutes the classic bug of dropping γ.  (Its body is
    rerun on the same default strategy without shrinking, which only costs time here.)"""
    from hypothesis import Phase, given, settings

    from pgverify.strategies import lqr_problems_with_gains

    namespace, _ = runs["user-guide.md"]
    correct = namespace["my_policy_iteration_step"]

    def forgets_gamma(A, B, Q, R, K, gamma):
        return correct(A, B, Q, R, K, 1.0)

    body = namespace["test_my_policy_iteration"].hypothesis.inner_test
    rerun = settings(max_examples=20, database=None, phases=[Phase.generate])(
        given(lqr_problems_with_gains())(body)
    )
    namespace["my_policy_iteration_step"] = forgets_gamma
    try:
        with pytest.raises(AssertionError):
            rerun()
    finally:
        namespace["my_policy_iteration_step"] = correct


def test_readme_gives_exactly_two_setup_commands():
    commands = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("python3 -m venv .venv")
    ]
    assert len(commands) == 2
    assert commands[0].endswith("pgverify report")
    assert commands[1].endswith("python -m pytest")
