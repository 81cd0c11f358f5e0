"""docs/checks.md keeps its examples (tests/test_docs.py runs them, in order, in one namespace,
except those marked ``<!-- not run: REASON -->``) and lists every check with its signature."""

from pathlib import Path

from tests.test_docs import python_blocks_of

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "checks.md"


def test_the_checks_guide_keeps_its_examples():
    # they run, in order and in one namespace, in tests/test_docs.py (every page of the site);
    # running them here a second time cost ~13 s of the suite
    assert len(python_blocks_of(GUIDE.read_text())) >= 8


def test_the_guide_lists_every_check_with_its_signature():
    import inspect

    import pgverify.checks

    text = GUIDE.read_text()
    for name in pgverify.checks.__all__:
        if name.startswith("check_"):
            # the first argument: the implementation `fn`, or a black box's `sample`
            first = next(iter(inspect.signature(getattr(pgverify.checks, name)).parameters))
            assert f"`{name}({first}" in text, name
