"""The layout in docs/architecture.md names every module and tool of the tree, and only what exists."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def layout_block() -> str:
    page = (PROJECT_ROOT / "docs" / "architecture.md").read_text()
    match = re.search(r"^## Layout\n\n```\n(.*?)\n```", page, re.S | re.M)
    assert match, "docs/architecture.md needs a '## Layout' section with a code block"
    return match.group(1)


def named_files(block: str) -> set[str]:
    return set(re.findall(r"[\w./-]+\.(?:py|md|json|toml|lock|sh)\b", block))


def test_every_module_and_tool_is_in_the_layout() -> None:
    block = layout_block()
    names = {n.rsplit("/", 1)[-1] for n in named_files(block)}
    modules = {p.name for p in (PROJECT_ROOT / "modules").glob("*.py") if p.name != "__init__.py"}
    tools = {p.name for p in (PROJECT_ROOT / "tools").glob("*.py") if p.name != "__init__.py"}
    assert sorted((modules | tools) - names) == []
    packages = {p.name for p in (PROJECT_ROOT / "tools").iterdir() if (p / "__init__.py").is_file()}
    assert sorted(p for p in packages if f"{p}/" not in block) == []


def test_every_file_the_layout_names_exists() -> None:
    block = layout_block()
    folders = {"modules/": PROJECT_ROOT / "modules", "tools/": PROJECT_ROOT / "tools", "docs/": PROJECT_ROOT / "docs"}
    missing = []
    current = PROJECT_ROOT
    for line in block.splitlines():
        top = re.match(r"^(\w[\w.-]*/)", line)
        if top:
            current = folders.get(top.group(1), PROJECT_ROOT)
        # A folder's own line, and the indented lines under it, name files of that folder.
        base = current if line.startswith(" ") or top else PROJECT_ROOT
        for name in named_files(line):
            if not ((base / name).exists() or (PROJECT_ROOT / name).exists()):
                missing.append(name)
    assert missing == []
