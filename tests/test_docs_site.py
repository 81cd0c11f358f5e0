"""The documentation site: every public name is in the API reference with a docstring, the hook's
conditional sections resolve, the site's configuration names pages that exist, and no file of the
project cites a document the project does not contain."""

import importlib
import importlib.util
import inspect
import itertools
import re
from pathlib import Path

import pytest

from docs_hooks import resolve_conditionals

ROOT = Path(__file__).resolve().parent.parent

# ------------------------------------------------------------------------------------------------
# Citations
# ------------------------------------------------------------------------------------------------

# The names of the outside documents are assembled from pieces, so that this file holds none of
# the citations it forbids and is scanned like every other file.
NOTES = "DES" + "IGN"  # the design notes kept outside the repository
SOURCE = "se" + "ed"  # the source text kept outside the repository
SHARED = "/work/" + "shared"  # the folder holding both
REFERENCE_NOTES = "REFER" + "ENCES"

OUTSIDE_CITATION = re.compile(
    "|".join(
        [
            rf"\b{NOTES}(?:\.md\b|\s*§|\b)",
            rf"(?i:\b{SOURCE}\s+eqs?\b)",  # "<source> eq. 13.5"
            rf"(?i:\b{SOURCE}\s+\d+\.\d)",  # "(<source> 13.4)"
            rf"(?i:\b{SOURCE}'s\b)",
            rf"(?i:\b{SOURCE}\s+(?:notation|text)\b)",
            rf"(?i:\bthe\s+{SOURCE}\b(?!\s+(?:of|for|argument|value|must|is|=)\b))",
            rf"\b{REFERENCE_NOTES}\.md\b",
            rf"{SHARED}\b",
        ]
    )
)
"""A citation of a document outside the repository (the project's design notes or source text)."""

EXCLUDED: dict[str, str] = {}
"""Paths (prefixes) not yet checked, each with the reason. ``test_every_exclusion_is_still_needed``
fails once an excluded path is clean, so an entry cannot outlive its reason."""

SCANNED_SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".cfg", ".txt", ".json", ""}
SKIPPED_DIRECTORIES = {".git", ".venv", "site", "build", "dist", "__pycache__", ".hypothesis"}


def skipped(directory: str) -> bool:
    """Tool caches, environments and build output; ``.ci`` is the project's own."""
    hidden = directory.startswith(".") and directory != ".ci"
    return hidden or directory in SKIPPED_DIRECTORIES or directory.endswith(".egg-info")


def project_files() -> list[str]:
    files = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if any(skipped(part) for part in relative.parts[:-1]):
            continue
        if path.is_file() and path.suffix in SCANNED_SUFFIXES:
            files.append(relative.as_posix())
    return sorted(files)


def outside_citations(relative: str) -> list[str]:
    try:
        text = (ROOT / relative).read_text()
    except UnicodeDecodeError:  # a binary file (an image, ...) cites nothing
        return []
    return [
        f"{relative}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), start=1)
        if OUTSIDE_CITATION.search(line)
    ]


def test_no_project_file_cites_a_document_outside_the_project():
    checked = [
        relative
        for relative in project_files()
        if not any(relative.startswith(p) for p in EXCLUDED)
    ]
    assert len(checked) > 50, "the scan found too few files to be meaningful"
    found = [citation for relative in checked for citation in outside_citations(relative)]
    assert found == [], "cite docs/mathematics.md (or the paper) instead:\n" + "\n".join(found)


@pytest.mark.parametrize("prefix", sorted(EXCLUDED))
def test_every_exclusion_is_still_needed(prefix):
    excluded = [relative for relative in project_files() if relative.startswith(prefix)]
    assert any(outside_citations(relative) for relative in excluded), (
        f"{prefix} no longer cites outside documents: remove it from EXCLUDED"
    )


@pytest.mark.parametrize(
    "line",
    [
        f"Notation ({NOTES}.md §2; Fazel et al.)",
        f"see {NOTES} §4",
        f"({SOURCE} eq. 13.5; Fazel Lemma 1)",
        f"{SOURCE.capitalize()} eqs. 13.1–13.5",
        f"value matrix ({SOURCE} 13.4)",
        f"in the {SOURCE}'s form K − 2αE_K",
        f"σ is a variance, as in the {SOURCE}",
        f"Four update rules ({SOURCE} notation, errata fixed)",
        f"background: {SHARED}/{REFERENCE_NOTES}.md",
    ],
)
def test_the_citation_check_recognises_outside_citations(line):
    assert OUTSIDE_CITATION.search(line)


@pytest.mark.parametrize(
    "line",
    [
        "rollouts(problem, K, seed=0)",
        "seeded: seeds 0..9 at each size",
        "policies drawn with seed 403, gamma = 9/10",
        "raise InvalidProblemError(f'seed must be an int >= 0')",
        f"the {SOURCE} of the random generator",
        "a good design of the test",
    ],
)
def test_the_citation_check_leaves_random_seeds_and_plain_words_alone(line):
    assert not OUTSIDE_CITATION.search(line)


# ------------------------------------------------------------------------------------------------
# The API reference
# ------------------------------------------------------------------------------------------------

DOCUMENTED_MODULES = [
    "pgverify",
    "pgverify.checks",
    "pgverify.mdp",
    "pgverify.mdp.trpo",
    "pgverify.trpo",
    "pgverify.estimators",
    "pgverify.expectation",
    "pgverify.strategies",
    "pgverify.symbolic",
]
"""The public modules; each public name of each must be rendered by docs/api.md."""


