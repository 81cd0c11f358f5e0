"""The Python examples of the README and the docs run as written."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "user-guide.md"]


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_every_python_example_runs(path):
    blocks = python_blocks(path)
    assert blocks, f"{path.name} has no python example"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)  # the docs' own code, not user input


def test_readme_gives_exactly_two_setup_commands():
    commands = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if line.startswith("python3 -m venv .venv")
    ]
    assert len(commands) == 2
    assert commands[0].endswith("pgverify report")
    assert commands[1].endswith("python -m pytest")
