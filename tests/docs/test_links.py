"""Every link of the README and docs/ resolves: the file it names exists, and so does the anchor, a heading of that
file (GitHub's slugs) or an explicit `<a id>`. Links to other sites are not fetched (the tests have no network)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([PROJECT_ROOT / "README.md", *(PROJECT_ROOT / "docs").glob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (but - and _), spaces as hyphens."""
    text = re.sub(r"`|\*\*", "", heading.strip()).lower()
    return "".join(c for c in text if c.isalnum() or c in "-_ ").replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text())
    found: set[str] = set(re.findall(r'<a id="([^"]+)"></a>', text))
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        found.add(base if base not in seen else f"{base}-{seen[base]}")
        seen[base] = seen.get(base, 0) + 1
    return found


def links(path: Path) -> list[str]:
    return LINK.findall(FENCE.sub("", path.read_text()))


def broken(path: Path) -> list[str]:
    """The links of ``path`` that lead nowhere, each with why."""
    problems = []
    for target in links(path):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto: ...
        file_part, _, anchor = target.partition("#")
        destination = (path.parent / file_part).resolve() if file_part else path
        root = PROJECT_ROOT if destination.is_relative_to(PROJECT_ROOT) else path.parent
        relative = destination.relative_to(root).as_posix()
        if not destination.exists():
            problems.append(f"{target}: no such file")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{target}: no heading or anchor #{anchor} in {relative}")
    return problems


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(PROJECT_ROOT).as_posix())
def test_every_link_resolves(document: Path) -> None:
    assert broken(document) == []


def test_the_readme_links_every_page_of_docs() -> None:
    readme_links = {t.partition("#")[0] for t in links(PROJECT_ROOT / "README.md")}
    assert sorted(f"docs/{p.name}" for p in (PROJECT_ROOT / "docs").glob("*.md")
                  if f"docs/{p.name}" not in readme_links) == []


def test_a_link_to_a_missing_file_or_heading_is_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## Data flow\n")
    page = tmp_path / "sample.md"
    page.write_text("# Sample\n\n## A heading, with `code`\n\n[ok](#a-heading-with-code) [bad](#nowhere) "
                    "[file](other.md#data-flow) [no heading](other.md#flow) [gone](missing.md) "
                    "[site](https://example.com)\n\n```\n[in code](ignored.md)\n```\n")
    assert broken(page) == ["#nowhere: no heading or anchor #nowhere in sample.md",
                            "other.md#flow: no heading or anchor #flow in other.md", "missing.md: no such file"]


@pytest.mark.parametrize(("heading", "expected"), [
    ("Checked against AWS's documentation", "checked-against-awss-documentation"),
    ("Memory, by measurement (2026-11-27)", "memory-by-measurement-2026-11-27"),
    ("`[state]`: where the S3-backed stacks keep their Terraform state",
     "state-where-the-s3-backed-stacks-keep-their-terraform-state"),
])
def test_slugs_are_githubs(heading: str, expected: str) -> None:
    assert slug(heading) == expected
