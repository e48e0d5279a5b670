"""Where a plan and its review spend their time: each phase's seconds per stack (``plan --timings``).

Phases run side by side when several stacks are planned, so their sum exceeds the wall time; the table
gives both.  Recording is a list append (atomic under the GIL), so the planning threads share it.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: The phases in the order they happen, as the table and the JSON name them.
PHASES = ("synth", "init", "plan", "show", "policies", "cost", "project checks", "provider schema", "checkov")


@dataclass(frozen=True)
class Timing:
    stack: str
    phase: str
    seconds: float


_recorded: list[Timing] = []


@contextlib.contextmanager
def phase(stack: str, name: str) -> Iterator[None]:
    """Record the seconds the block takes as ``name`` of ``stack`` (``all`` for work shared by the stacks)."""
    if name not in PHASES:
        raise ValueError(f"unknown phase {name!r}: one of {', '.join(PHASES)}")
    started = time.monotonic()
    try:
        yield
    finally:
        _recorded.append(Timing(stack, name, time.monotonic() - started))


def recorded() -> list[Timing]:
    return list(_recorded)


def reset() -> None:
    _recorded.clear()


def totals(timings: list[Timing]) -> dict[str, dict[str, float]]:
    """Seconds per phase and stack (a phase met twice for a stack adds up)."""
    table: dict[str, dict[str, float]] = {}
    for timing in timings:
        row = table.setdefault(timing.phase, {})
        row[timing.stack] = row.get(timing.stack, 0.0) + timing.seconds
    return {name: table[name] for name in PHASES if name in table}


def render(timings: list[Timing], wall_s: float) -> str:
    """A plain table: one row per phase, one column per stack."""
    table = totals(timings)
    stacks = list(dict.fromkeys(t.stack for t in timings))
    width = max([len(name) for name in table] + [5])
    lines = [f"{'phase':<{width}}  " + "  ".join(f"{s:>20}" for s in stacks)]
    for name, row in table.items():
        lines.append(f"{name:<{width}}  " + "  ".join(
            f"{row[s]:>19.1f}s" if s in row else f"{'':>20}" for s in stacks))
    lines.append(f"wall time {wall_s:.1f} s (stacks side by side: phases overlap)")
    return "\n".join(lines)


def write_json(path: Path, timings: list[Timing], wall_s: float) -> None:
    path.write_text(json.dumps({"wall_s": wall_s, "phases": totals(timings)}, indent=2) + "\n")
