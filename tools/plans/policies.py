"""The Rego policies of ``policies/`` evaluated in-process with regopy, conftest-style.

Each file is a ``package main`` module with ``deny`` and ``warn`` sets of messages (``documents.rego``
holds the helpers the others share); ``input`` is the plan JSON.  Messages start with the resource
address and ": ", so that a blocked address can be acknowledged by name.

An evaluation error never passes silently.  regopy (1.5.2) reports some errors only by printing them on
the process's standard output (file descriptor 1, from C++) while the output stays "ok", others (a
conflict between rules, a division by zero) only through the output's status, and its ``Output`` class
raises a bare ``JSONDecodeError`` when the engine's result is an error report.  So the interpreter runs
with strict built-in errors (a failing built-in such as ``json.unmarshal("")`` fails the query, as
``opa eval --strict-builtin-errors`` does), what it prints is captured and checked for an error report,
the query goes through regopy's C API, and the error nodes of a failed output are read for their
messages; the :class:`PolicyError` names the policy file and the engine's error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.plans.layout import PROJECT_ROOT

POLICY_DIR = PROJECT_ROOT / "policies"
QUERY = 'result := {"deny": data.main.deny, "warn": data.main.warn}'
#: The same for one file alone, which may define only one of the two sets.
ONE_FILE_QUERY = 'result := {"deny": [m | some m in data.main.deny], "warn": [m | some m in data.main.warn]}'
#: How regopy starts the error report it prints ("Errors:", then "Pass <name> failed with N error(s)!").
PRINTED_ERROR = re.compile(r"^\s*Errors:\s*$|failed with \d+ errors?!", re.MULTILINE)
#: ``<module>:<line>`` (printed reports) or ``<n>:<module>|`` (compile errors) in an engine's error.
MODULE_IN_ERROR = re.compile(r"([\w.-]+\.rego)[:|]")
RULE_HEAD = re.compile(r"^(deny|warn) contains ", re.MULTILINE)
# rego-cpp's node kinds (regopy.rego_shared.NodeKind) of an error, of its message and of its code.
ERROR_KIND, ERROR_MESSAGE_KIND, ERROR_CODE_KIND = 1800, 1801, 1803


class PolicyError(RuntimeError):
    """A policy file does not compile or evaluate; the message names it and the engine's error."""


@dataclass(frozen=True)
class PolicyResult:
    deny: tuple[str, ...]
    warn: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    """What one query gave: its bindings (None on error), and the error as the engine reported it."""

    bindings: dict[str, Any] | None
    error: str | None


def policy_files(directory: Path = POLICY_DIR) -> list[Path]:
    """The policies, without their Rego unit tests (``*_test.rego``)."""
    return sorted(p for p in directory.glob("*.rego") if not p.name.endswith("_test.rego"))


@contextlib.contextmanager
def captured_stdout() -> Iterator[list[str]]:
    """What the process writes on file descriptor 1 meanwhile (C++ included), in the yielded list."""
    sys.stdout.flush()
    saved = os.dup(1)
    box: list[str] = []
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 1)
        try:
            yield box
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
            sink.seek(0)
            box.append(sink.read().decode("utf-8", errors="replace"))


def error_messages(output: Any) -> list[str]:
    """The ``message (code)`` of each error node of a failed regopy output (a C handle)."""
    from regopy import rego_shared

    found: list[str] = []

    def walk(node: Any) -> None:
        kind = rego_shared.rego.regoNodeType(node)
        children = [rego_shared.rego_node_get(node, i) for i in range(rego_shared.rego_node_size(node))]
        if kind == ERROR_KIND:
            parts = {rego_shared.rego.regoNodeType(c): _node_text(c) for c in children}
            found.append(f"{parts.get(ERROR_MESSAGE_KIND, '?')} ({parts.get(ERROR_CODE_KIND, 'no code')})")
            return
        for child in children:
            walk(child)

    walk(rego_shared.rego_output_node(output))
    return found


