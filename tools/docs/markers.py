"""Generated blocks inside hand-written Markdown, between a start and an end marker.

    <!-- generated: NAME (python -m tools docs) -->
    ... what the generator wrote ...
    <!-- end generated: NAME -->
"""

from __future__ import annotations

import re
from collections.abc import Mapping

START = "<!-- generated: {name} (python -m tools docs) -->"
END = "<!-- end generated: {name} -->"
_BLOCK = re.compile(r"<!-- generated: ([a-z0-9-]+) \(python -m tools docs\) -->\n(.*?)<!-- end generated: \1 -->",
                    re.S)


class MarkerError(ValueError):
    """A document's markers do not match what the generator writes."""


def blocks(text: str) -> dict[str, str]:
    """Each generated block's name and content (without the markers)."""
    found: dict[str, str] = {}
    for name, content in _BLOCK.findall(text):
        if name in found:
            raise MarkerError(f"block {name} appears twice")
        found[name] = content
    return found


def replaced(text: str, contents: Mapping[str, str]) -> str:
    """``text`` with each named block's content replaced; MarkerError if a block named is missing."""
    missing = sorted(set(contents) - set(blocks(text)))
    if missing:
        raise MarkerError(f"no marker for {', '.join(missing)}: add {START.format(name=missing[0])} ... "
                          f"{END.format(name=missing[0])}")

    def swap(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in contents:
            return match.group(0)
        body = contents[name] if contents[name].endswith("\n") else contents[name] + "\n"
        return f"{START.format(name=name)}\n{body}{END.format(name=name)}"

    return _BLOCK.sub(swap, text)
