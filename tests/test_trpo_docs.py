"""The Python examples of docs/trpo.md run as written."""

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "trpo.md"


def test_every_python_example_of_the_trpo_page_runs():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= 4
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), {})  # the page's own code, not user input
