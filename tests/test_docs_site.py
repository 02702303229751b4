"""The documentation site: every page in the nav, a strict build, and the docstring rewriter."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Final

import pytest
from mkdocs.config import load_config

ROOT: Final = Path(__file__).parent.parent
DOCS: Final = ROOT / "docs"
TOML_BLOCK: Final = re.compile(r"^```toml\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def nav_pages(entries: Any) -> Iterator[str]:
    """Yield every page path in a MkDocs nav, however deep its sections go."""
    if isinstance(entries, str):
        yield entries
    elif isinstance(entries, list):
        for entry in entries:
            yield from nav_pages(entry)
    elif isinstance(entries, dict):
        for value in entries.values():
            yield from nav_pages(value)


def load_rewriter() -> ModuleType:
    """Import docs/_griffe_rst.py, which is not in a package."""
    spec = importlib.util.spec_from_file_location("_griffe_rst", DOCS / "_griffe_rst.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def nav() -> list[str]:
    config = load_config(str(ROOT / "mkdocs.yml"))
    return list(nav_pages(config.nav))


@pytest.fixture(scope="module")
def to_markdown() -> Any:
    return load_rewriter().to_markdown


class TestNav:
    def test_every_page_is_in_the_nav(self, nav: list[str]) -> None:
        pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
        assert sorted(pages - set(nav)) == []

    def test_every_nav_entry_is_a_page(self, nav: list[str]) -> None:
        assert [page for page in nav if not (DOCS / page).is_file()] == []

    def test_no_page_is_listed_twice(self, nav: list[str]) -> None:
        assert len(nav) == len(set(nav))


class TestBuild:
    # .ci/run builds the site too; by hand: NO_MKDOCS_2_WARNING=1 python -m mkdocs build --strict
    @pytest.mark.deep(reason="a strict build of the whole site takes about 5 s")
    def test_site_builds_with_warnings_as_errors(self, tmp_path: Path) -> None:
        site = tmp_path / "site"
        result = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
            cwd=ROOT,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "WARNING" not in result.stderr
        assert (site / "index.html").is_file()
        assert (site / "api" / "index.html").is_file()
        assert not (site / "_griffe_rst.py").exists()


class TestTomlBlocks:
    """The TOML files the docs show follow the format that ``pipekit plan`` reads."""

    def blocks(self) -> list[str]:
        return [
            block for page in DOCS.rglob("*.md") for block in TOML_BLOCK.findall(page.read_text())
        ]

    def test_the_docs_show_toml_files(self) -> None:
        assert len(self.blocks()) >= 2

    def test_every_block_is_a_desired_pipeline(self) -> None:
        for block in self.blocks():
            document = tomllib.loads(block)
            assert set(document) <= {"name", "incoming", "won", "lost", "stages"}, block
            assert document["stages"], block
            for stage in document["stages"]:
                assert set(stage) <= {"name", "color"}, block
                assert isinstance(stage["name"], str), block


class TestRewriter:
    """docs/_griffe_rst.py turns reST-flavoured docstrings into Markdown for mkdocstrings."""

    def test_a_role_with_a_tilde_shows_the_last_name(self, to_markdown: Any) -> None:
        text = to_markdown("Raises :class:`~pipekit.StageLocked`.", lambda name: name)
        assert text == (
            'Raises <autoref identifier="pipekit.StageLocked" optional>'
            "<code>StageLocked</code></autoref>."
        )

    def test_a_short_name_resolves_in_its_scope(self, to_markdown: Any) -> None:
        text = to_markdown(":func:`plan`", {"plan": "pipekit.planning.plan"}.__getitem__)
        assert text == (
            '<autoref identifier="pipekit.planning.plan" optional><code>plan</code></autoref>'
        )

    def test_a_role_may_give_its_title(self, to_markdown: Any) -> None:
        text = to_markdown(":attr:`StageKind.WON <pipekit.StageKind.WON>`", lambda name: name)
        assert text == (
            '<autoref identifier="pipekit.StageKind.WON" optional>'
            "<code>StageKind.WON</code></autoref>"
        )

    def test_doctest_blocks_are_fenced(self, to_markdown: Any) -> None:
        text = to_markdown("An example:\n\n>>> 1 + 1\n2\n\nMore text.", lambda name: name)
        assert text == "An example:\n\n```pycon\n>>> 1 + 1\n2\n```\n\nMore text."

    def test_a_doctest_block_at_the_end_is_closed(self, to_markdown: Any) -> None:
        text = to_markdown("    >>> f()  # doctest: +ELLIPSIS\n    ...", lambda name: name)
        assert text == "    ```pycon\n    >>> f()\n    ...\n    ```"

    def test_fenced_code_and_doctest_output_are_left_alone(self, to_markdown: Any) -> None:
        text = "```python\n:class:`X`\n>>> 1\n```\n\n>>> print(':class:`Y`')\n:class:`Y`"
        assert to_markdown(text, lambda name: name) == (
            "```python\n:class:`X`\n>>> 1\n```\n\n"
            "```pycon\n>>> print(':class:`Y`')\n:class:`Y`\n```"
        )
