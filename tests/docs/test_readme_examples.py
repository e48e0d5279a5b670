"""The README's "Use it in your project" shows excerpts of the example app the package test runs and of the HCL
that calls the generated module (which tests/module checks against the module), as they are, and links to both.

An excerpt is the example's lines cut at `# …` lines: each piece must appear in the file, in the same order, line
for line, so that the README cannot drift from what the tests run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ELISION = re.compile(r"^[ \t]*# …\n", re.M)
EXAMPLES = {"python": "examples/cdktf-python/main.py", "hcl": "examples/terraform/main.tf"}


def section() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    return readme.split("## Use it in your project\n", 1)[1].split("\n## ", 1)[0]


def pieces(language: str) -> list[str]:
    [block] = re.findall(rf"^```{language}\n(.*?)^```$", section(), flags=re.MULTILINE | re.DOTALL)
    return [piece for piece in ELISION.split(block) if piece]


def in_order(pieces_: list[str], text: str) -> list[str]:
    """The pieces not found in ``text`` after the end of the previous one (whole lines only)."""
    missing, position = [], 0
    for piece in pieces_:
        found = ("\n" + text).find("\n" + piece, position)
        if found < 0:
            missing.append(piece)
        else:
            position = found + len(piece)
    return missing


@pytest.mark.parametrize("language", sorted(EXAMPLES))
def test_the_readme_shows_an_excerpt_of_the_example_as_it_is(language: str) -> None:
    shown = pieces(language)
    assert sum(len(p.splitlines()) for p in shown) >= 10, "the excerpt shows the part that matters"
    assert in_order(shown, (PROJECT_ROOT / EXAMPLES[language]).read_text()) == []


@pytest.mark.parametrize("language", sorted(EXAMPLES))
def test_the_readme_links_to_the_whole_example(language: str) -> None:
    assert f"]({EXAMPLES[language]})" in section()


def test_an_edited_line_is_not_an_excerpt() -> None:
    example = (PROJECT_ROOT / EXAMPLES["hcl"]).read_text()
    edited = [p.replace("log_retention_days        = 14", "log_retention_days        = 30") for p in pieces("hcl")]
    assert in_order(edited, example) != [], "a changed value is caught"
    python = (PROJECT_ROOT / EXAMPLES["python"]).read_text()
    assert in_order(list(reversed(pieces("python"))), python) != [], "pieces out of order are caught"