def public_names(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            name
            for name, value in vars(module).items()
            if not name.startswith("_")
            and getattr(value, "__module__", None) == module_name
            and (inspect.isfunction(value) or inspect.isclass(value))
        ]
    return [
        name
        for name in names
        if name != "__version__" and not inspect.ismodule(getattr(module, name))
    ]


def is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:  # a class or function of a module: ``pgverify.LQR``
        return False
    return True


def rendered_names() -> set[str]:
    """The objects docs/api.md renders: ``::: target`` directives, and the members they list
    (a module directive without a ``members`` option renders every public member — except a
    function named like a submodule, e.g. ``pgverify.trpo.conjugate_gradient``: mkdocstrings
    resolves that name to the submodule, so the function needs its own directive)."""
    text = (ROOT / "docs" / "api.md").read_text()
    rendered: set[str] = set()
    for block in re.finditer(r"^::: (?P<target>\S+)\n(?P<options>(?:    .*\n)*)", text, re.M):
        target, options = block["target"], block["options"]
        rendered.add(target)
        listed = re.findall(r"^        - (\w+)$", options, re.M)
        if listed:
            rendered.update(f"{target}.{name}" for name in listed)
        elif "members: false" not in options and is_module(target):
            rendered.update(
                f"{target}.{name}"
                for name in public_names(target)
                if not is_module(f"{target}.{name}")
            )
    return rendered


def resolved(dotted: str) -> object:
    module_name, _, name = dotted.rpartition(".")
    if is_module(dotted):
        return importlib.import_module(dotted)
    return getattr(resolved(module_name), name)


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_every_public_name_is_in_the_api_reference(module_name):
    """Under this name or another (``pgverify.mdp.FiniteMDP`` is ``pgverify.FiniteMDP``)."""
    rendered = [resolved(dotted) for dotted in rendered_names()]
    module = importlib.import_module(module_name)
    missing = [
        name
        for name in public_names(module_name)
        if not any(getattr(module, name) is target for target in rendered)
    ]
    assert missing == []


@pytest.mark.parametrize("module_name", DOCUMENTED_MODULES)
def test_every_public_name_has_a_docstring(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module)
    undocumented = [
        name
        for name in public_names(module_name)
        if not (inspect.getdoc(getattr(module, name)) or "").strip()
    ]
    assert undocumented == []


def test_the_api_reference_check_sees_a_missing_member():
    assert "pgverify.mdp.evaluate" in rendered_names()
    assert "pgverify.mdp.not_a_function" not in rendered_names()
    # shadowed by its submodule: rendered only through its explicit directive
    assert "pgverify.trpo.conjugate_gradient" not in rendered_names()
    assert "pgverify.trpo.conjugate_gradient.conjugate_gradient" in rendered_names()


# ------------------------------------------------------------------------------------------------
# The site's configuration and hook
# ------------------------------------------------------------------------------------------------


def test_every_page_of_the_navigation_exists_and_every_page_is_in_it():
    config = (ROOT / "mkdocs.yml").read_text()
    navigation = set(re.findall(r"^\s+- (?:[^:\n]+: )?(\S+\.md)$", config, re.M))
    pages = {path.name for path in (ROOT / "docs").glob("*.md")}
    assert navigation <= pages
    # mkdocs.yml sets validation.omitted_files: warn, so the strict build fails on these too
    assert pages - navigation == set(), "add the page to the nav of mkdocs.yml"


def test_a_conditional_section_keeps_the_branch_for_an_existing_page():
    text = "a <!-- if-page: checks.md -->[c](checks.md)<!-- else -->soon<!-- end-if --> b"
    assert resolve_conditionals(text, lambda page: page == "checks.md") == "a [c](checks.md) b"
    assert resolve_conditionals(text, lambda page: False) == "a soon b"


def test_a_conditional_section_without_else_disappears_for_a_missing_page():
    text = "a <!-- if-page: trpo.md -->see [t](trpo.md)<!-- end-if -->b"
    assert resolve_conditionals(text, lambda page: False) == "a b"


# ------------------------------------------------------------------------------------------------
# The benchmarks page (benchmarks/RESULTS.md, included verbatim)
# ------------------------------------------------------------------------------------------------


def results_file_module():
    spec = importlib.util.spec_from_file_location(
        "results_file", ROOT / "benchmarks" / "results_file.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_heading_of_the_recorded_results_follows_a_blank_line():
    """Otherwise Markdown reads a heading after a table as one more row of the table."""
    lines = (ROOT / "benchmarks" / "RESULTS.md").read_text().splitlines()
    glued = [line for before, line in itertools.pairwise(lines) if line.startswith("#") and before]
    assert glued == []


def test_replacing_a_recorded_section_keeps_a_blank_line_before_the_next(tmp_path, monkeypatch):
    results_file = results_file_module()
    monkeypatch.setattr(results_file, "RESULTS", tmp_path / "RESULTS.md")
    results_file.write_section("## A", "## A\n\n| x |\n|---|\n| 1 |\n")
    results_file.write_section("## B", "## B\n\ntext\n")
    results_file.write_section("## A", "## A\n\n| x |\n|---|\n| 2 |\n")
    assert "| 2 |\n\n## B" in (tmp_path / "RESULTS.md").read_text()
