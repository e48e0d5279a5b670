"""The Rego policies of ``policies/`` evaluated in-process with regopy, conftest-style.

Each file is a ``package main`` module with ``deny`` and ``warn`` sets of messages; ``input`` is the
plan JSON (the same files run with ``conftest test plan.json``).  Messages start with the resource
address and ": ", so that a blocked address can be acknowledged by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.plans.layout import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"


class PolicyError(RuntimeError):
    """A policy file does not compile or evaluate; the message names it."""


@dataclass(frozen=True)
class PolicyResult:
    deny: tuple[str, ...]
    warn: tuple[str, ...]


def policy_files(directory: Path = POLICY_DIR) -> list[Path]:
    """The policies, without their Rego unit tests (``*_test.rego``)."""
    return sorted(p for p in directory.glob("*.rego") if not p.name.endswith("_test.rego"))


def evaluate(plan: Mapping[str, Any], files: list[Path] | None = None) -> PolicyResult:
    """``data.main.deny`` and ``data.main.warn`` over ``plan``, sorted."""
    from regopy import Interpreter  # deferred: only the review needs it

    files = policy_files() if files is None else files
    if not files:
        raise PolicyError(f"no policy in {POLICY_DIR}: the review would pass everything")
    interpreter = Interpreter()
    for path in files:
        interpreter.add_module(path.stem, path.read_text())
    interpreter.set_input_term(json.dumps(plan))
    output = interpreter.query('result := {"deny": data.main.deny, "warn": data.main.warn}')
    if not output.ok():
        raise PolicyError(f"the policies in {', '.join(p.name for p in files)} failed to evaluate: {output}")
    result = json.loads(str(output.binding("result")))
    return PolicyResult(tuple(sorted(result.get("deny", []))), tuple(sorted(result.get("warn", []))))


def address_of(message: str) -> str:
    """The address a message is about (the text before the first ": ")."""
    return message.split(": ", 1)[0]
