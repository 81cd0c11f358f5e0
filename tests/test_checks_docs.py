"""The Python blocks of docs/checks.md run as written, in order, in one namespace (except those
marked ``<!-- not run: REASON -->``, as in tests/test_docs.py: code that needs an optional peer)."""

from pathlib import Path

from tests.test_docs import python_blocks_of

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "checks.md"


def test_every_python_block_of_the_checks_guide_runs():
    blocks = python_blocks_of(GUIDE.read_text())
    assert len(blocks) >= 8
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # the guide's own code


def test_the_guide_lists_every_check_with_its_signature():
    import inspect

    import pgverify.checks

    text = GUIDE.read_text()
    for name in pgverify.checks.__all__:
        if name.startswith("check_"):
            # the first argument: the implementation `fn`, or a black box's `sample`
            first = next(iter(inspect.signature(getattr(pgverify.checks, name)).parameters))
            assert f"`{name}({first}" in text, name