def _node_text(node: Any) -> str:
    from regopy import rego_shared

    try:
        return rego_shared.rego_node_value(node)
    except Exception:  # noqa: BLE001 - a node without a value: say nothing rather than fail the report
        return ""


def _query(interpreter: Any, query: str) -> Evaluation:
    """The query through regopy's C API (its ``Output`` class would raise JSONDecodeError on an error report)."""
    from regopy import rego_shared

    handle = rego_shared.rego_query(interpreter._impl, query)
    try:
        if not rego_shared.rego_output_ok(handle):
            return Evaluation(None, "; ".join(error_messages(handle)) or "the engine reported an error")
        text = rego_shared.rego_output_string(handle)
    finally:
        rego_shared.rego_free_output(handle)
    if text == "undefined":
        return Evaluation(None, f"the query {query!r} is undefined")
    try:
        results = json.loads(text)
    except ValueError:
        return Evaluation(None, f"the engine's result is not JSON: {text[:2000]}")
    results = results if isinstance(results, list) else [results]
    if len(results) != 1 or not isinstance(results[0].get("bindings"), dict):
        return Evaluation(None, f"expected one result with bindings, got: {text[:2000]}")
    return Evaluation(results[0]["bindings"], None)


def run_query(modules: Mapping[str, str], input_json: str, query: str = QUERY) -> Evaluation:
    """Evaluate ``query`` over the modules with strict built-in errors; an error is the engine's report."""
    from regopy import Interpreter, RegoError  # deferred: only the review needs it

    with captured_stdout() as printed:
        try:
            interpreter = Interpreter()
            interpreter.strict_built_in_errors = True
            for name, source in modules.items():
                interpreter.add_module(name, source)
            interpreter.set_input_term(input_json)
            evaluation = _query(interpreter, query)
        except RegoError as error:
            evaluation = Evaluation(None, f"does not compile: {error}")
    report = printed[0]
    if PRINTED_ERROR.search(report):
        lines = textwrap.dedent(report).splitlines()
        return Evaluation(None, "\n".join(line.rstrip() for line in lines if line.strip()))
    if report.strip():
        sys.stdout.write(report)  # not the engine's: not ours to swallow
    return evaluation


def _culprits(sources: Mapping[str, str], input_json: str, error: str) -> list[str]:
    """The files to name: those the error mentions, else those that fail with the shared helpers only."""
    named = sorted({m for m in MODULE_IN_ERROR.findall(error) if m in sources})
    if named:
        return named
    helpers = {name: text for name, text in sources.items() if not RULE_HEAD.search(text)}
    return [name for name, text in sources.items()
            if name not in helpers and run_query({**helpers, name: text}, input_json, ONE_FILE_QUERY).error is not None]


def evaluate(plan: Mapping[str, Any], files: list[Path] | None = None) -> PolicyResult:
    """``data.main.deny`` and ``data.main.warn`` over ``plan``, sorted; PolicyError when evaluation fails."""
    files = policy_files() if files is None else files
    if not files:
        raise PolicyError(f"no policy in {POLICY_DIR}: the review would pass everything")
    sources = {path.name: path.read_text() for path in files}
    plan_json = json.dumps(plan)
    evaluation = run_query(sources, plan_json)
    if evaluation.error is not None or evaluation.bindings is None:
        error = evaluation.error or "no result"
        named = _culprits(sources, plan_json, error) or sorted(sources)
        raise PolicyError(f"the policies failed to evaluate ({', '.join(named)} in {files[0].parent}): {error}")
    result = evaluation.bindings["result"]
    return PolicyResult(tuple(sorted(result.get("deny", []))), tuple(sorted(result.get("warn", []))))


def address_of(message: str) -> str:
    """The address a message is about (the text before the first ": ")."""
    return message.split(": ", 1)[0]
