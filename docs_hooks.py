"""MkDocs hook of the documentation site (``hooks:`` in mkdocs.yml).

A page may hold a section that depends on another page being part of the site:

    <!-- if-page: checks.md -->see [checks](checks.md)<!-- else -->coming soon<!-- end-if -->

The first text is kept when ``docs/checks.md`` exists at build time, the second otherwise, so a
page can point at documentation that lands on another branch without a broken link in between.
"""

from __future__ import annotations

import re
from typing import Any

CONDITIONAL = re.compile(
    r"<!-- if-page: (?P<page>\S+) -->(?P<present>.*?)"
    r"(?:<!-- else -->(?P<absent>.*?))?<!-- end-if -->",
    flags=re.S,
)


def resolve_conditionals(markdown: str, exists: Any) -> str:
    """Replace each conditional section by its branch for whether ``exists(page)`` holds."""

    def branch(match: re.Match[str]) -> str:
        if exists(match.group("page")):
            return match.group("present")
        return match.group("absent") or ""

    return CONDITIONAL.sub(branch, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return resolve_conditionals(markdown, lambda path: files.get_file_from_path(path) is not None)
