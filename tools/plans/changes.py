"""The resource changes of a plan JSON, with the construct each comes from and its changed attributes."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.plans.terraform_json import configuration_address

MAX_VALUE_CHARS = 80
MAX_DIFF_LINES = 12
UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
ACTION_NAMES = {
    ("create",): "create", ("update",): "update", ("delete",): "delete",
    ("delete", "create"): "replace", ("create", "delete"): "replace", ("no-op",): "no-op", ("read",): "read",
}
#: The order in which the report lists actions (the riskiest first).
ACTION_ORDER = ("delete", "replace", "update", "create")


@dataclass(frozen=True)
class AttributeChange:
    name: str
    before: str
    after: str
    diff: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One managed resource's planned change."""

    address: str
    type: str
    action: str
    construct: str
    attributes: tuple[AttributeChange, ...] = field(default_factory=tuple)
    forces_replacement: tuple[str, ...] = ()


def construct_paths(workdir: Path) -> dict[str, str]:
    """configuration address -> the construct path cdktf records in each resource's ``//`` metadata: of the
    synthesized stack in ``workdir``, or, for a root that calls the generated module, of the module's
    ``main.tf.json`` under the call's address (``module.tap_pipeline.aws_sqs_queue.q``)."""
    from tools.policy.stack_json import generated_modules

    stack = workdir / "cdk.tf.json"
    documents = [("", stack)] if stack.is_file() else generated_modules(workdir)
    return {
        f"{prefix}{type_}.{name}": body.get("//", {}).get("metadata", {}).get("path", "")
        for prefix, path in documents
        for type_, by_name in json.loads(path.read_text()).get("resource", {}).items() for name, body in by_name.items()
    }


def render_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def policy_document(value: Any) -> dict | None:
    """A JSON policy string (it has a Statement) parsed, or None."""
    if not isinstance(value, str) or "Statement" not in value:
        return None
    try:
        document = json.loads(value)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def policy_diff(before: dict | None, after: dict | None) -> tuple[str, ...]:
    """The changed lines of two policies, pretty-printed with sorted keys (a readable, short diff)."""
    def lines(document: dict | None) -> list[str]:
        return json.dumps(document, indent=1, sort_keys=True).splitlines() if document else []

    changed = [line for line in difflib.unified_diff(lines(before), lines(after), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    if len(changed) > MAX_DIFF_LINES:
        changed = [*changed[:MAX_DIFF_LINES], f"… {len(changed) - MAX_DIFF_LINES} more changed lines"]
    return tuple(changed)


def _flag(marks: Any, name: str) -> bool:
    """Terraform marks a whole value with ``true``; lists and objects of marks are about nested values."""
    return marks is True or (isinstance(marks, Mapping) and marks.get(name) is True)


def changed_attributes(change: Mapping[str, Any]) -> tuple[AttributeChange, ...]:
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    found = []
    for name in sorted(set(before) | set(after) | set(unknown)):
        old, new, is_unknown = before.get(name), after.get(name), _flag(unknown, name)
        if old == new and not is_unknown:
            continue
        if is_unknown and name in ("id", "arn") and old is None:
            continue  # every new resource gets them; they say nothing
        secret = _flag(change.get("before_sensitive"), name) or _flag(change.get("after_sensitive"), name)
        old_text = SENSITIVE if secret else render_value(old)
        new_text = SENSITIVE if secret else (UNKNOWN if is_unknown else render_value(new))
        old_policy, new_policy = policy_document(old), policy_document(new)
        comparable = not secret and not is_unknown and (old_policy or new_policy)
        diff = policy_diff(old_policy, new_policy) if comparable else ()
        found.append(AttributeChange(name, old_text, new_text, diff))
    return tuple(found)


def resource_changes(plan: Mapping[str, Any], paths: Mapping[str, str] | None = None) -> list[Change]:
    """Every managed resource that changes (no-ops and data reads left out), riskiest action first."""
    paths = paths or {}
    found = []
    for entry in plan.get("resource_changes", []):
        action = ACTION_NAMES.get(tuple(entry["change"]["actions"]), "+".join(entry["change"]["actions"]))
        if entry.get("mode") != "managed" or action in ("no-op", "read"):
            continue
        attributes = changed_attributes(entry["change"]) if action in ("update", "replace") else ()
        replace_paths = tuple(".".join(str(p) for p in path) for path in entry["change"].get("replace_paths", []))
        found.append(Change(entry["address"], entry["type"], action,
                            paths.get(configuration_address(entry["address"]), "(not in the code any more)"),
                            attributes, replace_paths))
    rank = {action: i for i, action in enumerate(ACTION_ORDER)}
    return sorted(found, key=lambda c: (rank.get(c.action, -1), c.address))


def action_counts(changes: list[Change]) -> Counter:
    return Counter(change.action for change in changes)


def has_output_changes(plan: Mapping[str, Any]) -> bool:
    return any(o["actions"] != ["no-op"] for o in (plan.get("output_changes") or {}).values())
