"""The Python blocks of docs/checks.md run as written, in order, in one namespace."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "checks.md"


def test_every_python_block_of_the_checks_guide_runs():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
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
