"""The Python examples of docs/estimators.md run as written."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "estimators.md"


def test_every_python_example_of_the_estimators_page_runs():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= 2, "docs/estimators.md has lost its examples"
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), {})  # the docs' own code, not user input
